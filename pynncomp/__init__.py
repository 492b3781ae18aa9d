"""pynncomp: classic neural-network compression, every equation explicit.

Reimplements HashedNets (Chen et al. 2015), Optimal Brain Damage (LeCun et
al. 1989) and magnitude pruning with L1/L2 regularisation (Han et al. 2015)
with hand-written NumPy forward and backward passes and a small C core for
the HashedNet lookup, the bucket-gradient accumulation and the sparse masked
matmul.  ``pynncomp.ACTIVE_BACKEND`` (or ``pynncomp info``) says whether the
C core or its NumPy twins are in use.

``import pynncomp`` itself imports nothing else: ``ACTIVE_BACKEND`` is looked
up on first use (PEP 562), and that first use imports
:mod:`pynncomp.kernels`, which chooses the backend.
"""
__version__ = "0.1.0"

__all__ = ["__version__", "ACTIVE_BACKEND", "BackendError"]


class BackendError(ImportError):
    """``PYNNCOMP_BACKEND`` asks for a backend that cannot be had.

    Raised by the import of :mod:`pynncomp.kernels` (which also exports it)
    when the variable is not one of ``auto``, ``c``, ``numpy``, or is ``c``
    while the C core is not built.  It is defined here, in the package root,
    so that the command line (:mod:`pynncomp.__main__`) can catch it without
    importing the kernels, whose import is what raises it.
    """


def __getattr__(name):
    if name == "ACTIVE_BACKEND":
        from .kernels import ACTIVE_BACKEND

        return ACTIVE_BACKEND
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"ACTIVE_BACKEND"})
