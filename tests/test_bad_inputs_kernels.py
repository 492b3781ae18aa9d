"""A catalogue of bad inputs to the kernels and to the layers that call them.

Each row is one mistake a user can make, the exception it must raise
(``TypeError`` for a wrong type or dtype, ``ValueError`` for a wrong shape or
value) and a pattern the message must match: the argument's name, what it
received and what is accepted.  Every row runs on both backends (the layers
through the unchecked kernels of the backend under test), so a check that
only one backend makes, or a bad input that reaches C, shows up here.

Sizes past the 32-bit indices of the C core come as zero-stride views
(``np.broadcast_to``): refusing them must not copy them.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import requires_c

from pynncomp import kernels
from pynncomp.nn import Dense, HashedDense, SparseDense

BACKENDS = ["numpy", pytest.param("c", marks=requires_c)]
PAST_INT32 = 2**31 + 16

# A 3 x 4 weight with kept entries (0, 0), (0, 3), (2, 1); K = 5 buckets.
INDPTR = np.array([0, 2, 2, 3], dtype=np.int64)
INDICES = np.array([0, 3, 1], dtype=np.int32)
DATA = np.array([1.0, 2.0, 3.0])
X = np.arange(6.0).reshape(2, 3)
DY = np.arange(8.0).reshape(2, 4)
W = np.arange(5.0)
BUCKET = np.array([[0, 1, 2, 4], [4, 3, 2, 1], [0, 0, 1, 1]], dtype=np.int32)
SIGN = np.array([[1, -1, 1, 1], [-1, -1, 1, 1], [1, 1, 1, -1]], dtype=np.int8)
DV = np.arange(12.0).reshape(3, 4)


def zeros_view(shape, dtype=np.float64):
    return np.broadcast_to(dtype(0), shape)


def matmul(backend, **changes):
    args = {**dict(X=X, indptr=INDPTR, indices=INDICES, data=DATA, n_out=4), **changes}
    return kernels.sparse_matmul(**args, backend=backend)


def matmul_t(backend, **changes):
    args = {**dict(dY=DY, indptr=INDPTR, indices=INDICES, data=DATA, n_in=3), **changes}
    return kernels.sparse_matmul_t(**args, backend=backend)


def weight_grad(backend, **changes):
    args = {**dict(X=X, dY=DY, indptr=INDPTR, indices=INDICES), **changes}
    return kernels.sparse_weight_grad(**args, backend=backend)


def lookup(backend, **changes):
    return kernels.hashed_lookup(**{**dict(w=W, bucket=BUCKET, sign=SIGN), **changes}, backend=backend)


def accumulate(backend, **changes):
    return kernels.bucket_accumulate(**{**dict(dV=DV, bucket=BUCKET, sign=SIGN, K=5), **changes}, backend=backend)


def hashes(backend, **changes):
    return kernels.hash_buckets(**{**dict(n_in=3, n_out=4, K=5, seed=1691), **changes}, backend=backend)


KEEP = SIGN > 0
G = DV / 4


def sgd(backend, **changes):
    """``(p, v)`` after one sgd_step on fresh copies of the base p and v.

    The base values are short binary fractions and lr, momentum and lam
    powers of two, so every operation is exact on both backends."""
    args = {**dict(p=DV.copy(), v=np.full((3, 4), 0.5), g=G, keep=KEEP, lr=0.5, momentum=0.5, penalty="l2",
                   lam=0.25), **changes}
    kernels.sgd_step(**args, backend=backend)
    return args["p"], args["v"]


def sgd_with_overlapping_p_and_v(backend):
    """p and v one float apart in one buffer: each C-contiguous, but v[i] is p[i + 1]."""
    buffer = np.zeros(13)
    return sgd(backend, p=buffer[:12].reshape(3, 4), v=buffer[1:].reshape(3, 4))


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def sparse_layer():
    return SparseDense(INDPTR, INDICES, DATA, np.zeros(4), 4)


def after_forward(layer, method, grad):
    """``layer.method(grad, cache)`` after a forward pass of a batch of 2."""
    _, cache = layer.forward(np.ones((2, layer.n_in)))
    return getattr(layer, method)(grad, cache)


CATALOGUE = [
    # --- hash_buckets: the integers
    ("hash_buckets K = 0", lambda b: hashes(b, K=0), ValueError, r"^K must be in \[1, 2147483647\], got 0$"),
    ("hash_buckets K past int32", lambda b: hashes(b, K=2**31), ValueError, r"^K must be in \[1, 2147483647\], got 2147483648$"),
    ("hash_buckets bool n_in", lambda b: hashes(b, n_in=True), TypeError, r"^n_in must be an integer, got bool True$"),
    ("hash_buckets float n_out", lambda b: hashes(b, n_out=4.0), TypeError, r"^n_out must be an integer, got float 4.0$"),
    ("hash_buckets n_in * n_out past int64", lambda b: hashes(b, n_in=2**32 - 1, n_out=2**32 - 1), ValueError,
     r"^n_in \* n_out must be at most 9223372036854775807 \(2\*\*63 - 1\), got 4294967295 \* 4294967295 = "),
    ("hash_buckets seed past uint32", lambda b: hashes(b, seed=2**32), ValueError, r"^seed must be in \[0, 4294967295\], got 4294967296$"),
    # --- hashed_lookup
    ("hashed_lookup w a list", lambda b: lookup(b, w=W.tolist()), TypeError, r"^w must be a numpy.ndarray of float32 or float64, got list"),
    ("hashed_lookup w of ints", lambda b: lookup(b, w=W.astype(np.int64)), TypeError, r"^w must have dtype float32 or float64, got int64$"),
    ("hashed_lookup w big-endian", lambda b: lookup(b, w=W.astype(">f8")), TypeError, r"^w must have dtype float32 or float64, got >f8$"),
    ("hashed_lookup w 2-D", lambda b: lookup(b, w=W[:, None]), ValueError, r"^w must be 1-D, got shape \(5, 1\)$"),
    ("hashed_lookup w empty", lambda b: lookup(b, w=W[:0]), ValueError, r"^w must hold at least one real weight \(K >= 1\)"),
    ("hashed_lookup K past int32", lambda b: lookup(b, w=zeros_view((PAST_INT32,)), bucket=np.array([2**31 + 5]), sign=np.array([1])),
     ValueError, r"^w must have at most 2147483647 entries \(K\), .*got shape \(2147483664,\)$"),
    ("hashed_lookup bucket of bools", lambda b: lookup(b, bucket=BUCKET.astype(bool)), TypeError, r"^bucket must be a numpy.ndarray of integers, got an array of dtype bool"),
    ("hashed_lookup bucket = K", lambda b: lookup(b, bucket=BUCKET + 1), ValueError, r"^bucket must have values in \[0, 4\], got values in \[1, 5\]$"),
    ("hashed_lookup bucket negative", lambda b: lookup(b, bucket=BUCKET - 1), ValueError, r"^bucket must have values in \[0, 4\], got values in \[-1, 3\]$"),
    ("hashed_lookup sign 0", lambda b: lookup(b, sign=SIGN * (BUCKET != 2)), ValueError, r"^sign must hold only -1 and \+1, got the value 0$"),
    ("hashed_lookup sign transposed shape", lambda b: lookup(b, sign=SIGN.T), ValueError, r"^sign must have shape \(3, 4\) \(that of bucket\), got \(4, 3\)$"),
    # --- bucket_accumulate
    ("bucket_accumulate bucket of another shape", lambda b: accumulate(b, bucket=BUCKET[:2]), ValueError, r"^bucket must have shape \(3, 4\) \(that of dV\), got \(2, 4\)$"),
    ("bucket_accumulate dV of float16", lambda b: accumulate(b, dV=DV.astype(np.float16)), TypeError, r"^dV must have dtype float32 or float64, got float16$"),
    ("bucket_accumulate K past int32", lambda b: accumulate(b, K=2**31), ValueError, r"^K must be in \[1, 2147483647\], got 2147483648$"),
    ("bucket_accumulate bucket >= K", lambda b: accumulate(b, K=4), ValueError, r"^bucket must have values in \[0, 3\], got values in \[0, 4\]$"),
    # --- sparse_matmul
    ("sparse_matmul X too wide", lambda b: matmul(b, X=np.ones((2, 4))), ValueError,
     r"^X must have n_in = len\(indptr\) - 1 = 3 columns \(indptr has length 4\), got X of shape \(2, 4\)$"),
    ("sparse_matmul X 3-D", lambda b: matmul(b, X=X[None]), ValueError, r"^X must be 2-D, got shape \(1, 2, 3\)$"),
    ("sparse_matmul data float32, X float64", lambda b: matmul(b, data=DATA.astype(np.float32)), TypeError, r"^data must have dtype float64 \(to match the other arguments\), got float32$"),
    ("sparse_matmul data too short", lambda b: matmul(b, data=DATA[:2]), ValueError, r"^data must have shape \(3,\) \(len\(indices\)\), got \(2,\)$"),
    ("sparse_matmul indptr decreasing", lambda b: matmul(b, indptr=np.array([0, 2, 1, 3])), ValueError, r"^indptr must be non-decreasing$"),
    ("sparse_matmul indptr not ending at nnz", lambda b: matmul(b, indptr=np.array([0, 2, 2, 2])), ValueError, r"^indptr must start at 0 and end at len\(indices\) = 3, got 0 and 2$"),
    ("sparse_matmul indptr past int64 range", lambda b: matmul(b, indptr=np.array([0, 2, 2, 2**63], dtype=np.uint64)), ValueError, r"^indptr must have values in \[0, 4611686018427387904\]"),
    ("sparse_matmul indptr of floats", lambda b: matmul(b, indptr=INDPTR.astype(np.float64)), TypeError, r"^indptr must be a numpy.ndarray of integers, got an array of dtype float64"),
    ("sparse_matmul indices unsorted in a row", lambda b: matmul(b, indices=np.array([3, 0, 1])), ValueError, r"^indices must be strictly increasing within each row \(canonical CSR, no duplicates\)$"),
    ("sparse_matmul indices duplicated in a row", lambda b: matmul(b, indices=np.array([3, 3, 1])), ValueError, r"^indices must be strictly increasing within each row"),
    ("sparse_matmul index = n_out", lambda b: matmul(b, n_out=3), ValueError, r"^indices must have values in \[0, 2\], got values in \[0, 3\]$"),
    ("sparse_matmul indices a list", lambda b: matmul(b, indices=INDICES.tolist()), TypeError, r"^indices must be a numpy.ndarray of integers, got list"),
    ("sparse_matmul n_out a bool", lambda b: matmul(b, n_out=True), TypeError, r"^n_out must be an integer, got bool True$"),
    ("sparse_matmul n_out past int32", lambda b: matmul(b, n_out=2**31), ValueError, r"^n_out must be in \[0, 2147483647\], got 2147483648$"),
    ("sparse_matmul backend unknown", lambda b: matmul("gpu"), ValueError, r"^backend must be None, 'c' or 'numpy', got 'gpu'$"),
    # --- sparse_matmul_t
    ("sparse_matmul_t n_out past int32", lambda b: matmul_t(b, dY=zeros_view((1, PAST_INT32)), indptr=np.array([0, 1, 1, 1]), indices=np.array([2**31 + 5]), data=DATA[:1]),
     ValueError, r"^dY must have at most 2147483647 columns \(n_out\), .*got shape \(1, 2147483664\)$"),
    ("sparse_matmul_t indptr length != n_in + 1", lambda b: matmul_t(b, n_in=2), ValueError, r"^indptr must have shape \(3,\) \(n_in \+ 1\), got \(4,\)$"),
    ("sparse_matmul_t index past dY's columns", lambda b: matmul_t(b, dY=np.ones((2, 3))), ValueError, r"^indices must have values in \[0, 2\], got values in \[0, 3\]$"),
    # --- sparse_weight_grad
    ("sparse_weight_grad rows of dY != rows of X", lambda b: weight_grad(b, dY=np.ones((3, 4))), ValueError, r"^dY must have as many rows as X \(2\), got shape \(3, 4\)$"),
    ("sparse_weight_grad dY float32, X float64", lambda b: weight_grad(b, dY=DY.astype(np.float32)), TypeError, r"^dY must have dtype float64 \(to match the other arguments\), got float32$"),
    ("sparse_weight_grad n_out past int32", lambda b: weight_grad(b, X=np.ones((1, 3)), dY=zeros_view((1, PAST_INT32)), indices=np.array([0, 3, 2**31 + 5])),
     ValueError, r"^dY must have at most 2147483647 columns \(n_out\)"),
    ("sparse_weight_grad X too narrow", lambda b: weight_grad(b, X=np.ones((2, 2))), ValueError, r"^X must have n_in = len\(indptr\) - 1 = 3 columns \(indptr has length 4\), got X of shape \(2, 2\)$"),
    # --- sgd_step: p and v are updated in place, g and keep only read
    ("sgd_step p a list", lambda b: sgd(b, p=DV.tolist()), TypeError, r"^p must be a numpy.ndarray of float32 or float64, got list"),
    ("sgd_step p of ints", lambda b: sgd(b, p=DV.astype(np.int64)), TypeError, r"^p must have dtype float32 or float64, got int64$"),
    ("sgd_step p read-only", lambda b: sgd(b, p=read_only(DV)), ValueError,
     r"^p must be C-contiguous, aligned and writeable \(it is updated in place\)$"),
    ("sgd_step p Fortran-ordered", lambda b: sgd(b, p=np.asfortranarray(DV)), ValueError, r"^p must be C-contiguous, aligned and writeable"),
    ("sgd_step p misaligned", lambda b: sgd(b, p=misaligned(DV)), ValueError, r"^p must be C-contiguous, aligned and writeable"),
    ("sgd_step p float32, g float64", lambda b: sgd(b, p=DV.astype(np.float32), v=None, momentum=0.0), TypeError,
     r"^g must have dtype float32 \(to match the other arguments\), got float64$"),
    ("sgd_step v None with momentum", lambda b: sgd(b, v=None), ValueError,
     r"^v must be an array of p's shape when momentum is not 0 \(momentum=0.5\)$"),
    ("sgd_step v of another shape", lambda b: sgd(b, v=np.zeros((4, 3))), ValueError, r"^v must have the shape of p \(3, 4\), got \(4, 3\)$"),
    ("sgd_step v float32", lambda b: sgd(b, v=np.zeros((3, 4), np.float32)), TypeError,
     r"^v must have dtype float64 \(to match the other arguments\), got float32$"),
    ("sgd_step v read-only", lambda b: sgd(b, v=read_only(np.zeros((3, 4)))), ValueError, r"^v must be C-contiguous, aligned and writeable"),
    ("sgd_step v misaligned", lambda b: sgd(b, v=misaligned(np.zeros((3, 4)))), ValueError, r"^v must be C-contiguous, aligned and writeable"),
    ("sgd_step v the array p", lambda b: sgd(b, **dict.fromkeys(("p", "v"), DV.copy())), ValueError, r"^v must not share memory with p$"),
    ("sgd_step v overlapping p", sgd_with_overlapping_p_and_v, ValueError, r"^v must not share memory with p$"),
    ("sgd_step g of another shape", lambda b: sgd(b, g=G.T), ValueError, r"^g must have the shape of p \(3, 4\), got \(4, 3\)$"),
    ("sgd_step g float32", lambda b: sgd(b, g=G.astype(np.float32)), TypeError, r"^g must have dtype float64 \(to match the other arguments\), got float32$"),
    ("sgd_step keep of the other float dtype", lambda b: sgd(b, keep=KEEP.astype(np.float32)), TypeError, r"^keep must be None, a bool ndarray or its 0/1 factor in p's dtype float64, got float32$"),
    ("sgd_step keep a list", lambda b: sgd(b, keep=KEEP.tolist()), TypeError, r"^keep must be None, a bool ndarray or its 0/1 factor in p's dtype float64, got list$"),
    ("sgd_step keep of another shape", lambda b: sgd(b, keep=KEEP.ravel()), ValueError, r"^keep must have the shape of p \(3, 4\), got \(12,\)$"),
    ("sgd_step lr = 0", lambda b: sgd(b, lr=0), ValueError, r"^lr must be in \(0, inf\), got 0.0$"),
    ("sgd_step lr nan", lambda b: sgd(b, lr=float("nan")), ValueError, r"^lr must be in \(0, inf\), got nan$"),
    ("sgd_step lr a bool", lambda b: sgd(b, lr=True), TypeError, r"^lr must be a real number, got bool True$"),
    ("sgd_step momentum = 1", lambda b: sgd(b, momentum=1.0), ValueError, r"^momentum must be in \[0, 1\), got 1.0$"),
    ("sgd_step momentum negative", lambda b: sgd(b, momentum=-0.5), ValueError, r"^momentum must be in \[0, 1\), got -0.5$"),
    ("sgd_step lam negative", lambda b: sgd(b, lam=-0.25), ValueError, r"^lam must be in \[0, inf\), got -0.25$"),
    ("sgd_step penalty 'L2'", lambda b: sgd(b, penalty="L2"), ValueError, r"^penalty must be one of None, 'l1', 'l2', got 'L2'$"),
    ("sgd_step penalty a code", lambda b: sgd(b, penalty=2), ValueError, r"^penalty must be one of None, 'l1', 'l2', got 2$"),
    ("sgd_step backend unknown", lambda b: sgd("gpu"), ValueError, r"^backend must be None, 'c' or 'numpy', got 'gpu'$"),
    # --- Dense
    ("Dense n_in = 0", lambda b: Dense(0, 3), ValueError, r"^n_in must be an integer >= 1, got 0$"),
    ("Dense dtype int", lambda b: Dense(3, 4, dtype=np.int32), TypeError, r"^dtype must be float32 or float64, got int32$"),
    ("Dense.forward x too wide", lambda b: Dense(3, 4).forward(np.ones((2, 5), np.float32)), ValueError, r"^x must have shape \(B, 3\), got \(2, 5\)$"),
    ("Dense.backward dout too wide", lambda b: after_forward(Dense(3, 4, dtype=np.float64), "backward", np.ones((2, 5))), ValueError,
     r"^dout must have shape \(2, 4\) \(the forward batch B = 2, n_out = 4\), got \(2, 5\)$"),
    ("Dense.backward dout of another batch", lambda b: after_forward(Dense(3, 4, dtype=np.float64), "backward", np.ones((3, 4))), ValueError,
     r"^dout must have shape \(2, 4\) .*got \(3, 4\)$"),
    ("Dense.curvature d2out 1-D", lambda b: after_forward(Dense(3, 4, dtype=np.float64), "curvature", np.ones(8)), ValueError, r"^d2out must have shape \(2, 4\) .*got \(8,\)$"),
    # --- SparseDense
    ("SparseDense indices not canonical", lambda b: SparseDense(INDPTR, np.array([3, 0, 1]), DATA, np.zeros(4), 4), ValueError, r"^indices must be strictly increasing within each row"),
    ("SparseDense n_out past int32", lambda b: SparseDense(INDPTR, INDICES, DATA, zeros_view((PAST_INT32,)), PAST_INT32), ValueError, r"^n_out must be in \[1, 2147483647\], got 2147483664$"),
    ("SparseDense data 2-D", lambda b: SparseDense(INDPTR, INDICES, DATA[None], np.zeros(4), 4), ValueError, r"^data must be 1-D \(one entry per kept weight\), got shape \(1, 3\)$"),
    ("SparseDense b of another dtype", lambda b: SparseDense(INDPTR, INDICES, DATA, np.zeros(4, np.float32), 4), TypeError, r"^b must have dtype float64"),
    ("SparseDense.forward x float32", lambda b: sparse_layer().forward(np.ones((2, 3), np.float32)), TypeError, r"^x must have dtype float64"),
    ("SparseDense.forward x too narrow", lambda b: sparse_layer().forward(np.ones((2, 2))), ValueError, r"^x must have shape \(B, 3\), got \(2, 2\)$"),
    ("SparseDense.backward dout too narrow", lambda b: after_forward(sparse_layer(), "backward", np.ones((2, 3))), ValueError, r"^dout must have shape \(2, 4\) .*got \(2, 3\)$"),
    ("SparseDense.backward dout float32", lambda b: after_forward(sparse_layer(), "backward", np.ones((2, 4), np.float32)), TypeError,
     r"^dout must have dtype float64 \(the layer's dtype\), got float32$"),
    ("SparseDense.backward_params dout a list", lambda b: after_forward(sparse_layer(), "backward_params", np.ones((2, 4)).tolist()), TypeError,
     r"^dout must be a numpy.ndarray of shape \(2, 4\), got list"),
    ("SparseDense.curvature d2out of another batch", lambda b: after_forward(sparse_layer(), "curvature", np.ones((5, 4))), ValueError, r"^d2out must have shape \(2, 4\) .*got \(5, 4\)$"),
    # --- HashedDense
    ("HashedDense K past n_in * n_out", lambda b: HashedDense(3, 4, K=13), ValueError, r"^K must be in \[1, n_in \* n_out = 12\], got 13$"),
    ("HashedDense neither K nor compression", lambda b: HashedDense(3, 4), ValueError, r"^give exactly one of compression"),
    ("HashedDense hash_seed negative", lambda b: HashedDense(3, 4, K=5, hash_seed=-1), ValueError, r"^hash_seed must be an integer in \[0, 4294967295\], got -1$"),
    ("HashedDense.forward x of ints", lambda b: HashedDense(3, 4, K=5).forward(np.ones((2, 3), np.int64)), TypeError, r"^x must have dtype float32"),
]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """The backend under test, for the kernels' ``backend=`` and for the layers."""
    monkeypatch.setattr(kernels, "_unchecked", lambda: kernels._impl(request.param))
    return request.param


