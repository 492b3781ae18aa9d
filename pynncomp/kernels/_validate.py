"""Argument checks shared by every public kernel.

Python validates, C computes: nothing reaches the C core (or its NumPy twin)
before these checks pass.  Each check raises ``TypeError`` for a wrong type
or dtype and ``ValueError`` for a wrong shape or value, naming the argument,
what it received and what is accepted.  Arrays come back C-contiguous
(copied only when they were not) and keep their shape: ``np.asarray(x,
order="C")`` rather than ``np.ascontiguousarray``, which turns a 0-d array
into a 1-d one.
"""
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_int(name, value, low, high=None):
    """A Python or NumPy integer (not a bool) in ``[low, high]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if value < low or (high is not None and value > high):
        accepted = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return value


def check_float_array(name, x, ndim, dtype=None):
    """A float32 or float64 ndarray with ``ndim`` dimensions (any if None).

    With ``dtype`` given, the array must have exactly that dtype: kernels
    never mix precisions silently.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64, got {_describe(x)}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)} (to match the other arguments), got {x.dtype}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    return np.asarray(x, order="C")


def check_int_array(name, x, ndim, low, high, out_dtype):
    """An integer ndarray with values in ``[low, high]``, returned as ``out_dtype``."""
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a numpy.ndarray of integers, got {_describe(x)}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    if x.size:
        lo, hi = int(x.min()), int(x.max())
        if lo < low or hi > high:
            raise ValueError(f"{name} must have values in [{low}, {high}], got values in [{lo}, {hi}]")
    return np.asarray(x, dtype=out_dtype, order="C")


def check_sign(name, sign, shape):
    """An integer ndarray of ``shape`` holding only -1 and +1, returned as int8."""
    if not isinstance(sign, np.ndarray) or sign.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a numpy.ndarray of integers -1/+1, got {_describe(sign)}")
    if sign.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (that of bucket), got {sign.shape}")
    if sign.size and not np.all((sign == 1) | (sign == -1)):
        bad = sign[(sign != 1) & (sign != -1)].ravel()[0]
        raise ValueError(f"{name} must hold only -1 and +1, got the value {bad}")
    return np.asarray(sign, dtype=np.int8, order="C")


def check_csr(indptr, indices, n_in, n_out, data=None):
    """A canonical CSR pattern over the rows of an ``n_in`` x ``n_out`` weight.

    ``indptr`` (n_in + 1,) starts at 0, never decreases and ends at nnz;
    ``indices`` (nnz,) are column indices in ``[0, n_out)``, strictly
    increasing within each row (no duplicates, so every kept weight is stored
    exactly once); ``data`` (nnz,), when given, holds the kept values.
    Returns ``(indptr int64, indices int32)``.
    """
    indptr = check_int_array("indptr", indptr, 1, 0, 2**62, np.int64)
    if indptr.shape != (n_in + 1,):
        raise ValueError(f"indptr must have shape ({n_in + 1},) (n_in + 1), got {indptr.shape}")
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
