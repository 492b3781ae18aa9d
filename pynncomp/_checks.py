"""Argument checks: one home for every check pynncomp makes of what it is given.

Errors a user can cause are ``TypeError`` (a wrong type or dtype) or
``ValueError`` (a wrong shape or value); every message names the argument,
what it received and what is accepted (CONTRIBUTING.md).  The checks fall in
three groups:

* numbers: :func:`check_int`, :func:`check_positive_int`,
  :func:`check_real`, :func:`check_dtype`, :func:`as_generator`;
* the arguments of the kernels: :func:`check_float_array`,
  :func:`check_int_array`, :func:`check_sign`, :func:`check_csr`,
  :func:`check_int32_extent`, and :func:`c_array`, which makes an array
  ready for C.  Python validates, C computes: nothing reaches the C core (or
  its NumPy twin) before these checks pass;
* the arrays a layer is handed: :func:`check_input`,
  :func:`check_output_gradient`, and the samples a curvature is averaged
  over: :func:`check_samples`;
* the matrices a second-order method inverts: :func:`check_positive_definite`.

The kernel checks look at shapes and values only; they do not copy.  A
public kernel runs every check first and only then makes its arrays ready
for C with :func:`c_array`, so that an argument refused for its size (a
zero-stride ``np.broadcast_to`` view can claim billions of entries) is
refused before anything is copied.

Sizes the C core holds in 32 bits
---------------------------------
The C core indexes with ``int64`` everywhere except two index arrays, which
it keeps as ``int32`` to halve their memory: the HashedNet ``bucket`` (values
in [0, K)) and the CSR column ``indices`` (values in [0, n_out)).  So K and
n_out are at most ``INT32_MAX``; larger values would wrap when the indices
are cast to ``int32``.  :func:`check_int32_extent` refuses them by name.
"""
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1


def describe(x):
    """How a message names a value: an array by its dtype and shape, anything else by its repr."""
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_int(name, value, low, high=None):
    """A Python or NumPy integer (not a bool) in ``[low, high]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if value < low or (high is not None and value > high):
        accepted = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return value


def check_int32_extent(name, x, axis, what):
    """Refuse an array whose extent along ``axis`` is past ``INT32_MAX``.

    ``what`` says which count that extent is (e.g. ``"entries (K)"``); the C
    core stores indices into that axis as ``int32``.
    """
    if x.shape[axis] > INT32_MAX:
        raise ValueError(
            f"{name} must have at most {INT32_MAX} {what}, the int32 index range of the C core, "
            f"got shape {x.shape}"
        )


def check_float_array(name, x, ndim, dtype=None):
    """A float32 or float64 ndarray with ``ndim`` dimensions (any if None).

    With ``dtype`` given, the array must have exactly that dtype: kernels
    never mix precisions silently.  Returns ``x`` itself (see :func:`c_array`).
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {describe(x)}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)} (to match the other arguments), got {x.dtype}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    return x


