"""Keep freed memory in the process, so training steps stop page-faulting.

A training step allocates and frees the same few MB of arrays again and
again (im2col columns, gradients).  glibc serves blocks above its mmap
threshold with fresh ``mmap`` calls and returns them to the system on
``free``, so every step pays for zeroing new pages again.
``python benchmarks/bench_conv.py`` against ``python benchmarks/bench_conv.py
--keep-memory`` measures what that costs a LeNet-5 convolution's forward +
backward, and ``python benchmarks/bench_lenet5_step.py`` a whole LeNet-5
training step.

:func:`keep_freed_memory` raises glibc's mmap and trim thresholds
(``mallopt(M_MMAP_THRESHOLD, 32 MiB)``, glibc's largest, and
``mallopt(M_TRIM_THRESHOLD, 1 GiB)``), as ``MALLOC_MMAP_THRESHOLD_`` and
``MALLOC_TRIM_THRESHOLD_`` in the environment would.  It changes how much
memory the process holds on to (its peak), never a number it computes.
The ``pynncomp`` command calls it for its training commands and
reproduction workers; a library user may call it too.
``PYNNCOMP_KEEP_MEMORY=0`` turns it off; on a C library other than glibc
it does nothing.
"""
import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc caps it at 32 MiB on 64-bit systems
TRIM_THRESHOLD = 1 << 30
ENV = "PYNNCOMP_KEEP_MEMORY"


def keep_freed_memory():
    """Ask glibc to keep freed memory for reuse; returns True when it took effect."""
    if os.environ.get(ENV, "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
