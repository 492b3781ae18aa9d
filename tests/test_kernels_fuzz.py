"""Seeded random cases for the seven public kernels.

Two properties, each over many random cases:

* on finite inputs the C core agrees with its NumPy twin: bit for bit where
  both compute the same exact operations (``hash_buckets``,
  ``hashed_lookup``, float64 ``bucket_accumulate``) or the same rounded
  operations in the same order (``sgd_step``, which updates p and v in
  place: each backend updates its own copies), within a bound derived
  from the arithmetic elsewhere (see :func:`test_kernels.gamma`);
* an argument corrupted in one way (an index out of range, a wrong dtype, a
  shape that does not match, a list for an array, a non-canonical CSR) is
  refused with the ``TypeError`` or ``ValueError`` of the checks, on both
  backends: never a crash, never a result.

Shapes include 0-sized dimensions; arrays come C-contiguous, transposed,
strided, reversed, read-only or misaligned (C-contiguous but one byte into
their buffer) -- all but the p and v of ``sgd_step``, which must be
writeable C arrays; batches reach every path of the C sparse kernels (rows
one by one, whole blocks, a padded last block).

Case ``k`` of kernel ``name`` draws from ``np.random.default_rng((SEED,
kernel index, k))``, so a failure message (which names both) is replayed by
:func:`replay`.  ``PYNNCOMP_FUZZ_CASES`` sets the number of cases of one run
(default 2400: with seven kernels, 257 agreement and 85 corruption cases
per kernel).
"""
import os

import numpy as np
import pytest
import scipy.sparse
from conftest import requires_c
from test_kernels import U64, UNIT_ROUNDOFF, as_layout, gamma

from pynncomp import kernels

SEED = 20240531
TOTAL_CASES = int(os.environ.get("PYNNCOMP_FUZZ_CASES", "2400"))
AGREEMENT_CASES = TOTAL_CASES * 3 // (4 * len(kernels.KERNELS))
CORRUPTION_CASES = TOTAL_CASES // (4 * len(kernels.KERNELS))
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
INDEX_DTYPES = (np.int16, np.int32, np.int64, np.uint16, np.uint32, np.uint64)
LAYOUTS = ("C", "transposed", "strided", "reversed", "readonly", "misaligned")
BACKENDS = ["numpy", pytest.param("c", marks=requires_c)]


def rng_for(kernel, case):
    return np.random.default_rng((SEED, kernels.KERNELS.index(kernel), case))


def any_layout(rng, a):
    return as_layout(a, LAYOUTS[rng.integers(len(LAYOUTS))])


def dim(rng, high):
    """A dimension in [0, high], 0 one time in eight."""
    return 0 if rng.random() < 0.125 else int(rng.integers(1, high + 1))


def csr_of(dense):
    csr = scipy.sparse.csr_matrix(dense)
    csr.sort_indices()
    return csr.indptr, csr.indices, csr.data


# ---------------------------------------------------------------------------
# Random valid cases: (keyword arguments, data for the bound)
# ---------------------------------------------------------------------------


def case_hash_buckets(rng):
    K = int(rng.choice([1, rng.integers(1, 100), rng.integers(1, 2**31)]))
    return dict(n_in=dim(rng, 30), n_out=dim(rng, 30), K=K, seed=int(rng.integers(0, 2**32))), None


def hashed_arrays(rng):
    shape = tuple(dim(rng, 6) for _ in range(rng.integers(0, 4)))
    K = int(rng.integers(1, 40))
    bucket = rng.integers(0, K, size=shape).astype(rng.choice(INDEX_DTYPES))
    sign = rng.choice(np.array([-1, 1]), size=shape).astype(rng.choice([np.int8, np.int32, np.int64]))
    return K, any_layout(rng, bucket), any_layout(rng, sign)


def case_hashed_lookup(rng):
    K, bucket, sign = hashed_arrays(rng)
    w = rng.standard_normal(K).astype(FLOATS[rng.integers(2)])
    return dict(w=any_layout(rng, w), bucket=bucket, sign=sign), None


def case_bucket_accumulate(rng):
    K, bucket, sign = hashed_arrays(rng)
    dV = rng.standard_normal(bucket.shape).astype(FLOATS[rng.integers(2)])
    return dict(dV=any_layout(rng, dV), bucket=bucket, sign=sign, K=K), None


