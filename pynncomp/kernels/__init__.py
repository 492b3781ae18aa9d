"""The compute kernels of pynncomp, checked at the door.

Two backends compute the same functions:

* ``"c"`` — the C core in ``csrc/``, compiled by cffi when the package is
  installed (``pynncomp/kernels/_c.py`` wraps it);
* ``"numpy"`` — the NumPy twins in :mod:`pynncomp.kernels.reference`, the
  specification and test oracle of the C code.

The active backend is the C one when it was built, else NumPy (with one
warning saying how to build).  ``PYNNCOMP_BACKEND=numpy`` forces NumPy,
``PYNNCOMP_BACKEND=c`` makes a missing C core an error; any other value than
``auto``, ``c`` or ``numpy`` is an error too.  Both errors are
:class:`BackendError`, raised when this module is imported.  Every public
function here validates its arguments (see :mod:`pynncomp._checks`)
and takes ``backend=None`` (the active one), ``"c"`` or ``"numpy"``.

The unchecked path, and why it is not public
--------------------------------------------
The layers call the kernels several times per training step with index
arrays (``bucket``/``sign``, ``indptr``/``indices``) that never change after
the layer is built.  Checking those arrays costs as much as the kernel on a
small layer (a min, a max, a sortedness scan), so the layers validate them
once, at construction, and then call the backend's functions directly
through :func:`_unchecked`.  Those functions trust every argument: an index
out of range or an array of the wrong size makes the C core read or write
outside its buffers, which can crash the interpreter.  That is why
:func:`_unchecked` is private (underscore, not in the documentation): it is
for the layers of this package, which keep their arrays consistent, and
user code calls the checked functions below.
"""
import os
import warnings

import numpy as np

from .. import BackendError
from . import reference
from .._checks import (
    INT32_MAX,
    INT64_MAX,
    UINT32_MAX,
    c_array,
    check_csr,
    check_float_array,
    check_int,
    check_int32_extent,
    check_int_array,
    check_real,
    check_sign,
)

KERNELS = (
    "hash_buckets",
    "hashed_lookup",
    "bucket_accumulate",
    "sparse_matmul",
    "sparse_matmul_t",
    "sparse_weight_grad",
    "sgd_step",
)
BACKENDS = ("c", "numpy")
BACKEND_CHOICES = ("auto",) + BACKENDS
BUILD_HINT = (
    "reinstall with a C compiler present (`pip install -e .` compiles csrc/ "
    "through cffi); until then pynncomp runs its NumPy kernels"
)


def _load_c():
    """The C wrappers, or the reason they cannot be had."""
    try:
        from . import _c
    except ImportError as exc:
        return None, str(exc)
    return _c, None


def _choose_backend():
    """``(name, C module or None)`` as ``PYNNCOMP_BACKEND`` asks; BackendError if it cannot be had."""
    requested = os.environ.get("PYNNCOMP_BACKEND", "auto").strip().lower() or "auto"
    if requested not in BACKEND_CHOICES:
        raise BackendError(
            f"PYNNCOMP_BACKEND must be one of {', '.join(BACKEND_CHOICES)} (or unset), "
            f"got {os.environ['PYNNCOMP_BACKEND']!r}"
        )
    c_module, why = _load_c()
    if requested == "numpy":
        return "numpy", c_module
    if c_module is None:
        if requested == "c":
            raise BackendError(f"PYNNCOMP_BACKEND=c but the C core is not built ({why}); {BUILD_HINT}")
        warnings.warn(f"pynncomp: C core not available ({why}); {BUILD_HINT}", RuntimeWarning, stacklevel=3)
        return "numpy", None
    return "c", c_module


ACTIVE_BACKEND, _c_module = _choose_backend()


def c_available():
    """True when the C core was built and imports."""
    return _c_module is not None


def _unchecked():
    """The active backend's unchecked kernels (``reference`` or ``_c``); private.

    For the layers of this package, which validated their index arrays once
    at construction and call the kernels every step (see the module
    docstring: wrong arguments here can crash the interpreter).
    """
    return _impl(None)


