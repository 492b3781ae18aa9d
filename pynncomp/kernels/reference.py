"""NumPy twins of the C kernels: the specification and the test oracle.

Each function here has exactly the signature of its C counterpart in
``pynncomp/kernels/_c.py`` (and of the declaration in ``csrc/pynncomp.h``).
Arguments are assumed already validated by the public wrappers in
:mod:`pynncomp.kernels`; call those, not these, from user code.

The HashedNet hash (Chen et al. 2015, "Compressing Neural Networks with the
Hashing Trick", section 4; docs/methods.md#hash) is xxHash32 (Collet) of the
8-byte little-endian message ``(uint32 i, uint32 j)``::

    bucket[i, j] = xxh32(i, j; seed) mod K
    sign[i, j]   = +1 if xxh32(i, j; seed ^ 0x9E3779B9) < 2**31 else -1

The sign hash uses an independent seed, as ξ must be independent of h.  The
``mod K`` has a bias of at most K / 2**32 between buckets, negligible for the
K of a HashedNet layer (K <= a few million).

The twins and the C core agree up to rounding on finite inputs.  With an inf
or NaN among the inputs the sparse kernels can differ, because the C core
multiplies only the kept weights and skips zero inputs where the twins form
the dense products (``0 * inf`` is NaN); the precise rule is under
"Non-finite operands" in ``csrc/pynncomp.h`` and in the docstrings below.
"""
import numpy as np

PRIME32_1 = np.uint32(2654435761)
PRIME32_2 = np.uint32(2246822519)
PRIME32_3 = np.uint32(3266489917)
PRIME32_4 = np.uint32(668265263)
PRIME32_5 = np.uint32(374761393)
SIGN_SEED_XOR = 0x9E3779B9
HASH_BLOCK = 1 << 14  # virtual weights hashed at once by hash_buckets
# Bytes of uint32 temporaries per weight of a block (measured with tracemalloc:
# 22-30 from one block of 200 weights to one of 20 000; io's memory budget uses it)
HASH_TEMPORARY_BYTES = 32


def _rotl32(x, r):
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def xxh32_pair(i, j, seed):
    """xxHash32 of the 8 bytes ``uint32le(i) + uint32le(j)`` with ``seed``.

    Inputs shorter than 16 bytes skip xxHash32's four-lane stripe loop, so
    the whole algorithm is: start from ``seed + PRIME32_5 + length``, mix in
    each 4-byte word, then the final avalanche.  ``i`` and ``j`` broadcast;
    the result is ``uint32``.
    """
    i = np.asarray(i, dtype=np.uint32)
    j = np.asarray(j, dtype=np.uint32)
    start = np.uint32((int(seed) + int(PRIME32_5) + 8) & 0xFFFFFFFF)
    h = np.full(np.broadcast_shapes(i.shape, j.shape), start, dtype=np.uint32)
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps modulo 2**32, as in C
        for word in (i, j):
            h = _rotl32(h + word * PRIME32_3, 17) * PRIME32_4
        h ^= h >> np.uint32(15)
        h *= PRIME32_2
        h ^= h >> np.uint32(13)
        h *= PRIME32_3
        h ^= h >> np.uint32(16)
    return h


