"""Argument checks shared by the layers, the loss and the optimiser.

Errors a user can cause are ``TypeError`` (wrong type or dtype) or
``ValueError`` (wrong shape or value); every message names the argument,
what it received and what is accepted (CONTRIBUTING.md).
"""
import numbers

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:120]


def check_positive_int(name, value):
    """A Python or NumPy integer (not a bool) >= 1, returned as ``int``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1, got {_describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def check_real(name, value, low, high, *, low_open=False, high_open=False):
    """A finite real number in the interval given, returned as ``float``.

    ``low``/``high`` may be None (unbounded); ``*_open`` excludes the end.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
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
            raise TypeError(f"{name} must be None, an integer >= 0 or a numpy.random.Generator, got {_describe(seed)}")
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
        raise TypeError(f"{name} must be a numpy.ndarray of floats, got {_describe(x)}")
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


def check_output_gradient(name, dout, x, n_out, dtype=None):
    """The gradient (or curvature) a backward pass receives: ``(B, n_out)``.

    ``B`` is the batch of the forward input ``x`` (from the cache).  With
    ``dtype`` given, ``dout`` must have it: the sparse kernels read the
    buffer as that type.  A shape and dtype comparison, cheap enough for
    every step.  Returns ``dout``.
    """
    if not isinstance(dout, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of shape ({x.shape[0]}, {n_out}), got {_describe(dout)}")
    if dout.shape != (x.shape[0], n_out):
        raise ValueError(
            f"{name} must have shape ({x.shape[0]}, {n_out}) (the forward batch B = {x.shape[0]}, "
            f"n_out = {n_out}), got {dout.shape}"
        )
    if dtype is not None and dout.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the layer's dtype), got {dout.dtype}")
    return dout