def sparse_parts(rng):
    """X (B, n_in), dY (B, n_out) and the CSR of a random W ⊙ M."""
    dtype = FLOATS[rng.integers(2)]
    B = int(rng.choice([dim(rng, 5), dim(rng, 40)]))  # every path: rows, blocks, a padded block
    n_in, n_out = dim(rng, 12), dim(rng, 12)
    density = rng.choice([0.0, 0.1, 0.5, 1.0])
    W_masked = (rng.standard_normal((n_in, n_out)) * (rng.random((n_in, n_out)) < density)).astype(dtype)
    zeros = rng.random((B, n_in)) < rng.choice([0.0, 0.5, 0.9])  # C skips zero inputs
    X = (rng.standard_normal((B, n_in)) * ~zeros).astype(dtype)
    dY = rng.standard_normal((B, n_out)).astype(dtype)
    indptr, indices, data = csr_of(W_masked)
    indptr = indptr.astype(rng.choice([np.int32, np.int64, np.uint64]))
    indices = indices.astype(rng.choice(INDEX_DTYPES))
    return dict(X=X, dY=dY, indptr=indptr, indices=indices, data=data, W_masked=W_masked)


def case_sparse_matmul(rng):
    p = sparse_parts(rng)
    args = dict(X=any_layout(rng, p["X"]), indptr=any_layout(rng, p["indptr"]),
                indices=any_layout(rng, p["indices"]), data=any_layout(rng, p["data"]), n_out=p["W_masked"].shape[1])
    return args, p


def case_sparse_matmul_t(rng):
    p = sparse_parts(rng)
    args = dict(dY=any_layout(rng, p["dY"]), indptr=any_layout(rng, p["indptr"]),
                indices=any_layout(rng, p["indices"]), data=any_layout(rng, p["data"]), n_in=p["W_masked"].shape[0])
    return args, p


def case_sparse_weight_grad(rng):
    p = sparse_parts(rng)
    args = dict(X=any_layout(rng, p["X"]), dY=any_layout(rng, p["dY"]), indptr=any_layout(rng, p["indptr"]),
                indices=any_layout(rng, p["indices"]))
    return args, p


def case_sgd_step(rng):
    """p, v, g of one dtype and shape (0 to 48 entries); g and keep in any
    layout (they are only read), p and v C-contiguous and writeable (the
    kernel refuses anything else); any penalty; momentum 0 (and then v an
    array or None) or in (0, 1)."""
    dtype = FLOATS[rng.integers(2)]
    shape = tuple(dim(rng, 4) for _ in range(rng.integers(0, 4)))
    p, v, g = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    keep = None if rng.random() < 0.25 else rng.random(shape) < rng.choice([0.0, 0.5, 1.0])
    momentum = 0.0 if rng.random() < 0.3 else float(rng.uniform(0.0, 1.0))
    args = dict(
        p=p,
        v=None if momentum == 0.0 and rng.random() < 0.5 else v,
        g=any_layout(rng, g),
        keep=None if keep is None else any_layout(rng, keep),
        lr=float(10.0 ** rng.uniform(-4, 0)),
        momentum=momentum,
        penalty=[None, "l1", "l2"][rng.integers(3)],
        lam=float(rng.choice([0.0, 10.0 ** rng.uniform(-5, -1)])),
    )
    return args, None


CASES = {name: globals()["case_" + name] for name in kernels.KERNELS}


# ---------------------------------------------------------------------------
# C == twin
# ---------------------------------------------------------------------------


def inner_product_bound(abs_a, abs_b, n, dtype):
    """Bound on |C - twin| for a matrix product whose entries are n-term sums.

    Tolerance: C sums each entry in a fixed order (i, p or b ascending), the
    twin through BLAS in an order of its own, possibly with fused
    multiply-adds; each is within gamma_n (|A| @ |B|) of the exact value
    (Higham, eq. 3.5), so they differ by at most twice that.  The float64
    evaluation of |A| @ |B| itself adds gamma_n(u64).  Nothing else is in
    the bound: it is the arithmetic's, not tuned to the results.
    """
    scale = abs_a.astype(np.float64) @ abs_b.astype(np.float64)
    return (2 * gamma(n, UNIT_ROUNDOFF[np.dtype(dtype)]) + gamma(n, U64)) * scale


