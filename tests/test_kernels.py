"""The seven public kernels: C against its NumPy twin, known answers, hash
statistics and the argument checks at the door.

The NumPy twins in :mod:`pynncomp.kernels.reference` are the specification,
so every C kernel is compared with its twin on random cases (hypothesis draws
shapes, dtypes, memory layouts and a seed; the values come from a NumPy
generator with that seed).  Integer-valued cases, where every product and
sum is exact, are compared bit for bit.  Elsewhere floating-point results are
compared with bounds derived from the arithmetic (Higham, *Accuracy and
Stability of Numerical Algorithms*, 2nd ed., 2002, section 3.1):

    gamma_n = n u / (1 - n u),   u = eps / 2 (the unit roundoff),

bounds the relative error of n rounded operations; a sum of n terms computed
in any order (with or without fused multiply-adds) satisfies
``|fl(sum) - sum| <= gamma_n * sum(|terms|)`` (Higham eq. 3.5 for inner
products, eq. 4.4 for recursive summation).  No tolerance here was tuned to
make a test pass.

``sgd_step`` does the same rounded operations in the same order in C and
in NumPy (csrc/pynncomp.h), so it is compared bit for bit everywhere, NaN,
infinities and signed zeros included; only which NaN comes out of an
operation on two NaNs is free (see :func:`assert_same_bits`).
"""
import numpy as np
import pytest
import scipy.sparse
import scipy.stats
from conftest import requires_c
from hypothesis import given, settings
from hypothesis import strategies as st

from pynncomp import kernels
from pynncomp.kernels import reference

U32 = 2.0**-24  # unit roundoff of float32
U64 = 2.0**-53  # unit roundoff of float64
UNIT_ROUNDOFF = {np.dtype(np.float32): U32, np.dtype(np.float64): U64}
FLOATS = (np.float32, np.float64)

# The property tests stay small so the whole file runs in seconds.
PROPERTY = settings(max_examples=80, deadline=None)

BACKENDS = ["numpy", pytest.param("c", marks=requires_c)]


def gamma(n, u):
    """Higham's gamma_n = n u / (1 - n u), elementwise over the term counts n."""
    n = np.asarray(n, dtype=np.float64)
    assert np.all(n * u < 1)
    return n * u / (1 - n * u)


LAYOUTS = ("C", "transposed", "strided", "reversed", "readonly")


def as_layout(a, layout):
    """The values of ``a`` in the memory layout ``layout``.

    "transposed" is the transpose of a C-contiguous array (Fortran order),
    "strided" every other element of a twice-as-wide array, "reversed" a
    negative-stride view, "readonly" a C-contiguous array that may not be
    written, "misaligned" a C-contiguous array one byte into its buffer.
    All but "C", "readonly" and "misaligned" are non-contiguous as soon as the
    array has more than one element along the affected axis, so the
    wrappers must copy them before C sees them.
    """
    a = np.array(a)
    if layout == "C" or a.ndim == 0:
        return a
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T
    if layout == "strided":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    if layout == "reversed":
        return np.flip(np.flip(a).copy())
    if layout == "readonly":
        a.flags.writeable = False
        return a
    if layout == "misaligned":
        return misaligned(a)
    raise AssertionError(layout)


def csr_of(dense):
    """(indptr int64, indices int32, data) of a dense array, indices sorted."""
    csr = scipy.sparse.csr_matrix(dense)
    csr.sort_indices()
    return csr.indptr.astype(np.int64), csr.indices.astype(np.int32), csr.data


# ---------------------------------------------------------------------------
# xxHash32 known answers
# ---------------------------------------------------------------------------

# Computed with the reference `xxhash` Python package:
#     xxhash.xxh32_intdigest(struct.pack('<II', i, j), seed=s)
XXH32_KNOWN = [
    (0, 0, 0, 0xDEB39513),
    (1, 2, 1691, 0x8EFDD5A1),
    (783, 99, 1691, 0x500BF38B),
    (123456, 654321, 0xDEADBEEF, 0x446077A1),
    (2**32 - 1, 2**32 - 1, 2**32 - 1, 0xA01706A2),
]


@pytest.mark.parametrize("i, j, seed, digest", XXH32_KNOWN)
def test_xxh32_pair_twin_known_answers(i, j, seed, digest):
    h = reference.xxh32_pair(i, j, seed)
    assert h.dtype == np.uint32
    assert int(h) == digest


@requires_c
@pytest.mark.parametrize("i, j, seed, digest", XXH32_KNOWN)
def test_xxh32_pair_c_known_answers(i, j, seed, digest):
    from pynncomp._pynncomp_c import lib

    assert lib.pnc_xxh32_pair(i, j, seed) == digest


@requires_c
@PROPERTY
@given(i=st.integers(0, 2**32 - 1), j=st.integers(0, 2**32 - 1), seed=st.integers(0, 2**32 - 1))
def test_xxh32_pair_c_equals_twin(i, j, seed):
    from pynncomp._pynncomp_c import lib

    assert lib.pnc_xxh32_pair(i, j, seed) == int(reference.xxh32_pair(i, j, seed))


@pytest.mark.parametrize("backend", BACKENDS)
def test_hash_buckets_known_answers(backend):
    """Bucket and sign of single entries follow from the xxh32 vectors.

    The sign uses the seed ``seed ^ 0x9E3779B9``, so a layer seed of
    ``s ^ 0x9E3779B9`` gives a sign hashed with seed ``s``: the sign is -1
    exactly when that digest has its top bit set.
    """
    K = 1000
    bucket, _ = kernels.hash_buckets(784, 100, K, 1691, backend=backend)
    assert bucket[1, 2] == 0x8EFDD5A1 % K
    assert bucket[783, 99] == 0x500BF38B % K
    bucket, _ = kernels.hash_buckets(1, 1, 2**31 - 1, 0, backend=backend)
    assert bucket[0, 0] == 0xDEB39513 % (2**31 - 1)

    _, sign = kernels.hash_buckets(784, 100, K, 1691 ^ 0x9E3779B9, backend=backend)
    assert sign[1, 2] == -1  # 0x8EFDD5A1 >= 2**31
    assert sign[783, 99] == 1  # 0x500BF38B < 2**31
    _, sign = kernels.hash_buckets(1, 1, K, 0x9E3779B9, backend=backend)
    assert sign[0, 0] == -1  # 0xDEB39513 >= 2**31


# ---------------------------------------------------------------------------
# hash_buckets: C == twin bit for bit, and statistics
# ---------------------------------------------------------------------------


@requires_c
@PROPERTY
@given(
    n_in=st.integers(0, 40),
    n_out=st.integers(0, 40),
    K=st.one_of(st.just(1), st.integers(1, 100), st.integers(1, 2**31 - 1)),
    seed=st.integers(0, 2**32 - 1),
)
def test_hash_buckets_c_equals_twin(n_in, n_out, K, seed):
    bucket_c, sign_c = kernels.hash_buckets(n_in, n_out, K, seed, backend="c")
    bucket_np, sign_np = kernels.hash_buckets(n_in, n_out, K, seed, backend="numpy")
    for bucket, sign in ((bucket_c, sign_c), (bucket_np, sign_np)):
        assert bucket.dtype == np.int32 and sign.dtype == np.int8
        assert bucket.shape == sign.shape == (n_in, n_out)
    np.testing.assert_array_equal(bucket_c, bucket_np)
    np.testing.assert_array_equal(sign_c, sign_np)
    if bucket_c.size:
        assert 0 <= bucket_c.min() and bucket_c.max() < K
        assert set(np.unique(sign_c)) <= {-1, 1}
    if K == 1:
        assert not bucket_c.any()


@requires_c
def test_hash_buckets_c_equals_twin_at_layer_size():
    bucket_c, sign_c = kernels.hash_buckets(784, 300, 3675, 1691, backend="c")
    bucket_np, sign_np = kernels.hash_buckets(784, 300, 3675, 1691, backend="numpy")
    np.testing.assert_array_equal(bucket_c, bucket_np)
    np.testing.assert_array_equal(sign_c, sign_np)


# The hash statistics are deterministic (fixed sizes and seeds); the p-value
# threshold 1e-3 says "a departure this large would happen by chance less
# than once in a thousand for an ideal random hash".
P_THRESHOLD = 1e-3


def test_hash_buckets_are_uniform():
    """Chi-square goodness of fit of the bucket counts to uniform.

    The ``mod K`` bias (at most K / 2**32 relative) is far below what the
    test can see with 235 200 entries.
    """
    n_in, n_out, K = 784, 300, 1000
    bucket, _ = kernels.hash_buckets(n_in, n_out, K, 1691)
    counts = np.bincount(bucket.ravel(), minlength=K)
    assert counts.sum() == n_in * n_out
    assert scipy.stats.chisquare(counts).pvalue > P_THRESHOLD
    # A sharper look at a small K, where a bias would concentrate.
    bucket, _ = kernels.hash_buckets(n_in, n_out, 7, 12345)
    assert scipy.stats.chisquare(np.bincount(bucket.ravel(), minlength=7)).pvalue > P_THRESHOLD


def test_hash_signs_are_balanced_and_independent_of_bucket():
    n_in, n_out, K = 784, 300, 1000
    bucket, sign = kernels.hash_buckets(n_in, n_out, K, 1691)
    n = sign.size
    # Mean of n independent fair ±1 signs: standard deviation 1/sqrt(n);
    # 4.5 standard deviations is a two-sided p of about 7e-6.
    assert abs(sign.mean(dtype=np.float64)) < 4.5 / np.sqrt(n)
    # 2x2 contingency table of (bucket parity, sign).
    table = np.array(
        [
            [np.sum((bucket % 2 == parity) & (sign == s)) for s in (-1, 1)]
            for parity in (0, 1)
        ]
    )
    assert scipy.stats.chi2_contingency(table).pvalue > P_THRESHOLD
    # Per bucket, the signed count sum_t sign_t has mean 0: chi-square of
    # the per-bucket sign counts against half-and-half.
    plus = np.bincount(bucket.ravel(), weights=(sign.ravel() == 1), minlength=K)
    total = np.bincount(bucket.ravel(), minlength=K)
    statistic = np.sum((2 * plus - total) ** 2 / total)  # sum of K squared z-scores
    assert scipy.stats.chi2.sf(statistic, K) > P_THRESHOLD