def check_int_array(name, x, ndim, low, high, out_dtype, shape=None, shape_of=None):
    """An integer ndarray with values in ``[low, high]``, returned as ``out_dtype``.

    ``high`` must fit ``out_dtype`` (the callers bound it, see
    :func:`check_int32_extent`).  With ``shape`` given the array must have
    that shape, which is ``shape_of`` (e.g. ``"that of dV"``); the shape is
    checked before the values, and the conversion comes last.  The result
    is ready for C (:func:`c_array`).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a numpy.ndarray of integers, got {describe(x)}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({shape_of}), got {x.shape}")
    if x.size:
        lo, hi = int(x.min()), int(x.max())
        if lo < low or hi > high:
            raise ValueError(f"{name} must have values in [{low}, {high}], got values in [{lo}, {hi}]")
    return c_array(x, out_dtype)


def check_sign(name, sign, shape):
    """An integer ndarray of ``shape`` holding only -1 and +1, returned as int8."""
    if not isinstance(sign, np.ndarray) or sign.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a numpy.ndarray of integers -1/+1, got {describe(sign)}")
    if sign.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (that of bucket), got {sign.shape}")
    if sign.size and not np.all((sign == 1) | (sign == -1)):
        bad = sign[(sign != 1) & (sign != -1)].ravel()[0]
        raise ValueError(f"{name} must hold only -1 and +1, got the value {bad}")
    return c_array(sign, np.int8)


def check_csr(indptr, indices, n_in, n_out, data=None):
    """A canonical CSR pattern over the rows of an ``n_in`` x ``n_out`` weight.

    ``indptr`` (n_in + 1,) starts at 0, never decreases and ends at nnz;
    ``indices`` (nnz,) are column indices in ``[0, n_out)``, strictly
    increasing within each row (no duplicates, so every kept weight is stored
    exactly once); ``data`` (nnz,), when given, holds the kept values.
    ``n_in=None`` takes n_in from ``len(indptr) - 1`` (the caller then
    compares it with its own arrays).  ``n_out`` is at most ``INT32_MAX``:
    the column indices are ``int32`` in C.  Returns ``(indptr int64,
    indices int32)``, ready for C.
    """
    n_out = check_int("n_out", n_out, 0, INT32_MAX)
    indptr = check_int_array("indptr", indptr, 1, 0, 2**62, np.int64)
    if indptr.shape[0] < 1 or (n_in is not None and indptr.shape != (n_in + 1,)):
        expected = "(n_in + 1,) with n_in >= 0" if n_in is None else f"({n_in + 1},) (n_in + 1)"
        raise ValueError(f"indptr must have shape {expected}, got {indptr.shape}")
    indices = check_int_array("indices", indices, 1, 0, max(n_out - 1, 0), np.int32)
    if n_out == 0 and indices.size:
        raise ValueError("indices must be empty when n_out is 0")
    nnz = indices.shape[0]
    if indptr[0] != 0 or indptr[-1] != nnz:
        raise ValueError(f"indptr must start at 0 and end at len(indices) = {nnz}, got {indptr[0]} and {indptr[-1]}")
    row_len = np.diff(indptr)
    if np.any(row_len < 0):
        raise ValueError("indptr must be non-decreasing")
    if nnz > 1:
        row_start = np.zeros(nnz, dtype=bool)
        row_start[indptr[:-1][row_len > 0]] = True
        step = np.diff(indices.astype(np.int64))
        if np.any((step <= 0) & ~row_start[1:]):
            raise ValueError("indices must be strictly increasing within each row (canonical CSR, no duplicates)")
    if data is not None and data.shape != (nnz,):
        raise ValueError(f"data must have shape ({nnz},) (len(indices)), got {data.shape}")
    return indptr, indices


def c_array(x, dtype=None):
    """``x`` as C reads it: a C-contiguous, aligned ndarray of ``dtype``.

    Copied only when it is not one already.  Alignment matters as much as
    contiguity: a view that starts one byte into a buffer
    (``np.zeros(33, np.uint8)[1:].view(np.float32)``) is C-contiguous, but
    C may not load a ``float`` from a misaligned address.  ``np.array(x,
    order="C")`` keeps a 0-d array 0-d, where ``np.ascontiguousarray`` would
    make it 1-d.
    """
    if type(x) is not np.ndarray:  # a subclass (np.matrix...) would change what the twins compute
        x = np.asarray(x)
    if dtype is not None and x.dtype != dtype:
        return x.astype(dtype, order="C")
    if x.flags.c_contiguous and x.flags.aligned:
        return x
    return np.array(x, order="C")


def check_positive_int(name, value):
    """A Python or NumPy integer (not a bool) >= 1, returned as ``int``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def check_real(name, value, low, high, *, low_open=False, high_open=False):
    """A finite real number in the interval given, returned as ``float``.

    ``low``/``high`` may be None (unbounded); ``*_open`` excludes the end.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}, got {value!r}")
    return value


def check_dtype(dtype, name="dtype"):
    """float32 or float64 (as ``np.dtype``); anything else is a TypeError."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def as_generator(seed, name="seed"):
    """A ``np.random.Generator`` from None, an int >= 0 or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"{name} must be None, an integer >= 0 or a numpy.random.Generator, got {describe(seed)}")
        if seed < 0:
            raise ValueError(f"{name} must be None, an integer >= 0 or a numpy.random.Generator, got {seed}")
    return np.random.default_rng(seed)


def check_input(x, dtype, trailing_shape=None, name="x", contiguous=True):
    """A layer's input: a float ndarray of ``dtype`` (either float if None).

    ``trailing_shape`` is the shape after the batch axis, when the layer
    fixes it.  With ``contiguous`` the array is returned C-contiguous (copied
    only if it was not), which the C kernels need; elementwise layers pass
    False and take any layout.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of floats, got {describe(x)}")
    if dtype is None:
        if x.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    elif x.dtype != dtype:
        raise TypeError(
            f"{name} must have dtype {dtype} (the layer's dtype; cast the input or call "
            f"astype on the model), got {x.dtype}"
        )
    if x.ndim == 0:
        raise ValueError(f"{name} must have a batch axis, got a 0-D array")
    if trailing_shape is not None and x.shape[1:] != trailing_shape:
        expected = "(B, " + ", ".join(str(n) for n in trailing_shape) + ")"
        raise ValueError(f"{name} must have shape {expected}, got {x.shape}")
    return x if not contiguous or x.flags.c_contiguous else np.ascontiguousarray(x)