def assert_sgd_step_agrees(args):
    """Each backend updates copies of p and v: the same bits (finite values,
    no overflow, so no NaN), g and keep untouched, v untouched at momentum 0."""
    before = {name: np.array(args[name], copy=True) for name in ("g", "keep") if args[name] is not None}
    out = {}
    for backend in ("c", "numpy"):
        p = args["p"].copy()
        v = None if args["v"] is None else args["v"].copy()
        assert kernels.sgd_step(**{**args, "p": p, "v": v}, backend=backend) is None
        out[backend] = p, v
    for a, b in zip(out["c"], out["numpy"]):
        if a is None:
            assert b is None
            continue
        assert a.shape == b.shape == args["p"].shape and a.dtype == b.dtype == args["p"].dtype
        assert np.all(np.isfinite(a)) and a.tobytes() == b.tobytes()
    if args["momentum"] == 0.0 and args["v"] is not None:
        assert out["c"][1].tobytes() == out["numpy"][1].tobytes() == args["v"].tobytes()
    for name, value in before.items():
        np.testing.assert_array_equal(args[name], value)


def assert_agree(name, args, parts):
    if name == "sgd_step":
        return assert_sgd_step_agrees(args)
    out_c = getattr(kernels, name)(**args, backend="c")
    out_np = getattr(kernels, name)(**args, backend="numpy")
    for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in (out_c, out_np))):
        assert a.shape == b.shape and a.dtype == b.dtype
    if name in ("hash_buckets", "hashed_lookup"):  # integer hashing; products by +1 or -1: exact
        for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in (out_c, out_np))):
            np.testing.assert_array_equal(a, b)
    elif name == "bucket_accumulate":
        dV, bucket, K = args["dV"], np.asarray(args["bucket"]).ravel(), args["K"]
        if dV.dtype == np.float64:  # both sum the exact terms in index order in float64
            np.testing.assert_array_equal(out_c, out_np)
        else:
            # C sums a bucket's m exact terms in float32 (error <= gamma_{m-1}(u32) sum|a|);
            # the twin sums in float64 and rounds once (<= gamma_{m-1}(u64) sum|a| + u32 |sum|);
            # gamma_{m-1} + u <= gamma_m, and 3 gamma_m(u64) covers the float64 sums.
            m = np.bincount(bucket, minlength=K)
            sum_abs = np.bincount(bucket, weights=np.abs(dV.astype(np.float64)).ravel(), minlength=K)
            assert np.all(np.abs(out_c.astype(np.float64) - out_np) <= (gamma(m, 2.0**-24) + 3 * gamma(m, U64)) * sum_abs)
    else:
        X, dY, W, dtype = parts["X"], parts["dY"], parts["W_masked"], parts["X"].dtype
        if name == "sparse_matmul":
            bound = inner_product_bound(np.abs(X), np.abs(W), W.shape[0], dtype)
        elif name == "sparse_matmul_t":
            bound = inner_product_bound(np.abs(dY), np.abs(W).T, W.shape[1], dtype)
        else:
            bound = inner_product_bound(np.abs(X).T, np.abs(dY), X.shape[0], dtype)[W != 0]
        assert np.all(np.abs(out_c - out_np) <= bound)


@requires_c
@pytest.mark.parametrize("name", kernels.KERNELS)
def test_c_equals_twin_on_random_finite_inputs(name):
    for case in range(AGREEMENT_CASES):
        args, parts = CASES[name](rng_for(name, case))
        try:
            assert_agree(name, args, parts)
        except AssertionError as err:
            raise AssertionError(f"{name}, agreement case {case} (replay({name!r}, {case}))") from err


def replay(name, case):
    """The arguments of one random case, to re-run it by hand."""
    return CASES[name](rng_for(name, case))[0]


# ---------------------------------------------------------------------------
# Corrupted arguments are refused
# ---------------------------------------------------------------------------

FLOAT_ARGUMENTS = {"w", "dV", "X", "dY", "data"}
INDEX_ARGUMENTS = {"bucket", "sign", "indptr", "indices"}
INT_ARGUMENTS = {"n_in", "n_out", "K", "seed"}