@pytest.mark.parametrize("call, exc, match", [pytest.param(*row[1:], id=row[0]) for row in CATALOGUE])
def test_bad_input_is_refused_with_a_message_naming_it(call, exc, match, backend):
    with pytest.raises(exc, match=match) as info:
        call(backend)
    assert type(info.value) is exc  # not a subclass that happens to match


def test_the_catalogue_is_large_and_its_rows_distinct():
    assert len(CATALOGUE) >= 25
    assert len({row[0] for row in CATALOGUE}) == len(CATALOGUE)


def test_the_base_arguments_are_valid(backend):
    """Each row changes one thing in arguments that are themselves fine."""
    matmul(backend), matmul_t(backend), weight_grad(backend), lookup(backend), accumulate(backend), hashes(backend)
    sgd(backend)
    for layer in (Dense(3, 4, dtype=np.float64), sparse_layer(), HashedDense(3, 4, K=5, dtype=np.float64)):
        for method in ("backward", "backward_params", "curvature"):
            after_forward(layer, method, np.ones((2, 4)))


# ---------------------------------------------------------------------------
# Misaligned arrays are not bad inputs: they work, and agree with the twin
# ---------------------------------------------------------------------------


def misaligned(a):
    """A C-contiguous copy of ``a`` that starts one byte into its buffer."""
    buffer = np.zeros(a.nbytes + 1, dtype=np.uint8)
    view = buffer[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    assert view.flags.c_contiguous and (a.itemsize == 1 or not view.flags.aligned)
    return view


MISALIGNED_CALLS = {
    "hashed_lookup": lambda b, m: kernels.hashed_lookup(m(W), m(BUCKET), SIGN, backend=b),
    "bucket_accumulate": lambda b, m: kernels.bucket_accumulate(m(DV), m(BUCKET), SIGN, 5, backend=b),
    "sparse_matmul": lambda b, m: kernels.sparse_matmul(m(X), m(INDPTR), m(INDICES), m(DATA), 4, backend=b),
    "sparse_matmul_t": lambda b, m: kernels.sparse_matmul_t(m(DY), m(INDPTR), m(INDICES), m(DATA), 3, backend=b),
    "sparse_weight_grad": lambda b, m: kernels.sparse_weight_grad(m(X), m(DY), m(INDPTR), m(INDICES), backend=b),
    # g and keep are only read, so they are copied aligned; a misaligned p
    # or v, updated in place, is refused (rows "sgd_step p misaligned" and
    # "sgd_step v misaligned" of the catalogue).
    "sgd_step": lambda b, m: np.stack(sgd(b, g=m(G), keep=m(KEEP))),
    "SparseDense.forward": lambda b, m: sparse_layer().forward(m(X))[0],
    "SparseDense.backward": lambda b, m: after_forward(sparse_layer(), "backward", m(np.ones((2, 4)))),
}


@pytest.mark.parametrize("name", list(MISALIGNED_CALLS))
def test_misaligned_arrays_work_and_agree_with_the_twin(name, backend, monkeypatch):
    result = MISALIGNED_CALLS[name](backend, misaligned)
    monkeypatch.setattr(kernels, "_unchecked", lambda: kernels.reference)
    expected = MISALIGNED_CALLS[name]("numpy", lambda a: a)
    # Integer-valued inputs: every product and sum is exact on both backends.
    np.testing.assert_array_equal(result, expected)


# ---------------------------------------------------------------------------
# The environment variable
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["gpu", "C++", "numpy2"])
def test_an_unknown_backend_variable_is_refused_by_name(value):
    code = "import pynncomp.kernels"
    env = {**os.environ, "PYNNCOMP_BACKEND": value}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"pynncomp.BackendError: PYNNCOMP_BACKEND must be one of auto, c, numpy (or unset), got {value!r}"
    )