def test_hash_seeds_give_different_buckets_and_signs():
    n_in, n_out, K = 784, 100, 500
    bucket_a, sign_a = kernels.hash_buckets(n_in, n_out, K, 1)
    bucket_b, sign_b = kernels.hash_buckets(n_in, n_out, K, 2)
    n = bucket_a.size
    # Independent hashes agree on a bucket with probability 1/K and on a
    # sign with probability 1/2; allow 5 binomial standard deviations.
    same_bucket = np.sum(bucket_a == bucket_b)
    assert abs(same_bucket - n / K) < 5 * np.sqrt(n / K * (1 - 1 / K))
    same_sign = np.sum(sign_a == sign_b)
    assert abs(same_sign - n / 2) < 5 * np.sqrt(n / 4)
    # Neighbouring entries are not correlated: rows i and i + 1 agree like strangers.
    same_neighbour = np.sum(bucket_a[1:] == bucket_a[:-1])
    m = bucket_a[1:].size
    assert abs(same_neighbour - m / K) < 5 * np.sqrt(m / K)


# ---------------------------------------------------------------------------
# hashed_lookup and bucket_accumulate
# ---------------------------------------------------------------------------


@st.composite
def hashed_cases(draw):
    """w (K,), bucket and sign of one random shape (0-d to 3-d, possibly empty)."""
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=0, max_size=3)))
    K = draw(st.sampled_from([1, 2, 5, 64]))
    dtype = draw(st.sampled_from(FLOATS))
    layouts = [draw(st.sampled_from(LAYOUTS)) for _ in range(3)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.standard_normal(K).astype(dtype)
    bucket = rng.integers(0, K, size=shape).astype(draw(st.sampled_from([np.int32, np.int64, np.uint16])))
    sign = rng.choice(np.array([-1, 1], dtype=draw(st.sampled_from([np.int8, np.int32, np.int64]))), size=shape)
    dV = rng.standard_normal(shape).astype(dtype)
    return dict(
        K=K,
        w=as_layout(w, layouts[0]),
        bucket=as_layout(bucket, layouts[1]),
        sign=as_layout(sign, layouts[2]),
        dV=as_layout(dV, layouts[0]),
    )


@pytest.mark.parametrize("backend", BACKENDS)
@PROPERTY
@given(case=hashed_cases())
def test_hashed_lookup_is_sign_times_w_of_bucket(case, backend):
    w, bucket, sign = case["w"], case["bucket"], case["sign"]
    V = kernels.hashed_lookup(w, bucket, sign, backend=backend)
    assert isinstance(V, np.ndarray)
    assert V.shape == bucket.shape and V.dtype == w.dtype
    # Multiplying by ±1 is exact, so the lookup is exact.
    expected = np.where(sign == 1, w[bucket], -w[bucket])
    np.testing.assert_array_equal(V, expected)


@requires_c
@PROPERTY
@given(case=hashed_cases())
def test_hashed_lookup_c_equals_twin(case):
    args = case["w"], case["bucket"], case["sign"]
    np.testing.assert_array_equal(
        kernels.hashed_lookup(*args, backend="c"), kernels.hashed_lookup(*args, backend="numpy")
    )


@requires_c
@PROPERTY
@given(case=hashed_cases())
def test_bucket_accumulate_c_equals_twin(case):
    dV, bucket, sign, K = case["dV"], case["bucket"], case["sign"], case["K"]
    dw_c = kernels.bucket_accumulate(dV, bucket, sign, K, backend="c")
    dw_np = kernels.bucket_accumulate(dV, bucket, sign, K, backend="numpy")
    assert dw_c.shape == dw_np.shape == (K,)
    assert dw_c.dtype == dw_np.dtype == dV.dtype
    if dV.dtype == np.float64:
        # Both sum the exact terms sign * dV in index order in float64.
        np.testing.assert_array_equal(dw_c, dw_np)
        return
    # float32: C sums the (exact) terms a_t = sign_t dV_t of a bucket in
    # float32 in index order, error <= gamma_{m-1}(u32) sum|a| for m terms;
    # the twin sums them in float64 (error <= gamma_{m-1}(u64) sum|a|) and
    # rounds once to float32 (error <= u32 |sum|).  gamma_{m-1} + u <=
    # gamma_m, and a float64 term covers the twin's float64 sum and the
    # float64 evaluation of sum|a| below.
    flat_bucket = np.asarray(bucket).ravel()
    m = np.bincount(flat_bucket, minlength=K)
    sum_abs = np.bincount(flat_bucket, weights=np.abs(dV.astype(np.float64)).ravel(), minlength=K)
    bound = (gamma(m, U32) + 3 * gamma(m, U64)) * sum_abs
    assert np.all(np.abs(dw_c.astype(np.float64) - dw_np) <= bound)


@requires_c
@PROPERTY
@given(case=hashed_cases())
def test_bucket_accumulate_c_sums_in_index_order_in_output_precision(case):
    """The contract of csrc/pynncomp.h: sum in order t = 0..n-1 in the dtype of dV.

    ``np.add.at`` does exactly that (unbuffered, in index order, in the
    array's dtype), so the float32 and float64 results are bit-identical.
    """
    dV, bucket, sign, K = case["dV"], case["bucket"], case["sign"], case["K"]
    expected = np.zeros(K, dtype=dV.dtype)
    np.add.at(expected, np.asarray(bucket).ravel(), (sign.astype(dV.dtype) * dV).ravel())
    np.testing.assert_array_equal(kernels.bucket_accumulate(dV, bucket, sign, K, backend="c"), expected)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_bucket_accumulate_is_adjoint_of_lookup(backend, dtype):
    """<lookup(w), dV> = <w, accumulate(dV)> (the backward of the lookup)."""
    rng = np.random.default_rng(7)
    K = 37
    bucket, sign = kernels.hash_buckets(50, 20, K, 3, backend=backend)
    w = rng.standard_normal(K).astype(dtype)
    dV = rng.standard_normal((50, 20)).astype(dtype)
    V = kernels.hashed_lookup(w, bucket, sign, backend=backend)
    dw = kernels.bucket_accumulate(dV, bucket, sign, K, backend=backend)
    lhs = np.sum(V.astype(np.float64) * dV)
    rhs = np.sum(w.astype(np.float64) * dw)
    # Only dw is rounded (per bucket, <= gamma_m sum|dV|); the float64
    # products and sums add a float64 gamma over all n terms.
    n = dV.size
    scale = np.sum(np.abs(w.astype(np.float64))[bucket] * np.abs(dV))
    assert abs(lhs - rhs) <= (gamma(n, UNIT_ROUNDOFF[np.dtype(dtype)]) + 2 * gamma(n + 1, U64)) * scale


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
def test_hashed_kernels_c_equal_twin_at_layer_size(dtype):
    rng = np.random.default_rng(11)
    K = 784 * 300 // 64
    bucket, sign = kernels.hash_buckets(784, 300, K, 1691)
    w = rng.standard_normal(K).astype(dtype)
    dV = rng.standard_normal((784, 300)).astype(dtype)
    np.testing.assert_array_equal(
        kernels.hashed_lookup(w, bucket, sign, backend="c"), kernels.hashed_lookup(w, bucket, sign, backend="numpy")
    )
    dw_c = kernels.bucket_accumulate(dV, bucket, sign, K, backend="c")
    dw_np = kernels.bucket_accumulate(dV, bucket, sign, K, backend="numpy")
    if dtype == np.float64:
        np.testing.assert_array_equal(dw_c, dw_np)
    else:  # the float32 bound of test_bucket_accumulate_c_equals_twin
        m = np.bincount(bucket.ravel(), minlength=K)
        sum_abs = np.bincount(bucket.ravel(), weights=np.abs(dV.astype(np.float64)).ravel(), minlength=K)
        assert np.all(np.abs(dw_c.astype(np.float64) - dw_np) <= (gamma(m, U32) + 3 * gamma(m, U64)) * sum_abs)


# ---------------------------------------------------------------------------
# sparse masked matmul: forward, backward to the input, weight gradient
# ---------------------------------------------------------------------------


@st.composite
def sparse_cases(draw):
    """A masked weight W * M in CSR, an input X and an output gradient dY.

    Shapes include 0 rows / columns, nnz = 0 (empty mask) and the full
    mask; X has a drawn fraction of exact zeros (the C forward skips them).
    Batches up to 37 reach every path of the C kernels: rows one by one,
    whole blocks (16 float32 or 8 float64 rows) and a padded last block.
    """
    B = draw(st.one_of(st.integers(0, 5), st.integers(0, 37)))
    n_in = draw(st.integers(0, 12))
    n_out = draw(st.integers(0, 12))
    density = draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
    x_zero_fraction = draw(st.sampled_from([0.0, 0.5, 0.8, 1.0]))
    dtype = draw(st.sampled_from(FLOATS))
    layouts = [draw(st.sampled_from(LAYOUTS)) for _ in range(3)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = rng.standard_normal((n_in, n_out)).astype(dtype)
    M = rng.random((n_in, n_out)) < density
    X = (rng.standard_normal((B, n_in)) * (rng.random((B, n_in)) >= x_zero_fraction)).astype(dtype)
    dY = rng.standard_normal((B, n_out)).astype(dtype)
    indptr, indices, data = csr_of(W * M)
    return dict(
        W=W,
        M=M,
        X=as_layout(X, layouts[0]),
        dY=as_layout(dY, layouts[1]),
        indptr=indptr,
        indices=indices,
        data=as_layout(data, layouts[2]),
    )


def inner_product_bound(abs_a, abs_b, n, dtype):
    """Bound on |computed1 - computed2| for two evaluations of A @ B.

    Each entry is an inner product of n terms; any evaluation order, with or
    without fused multiply-add, is within gamma_n * (|A| @ |B|) of the exact
    value (Higham eq. 3.5), so two of them differ by at most twice that.
    ``|A| @ |B|`` is evaluated in float64 (relative error <= gamma_n(u64)),
    covered by the extra float64 term.
    """
    scale = abs_a.astype(np.float64) @ abs_b.astype(np.float64)
    return (2 * gamma(n, UNIT_ROUNDOFF[np.dtype(dtype)]) + gamma(n, U64)) * scale


def masked(case):
    return case["W"] * case["M"]


@pytest.mark.parametrize("backend", BACKENDS)
@PROPERTY
@given(case=sparse_cases())
def test_sparse_matmul_is_x_times_masked_w(case, backend):
    X = case["X"]
    n_in, n_out = case["W"].shape
    Y = kernels.sparse_matmul(X, case["indptr"], case["indices"], case["data"], n_out, backend=backend)
    assert Y.shape == (X.shape[0], n_out) and Y.dtype == X.dtype
    dense = X @ masked(case)
    assert np.all(np.abs(Y - dense) <= inner_product_bound(np.abs(X), np.abs(masked(case)), n_in, X.dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@PROPERTY
@given(case=sparse_cases())
def test_sparse_matmul_t_is_dy_times_masked_w_transposed(case, backend):
    dY = case["dY"]
    n_in, n_out = case["W"].shape
    dX = kernels.sparse_matmul_t(dY, case["indptr"], case["indices"], case["data"], n_in, backend=backend)
    assert dX.shape == (dY.shape[0], n_in) and dX.dtype == dY.dtype
    dense = dY @ masked(case).T
    assert np.all(np.abs(dX - dense) <= inner_product_bound(np.abs(dY), np.abs(masked(case)).T, n_out, dY.dtype))


@pytest.mark.parametrize("backend", BACKENDS)
@PROPERTY
@given(case=sparse_cases())
def test_sparse_weight_grad_is_xt_dy_at_kept_positions(case, backend):
    X, dY, M = case["X"], case["dY"], case["M"]
    ddata = kernels.sparse_weight_grad(X, dY, case["indptr"], case["indices"], backend=backend)
    assert ddata.shape == (case["indices"].shape[0],) and ddata.dtype == X.dtype
    # Boolean indexing walks row-major, which is CSR order with sorted indices.
    dense = (X.T @ dY)[M]
    bound = inner_product_bound(np.abs(X).T, np.abs(dY), X.shape[0], X.dtype)[M]
    assert np.all(np.abs(ddata - dense) <= bound)


@requires_c
@PROPERTY
@given(case=sparse_cases())
def test_sparse_kernels_c_equal_twin(case):
    X, dY, indptr, indices, data = case["X"], case["dY"], case["indptr"], case["indices"], case["data"]
    n_in, n_out = case["W"].shape
    absW = np.abs(masked(case))

    Y_c = kernels.sparse_matmul(X, indptr, indices, data, n_out, backend="c")
    Y_np = kernels.sparse_matmul(X, indptr, indices, data, n_out, backend="numpy")
    assert Y_c.shape == Y_np.shape and Y_c.dtype == Y_np.dtype
    assert np.all(np.abs(Y_c - Y_np) <= inner_product_bound(np.abs(X), absW, n_in, X.dtype))

    dX_c = kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend="c")
    dX_np = kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend="numpy")
    assert dX_c.shape == dX_np.shape and dX_c.dtype == dX_np.dtype
    assert np.all(np.abs(dX_c - dX_np) <= inner_product_bound(np.abs(dY), absW.T, n_out, dY.dtype))

    g_c = kernels.sparse_weight_grad(X, dY, indptr, indices, backend="c")
    g_np = kernels.sparse_weight_grad(X, dY, indptr, indices, backend="numpy")
    assert g_c.shape == g_np.shape and g_c.dtype == g_np.dtype
    bound = inner_product_bound(np.abs(X).T, np.abs(dY), X.shape[0], X.dtype)[case["M"]]
    assert np.all(np.abs(g_c - g_np) <= bound)


EDGE_SHAPES = [
    # (B, n_in, n_out, density)
    (0, 3, 4, 0.5),  # no rows
    (3, 0, 4, 0.5),  # no inputs
    (3, 4, 0, 0.5),  # no outputs
    (0, 0, 0, 0.5),
    (1, 1, 1, 1.0),  # 1 x 1, kept
    (1, 1, 1, 0.0),  # 1 x 1, pruned
    (5, 6, 7, 0.0),  # nnz = 0
    (5, 6, 7, 1.0),  # full mask
    (16, 6, 7, 1.0),  # one whole float32 block
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("B, n_in, n_out, density", EDGE_SHAPES)
def test_sparse_kernels_edge_shapes(B, n_in, n_out, density, dtype, backend):
    rng = np.random.default_rng(B + 10 * n_in + 100 * n_out)
    # Small integers: every product and sum is exact, so results are exact.
    W = rng.integers(1, 5, size=(n_in, n_out)).astype(dtype)
    M = np.full((n_in, n_out), density == 1.0) if density in (0.0, 1.0) else rng.random((n_in, n_out)) < density
    X = rng.integers(-3, 4, size=(B, n_in)).astype(dtype)
    dY = rng.integers(-3, 4, size=(B, n_out)).astype(dtype)
    indptr, indices, data = csr_of(W * M)
    Y = kernels.sparse_matmul(X, indptr, indices, data, n_out, backend=backend)
    dX = kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend=backend)
    g = kernels.sparse_weight_grad(X, dY, indptr, indices, backend=backend)
    assert Y.shape == (B, n_out) and dX.shape == (B, n_in) and g.shape == (int(M.sum()),)
    assert Y.dtype == dX.dtype == g.dtype == dtype
    np.testing.assert_array_equal(Y, X @ (W * M))
    np.testing.assert_array_equal(dX, dY @ (W * M).T)
    np.testing.assert_array_equal(g, (X.T @ dY)[M])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(0,), (0, 5), (1,), (1, 1), ()])