def corruptions(name, args, rng):
    """(description, corrupted arguments, exception) for one valid case."""
    out = []

    def with_(what, exc, **changes):
        out.append((what, {**args, **changes}, exc))

    for arg, value in args.items():
        if arg in INT_ARGUMENTS:
            with_(f"{arg} negative", ValueError, **{arg: -1 - int(rng.integers(0, 5))})
            with_(f"{arg} a float", TypeError, **{arg: float(value)})
            with_(f"{arg} a bool", TypeError, **{arg: True})
            with_(f"{arg} past 2**32", ValueError, **{arg: 2**32 + int(rng.integers(0, 2**20))})
        if arg in FLOAT_ARGUMENTS:
            bad_dtype = rng.choice([np.int64, np.float16, np.complex128, np.bool_, np.dtype(">f8")])
            with_(f"{arg} of dtype {np.dtype(bad_dtype)}", TypeError, **{arg: np.asarray(value).astype(bad_dtype)})
            with_(f"{arg} a list", TypeError, **{arg: np.asarray(value).tolist()})
        if arg in INDEX_ARGUMENTS:
            with_(f"{arg} of floats", TypeError, **{arg: np.asarray(value).astype(np.float64)})
            with_(f"{arg} of bools", TypeError, **{arg: np.asarray(value).astype(bool)})
            with_(f"{arg} a list", TypeError, **{arg: np.asarray(value).tolist()})
            with_(f"{arg} with an extra axis", ValueError, **{arg: np.asarray(value)[None, ...]})
    if "data" in args:
        other = FLOATS[1 - FLOATS.index(args["data"].dtype)]
        with_("data of the other float dtype", TypeError, data=args["data"].astype(other))
        with_("data one entry too long", ValueError, data=np.append(args["data"], args["data"].dtype.type(1)))
    if "bucket" in args and args["bucket"].size:
        K = args.get("K", args["w"].shape[0] if "w" in args else None)
        bucket = np.array(args["bucket"], dtype=np.int64)
        bucket.flat[rng.integers(bucket.size)] = rng.choice([-1, K, K + 1000, 2**40])
        with_("bucket out of [0, K)", ValueError, bucket=bucket)
        sign = np.array(args["sign"], dtype=np.int64)
        sign.flat[rng.integers(sign.size)] = rng.choice([0, 2, -2])
        with_("sign not +-1", ValueError, sign=sign)
    if "sign" in args:
        with_("sign of another shape", ValueError, sign=np.ones(np.asarray(args["sign"]).size + 1, dtype=np.int8))
    if "dV" in args:
        with_("dV of another shape", ValueError, dV=np.zeros(np.asarray(args["dV"]).size + 1, args["dV"].dtype))
    if "indices" in args:
        indptr, indices = np.array(args["indptr"], dtype=np.int64), np.array(args["indices"], dtype=np.int64)
        n_out = args["n_out"] if "n_out" in args else args["dY"].shape[1]
        if indices.size:
            wrong = indices.copy()
            wrong[rng.integers(wrong.size)] = rng.choice([-1, n_out, n_out + 7])
            with_("an index out of [0, n_out)", ValueError, indices=wrong)
            with_("indptr not ending at nnz", ValueError, indptr=np.append(indptr[:-1], indptr[-1] - 1))
        row_len = np.diff(indptr)
        if np.any(row_len >= 2):
            row = int(np.flatnonzero(row_len >= 2)[0])
            duplicate = indices.copy()
            duplicate[indptr[row] + 1] = duplicate[indptr[row]]
            with_("a duplicate column in a row", ValueError, indices=duplicate)
        if indptr.size >= 3:  # n_in >= 2: indptr[1] past nnz = indptr[-1], so indptr decreases after it
            with_("indptr not monotone", ValueError, indptr=np.concatenate([[0, indptr[-1] + 1], indptr[2:]]))
        with_("indptr one entry too long", ValueError, indptr=np.append(indptr, indptr[-1]))
    if "X" in args:  # n_in = len(indptr) - 1 (dY may have columns that no index uses)
        X = np.asarray(args["X"])
        with_("X with a column too many", ValueError, X=np.zeros((X.shape[0], X.shape[1] + 1), X.dtype))
    for arg in ("X", "dY"):
        if arg in args:
            with_(f"{arg} 1-D", ValueError, **{arg: np.asarray(args[arg]).ravel()})
    if "X" in args and "dY" in args:
        dY = np.asarray(args["dY"])
        with_("dY with a row too many", ValueError, dY=np.zeros((dY.shape[0] + 1, dY.shape[1]), dY.dtype))
    if "p" in args:  # sgd_step
        out.extend(sgd_step_corruptions(args, rng))
    return out


