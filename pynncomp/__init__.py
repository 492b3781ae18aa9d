"""pynncomp: classic neural-network compression, every equation explicit.

Reimplements HashedNets (Chen et al. 2015), Optimal Brain Damage (LeCun et
al. 1989) and magnitude pruning with L1/L2 regularisation (Han et al. 2015)
with hand-written NumPy forward and backward passes and a small C core for
the HashedNet lookup, the bucket-gradient accumulation and the sparse masked
matmul.  ``pynncomp.kernels.ACTIVE_BACKEND`` (or ``pynncomp info``) says
whether the C core or its NumPy twins are in use.
"""
__version__ = "0.1.0"

from .kernels import ACTIVE_BACKEND  # noqa: E402  (after __version__ on purpose)

__all__ = ["__version__", "ACTIVE_BACKEND"]