def test_hashed_kernels_edge_shapes(shape, dtype, backend):
    w = np.array([2.5], dtype=dtype)  # K = 1: every entry in bucket 0
    bucket = np.zeros(shape, dtype=np.int32)
    sign = np.full(shape, -1, dtype=np.int8)
    dV = np.full(shape, 3.0, dtype=dtype)
    V = kernels.hashed_lookup(w, bucket, sign, backend=backend)
    assert V.shape == shape and V.dtype == dtype
    assert np.all(V == -2.5)
    dw = kernels.bucket_accumulate(dV, bucket, sign, 1, backend=backend)
    assert dw.shape == (1,) and dw.dtype == dtype
    assert dw[0] == -3.0 * int(np.prod(shape))


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("density", [0.0, 0.01, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("B", [1, 3, 16, 37])
def test_sparse_kernels_c_exact_on_integer_values(dtype, density, B):
    """Small integers make every product and partial sum exact in float32
    (all below 2**24), so every summation order gives the same bits."""
    rng = np.random.default_rng(int(density * 1000) + B)
    n_in, n_out = 97, 61
    W = rng.integers(-8, 9, size=(n_in, n_out)).astype(dtype)
    M = rng.random((n_in, n_out)) < density
    X = (rng.integers(-8, 9, size=(B, n_in)) * (rng.random((B, n_in)) < 0.3)).astype(dtype)
    dY = rng.integers(-8, 9, size=(B, n_out)).astype(dtype)
    indptr, indices = csr_of(M)[:2]
    data = W[M]  # row-major = CSR order; keeps explicit zero weights too
    WM = W * M
    np.testing.assert_array_equal(kernels.sparse_matmul(X, indptr, indices, data, n_out, backend="c"), X @ WM)
    np.testing.assert_array_equal(kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend="c"), dY @ WM.T)
    np.testing.assert_array_equal(kernels.sparse_weight_grad(X, dY, indptr, indices, backend="c"), (X.T @ dY)[M])


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("B", [2, 5, 17, 18, 41])
def test_sparse_kernels_c_rows_do_not_depend_on_the_batch(dtype, B):
    """Row b of Y and of dX is the same sum in the same order whatever batch
    it is in, so a sample gives the same bits at batch size 1 and 256.

    The C kernels take whole blocks of rows, pad a last partial block of at
    least a quarter block and do the rest row by row; these batch sizes
    reach each combination for float32 (blocks of 16) and float64 (8).
    """
    rng = np.random.default_rng(5)
    n_in, n_out = 200, 90
    W = rng.standard_normal((n_in, n_out)).astype(dtype)
    M = rng.random((n_in, n_out)) < 0.2
    indptr, indices, data = csr_of(W * M)
    X = (rng.standard_normal((B, n_in)) * (rng.random((B, n_in)) < 0.4)).astype(dtype)
    dY = rng.standard_normal((B, n_out)).astype(dtype)
    Y = kernels.sparse_matmul(X, indptr, indices, data, n_out, backend="c")
    dX = kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend="c")
    for b in range(B):
        np.testing.assert_array_equal(kernels.sparse_matmul(X[b : b + 1], indptr, indices, data, n_out, backend="c"), Y[b : b + 1])
        np.testing.assert_array_equal(kernels.sparse_matmul_t(dY[b : b + 1], indptr, indices, data, n_in, backend="c"), dX[b : b + 1])
    # The weight gradient sums over b in order on every path: the same bits
    # as the plain recursion ddata += X[b, i] dY[b, j], b = 0, 1, ...
    g = kernels.sparse_weight_grad(X, dY, indptr, indices, backend="c")
    rows = np.repeat(np.arange(n_in), np.diff(indptr))
    expected = np.zeros_like(g)
    for b in range(B):
        expected += X[b, rows] * dY[b, indices]
    np.testing.assert_array_equal(g, expected)


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("density", [0.002, 0.01, 0.1, 0.5])
def test_sparse_kernels_c_equal_twin_at_layer_size(dtype, density):
    """784 x 300 layer, MNIST-like input (80 % zeros), batch 64."""
    rng = np.random.default_rng(3)
    n_in, n_out, B = 784, 300, 64
    W = rng.standard_normal((n_in, n_out)).astype(dtype)
    M = rng.random((n_in, n_out)) < density
    indptr, indices, data = csr_of(W * M)
    X = (rng.random((B, n_in)) * (rng.random((B, n_in)) < 0.2)).astype(dtype)
    dY = rng.standard_normal((B, n_out)).astype(dtype)
    absW = np.abs(W * M)
    Y = kernels.sparse_matmul(X, indptr, indices, data, n_out, backend="c")
    assert np.all(np.abs(Y - X @ (W * M)) <= inner_product_bound(np.abs(X), absW, n_in, dtype))
    dX = kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend="c")
    assert np.all(np.abs(dX - dY @ (W * M).T) <= inner_product_bound(np.abs(dY), absW.T, n_out, dtype))
    g = kernels.sparse_weight_grad(X, dY, indptr, indices, backend="c")
    bound = inner_product_bound(np.abs(X).T, np.abs(dY), B, dtype)[M]
    assert np.all(np.abs(g - (X.T @ dY)[M]) <= bound)


# ---------------------------------------------------------------------------
# Non-finite operands: the differences stated in csrc/pynncomp.h happen
# ---------------------------------------------------------------------------

# Rows of one block of the C sparse kernels (BLOCK in csrc/kernels_real.h).
BLOCK_ROWS = {np.float32: 16, np.float64: 8}
INF = np.inf