def check_samples(X, name="X"):
    """Samples to average over: a float ndarray (N, ...) with N >= 1 (any layout)."""
    X = check_input(X, None, name=name, contiguous=False)
    if X.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {X.shape}")
    return X


def check_output_gradient(name, dout, x, n_out, dtype=None):
    """The gradient (or curvature) a backward pass receives: ``(B, n_out)``.

    ``B`` is the batch of the forward input ``x`` (from the cache).  With
    ``dtype`` given, ``dout`` must have it: the sparse kernels read the
    buffer as that type.  A shape and dtype comparison, cheap enough for
    every step.  Returns ``dout``.
    """
    if not isinstance(dout, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of shape ({x.shape[0]}, {n_out}), got {describe(dout)}")
    if dout.shape != (x.shape[0], n_out):
        raise ValueError(
            f"{name} must have shape ({x.shape[0]}, {n_out}) (the forward batch B = {x.shape[0]}, "
            f"n_out = {n_out}), got {dout.shape}"
        )
    if dtype is not None and dout.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the layer's dtype), got {dout.dtype}")
    return dout


def check_positive_definite(name, matrix, remedy):
    """A symmetric positive definite matrix, refused by name when singular.

    A matrix whose Cholesky factorisation fails, or whose smallest pivot is
    below rounding (``L_ii² <= n·eps·max_i A_ii``: an exactly singular
    matrix can factor with pivots of rounding size), is refused with a
    ValueError that says what ``name`` is and the ``remedy`` (e.g. "give
    damping > 0").

    Parameters
    ----------
    name : str
        What the matrix is, as the message names it.
    matrix : float64 ndarray (n, n), symmetric
    remedy : str

    Returns
    -------
    ndarray (n, n)
        The lower Cholesky factor L, ``matrix = L Lᵀ``.
    """
    try:
        factor = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        factor = None
    scale = float(np.max(np.diag(matrix), initial=0.0))
    n = matrix.shape[0]
    if factor is None or (n and np.min(np.diag(factor)) ** 2 <= n * np.finfo(np.float64).eps * scale):
        raise ValueError(f"{name} must be positive definite, but it is singular: {remedy}")
    return factor