def sgd_step_corruptions(args, rng):
    """(description, corrupted arguments, exception) for one valid sgd_step case."""
    out = []

    def with_(what, exc, **changes):
        out.append((what, {**args, **changes}, exc))

    p = args["p"]
    other = FLOATS[1 - FLOATS.index(p.dtype)]
    for arg in ("p", "v", "g"):
        value = p if args[arg] is None else np.asarray(args[arg])
        bad_dtype = rng.choice([np.int64, np.float16, np.complex128, np.bool_, np.dtype(">f8"), other])
        with_(f"{arg} of dtype {np.dtype(bad_dtype)}", TypeError, **{arg: value.astype(bad_dtype)})
        with_(f"{arg} a list", TypeError, **{arg: value.tolist()})
        with_(f"{arg} of another shape", ValueError, **{arg: np.zeros(p.size + 1, p.dtype)})
        with_(f"{arg} with an extra axis", ValueError, **{arg: value.copy()[None, ...]})
    for arg in ("p", "v"):
        read_only = np.array(p)
        read_only.flags.writeable = False
        with_(f"{arg} read-only", ValueError, **{arg: read_only})
        if p.size >= 2:
            with_(f"{arg} strided", ValueError, **{arg: np.zeros(2 * p.size, p.dtype)[::2].reshape(p.shape)})
            with_(f"{arg} misaligned", ValueError, **{arg: as_layout(p, "misaligned")})
    with_("v the array p", ValueError, v=p)
    if args["momentum"] != 0.0:
        with_("v None with momentum", ValueError, v=None)
    keep = np.zeros(p.shape, dtype=bool) if args["keep"] is None else np.asarray(args["keep"])
    with_("keep of the other float dtype", TypeError,
          keep=keep.astype(np.float32 if p.dtype == np.float64 else np.float64))
    with_("keep of uint8", TypeError, keep=keep.astype(np.uint8))
    with_("keep a list", TypeError, keep=keep.tolist())
    with_("keep of another shape", ValueError, keep=np.ones(p.size + 1, dtype=bool))
    for value in (0.0, -float(rng.uniform(0, 1)), float("nan"), float("inf")):
        with_(f"lr = {value}", ValueError, lr=value)
    with_("lr a bool", TypeError, lr=True)
    with_("lr a string", TypeError, lr=str(args["lr"]))
    for value in (-float(rng.uniform(0, 1)), 1.0, float(rng.uniform(1, 10)), float("nan")):
        with_(f"momentum = {value}", ValueError, momentum=value)
    with_("momentum a bool", TypeError, momentum=False)
    for value in (-float(rng.uniform(0, 1)), float("nan"), float("inf")):
        with_(f"lam = {value}", ValueError, lam=value)
    with_("lam None", TypeError, lam=None)
    for value in ("L1", "L2", "l3", "none", 1, 2):
        with_(f"penalty {value!r}", ValueError, penalty=value)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", kernels.KERNELS)
def test_corrupted_arguments_are_refused(name, backend):
    refused = 0
    for case in range(CORRUPTION_CASES):
        rng = rng_for(name, AGREEMENT_CASES + case)
        args, _ = CASES[name](rng)
        candidates = corruptions(name, args, rng)
        what, bad_args, exc = candidates[rng.integers(len(candidates))]
        try:
            result = getattr(kernels, name)(**bad_args, backend=backend)
        except (TypeError, ValueError) as err:
            assert type(err) is exc, f"{name} case {case}, {what}: {type(err).__name__}: {err}"
            refused += 1
            continue
        raise AssertionError(f"{name} case {case}, {what}: no error, returned {type(result).__name__}")
    assert refused == CORRUPTION_CASES