@requires_c
@pytest.mark.parametrize("B", [1, 32])  # one row alone; two whole blocks
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the twins' 0 * inf
def test_pruned_weights_are_never_multiplied_in_c(dtype, B):
    """W = [[2, .], [., 3]] with (0, 1) and (1, 0) pruned: an inf input meets
    a pruned weight as inf * 0 = NaN in the twin, and not at all in C."""
    indptr, indices = np.array([0, 1, 2]), np.array([0, 1])
    data = np.array([2.0, 3.0], dtype=dtype)
    X = np.tile(np.array([[INF, 1.0]], dtype=dtype), (B, 1))
    Y_c = kernels.sparse_matmul(X, indptr, indices, data, 2, backend="c")
    Y_np = kernels.sparse_matmul(X, indptr, indices, data, 2, backend="numpy")
    assert np.all(Y_c[:, 0] == INF) and np.all(Y_np[:, 0] == INF)
    assert np.all(Y_c[:, 1] == 3.0)  # 1 * 3; the pruned W[0, 1] is skipped
    assert np.all(np.isnan(Y_np[:, 1]))  # inf * 0 + 1 * 3
    dY = X  # dX[b, i] = sum_j dY[b, j] W[i, j]
    dX_c = kernels.sparse_matmul_t(dY, indptr, indices, data, 2, backend="c")
    dX_np = kernels.sparse_matmul_t(dY, indptr, indices, data, 2, backend="numpy")
    assert np.all(dX_c[:, 0] == INF) and np.all(dX_np[:, 0] == INF)
    assert np.all(dX_c[:, 1] == 3.0)  # the pruned W[1, 0] is skipped
    assert np.all(np.isnan(dX_np[:, 1]))


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the twins' 0 * inf
def test_zero_input_times_inf_weight_depends_on_the_batch_in_c(dtype):
    """W = [[inf], [1]], both kept; row 0 of X is [0, 1].  The twin gives
    0 * inf + 1 = NaN.  C skips the zero input when row 0 is computed alone
    or in a block where input 0 is zero in every row (Y = 1), and includes
    it when another row of its block has input 0 nonzero (Y = NaN)."""
    indptr, indices = np.array([0, 1, 2]), np.array([0, 0])
    data = np.array([INF, 1.0], dtype=dtype)
    block = BLOCK_ROWS[dtype]
    row0 = np.array([[0.0, 1.0]], dtype=dtype)

    def y_of_row0(X, backend):
        return kernels.sparse_matmul(X, indptr, indices, data, 1, backend=backend)[0, 0]

    alone = row0
    with_live_input = np.vstack([row0, np.ones((block - 1, 2), dtype=dtype)])
    with_dead_input = np.vstack([row0, np.tile(row0, (block - 1, 1))])
    assert y_of_row0(alone, "c") == 1.0
    assert np.isnan(y_of_row0(with_live_input, "c"))
    assert y_of_row0(with_dead_input, "c") == 1.0
    for X in (alone, with_live_input, with_dead_input):
        assert np.isnan(y_of_row0(X, "numpy"))


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the twins' 0 * inf
def test_zero_input_times_inf_gradient_depends_on_the_batch_in_c(dtype):
    """One kept weight (0, 0); X[0, 0] = 0 and dY[0, 0] = inf.  The twin's
    ddata includes 0 * inf = NaN; C skips it alone, not in a block whose
    other rows have X[k, 0] = 1 (and dY[k, 0] = 1)."""
    indptr, indices = np.array([0, 1]), np.array([0])
    block = BLOCK_ROWS[dtype]
    X = np.ones((block, 1), dtype=dtype)
    dY = np.ones((block, 1), dtype=dtype)
    X[0, 0], dY[0, 0] = 0.0, INF
    assert kernels.sparse_weight_grad(X[:1], dY[:1], indptr, indices, backend="c")[0] == 0.0
    assert np.isnan(kernels.sparse_weight_grad(X, dY, indptr, indices, backend="c")[0])
    for rows in (1, block):
        assert np.isnan(kernels.sparse_weight_grad(X[:rows], dY[:rows], indptr, indices, backend="numpy")[0])


@requires_c
def test_float32_bucket_sum_can_overflow_in_c_but_not_in_the_twin():
    """C sums a bucket in float32, the twin in float64 rounded once."""
    big = np.float32(3e38)  # float32 max is about 3.4e38
    dV = np.array([big, big, -big], dtype=np.float32)
    bucket, sign = np.zeros(3, dtype=np.int32), np.ones(3, dtype=np.int8)
    assert kernels.bucket_accumulate(dV, bucket, sign, 1, backend="c")[0] == INF  # (3e38 + 3e38) - 3e38
    assert kernels.bucket_accumulate(dV, bucket, sign, 1, backend="numpy")[0] == big


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
def test_hashed_lookup_equals_twin_on_non_finite_weights(dtype):
    w = np.array([INF, -INF, np.nan, 1.0], dtype=dtype)
    bucket = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    sign = np.array([[1, 1, -1, -1], [1, -1, -1, 1]])
    V = kernels.hashed_lookup(w, bucket, sign, backend="c")
    np.testing.assert_array_equal(V, kernels.hashed_lookup(w, bucket, sign, backend="numpy"))
    np.testing.assert_array_equal(V, [[INF, -INF, np.nan, -1.0], [1.0, np.nan, INF, INF]])


# ---------------------------------------------------------------------------
# Sizes past the 32-bit indices of the C core are refused before any copy
# ---------------------------------------------------------------------------

PAST_INT32 = 2**31 + 16  # one past INT32_MAX would do; 16 more clears any off-by-one