def hash_block_rows(n_out):
    """Rows of V that :func:`hash_buckets` hashes at once: :data:`HASH_BLOCK` weights, or one row."""
    return max(1, HASH_BLOCK // max(n_out, 1))


def hash_buckets(n_in, n_out, K, seed):
    """Bucket index h(i, j) in [0, K) and sign ξ(i, j) in {-1, +1}.

    Returns ``(bucket, sign)``: ``int32`` and ``int8`` arrays of shape
    ``(n_in, n_out)``.  The rows are hashed a block at a time, so the
    uint32 temporaries of the hash take :data:`HASH_BLOCK` entries however
    large the layer (a row at least): besides the 5 bytes per virtual weight
    of its result, as the C kernel, it needs at most
    ``HASH_TEMPORARY_BYTES`` per weight of one block.
    """
    bucket = np.empty((n_in, n_out), dtype=np.int32)
    sign = np.empty((n_in, n_out), dtype=np.int8)
    j = np.arange(n_out, dtype=np.uint32)[None, :]
    rows = hash_block_rows(n_out)
    for start in range(0, n_in, rows):
        i = np.arange(start, min(start + rows, n_in), dtype=np.uint32)[:, None]
        bucket[start:start + rows] = xxh32_pair(i, j, seed) % np.uint32(K)
        sign_bits = xxh32_pair(i, j, (seed ^ SIGN_SEED_XOR) & 0xFFFFFFFF) >> np.uint32(31)
        sign[start:start + rows] = 1 - 2 * sign_bits.astype(np.int8)
    return bucket, sign


def hashed_lookup(w, bucket, sign):
    """Virtual weights of a HashedNet layer: ``V[i, j] = ξ(i, j) · w[h(i, j)]``.

    ``w`` (K,), ``bucket`` and ``sign`` any shape S; returns V of shape S and
    the dtype of ``w``.
    """
    # asarray: for a 0-d bucket NumPy's product is a scalar, not an array.
    return np.asarray(sign.astype(w.dtype) * w[bucket])


def bucket_accumulate(dV, bucket, sign, K):
    """Gradient of the real weights: ``dw[k] = Σ_{h(i,j)=k} ξ(i, j) · dV[i, j]``.

    ``dV``, ``bucket``, ``sign`` of one shape; returns ``dw`` (K,) in the dtype
    of ``dV``.  ``np.bincount`` sums in float64 in index order, so float64
    results equal C's bit for bit; float32 ones are rounded once at the end,
    where C sums in float32 (a partial sum past the float32 range is inf in
    C and may still be finite here).
    """
    signed = (sign.astype(dV.dtype) * dV).ravel()
    dw = np.bincount(bucket.ravel(), weights=signed, minlength=K)
    return dw.astype(dV.dtype, copy=False)


def _dense_from_csr(indptr, indices, data, n_in, n_out):
    """The dense matrix ``W ⊙ M`` that a CSR pattern stands for."""
    W = np.zeros((n_in, n_out), dtype=data.dtype)
    rows = np.repeat(np.arange(n_in), np.diff(indptr))
    W[rows, indices] = data
    return W


def sparse_matmul(X, indptr, indices, data, n_out):
    """Forward of a pruned dense layer: ``Y = X · (W ⊙ M)``.

    ``X`` (B, n_in); CSR of the kept weights over the rows of W; returns
    ``Y`` (B, n_out).

    Non-finite inputs: the dense product multiplies every ``X[b, i]`` by
    every ``W[i, j]``, a pruned one as an explicit 0, so an inf or NaN
    ``X[b, i]`` makes ``Y[b, j]`` NaN for a pruned ``(i, j)``, and a zero
    ``X[b, i]`` with an inf or NaN kept ``W[i, j]`` makes ``Y[b, j]`` NaN.
    The C kernel never multiplies pruned weights, and skips zero inputs
    (always for a row computed alone, in a block of rows only when the
    input is zero in every row of it), so in those cases its ``Y[b, j]``
    can be finite, and can depend on the other rows of the batch.
    """
    return X @ _dense_from_csr(indptr, indices, data, X.shape[1], n_out)


def sparse_matmul_t(dY, indptr, indices, data, n_in):
    """Backward to the input: ``dX = dY · (W ⊙ M)ᵀ``; returns (B, n_in).

    Non-finite inputs: an inf or NaN ``dY[b, j]`` with ``(i, j)`` pruned
    makes this ``dX[b, i]`` NaN (times an explicit 0); the C kernel never
    multiplies pruned weights, so its ``dX[b, i]`` is the sum over the kept
    ones.  It skips nothing else: its rows do not depend on each other.
    """
    return dY @ _dense_from_csr(indptr, indices, data, n_in, dY.shape[1]).T


def sparse_weight_grad(X, dY, indptr, indices):
    """Weight gradient at the kept positions only.

    ``ddata[p] = Σ_b X[b, i] · dY[b, indices[p]]`` for p in row i; returns
    ``ddata`` (nnz,), the entries of ``Xᵀ · dY`` where the mask is 1.

    Non-finite inputs: a zero ``X[b, i]`` with an inf or NaN
    ``dY[b, indices[p]]`` makes this ``ddata[p]`` NaN; the C kernel skips
    zero inputs as its forward does (always for rows taken one by one, in a
    block only when the input is zero in every row of the block), so its
    ``ddata[p]`` can be finite, depending on the batch.
    """
    rows = np.repeat(np.arange(X.shape[1]), np.diff(indptr))
    return np.einsum("bp,bp->p", X[:, rows], dY[:, indices])


PENALTY_CODES = {None: 0, "l1": 1, "l2": 2}


def sgd_step(p, v, g, keep, lr, momentum, penalty, lam):
    """One SGD step with momentum, penalty and keep-mask, in place (docs/methods.md#optimizer).

    .. math::
        t = \\eta\\,(R'(p) + g), \\qquad
        v \\leftarrow (\\mu v - t) \\odot M, \\qquad p \\leftarrow p + v

    with :math:`R'(p) = \\lambda\\,\\mathrm{sign}(p)` (``penalty`` 1, L1),
    :math:`\\lambda p` (2, L2) or 0 (0, and then :math:`t = \\eta g`); with
    ``momentum`` 0, :math:`p \\leftarrow p - t \\odot M` and ``v`` is not
    used.  ``keep`` is the keep-mask as 0/1 factors in p's dtype, as the C
    kernel takes it (a bool mask is also accepted here), or None.  Each operation is one NumPy
    operation on arrays of p's dtype, in the order of the C kernel, with
    ``lr``, ``momentum`` and ``lam`` rounded to that dtype: the two agree
    bit for bit.
    """
    if penalty == 0:
        step = lr * g
    else:
        step = lam * (np.sign(p) if penalty == 1 else p)
        step += g
        step *= lr
    factor = keep if keep is None or keep.dtype == p.dtype else keep.astype(p.dtype)
    if momentum == 0.0:
        if factor is not None:
            step *= factor
        p -= step
        return
    v *= momentum
    v -= step
    if factor is not None:
        v *= factor
    p += v
