"""Finite-difference checks of hand-written derivatives.

Centred differences in float64 (CS231n ``gradient_check.py``), reusable by
the tests and by students checking their own layers.  Unlike the CS231n
helper these functions assert nothing themselves: they *return* the
numbers so that a caller can assert them with a stated tolerance.

Relative error used throughout::

    rel_error(a, b) = max|a - b| / max(max|a|, max|b|, tiny)

taken over the whole array (not elementwise, which blows up on entries
that are zero up to rounding).  With ``eps = 1e-6`` in float64 the
truncation error of a centred difference is O(eps²·f''') ≈ 1e-12 and the
rounding error O(1e-16·|f| / eps) ≈ 1e-10, so a correct derivative gives a
relative error far below ``GRAD_RTOL = 1e-6``; a wrong one (a missing
factor, a transposed index) gives one of order 1.
"""
import numpy as np

EPS = 1e-6
GRAD_RTOL = 1e-6


def rel_error(a, b):
    """Largest absolute difference relative to the largest magnitude."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b)) / scale)


def _nudged(f, x, eps):
    """``(f(x + eps·e_t), f(x - eps·e_t))`` for every entry t of ``x``, in order.

    ``x`` must be a C-contiguous float64 array that ``f`` reads; each entry
    is nudged in place and restored, so ``x`` is unchanged afterwards.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("x must be a float64 numpy.ndarray (finite differences need float64)")
    if not x.flags.c_contiguous:
        raise ValueError("x must be C-contiguous so that it can be nudged in place")
    flat_x = x.reshape(-1)
    values = np.empty((flat_x.size, 2))
    for t in range(flat_x.size):
        old = flat_x[t]
        flat_x[t] = old + eps
        values[t, 0] = f()
        flat_x[t] = old - eps
        values[t, 1] = f()
        flat_x[t] = old
    return values[:, 0].reshape(x.shape), values[:, 1].reshape(x.shape)


def numerical_gradient(f, x, eps=EPS):
    """Centred-difference gradient ``(f(x + eps) - f(x - eps)) / 2 eps`` of the scalar ``f()``.

    ``x`` must be a C-contiguous float64 array that ``f`` reads: each entry
    is nudged by ±eps in place and restored, so ``x`` is unchanged.
    """
    f_plus, f_minus = _nudged(f, x, eps)
    return (f_plus - f_minus) / (2 * eps)


def numerical_second_derivative(f, x, eps=1e-4):
    """Centred-difference diagonal second derivative ``∂²f/∂x_t²`` for every t.

    ``(f(x + eps) - 2 f(x) + f(x - eps)) / eps²``; ``x`` is restored.  The
    default eps is larger than for gradients because rounding error now
    scales as 1e-16·|f| / eps².
    """
    f_plus, f_minus = _nudged(f, x, eps)
    return (f_plus - 2 * f() + f_minus) / eps**2


def check_layer(layer, x, train=False, seed=0, eps=EPS):
    """Relative errors of a layer's dx and parameter gradients.

    The scalar checked is ``sum(forward(x) * G)`` for a fixed random G, whose
    gradient is exactly what ``backward(G, cache)`` computes.  The layer and
    ``x`` must be float64.  A layer with randomness in train mode (dropout)
    must draw it from a generator reset per call for this to be meaningful;
    check such layers with ``train=False`` or a fixed mask.

    Returns
    -------
    dict
        ``{"x": err, name: err for every parameter}``.
    """
    out, cache = layer.forward(x, train=train)
    G = np.random.default_rng(seed).standard_normal(out.shape)
    dx = layer.backward(G, cache)
    analytic = {"x": dx, **{k: v.copy() for k, v in layer.grads.items()}}

    def objective():
        return float(np.sum(layer.forward(x, train=train)[0] * G))

    errors = {"x": rel_error(analytic["x"], numerical_gradient(objective, x, eps))}
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(objective, p, eps))
    return errors