def _impl(backend):
    name = ACTIVE_BACKEND if backend is None else backend
    if name == "numpy":
        return reference
    if name == "c":
        if _c_module is None:
            raise ValueError(f"backend 'c' was asked for but the C core is not built; {BUILD_HINT}")
        return _c_module
    raise ValueError(f"backend must be None, 'c' or 'numpy', got {backend!r}")


def hash_buckets(n_in, n_out, K, seed, *, backend=None):
    """HashedNet bucket index and sign of every virtual weight.

    .. math:: h(i, j) = \\mathrm{xxh32}(i, j; s) \\bmod K, \\qquad
              \\xi(i, j) = 1 - 2\\,[\\mathrm{xxh32}(i, j; s \\oplus
              \\mathtt{0x9E3779B9}) \\ge 2^{31}]

    (Chen et al. 2015, section 4; docs/methods.md#hash.)

    Parameters
    ----------
    n_in, n_out : int
        Shape of the virtual weight matrix V (each in [0, 2**32 - 1], and
        n_in * n_out <= 2**63 - 1).
    K : int
        Number of real weights (buckets), in [1, 2**31 - 1].
    seed : int
        Layer seed in [0, 2**32 - 1].

    Returns
    -------
    bucket : int32 ndarray (n_in, n_out), values in [0, K)
    sign : int8 ndarray (n_in, n_out), values -1 or +1
    """
    n_in = check_int("n_in", n_in, 0, UINT32_MAX)
    n_out = check_int("n_out", n_out, 0, UINT32_MAX)
    if n_in * n_out > INT64_MAX:  # C numbers the entries i * n_out + j in int64
        raise ValueError(f"n_in * n_out must be at most {INT64_MAX} (2**63 - 1), got {n_in} * {n_out} = {n_in * n_out}")
    K = check_int("K", K, 1, INT32_MAX)
    seed = check_int("seed", seed, 0, UINT32_MAX)
    return _impl(backend).hash_buckets(n_in, n_out, K, seed)


def hashed_lookup(w, bucket, sign, *, backend=None):
    """Virtual weight matrix of a HashedNet layer, ``V = ξ ⊙ w[h]``.

    Parameters
    ----------
    w : float32 or float64 ndarray (K,)
        Real weights, 1 <= K <= 2**31 - 1 (bucket indices are int32 in C).
    bucket : integer ndarray, any shape S, values in [0, K)
    sign : integer ndarray of shape S, values -1 or +1

    Returns
    -------
    V : ndarray of shape S and the dtype of ``w``
    """
    check_float_array("w", w, 1)
    if w.shape[0] < 1:
        raise ValueError("w must hold at least one real weight (K >= 1), got shape (0,)")
    check_int32_extent("w", w, 0, "entries (K)")
    bucket = check_int_array("bucket", bucket, None, 0, w.shape[0] - 1, np.int32)
    sign = check_sign("sign", sign, bucket.shape)
    return _impl(backend).hashed_lookup(c_array(w), bucket, sign)


def bucket_accumulate(dV, bucket, sign, K, *, backend=None):
    """Gradient of a HashedNet layer's real weights.

    .. math:: \\frac{\\partial L}{\\partial w_k} = \\sum_{(i,j):\\,h(i,j)=k}
              \\xi(i, j)\\, \\frac{\\partial L}{\\partial V_{ij}}

    Parameters
    ----------
    dV : float32 or float64 ndarray, any shape S
        Gradient with respect to the virtual weights.
    bucket : integer ndarray of shape S, values in [0, K)
    sign : integer ndarray of shape S, values -1 or +1
    K : int in [1, 2**31 - 1]

    Returns
    -------
    dw : ndarray (K,) in the dtype of ``dV``
    """
    check_float_array("dV", dV, None)
    K = check_int("K", K, 1, INT32_MAX)
    bucket = check_int_array("bucket", bucket, None, 0, K - 1, np.int32, dV.shape, "that of dV")
    sign = check_sign("sign", sign, bucket.shape)
    return _impl(backend).bucket_accumulate(c_array(dV), bucket, sign, K)


