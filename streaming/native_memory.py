"""Hand freed native memory back to the system (glibc), so RSS stays flat for hours.

CTranslate2 allocates and frees buffers of a different size for every window; glibc
keeps the freed pages in its arenas, and over a meeting RSS creeps up (measured:
+170 MB in 22 minutes of fast replay). ``malloc_trim`` after every recognition call
(live updates and second passes) releases them: a 40-minute fast replay stayed at
500-556 MB from minute 8 on; trimming after second passes only still crept
(+5.8 MB per 10 minutes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _trim_function() -> ctypes._CFuncPtr | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None


def release_free_memory() -> None:
    """Return free heap pages to the OS where the C library supports it."""
    trim = _trim_function()
    if trim is not None:
        trim(0)
