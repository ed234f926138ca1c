"""roomtone: a real-time meeting assistant.

The layout tells the data flow: ``streaming`` (sources -> clock -> VAD -> windows ->
engines -> events) feeds ``assistant`` (session store, exports), which ``ui`` shows.
Model backends and exporters live in ``plugins`` behind small interfaces.
"""

import os

# Nothing may reach a model hub or phone home at run time; set before any import
# of huggingface_hub or onnxruntime happens anywhere in the process.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Models load from local files in a second; a progress bar among the captions is noise.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
# Each engine runs on one thread of its own and the cores are shared between them.
# CTranslate2's OpenMP pool otherwise adds a second thread to every Whisper call
# that buys almost no wall time and costs half again in CPU (measured: CPU/audio
# 0.48 -> 0.31 on dev_m02). Must be set before libgomp loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from threadpoolctl import threadpool_limits

# numpy imported before roomtone has already started OpenBLAS with a thread per core,
# whose spin-waiting costs a third more CPU in a live session (measured: CPU/audio
# 0.36 -> 0.44 on dev_m03). One BLAS thread, whoever imported numpy first.
threadpool_limits(limits=1, user_api="blas")

__version__ = "0.1.0"