def _check_columns(name, A, n_in):
    """``A`` (B, n_in): its columns must be the n_in = len(indptr) - 1 rows of W."""
    if A.shape[1] != n_in:
        raise ValueError(
            f"{name} must have n_in = len(indptr) - 1 = {n_in} columns (indptr has length {n_in + 1}), "
            f"got {name} of shape {A.shape}"
        )


def sparse_matmul(X, indptr, indices, data, n_out, *, backend=None):
    """Forward of a pruned dense layer from its kept weights: ``Y = X · (W ⊙ M)``.

    Parameters
    ----------
    X : float32 or float64 ndarray (B, n_in)
    indptr : integer ndarray (n_in + 1,)
    indices : integer ndarray (nnz,), column indices in [0, n_out)
    data : ndarray (nnz,), the dtype of X
        The kept weights of W (n_in, n_out) in canonical CSR over its rows.
    n_out : int in [0, 2**31 - 1]

    Returns
    -------
    Y : ndarray (B, n_out)
    """
    check_float_array("X", X, 2)
    n_out = check_int("n_out", n_out, 0, INT32_MAX)
    check_float_array("data", data, 1, X.dtype)
    indptr, indices = check_csr(indptr, indices, None, n_out, data)
    _check_columns("X", X, indptr.shape[0] - 1)
    return _impl(backend).sparse_matmul(c_array(X), indptr, indices, c_array(data), n_out)


def sparse_matmul_t(dY, indptr, indices, data, n_in, *, backend=None):
    """Backward of a pruned dense layer to its input: ``dX = dY · (W ⊙ M)ᵀ``.

    Parameters
    ----------
    dY : float32 or float64 ndarray (B, n_out), n_out <= 2**31 - 1
    indptr, indices, data : the CSR of the kept weights (see ``sparse_matmul``)
    n_in : int in [0, 2**31 - 1]

    Returns
    -------
    dX : ndarray (B, n_in)
    """
    check_float_array("dY", dY, 2)
    check_int32_extent("dY", dY, 1, "columns (n_out)")
    n_in = check_int("n_in", n_in, 0, INT32_MAX)
    check_float_array("data", data, 1, dY.dtype)
    indptr, indices = check_csr(indptr, indices, n_in, dY.shape[1], data)
    return _impl(backend).sparse_matmul_t(c_array(dY), indptr, indices, c_array(data), n_in)


def sparse_weight_grad(X, dY, indptr, indices, *, backend=None):
    """Gradient of a pruned dense layer's kept weights, and only those.

    .. math:: \\frac{\\partial L}{\\partial W_{ij}} = \\sum_b X_{bi}\\, dY_{bj}
              \\quad \\text{for } M_{ij} = 1

    Parameters
    ----------
    X : float32 or float64 ndarray (B, n_in)
    dY : ndarray (B, n_out), the dtype of X, n_out <= 2**31 - 1
    indptr, indices : the CSR pattern of the kept weights

    Returns
    -------
    ddata : ndarray (nnz,), in the order of ``indices``
    """
    check_float_array("X", X, 2)
    check_float_array("dY", dY, 2, X.dtype)
    if dY.shape[0] != X.shape[0]:
        raise ValueError(f"dY must have as many rows as X ({X.shape[0]}), got shape {dY.shape}")
    check_int32_extent("dY", dY, 1, "columns (n_out)")
    indptr, indices = check_csr(indptr, indices, None, dY.shape[1])
    _check_columns("X", X, indptr.shape[0] - 1)
    return _impl(backend).sparse_weight_grad(c_array(X), c_array(dY), indptr, indices)


PENALTIES = (None, "l1", "l2")


