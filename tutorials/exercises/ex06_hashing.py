"""Exercises of lesson 6: a HashedNet layer's virtual weights and the gradient of its real weights.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex06

Each function must compute its result with NumPy from its arguments alone
(no pynncomp kernel or layer inside): the grader compares it with
``pynncomp.kernels.hashed_lookup`` and ``pynncomp.kernels.bucket_accumulate``
and with finite differences.  The notation is that of docs/methods.md#hashed-layer
(Chen et al. 2015, "Compressing Neural Networks with the Hashing Trick"):
K real weights ``w``; for every virtual weight (i, j) a bucket
``bucket[i, j]`` = h(i, j) in [0, K) and a sign ``sign[i, j]`` = ξ(i, j) in
{-1, +1}, both as ``pynncomp.kernels.hash_buckets`` returns them.
"""


def hashed_lookup(w, bucket, sign):
    """The virtual weight matrix of a HashedNet layer.

    .. math:: V_{ij} = \\xi(i, j)\\, w_{h(i, j)}

    Parameters
    ----------
    w : float ndarray (K,)
        The real weights.
    bucket : integer ndarray, any shape S (e.g. (n_in, n_out)), values in [0, K)
        h(i, j).
    sign : integer ndarray of shape S, values -1 or +1
        ξ(i, j).

    Returns
    -------
    V : ndarray of shape S, in the dtype of ``w``
    """
    raise NotImplementedError


def bucket_gradient(dV, bucket, sign, K):
    """The gradient of the real weights, given the gradient of the virtual ones.

    .. math:: \\frac{\\partial L}{\\partial w_k} = \\sum_{(i, j):\\ h(i, j) = k} \\xi(i, j)\\, dV_{ij}

    A bucket that no virtual weight uses gets 0.

    Parameters
    ----------
    dV : float ndarray, any shape S
        dL/dV (for a layer Y = X V + b: dV = Xᵀ dY).
    bucket : integer ndarray of shape S, values in [0, K)
    sign : integer ndarray of shape S, values -1 or +1
    K : int >= 1
        The number of real weights.

    Returns
    -------
    dw : ndarray (K,)
    """
    raise NotImplementedError