def zeros_view(shape, dtype=np.float32):
    """A read-only all-zero array of ``shape`` that allocates one element
    (zero strides): a copy of it would allocate the whole shape."""
    return np.broadcast_to(dtype(0), shape)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hashed_lookup_refuses_k_past_int32(backend):
    """bucket = 2**31 + 5 < K would wrap to a negative int32 index."""
    w = zeros_view((PAST_INT32,))
    with pytest.raises(ValueError, match=r"^w must have at most 2147483647 entries \(K\).*got shape \(2147483664,\)"):
        kernels.hashed_lookup(w, np.array([2**31 + 5]), np.array([1]), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparse_matmul_t_refuses_n_out_past_int32(backend):
    dY = zeros_view((1, PAST_INT32))
    with pytest.raises(ValueError, match=r"^dY must have at most 2147483647 columns \(n_out\).*\(1, 2147483664\)"):
        kernels.sparse_matmul_t(dY, np.array([0, 1]), np.array([2**31 + 5]), np.ones(1, np.float32), 1,
                                backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparse_weight_grad_refuses_n_out_past_int32(backend):
    X = np.ones((1, 1), dtype=np.float32)
    dY = zeros_view((1, PAST_INT32))
    with pytest.raises(ValueError, match=r"^dY must have at most 2147483647 columns \(n_out\)"):
        kernels.sparse_weight_grad(X, dY, np.array([0, 1]), np.array([2**31 + 5]), backend=backend)


def test_sparse_layer_refuses_n_out_past_int32():
    from pynncomp.nn import SparseDense

    b = zeros_view((PAST_INT32,), np.float64)
    with pytest.raises(ValueError, match=r"^n_out must be in \[1, 2147483647\], got 2147483664"):
        SparseDense(np.array([0, 1]), np.array([2**31 + 5]), np.ones(1), b, PAST_INT32)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sizes_up_to_int32_max_pass_the_size_checks(backend):
    """The bound is exactly INT32_MAX: at that size the size check passes and
    the next check (here the bucket range, bucket = K) is what refuses."""
    w = zeros_view((2**31 - 1,))
    with pytest.raises(ValueError, match=r"^bucket must have values in \[0, 2147483646\]"):
        kernels.hashed_lookup(w, np.array([2**31 - 1]), np.array([1]), backend=backend)


# ---------------------------------------------------------------------------
# Misaligned arrays reach the backends aligned
# ---------------------------------------------------------------------------


def misaligned(a):
    """A C-contiguous copy of ``a`` that starts one byte into its buffer."""
    a = np.asarray(a)
    buffer = np.zeros(a.nbytes + 1, dtype=np.uint8)
    view = buffer[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


class BufferSpy:
    """A backend that records the layout of every array it is handed."""

    def __init__(self, backend):
        self.backend = backend
        self.arrays = []

    def __getattr__(self, name):
        kernel = getattr(self.backend, name)

        def spy(*args):
            self.arrays += [a for a in args if isinstance(a, np.ndarray)]
            return kernel(*args)

        return spy


@pytest.mark.parametrize("backend", BACKENDS)
def test_misaligned_arrays_are_copied_aligned(backend, monkeypatch):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((5, 6)).astype(np.float32)
    dY = rng.standard_normal((5, 7)).astype(np.float32)
    indptr, indices, data = csr_of((rng.standard_normal((6, 7)) * (rng.random((6, 7)) < 0.5)).astype(np.float32))
    bucket, sign = kernels.hash_buckets(6, 7, 9, 3, backend=backend)
    w = rng.standard_normal(9).astype(np.float32)
    dV = rng.standard_normal((6, 7)).astype(np.float32)
    calls = {
        "hashed_lookup": (w, bucket, sign),
        "bucket_accumulate": (dV, bucket, sign, 9),
        "sparse_matmul": (X, indptr, indices, data, 7),
        "sparse_matmul_t": (dY, indptr, indices, data, 6),
        "sparse_weight_grad": (X, dY, indptr, indices),
    }
    assert not misaligned(X).flags.aligned and misaligned(X).flags.c_contiguous
    assert not misaligned(indices).flags.aligned and not misaligned(indptr).flags.aligned
    spy = BufferSpy(kernels._impl(backend))
    monkeypatch.setattr(kernels, "_impl", lambda name: spy)
    for kernel, args in calls.items():
        expected = getattr(kernels, kernel)(*args)
        shifted = [misaligned(a) if isinstance(a, np.ndarray) and a.itemsize > 1 else a for a in args]
        spy.arrays.clear()
        np.testing.assert_array_equal(getattr(kernels, kernel)(*shifted), expected)
        assert len(spy.arrays) >= 3
        for a in spy.arrays:
            assert a.flags.aligned and a.flags.c_contiguous, kernel


# ---------------------------------------------------------------------------
# Wrappers copy what C cannot take and leave their inputs alone
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_contiguous_inputs_are_copied_not_misread(backend):
    rng = np.random.default_rng(21)
    n_in, n_out, B = 9, 7, 5
    W = rng.standard_normal((n_in, n_out))
    M = rng.random((n_in, n_out)) < 0.5
    indptr, indices, data = csr_of(W * M)
    X = rng.standard_normal((B, n_in))
    dY = rng.standard_normal((B, n_out))
    X_t = np.ascontiguousarray(X.T).T  # a transposed view
    dY_s = as_layout(dY, "strided")
    data_r = as_layout(data, "reversed")
    indices_s = as_layout(indices, "strided")
    assert not (X_t.flags.c_contiguous or dY_s.flags.c_contiguous or data_r.flags.c_contiguous)
    assert not indices_s.flags.c_contiguous
    np.testing.assert_array_equal(
        kernels.sparse_matmul(X_t, indptr, indices_s, data_r, n_out, backend=backend),
        kernels.sparse_matmul(X, indptr, indices, data, n_out, backend=backend),
    )
    np.testing.assert_array_equal(
        kernels.sparse_matmul_t(dY_s, indptr, indices_s, data_r, n_in, backend=backend),
        kernels.sparse_matmul_t(dY, indptr, indices, data, n_in, backend=backend),
    )
    np.testing.assert_array_equal(
        kernels.sparse_weight_grad(X_t, dY_s, indptr, indices_s, backend=backend),
        kernels.sparse_weight_grad(X, dY, indptr, indices, backend=backend),
    )
    bucket, sign = kernels.hash_buckets(6, 8, 11, 4, backend=backend)
    w = rng.standard_normal(11)
    dV = rng.standard_normal((6, 8))
    bucket_t, sign_t, dV_t = (np.ascontiguousarray(a.T).T for a in (bucket, sign, dV))
    w_r = as_layout(w, "reversed")
    np.testing.assert_array_equal(
        kernels.hashed_lookup(w_r, bucket_t, sign_t, backend=backend), kernels.hashed_lookup(w, bucket, sign, backend=backend)
    )
    np.testing.assert_array_equal(
        kernels.bucket_accumulate(dV_t, bucket_t, sign_t, 11, backend=backend),
        kernels.bucket_accumulate(dV, bucket, sign, 11, backend=backend),
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernels_do_not_modify_their_inputs(backend):
    rng = np.random.default_rng(8)
    W = rng.standard_normal((6, 5)).astype(np.float32)
    M = rng.random((6, 5)) < 0.5
    indptr, indices, data = csr_of(W * M)
    X = rng.standard_normal((4, 6)).astype(np.float32)
    dY = rng.standard_normal((4, 5)).astype(np.float32)
    bucket, sign = kernels.hash_buckets(6, 5, 4, 0, backend=backend)
    w = rng.standard_normal(4).astype(np.float32)
    dV = rng.standard_normal((6, 5)).astype(np.float32)
    inputs = [indptr, indices, data, X, dY, bucket, sign, w, dV]
    before = [a.copy() for a in inputs]
    kernels.sparse_matmul(X, indptr, indices, data, 5, backend=backend)
    kernels.sparse_matmul_t(dY, indptr, indices, data, 6, backend=backend)
    kernels.sparse_weight_grad(X, dY, indptr, indices, backend=backend)
    kernels.hashed_lookup(w, bucket, sign, backend=backend)
    kernels.bucket_accumulate(dV, bucket, sign, 4, backend=backend)
    for a, b in zip(inputs, before):
        np.testing.assert_array_equal(a, b)


def test_active_backend_is_the_one_reported():
    expected = kernels._c_module if kernels.ACTIVE_BACKEND == "c" else reference
    assert kernels._unchecked() is expected
    assert kernels.ACTIVE_BACKEND in ("c", "numpy")


@requires_c
def test_unchecked_c_kernels_are_not_public():
    """The unchecked C wrappers trust their arguments (an index out of range
    makes C read outside its buffers), so no public name of the package or
    of the kernels module is them or hands them out."""
    import pynncomp

    public = {name: getattr(kernels, name) for name in dir(kernels) if not name.startswith("_")}
    public.update({name: getattr(pynncomp, name) for name in dir(pynncomp) if not name.startswith("_")})
    assert "active" not in public
    assert not any(value is kernels._c_module for value in public.values())
    assert kernels.c_available() is True
    assert kernels._impl("c") is kernels._c_module


def test_backend_c_without_c_core_is_refused(monkeypatch):
    monkeypatch.setattr(kernels, "_c_module", None)
    with pytest.raises(ValueError, match=r"^backend 'c'.*not built"):
        kernels.hash_buckets(2, 2, 3, 0, backend="c")


# ---------------------------------------------------------------------------
# sgd_step: the fused SGD step, in place
# ---------------------------------------------------------------------------

PENALTIES = (None, "l1", "l2")
# NaN of both signs, the infinities, the zeros of both signs, a float32
# subnormal and a value near the float32 maximum (a sum of two overflows).
SGD_SPECIALS = np.array([np.nan, -np.nan, INF, -INF, 0.0, -0.0, 1.5, -2.25, 1e-45, -3e38])


def assert_same_bits(a, b):
    """``a`` and ``b`` hold the same bits, except that two NaNs may differ.

    Every finite value, every infinity and the sign of every zero must
    match bit for bit, and the NaNs must be at the same places.  Which of
    two NaN operands an operation passes on is left open by IEEE 754
    (section 6.2.3), and a compiler may swap the operands of the
    commutative ``+`` and ``*`` (x86 passes on its first operand's NaN): the
    C ``p[i] += v`` and NumPy's ``p += v`` with p = NaN and v = the negative
    NaN of ``inf - inf`` give NaNs of opposite signs.  That is the one
    freedom allowed here.
    """
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    np.testing.assert_array_equal(nan_a, nan_b)
    bits = f"u{a.itemsize}"
    np.testing.assert_array_equal(np.where(nan_a, 0, a.view(bits)), np.where(nan_b, 0, b.view(bits)))


def assert_identical_bits(a, b):
    """Byte for byte, NaN payloads included."""
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes()


def sgd_on_copies(args, backend):
    """``(p, v)`` after ``kernels.sgd_step(**args)`` on copies of p and v (``args`` is left as it is)."""
    p = args["p"].copy()
    v = None if args["v"] is None else args["v"].copy()
    with np.errstate(invalid="ignore", over="ignore"):
        assert kernels.sgd_step(**{**args, "p": p, "v": v}, backend=backend) is None
    return p, v


def old_sgd_step(p, v, g, keep, lr, momentum, penalty, lam):
    """One parameter's update by :meth:`pynncomp.nn.SGD.step` before the fused kernel, in place.

    Written out from that code: the penalty's ``grad`` (``lam * sign(p)``
    or ``lam * p``), ``+= g``, ``*= lr``, then the momentum and the 0/1
    factor of the keep-mask in p's dtype.
    """
    from pynncomp.nn import L1, L2

    if penalty is None:
        step = lr * g
    else:
        step = (L1 if penalty == "l1" else L2)(lam).grad(p)
        step += g
        step *= lr
    factor = None if keep is None else keep.astype(p.dtype)
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


@st.composite
def sgd_cases(draw):
    """Arguments of one sgd_step, with some entries of p, v and g NaN, ±inf or ±0.

    Sizes from 0-d and empty to 70 entries (past the width of any vector
    loop the compiler makes of the C kernel, and its remainder); momentum
    0, tiny (1e-300 is 0 once rounded to float32, but not 0 in double, so
    the C kernel takes its momentum branch with mu = 0) or in (0, 1); lr
    down to the subnormals (0 in float32); every penalty; a mask or None.
    """
    dtype = draw(st.sampled_from(FLOATS))
    shape = draw(st.sampled_from([(), (0,), (1,), (7,), (33,), (70,), (3, 0), (4, 5), (2, 3, 4)]))
    special_fraction = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    density = draw(st.sampled_from([None, 0.0, 0.5, 1.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def values():
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4)
        specials = rng.choice(SGD_SPECIALS, size=shape)
        return np.asarray(np.where(rng.random(shape) < special_fraction, specials, a)).astype(dtype)

    p, v, g = values(), values(), values()
    return dict(
        p=p,
        v=v,
        g=g,
        keep=None if density is None else np.asarray(rng.random(shape) < density),
        lr=draw(st.floats(0.0, 10.0, exclude_min=True)),
        momentum=draw(st.one_of(st.just(0.0), st.just(1e-300), st.floats(0.0, 1.0, exclude_max=True))),
        penalty=draw(st.sampled_from(PENALTIES)),
        lam=draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
    )


# p = [1, -2, 0, 4], g = [0.5, 1, -1, 2], v = [1, -1, 2, -2], lr = mu = 0.5,
# lam = 0.25: every value is a short binary fraction, so every operation is
# exact in float32 and float64 and the results below are exact.
#   t = lr g                          = [0.25, 0.5, -0.5, 1]
#   t = lr (lam sign(p) + g)          = [0.375, 0.375, -0.5, 1.125]   (sign(0) = 0)
#   t = lr (lam p + g)                = [0.375, 0.25, -0.5, 1.5]
#   momentum 0:   p - t;   momentum 0.5:   v' = 0.5 v - t = [0.5, -0.5, 1, -1] - t,  p + v'
SGD_P = [1.0, -2.0, 0.0, 4.0]
SGD_G = [0.5, 1.0, -1.0, 2.0]
SGD_V = [1.0, -1.0, 2.0, -2.0]
SGD_KEEP = [True, True, True, False]  # entry 3 pruned
SGD_KNOWN = {
    # (penalty, momentum): (p after, v after)
    (None, 0.0): ([0.75, -2.5, 0.5, 3.0], SGD_V),
    ("l1", 0.0): ([0.625, -2.375, 0.5, 2.875], SGD_V),
    ("l2", 0.0): ([0.625, -2.25, 0.5, 2.5], SGD_V),
    (None, 0.5): ([1.25, -3.0, 1.5, 2.0], [0.25, -1.0, 1.5, -2.0]),
    ("l1", 0.5): ([1.125, -2.875, 1.5, 1.875], [0.125, -0.875, 1.5, -2.125]),
    ("l2", 0.5): ([1.125, -2.75, 1.5, 1.5], [0.125, -0.75, 1.5, -2.5]),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("penalty, momentum", list(SGD_KNOWN))
def test_sgd_step_known_answers(penalty, momentum, masked, dtype, backend):
    """Worked by hand (above); with the mask, the pruned entry 3 keeps its
    p and gets velocity 0 whatever its old velocity, gradient and penalty.
    With momentum 0 the velocity is neither read nor written."""
    p, v, g = (np.array(x, dtype=dtype) for x in (SGD_P, SGD_V, SGD_G))
    keep = np.array(SGD_KEEP) if masked else None
    result = kernels.sgd_step(p, v, g, keep, lr=0.5, momentum=momentum, penalty=penalty, lam=0.25, backend=backend)
    assert result is None
    p_expected, v_expected = (np.array(x, dtype=dtype) for x in SGD_KNOWN[penalty, momentum])
    if masked:
        p_expected[3] = 4.0
        if momentum:
            v_expected[3] = 0.0
    np.testing.assert_array_equal(p, p_expected)
    np.testing.assert_array_equal(v, v_expected)
    np.testing.assert_array_equal(g, SGD_G)  # read only


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_step_updates_the_callers_arrays_and_no_others(backend):
    """p and v are the very arrays updated (a copy would lose the step); g
    and keep are left alone; momentum 0 never touches v, and v may be None."""
    rng = np.random.default_rng(31)
    p, v, g = (rng.standard_normal((5, 6)) for _ in range(3))
    keep = rng.random((5, 6)) < 0.5
    p0, v0, g0, keep0 = p.copy(), v.copy(), g.copy(), keep.copy()
    assert kernels.sgd_step(p, v, g, keep, lr=0.1, momentum=0.9, penalty="l1", lam=0.01, backend=backend) is None
    assert not np.array_equal(p, p0) and not np.array_equal(v, v0)
    np.testing.assert_array_equal(g, g0)
    np.testing.assert_array_equal(keep, keep0)
    np.testing.assert_array_equal(p[~keep], p0[~keep])
    assert not np.any(v[~keep])
    v1 = v.copy()
    kernels.sgd_step(p, v, g, keep, lr=0.1, backend=backend)
    assert_identical_bits(v, v1)
    p1 = p.copy()
    kernels.sgd_step(p, None, g, lr=0.1, backend=backend)
    np.testing.assert_array_equal(p, p1 - 0.1 * g)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the twin's 0 * inf
def test_sgd_step_special_values(backend):
    """The stated semantics at NaN, infinities and signed zeros, on both backends.

    * L1 takes sign(-0) = +0, not -0: p = -0, g = -0 give
      t = lr (lam * 0 + -0) = +0 and p - t = -0 (a sign(-0) of -0 would
      give t = -0 and p = +0).
    * sign(NaN) = NaN: an L1 step at p = NaN makes the velocity NaN, even
      with lam = 0 (0 * NaN) and a finite gradient.
    * The mask is a factor, not a skip (unlike the sparse kernels): a
      pruned entry with an infinite gradient gets t * 0 = NaN, as the SGD
      step before the fused kernel did.
    * inf - inf in the velocity is NaN.
    """
    for dtype in FLOATS:
        p = np.array([-0.0, 0.0, -0.0], dtype=dtype)
        g = np.array([-0.0, -0.0, 0.0], dtype=dtype)
        kernels.sgd_step(p, None, g, lr=0.5, penalty="l1", lam=0.25, backend=backend)
        np.testing.assert_array_equal(np.signbit(p), [True, False, True])
        assert not np.any(p)

        p = np.array([np.nan, 1.0], dtype=dtype)
        v = np.zeros(2, dtype=dtype)
        kernels.sgd_step(p, v, np.ones(2, dtype), lr=0.5, momentum=0.5, penalty="l1", lam=0.0, backend=backend)
        assert np.isnan(v[0]) and v[1] == -0.5
        assert np.isnan(p[0]) and p[1] == 0.5

        for momentum in (0.0, 0.5):
            p = np.array([1.0, 2.0], dtype=dtype)
            v = np.zeros(2, dtype=dtype)
            g = np.array([1.0, INF], dtype=dtype)
            kernels.sgd_step(p, v, g, np.array([True, False]), lr=0.5, momentum=momentum, backend=backend)
            assert p[0] == 0.5 and np.isnan(p[1])  # 1 - 0.5 * 1, or 1 + (0.5 * 0 - 0.5 * 1)
            assert np.isnan(v[1]) == (momentum != 0)

        p = np.array([1.0], dtype=dtype)
        v = np.array([INF], dtype=dtype)
        kernels.sgd_step(p, v, np.array([INF], dtype), lr=0.5, momentum=0.5, backend=backend)
        assert np.isnan(v[0]) and np.isnan(p[0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_step_rounds_lr_momentum_and_lam_to_float32_first(backend):
    """In float32 the contract is float32 arithmetic with fl32(lr), fl32(mu)
    and fl32(lam), in the order of csrc/pynncomp.h, written here with
    explicit float32 scalars.  The same formula in float64 rounded once at
    the end differs on many entries, so the test tells the two apart."""
    rng = np.random.default_rng(17)
    shape = (1000,)
    p, v, g = (rng.standard_normal(shape).astype(np.float32) for _ in range(3))
    lr, mu, lam = 0.1, 0.9, 1e-3  # none is a float32
    f32 = np.float32
    t = (f32(lam) * p + g) * f32(lr)
    v_expected = f32(mu) * v - t
    p_expected = p + v_expected
    assert p_expected.dtype == v_expected.dtype == np.float32
    p64, v64, g64 = (a.astype(np.float64) for a in (p, v, g))
    v_double = mu * v64 - (lam * p64 + g64) * lr
    assert np.count_nonzero((p64 + v_double).astype(np.float32) != p_expected) > 10
    kernels.sgd_step(p, v, g, lr=lr, momentum=mu, penalty="l2", lam=lam, backend=backend)
    assert_identical_bits(p, p_expected)
    assert_identical_bits(v, v_expected)


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("momentum", [0.0, 1e-300, 0.5])
@pytest.mark.parametrize("masked", [False, True])
def test_sgd_step_c_equals_twin_on_every_special_triple(masked, momentum, penalty, dtype):
    """Every (p, v, g) in SGD_SPECIALS^3 (1000 entries), one entry in three
    pruned: C and the twin give the same bits (two NaNs may differ, see
    :func:`assert_same_bits`)."""
    n = len(SGD_SPECIALS)
    index = np.indices((n, n, n)).reshape(3, -1)
    p, v, g = (SGD_SPECIALS[i].astype(dtype) for i in index)
    keep = np.arange(p.size) % 3 != 0 if masked else None
    args = dict(p=p, v=v, g=g, keep=keep, lr=0.5, momentum=momentum, penalty=penalty, lam=0.25)
    p_c, v_c = sgd_on_copies(args, "c")
    p_np, v_np = sgd_on_copies(args, "numpy")
    assert_same_bits(p_c, p_np)
    assert_same_bits(v_c, v_np)
    assert np.isnan(p_np).any() and np.isinf(p_np).any() and np.signbit(p_np[p_np == 0]).any()


@requires_c
@PROPERTY
@given(case=sgd_cases())
def test_sgd_step_c_equals_twin(case):
    p_c, v_c = sgd_on_copies(case, "c")
    p_np, v_np = sgd_on_copies(case, "numpy")
    assert_same_bits(p_c, p_np)
    assert_same_bits(v_c, v_np)
    if case["momentum"] == 0.0:  # v is neither read nor written
        assert_identical_bits(v_c, case["v"])
        assert_identical_bits(v_np, case["v"])


@requires_c
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_sgd_step_c_equals_twin_at_layer_size(dtype, penalty):
    """A 784 x 300 weight, 10 % pruned, a few specials sprinkled in."""
    rng = np.random.default_rng(13)
    p, v, g = (rng.standard_normal((784, 300)).astype(dtype) for _ in range(3))
    for a in (p, v, g):
        a.flat[rng.integers(0, a.size, 50)] = rng.choice(SGD_SPECIALS[:6], 50)
    args = dict(p=p, v=v, g=g, keep=rng.random(p.shape) < 0.9, lr=0.05, momentum=0.9, penalty=penalty, lam=1e-4)
    for a, b in zip(sgd_on_copies(args, "c"), sgd_on_copies(args, "numpy")):
        assert_same_bits(a, b)


@pytest.mark.parametrize("backend", BACKENDS)
@PROPERTY
@given(case=sgd_cases())
def test_sgd_step_is_the_old_sgd_arithmetic(case, backend):
    """Fusing the step changed no bit of SGD: the result is that of the
    NumPy code it replaced (:func:`old_sgd_step`) -- byte for byte for the
    twin, which does the same NumPy operations; up to two NaNs for C."""
    p_k, v_k = sgd_on_copies(case, backend)
    p, v = case["p"].copy(), case["v"].copy()
    with np.errstate(invalid="ignore", over="ignore"):
        old_sgd_step(p, v, case["g"], case["keep"], case["lr"], case["momentum"], case["penalty"], case["lam"])
    compare = assert_identical_bits if backend == "numpy" else assert_same_bits
    compare(p_k, p)
    compare(v_k, v)


@PROPERTY
@given(case=sgd_cases())
def test_sgd_step_twin_takes_the_bool_mask_or_its_float_factor(case):
    """The twin takes ``keep`` as a bool mask (what the checked function
    hands it) or as its 0/1 factor in p's dtype (what SGD hands it, cached
    by the layer): the same bytes.  An all-True mask is no mask: * 1.0
    changes no bit, not even a NaN's."""
    keep = case["keep"] if case["keep"] is not None else np.ones(case["p"].shape, dtype=bool)
    factor = keep.astype(case["p"].dtype)
    results = []
    for k in (keep, factor) + ((None,) if keep.all() else ()):
        p, v = case["p"].copy(), case["v"].copy()
        with np.errstate(invalid="ignore", over="ignore"):
            reference.sgd_step(p, v, case["g"], k, case["lr"], case["momentum"],
                               reference.PENALTY_CODES[case["penalty"]], case["lam"])
        results.append((p, v))
    for p, v in results[1:]:
        assert_identical_bits(p, results[0][0])
        assert_identical_bits(v, results[0][1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("layout", LAYOUTS + ("misaligned",))
def test_sgd_step_reads_g_and_keep_in_any_layout(layout, backend):
    """g and keep are only read, so any layout works: the same bits as
    C-contiguous copies, and they stay as they were."""
    rng = np.random.default_rng(23)
    p, v, g = (rng.standard_normal((6, 5)).astype(np.float32) for _ in range(3))
    keep = rng.random((6, 5)) < 0.6
    g_l, keep_l = as_layout(g, layout), as_layout(keep, layout)
    args = dict(p=p, v=v, g=g, keep=keep, lr=0.1, momentum=0.9, penalty="l2", lam=0.01)
    expected = sgd_on_copies(args, backend)
    result = sgd_on_copies({**args, "g": g_l, "keep": keep_l}, backend)
    for a, b in zip(result, expected):
        assert_identical_bits(a, b)
    np.testing.assert_array_equal(g_l, g)
    np.testing.assert_array_equal(keep_l, keep)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_step_reads_a_g_that_overlaps_p_or_v_as_it_was_before_the_step(backend):
    """g read before p and v change, wherever it lies: the same as with a separate copy of g.

    C updates p and v entry by entry; a g sharing memory with them would be
    read half-updated, so the wrapper hands the backend a copy.
    """
    for target in ("p", "v"):
        buffer = np.arange(1.0, 8.0)
        p, v, g = (buffer[1:], np.full(6, 0.5), buffer[:-1]) if target == "p" else \
            (np.full(6, 3.0), buffer[1:], buffer[:-1])
        expected_p, expected_v = p.copy(), v.copy()
        kernels.sgd_step(expected_p, expected_v, g.copy(), lr=1.0, momentum=0.5, penalty="l2", lam=0.25,
                         backend="numpy")
        kernels.sgd_step(p, v, g, lr=1.0, momentum=0.5, penalty="l2", lam=0.25, backend=backend)
        np.testing.assert_array_equal(p, expected_p)
        np.testing.assert_array_equal(v, expected_v)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_step_takes_any_nonzero_byte_of_a_bool_mask_as_kept(backend):
    """A bool array whose bytes are not 0 or 1 (a view of other bytes) keeps where the byte is nonzero."""
    keep = np.array([2, 1, 0, 255], dtype=np.uint8).view(np.bool_)
    p, v, g = np.ones(4), np.ones(4), np.ones(4)
    kernels.sgd_step(p, v, g, keep, lr=0.5, momentum=0.5, backend=backend)
    np.testing.assert_array_equal(v, [0.0, 0.0, 0.0, 0.0])  # 0.5 * 1 - 0.5 * 1 on the kept entries
    np.testing.assert_array_equal(p, [1.0, 1.0, 1.0, 1.0])
    kernels.sgd_step(p, v, g, keep, lr=0.25, momentum=0.5, backend=backend)
    np.testing.assert_array_equal(v, [-0.25, -0.25, 0.0, -0.25])


@pytest.mark.parametrize("backend", BACKENDS)
def test_sgd_step_hands_the_backend_p_and_v_themselves(backend, monkeypatch):
    """The backend gets the caller's p and v (the update must land in them)
    and C-contiguous, aligned copies of a strided g and a transposed keep;
    with momentum 0 it gets v = None, whatever the caller gave."""
    rng = np.random.default_rng(29)
    p, v = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    g = as_layout(rng.standard_normal((4, 6)), "strided")
    keep = as_layout(rng.random((4, 6)) < 0.5, "transposed")
    handed = []
    impl = kernels._impl(backend)

    class Spy:
        def sgd_step(self, *args):
            handed.append(args)
            return impl.sgd_step(*args)

    monkeypatch.setattr(kernels, "_impl", lambda name: Spy())
    kernels.sgd_step(p, v, misaligned(g), keep, lr=0.1, momentum=0.5)
    kernels.sgd_step(p, v, g, keep, lr=0.1)
    (p1, v1, g1, keep1, *rest1), (p2, v2, g2, keep2, *rest2) = handed
    assert p1 is p and v1 is v and p2 is p and v2 is None
    for a in (g1, keep1, g2, keep2):
        assert a.flags.c_contiguous and a.flags.aligned
    assert keep1.dtype == p.dtype  # the bool mask as its 0/1 factor, which both backends multiply by
    assert rest1 == [0.1, 0.5, 0, 0.0] and rest2 == [0.1, 0.0, 0, 0.0]


# ---------------------------------------------------------------------------
# Bad inputs are refused with an error naming the argument
# ---------------------------------------------------------------------------

F64 = np.float64
# A 3 x 4 weight with kept entries (0,0), (0,3), (2,1).
INDPTR = np.array([0, 2, 2, 3], dtype=np.int64)
INDICES = np.array([0, 3, 1], dtype=np.int32)
DATA = np.array([1.0, 2.0, 3.0])
X_OK = np.arange(6.0).reshape(2, 3)
DY_OK = np.arange(8.0).reshape(2, 4)
BUCKET = np.array([[0, 1, 2, 4], [4, 3, 2, 1], [0, 0, 1, 1]], dtype=np.int32)  # K = 5
SIGN = np.array([[1, -1, 1, 1], [-1, -1, 1, 1], [1, 1, 1, -1]], dtype=np.int8)
W_OK = np.arange(5.0)
DV_OK = np.arange(12.0).reshape(3, 4)


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


# sgd_step updates p and v in place: the base ones are read-only (a call on
# them is refused), and every call gets writeable copies from arguments().
P_OK = read_only(np.linspace(-1.0, 1.0, 12).reshape(3, 4))
V_OK = read_only(np.full((3, 4), 0.5))
G_OK = np.arange(12.0).reshape(3, 4) / 16
KEEP_OK = SIGN > 0
SHARED = np.zeros(13)  # for a p and a v that overlap

VALID = {
    "hash_buckets": dict(n_in=3, n_out=4, K=5, seed=1691),
    "hashed_lookup": dict(w=W_OK, bucket=BUCKET, sign=SIGN),
    "bucket_accumulate": dict(dV=DV_OK, bucket=BUCKET, sign=SIGN, K=5),
    "sparse_matmul": dict(X=X_OK, indptr=INDPTR, indices=INDICES, data=DATA, n_out=4),
    "sparse_matmul_t": dict(dY=DY_OK, indptr=INDPTR, indices=INDICES, data=DATA, n_in=3),
    "sparse_weight_grad": dict(X=X_OK, dY=DY_OK, indptr=INDPTR, indices=INDICES),
    "sgd_step": dict(p=P_OK, v=V_OK, g=G_OK, keep=KEEP_OK, lr=0.1, momentum=0.9, penalty="l2", lam=1e-3),
}
# The arguments each kernel updates in place.
IN_PLACE = {"sgd_step": ("p", "v")}


def arguments(kernel, override=()):
    """``VALID[kernel]`` with ``override``, and fresh copies of the base
    arrays the kernel updates in place, so no call sees another's update
    (an overridden array is passed as it is: its layout may be the point)."""
    args = {**VALID[kernel], **dict(override)}
    for name in IN_PLACE.get(kernel, ()):
        if name not in dict(override):
            args[name] = args[name].copy()
    return args

# Problems with the CSR pattern, shared by the three sparse kernels.
CSR_PROBLEMS = [
    ("indptr", dict(indptr=[0, 2, 2, 3]), TypeError),
    ("indptr", dict(indptr=np.array([0.0, 2.0, 2.0, 3.0])), TypeError),
    ("indptr", dict(indptr=np.array([[0, 2, 2, 3]])), ValueError),
    ("indptr", dict(indptr=np.array([1, 2, 2, 3])), ValueError),  # does not start at 0
    ("indptr", dict(indptr=np.array([0, 2, 2, 2])), ValueError),  # does not end at nnz
    ("indptr", dict(indptr=np.array([0, 2, 1, 3])), ValueError),  # decreasing
    ("indptr", dict(indptr=np.array([0, -1, 2, 3])), ValueError),  # negative
    ("indices", dict(indices=[0, 3, 1]), TypeError),
    ("indices", dict(indices=np.array([0.0, 3.0, 1.0])), TypeError),
    ("indices", dict(indices=np.array([[0, 3, 1]])), ValueError),
    ("indices", dict(indices=np.array([0, 4, 1])), ValueError),  # >= n_out
    ("indices", dict(indices=np.array([0, -1, 1])), ValueError),  # negative
    ("indices", dict(indices=np.array([3, 0, 1])), ValueError),  # unsorted in row 0
    ("indices", dict(indices=np.array([3, 3, 1])), ValueError),  # duplicate in row 0
    ("indptr", dict(indices=np.array([0, 3])), ValueError),  # nnz no longer matches indptr
]
DATA_PROBLEMS = [
    ("data", dict(data=[1.0, 2.0, 3.0]), TypeError),
    ("data", dict(data=np.array([1, 2, 3])), TypeError),
    ("data", dict(data=np.array([1.0, 2.0, 3.0], dtype=np.float32)), TypeError),  # mixed with float64
    ("data", dict(data=np.array([1.0, 2.0])), ValueError),  # length != nnz
    ("data", dict(data=np.array([1.0, 2.0, 3.0, 4.0])), ValueError),
    ("data", dict(data=np.array([[1.0, 2.0, 3.0]])), ValueError),
]
BAD_DTYPES = [np.int64, np.float16, np.complex128, np.bool_]

BAD_INPUTS = []


def bad(kernel, name, override, exc):
    BAD_INPUTS.append(
        pytest.param(kernel, name, override, exc, id=f"{kernel}-{name}-{len(BAD_INPUTS)}")
    )


for name in ("n_in", "n_out"):
    bad("hash_buckets", name, {name: -1}, ValueError)
    bad("hash_buckets", name, {name: 2.0}, TypeError)
    bad("hash_buckets", name, {name: True}, TypeError)
    bad("hash_buckets", name, {name: "3"}, TypeError)
    bad("hash_buckets", name, {name: 2**32}, ValueError)
bad("hash_buckets", "K", {"K": 0}, ValueError)
bad("hash_buckets", "K", {"K": -3}, ValueError)
bad("hash_buckets", "K", {"K": 2**31}, ValueError)
bad("hash_buckets", "K", {"K": True}, TypeError)
bad("hash_buckets", "K", {"K": np.bool_(True)}, TypeError)
bad("hash_buckets", "K", {"K": 5.0}, TypeError)
bad("hash_buckets", "seed", {"seed": -1}, ValueError)
bad("hash_buckets", "seed", {"seed": 2**32}, ValueError)
bad("hash_buckets", "seed", {"seed": 1.5}, TypeError)
bad("hash_buckets", "seed", {"seed": None}, TypeError)

bad("hashed_lookup", "w", {"w": [0.0, 1.0, 2.0, 3.0, 4.0]}, TypeError)
for dtype in BAD_DTYPES:
    bad("hashed_lookup", "w", {"w": W_OK.astype(dtype)}, TypeError)
bad("hashed_lookup", "w", {"w": W_OK.reshape(5, 1)}, ValueError)
bad("hashed_lookup", "w", {"w": np.float64(1.0)}, TypeError)
bad("hashed_lookup", "w", {"w": np.array(1.0)}, ValueError)
bad("hashed_lookup", "w", {"w": np.zeros(0)}, ValueError)
bad("hashed_lookup", "bucket", {"bucket": BUCKET.tolist()}, TypeError)
bad("hashed_lookup", "bucket", {"bucket": BUCKET.astype(np.float64)}, TypeError)
bad("hashed_lookup", "bucket", {"bucket": BUCKET.astype(bool)}, TypeError)
bad("hashed_lookup", "bucket", {"bucket": BUCKET - 1}, ValueError)  # negative
bad("hashed_lookup", "bucket", {"bucket": BUCKET + 1}, ValueError)  # == K
bad("hashed_lookup", "bucket", {"w": W_OK[:4]}, ValueError)  # K shrinks below max(bucket) + 1
bad("hashed_lookup", "sign", {"sign": SIGN.tolist()}, TypeError)
bad("hashed_lookup", "sign", {"sign": SIGN.astype(np.float64)}, TypeError)
bad("hashed_lookup", "sign", {"sign": SIGN.astype(bool)}, TypeError)
bad("hashed_lookup", "sign", {"sign": np.where(SIGN > 0, 1, 0)}, ValueError)
bad("hashed_lookup", "sign", {"sign": 2 * SIGN}, ValueError)
bad("hashed_lookup", "sign", {"sign": SIGN[:, :3]}, ValueError)  # shape differs from bucket
bad("hashed_lookup", "sign", {"sign": SIGN.T}, ValueError)

bad("bucket_accumulate", "dV", {"dV": DV_OK.tolist()}, TypeError)
for dtype in BAD_DTYPES:
    bad("bucket_accumulate", "dV", {"dV": DV_OK.astype(dtype)}, TypeError)
bad("bucket_accumulate", "K", {"K": 0}, ValueError)
bad("bucket_accumulate", "K", {"K": True}, TypeError)
bad("bucket_accumulate", "K", {"K": 5.0}, TypeError)
bad("bucket_accumulate", "K", {"K": 2**31}, ValueError)
bad("bucket_accumulate", "bucket", {"K": 4}, ValueError)  # bucket 4 >= K
bad("bucket_accumulate", "bucket", {"bucket": BUCKET - 1}, ValueError)
bad("bucket_accumulate", "bucket", {"bucket": BUCKET.tolist()}, TypeError)
bad("bucket_accumulate", "bucket", {"bucket": BUCKET.astype(np.float32)}, TypeError)
bad("bucket_accumulate", "bucket", {"bucket": BUCKET[:2]}, ValueError)  # shape differs from dV
bad("bucket_accumulate", "bucket", {"bucket": BUCKET.ravel()}, ValueError)
bad("bucket_accumulate", "sign", {"sign": SIGN.tolist()}, TypeError)
bad("bucket_accumulate", "sign", {"sign": SIGN * 0}, ValueError)
bad("bucket_accumulate", "sign", {"sign": SIGN.ravel()}, ValueError)

for kernel, x_name in (("sparse_matmul", "X"), ("sparse_matmul_t", "dY"), ("sparse_weight_grad", "X")):
    good = VALID[kernel][x_name]
    bad(kernel, x_name, {x_name: good.tolist()}, TypeError)
    for dtype in BAD_DTYPES:
        bad(kernel, x_name, {x_name: good.astype(dtype)}, TypeError)
    bad(kernel, x_name, {x_name: good.ravel()}, ValueError)
    bad(kernel, x_name, {x_name: good[None]}, ValueError)
    for problem in CSR_PROBLEMS:
        bad(kernel, *problem)
    # len(indptr) - 1 != n_in: sparse_matmul_t is given n_in, the other two
    # take it from the columns of X, and then X is what they name.
    for wrong_length in (np.array([0, 2, 3]), np.array([0, 2, 2, 2, 3])):
        bad(kernel, "indptr" if kernel == "sparse_matmul_t" else "X", dict(indptr=wrong_length), ValueError)
    if kernel != "sparse_weight_grad":
        for problem in DATA_PROBLEMS:
            bad(kernel, *problem)
# X with a column too many: n_in = 4 no longer matches len(indptr) - 1.
bad("sparse_matmul", "X", {"X": np.ones((2, 4))}, ValueError)
bad("sparse_weight_grad", "X", {"X": np.ones((2, 4))}, ValueError)
bad("sparse_matmul", "data", {"X": X_OK.astype(np.float32)}, TypeError)  # float32 X, float64 data
bad("sparse_matmul", "n_out", {"n_out": -1}, ValueError)
bad("sparse_matmul", "n_out", {"n_out": True}, TypeError)
bad("sparse_matmul", "n_out", {"n_out": 4.0}, TypeError)
bad("sparse_matmul", "n_out", {"n_out": 2**31}, ValueError)
bad("sparse_matmul", "indices", {"n_out": 3}, ValueError)  # index 3 out of range
bad("sparse_matmul", "indices", {"n_out": 0}, ValueError)
bad("sparse_matmul_t", "data", {"dY": DY_OK.astype(np.float32)}, TypeError)
bad("sparse_matmul_t", "n_in", {"n_in": -1}, ValueError)
bad("sparse_matmul_t", "n_in", {"n_in": True}, TypeError)
bad("sparse_matmul_t", "n_in", {"n_in": 3.0}, TypeError)
bad("sparse_matmul_t", "indptr", {"n_in": 2}, ValueError)  # len(indptr) != n_in + 1
bad("sparse_matmul_t", "indices", {"dY": np.ones((2, 3))}, ValueError)  # n_out = 3, index 3
bad("sparse_weight_grad", "dY", {"dY": DY_OK.astype(np.float32)}, TypeError)  # mixed dtypes
bad("sparse_weight_grad", "dY", {"dY": np.ones((3, 4))}, ValueError)  # rows differ from X
bad("sparse_weight_grad", "indices", {"dY": np.ones((2, 3))}, ValueError)

# sgd_step: p, v and g of one dtype and shape, p and v writeable C arrays
# of their own memory; keep a bool mask; the numbers in range.
bad("sgd_step", "p", {"p": P_OK.tolist()}, TypeError)
for dtype in BAD_DTYPES + [np.dtype(">f8")]:
    bad("sgd_step", "p", {"p": P_OK.astype(dtype)}, TypeError)
bad("sgd_step", "p", {"p": np.float64(0.5)}, TypeError)
bad("sgd_step", "p", {"p": P_OK}, ValueError)  # read-only
bad("sgd_step", "p", {"p": np.asfortranarray(P_OK)}, ValueError)
bad("sgd_step", "p", {"p": np.zeros((3, 8))[:, ::2]}, ValueError)  # strided
bad("sgd_step", "p", {"p": misaligned(P_OK)}, ValueError)
bad("sgd_step", "g", {"p": P_OK.astype(np.float32)}, TypeError)  # g no longer has p's dtype
bad("sgd_step", "g", {"p": np.zeros((4, 3))}, ValueError)  # nor its shape
bad("sgd_step", "v", {"v": V_OK.tolist()}, TypeError)
bad("sgd_step", "v", {"v": V_OK.astype(np.float32)}, TypeError)
bad("sgd_step", "v", {"v": V_OK.astype(np.int64)}, TypeError)
bad("sgd_step", "v", {"v": V_OK.astype(np.float32), "momentum": 0.0}, TypeError)  # checked even when unused
bad("sgd_step", "v", {"v": np.zeros((4, 3))}, ValueError)
bad("sgd_step", "v", {"v": np.zeros(12)}, ValueError)
bad("sgd_step", "v", {"v": None}, ValueError)  # with momentum 0.9
bad("sgd_step", "v", {"v": V_OK}, ValueError)  # read-only
bad("sgd_step", "v", {"v": np.asfortranarray(V_OK)}, ValueError)
bad("sgd_step", "v", {"v": misaligned(V_OK)}, ValueError)
bad("sgd_step", "v", {"p": SHARED[:12].reshape(3, 4), "v": SHARED[:12].reshape(3, 4)}, ValueError)  # p itself
bad("sgd_step", "v", {"p": SHARED[:12].reshape(3, 4), "v": SHARED[1:].reshape(3, 4)}, ValueError)  # overlaps p
bad("sgd_step", "g", {"g": G_OK.tolist()}, TypeError)
for dtype in BAD_DTYPES + [np.float32]:
    bad("sgd_step", "g", {"g": G_OK.astype(dtype)}, TypeError)
bad("sgd_step", "g", {"g": G_OK.T}, ValueError)
bad("sgd_step", "g", {"g": G_OK.ravel()}, ValueError)
bad("sgd_step", "g", {"g": G_OK[None]}, ValueError)
bad("sgd_step", "keep", {"keep": KEEP_OK.tolist()}, TypeError)
for dtype in (np.float32, np.uint8, np.int64):  # p is float64: a factor must be float64 too
    bad("sgd_step", "keep", {"keep": KEEP_OK.astype(dtype)}, TypeError)
bad("sgd_step", "keep", {"keep": KEEP_OK.T}, ValueError)
bad("sgd_step", "keep", {"keep": KEEP_OK.ravel()}, ValueError)
for value in (0, 0.0, -0.1, np.nan, np.inf):
    bad("sgd_step", "lr", {"lr": value}, ValueError)
for value in (True, np.bool_(True), "0.1", None, np.array([0.1])):
    bad("sgd_step", "lr", {"lr": value}, TypeError)
for value in (-0.1, 1.0, 1.5, np.nan, np.inf):
    bad("sgd_step", "momentum", {"momentum": value}, ValueError)
for value in (True, "0.9", None):
    bad("sgd_step", "momentum", {"momentum": value}, TypeError)
for value in (-1e-3, np.nan, np.inf):
    bad("sgd_step", "lam", {"lam": value}, ValueError)
for value in (False, None):
    bad("sgd_step", "lam", {"lam": value}, TypeError)
for value in ("L2", "l3", "none", 2, 0):
    bad("sgd_step", "penalty", {"penalty": value}, ValueError)

for kernel in VALID:
    bad(kernel, "backend", {"backend": "fortran"}, ValueError)
    bad(kernel, "backend", {"backend": "C"}, ValueError)
    bad(kernel, "backend", {"backend": 1}, ValueError)


@pytest.mark.parametrize("kernel, name, override, exc", BAD_INPUTS)
def test_bad_input_is_refused_naming_the_argument(kernel, name, override, exc):
    with pytest.raises(exc, match=rf"^{name}\b"):
        getattr(kernels, kernel)(**arguments(kernel, override))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kernel", list(VALID))
def test_valid_base_arguments_are_accepted(kernel, backend):
    """The base of the bad-input cases is itself fine, so each bad case
    fails for the one thing it changed."""
    getattr(kernels, kernel)(**arguments(kernel), backend=backend)


def test_in_place_base_arguments_are_refused_as_they_are():
    """The base p and v of sgd_step are read-only, so a test that forgot
    arguments() would be refused instead of updating them for the next."""
    with pytest.raises(ValueError, match=r"^p must be C-contiguous, aligned and writeable"):
        kernels.sgd_step(**VALID["sgd_step"])
    p, v = arguments("sgd_step")["p"], arguments("sgd_step")["v"]
    assert p.flags.writeable and v.flags.writeable and not np.shares_memory(p, P_OK)


def test_every_public_kernel_is_tested_for_bad_inputs():
    assert set(VALID) == set(kernels.KERNELS)
    assert {p.values[0] for p in BAD_INPUTS} == set(kernels.KERNELS)