def _check_in_place(name, x, p):
    """An array the step writes: p's shape and dtype, C-contiguous, writeable, not overlapping p."""
    check_float_array(name, x, None, p.dtype)
    if x.shape != p.shape:
        raise ValueError(f"{name} must have the shape of p {p.shape}, got {x.shape}")
    if not (x.flags.c_contiguous and x.flags.aligned and x.flags.writeable):
        raise ValueError(f"{name} must be C-contiguous, aligned and writeable (it is updated in place)")
    if x is p or np.may_share_memory(x, p):
        raise ValueError(f"{name} must not share memory with p")


def sgd_step(p, v, g, keep=None, *, lr, momentum=0.0, penalty=None, lam=0.0, backend=None):
    """One SGD step on one parameter, in place: momentum, penalty and mask in one pass over memory.

    .. math::
        t = \\eta\\,(R'(p) + g), \\qquad
        v \\leftarrow (\\mu v - t) \\odot M, \\qquad p \\leftarrow p + v

    (docs/methods.md#optimizer), with :math:`R'(p) = \\lambda\\,\\mathrm{sign}(p)`
    for L1, :math:`\\lambda p` for L2, 0 without a penalty; with momentum
    0, :math:`p \\leftarrow p - t \\odot M`.  The same arithmetic as
    :meth:`pynncomp.nn.SGD.step`, which calls it for each parameter; the
    storage does not matter (a dense W with its mask, or the ``data`` of a
    :class:`~pynncomp.nn.SparseDense`).

    Parameters
    ----------
    p : float32 or float64 ndarray, C-contiguous and writeable
        The parameter, updated in place.
    v : ndarray of p's shape and dtype, or None
        The velocity, updated in place; None only with ``momentum`` 0.
    g : ndarray of p's shape and dtype
        The gradient (read as it is before the step, even where it shares
        memory with p or v).
    keep : None, or a bool ndarray of p's shape, or its 0/1 factor in p's dtype
        The keep-mask (False or 0 = pruned: its velocity and step are 0).
        The kernels multiply by the factor; a layer passes its cached one
        (:meth:`~pynncomp.nn.base.Layer.keep_factor`).
    lr : float > 0
    momentum : float in [0, 1)
    penalty : None, "l1" or "l2"
    lam : float >= 0
        λ of the penalty.
    """
    check_float_array("p", p, None)
    if not (p.flags.c_contiguous and p.flags.aligned and p.flags.writeable):
        raise ValueError("p must be C-contiguous, aligned and writeable (it is updated in place)")
    lr = check_real("lr", lr, 0.0, None, low_open=True)
    momentum = check_real("momentum", momentum, 0.0, 1.0, high_open=True)
    lam = check_real("lam", lam, 0.0, None)
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of None, 'l1', 'l2', got {penalty!r}")
    check_float_array("g", g, None, p.dtype)
    if g.shape != p.shape:
        raise ValueError(f"g must have the shape of p {p.shape}, got {g.shape}")
    g = c_array(g)
    if np.may_share_memory(g, p) or (v is not None and np.may_share_memory(g, v)):
        g = g.copy()  # the step reads g as it was before p and v change
    if v is None:
        if momentum != 0.0:
            raise ValueError(f"v must be an array of p's shape when momentum is not 0 (momentum={momentum})")
    else:
        _check_in_place("v", v, p)
    if keep is not None:
        if not isinstance(keep, np.ndarray) or keep.dtype not in (np.bool_, p.dtype):
            raise TypeError(f"keep must be None, a bool ndarray or its 0/1 factor in p's dtype {p.dtype}, got "
                            f"{getattr(keep, 'dtype', type(keep).__name__)}")
        if keep.shape != p.shape:
            raise ValueError(f"keep must have the shape of p {p.shape}, got {keep.shape}")
        keep = c_array(keep, p.dtype)  # a bool mask becomes its 0/1 factor, which both backends multiply by
        if np.may_share_memory(keep, p) or (v is not None and np.may_share_memory(keep, v)):
            keep = keep.copy()  # read as it is before p and v change
    code = reference.PENALTY_CODES[penalty]
    _impl(backend).sgd_step(p, v if momentum != 0.0 else None, g, keep, lr, momentum, code, lam)
