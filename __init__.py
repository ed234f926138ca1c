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

__version__ = "0.1.0"
