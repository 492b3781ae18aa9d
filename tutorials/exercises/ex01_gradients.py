"""Exercises of lesson 1: the backward passes of a dense layer and of ReLU, and a gradient check.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex01

Each function must compute its result with NumPy from its arguments alone
(no pynncomp layer or pynncomp.gradcheck inside): the grader compares it
with pynncomp's own layers, with ``pynncomp.gradcheck`` and with finite
differences.  Shapes: a batch ``x`` is (B, n_in), a weight ``W`` is
(n_in, n_out), ``dout`` = dL/dY is (B, n_out).
"""


def dense_backward(x, W, dout):
    """Gradients of Y = X W + b.

    Parameters
    ----------
    x : ndarray (B, n_in)
    W : ndarray (n_in, n_out)
    dout : ndarray (B, n_out)
        dL/dY.

    Returns
    -------
    dx : ndarray (B, n_in)
        dL/dX = dY Wᵀ
    dW : ndarray (n_in, n_out)
        dL/dW = Xᵀ dY
    db : ndarray (n_out,)
        dL/db = Σ_b dY_b
    """
    raise NotImplementedError


def relu_backward(a, dout):
    """dL/da of y = max(a, 0), given dL/dy; the derivative at a = 0 is 0.

    Parameters
    ----------
    a : ndarray, any shape
        The input of the ReLU.
    dout : ndarray, the shape of ``a``
        dL/dy.

    Returns
    -------
    da : ndarray, the shape of ``a``
    """
    raise NotImplementedError


def masked_dense_backward(x, W, keep, dout):
    """Gradients of a pruned dense layer, Y = X (W ⊙ M) + b.

    The layer computes with W ⊙ M, where M is the keep-mask (True = kept,
    False = pruned).  ``W`` may hold any values at its pruned entries: they
    must not reach any of the three results.

    .. math::
        \\frac{\\partial L}{\\partial W} = (X^\\top dY) \\odot M, \\qquad
        \\frac{\\partial L}{\\partial b} = \\sum_b dY_b, \\qquad
        dX = dY\\, (W \\odot M)^\\top

    Parameters
    ----------
    x : ndarray (B, n_in)
    W : ndarray (n_in, n_out)
    keep : bool ndarray (n_in, n_out)
        M.
    dout : ndarray (B, n_out)
        dL/dY.

    Returns
    -------
    dx : ndarray (B, n_in)
    dW : ndarray (n_in, n_out)
        Exactly 0 at every pruned entry.
    db : ndarray (n_out,)
    """
    raise NotImplementedError


def numerical_gradient(f, x, eps=1e-6):
    """Centred finite-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``f`` takes no argument: it reads ``x``, the very array passed here (as
    a layer reads its ``params``).  Nudge each entry of ``x`` in place, call
    ``f``, and put the entry back, so that ``x`` is exactly unchanged when
    the function returns.

    .. math::
        \\hat g_t = \\frac{f(x + \\varepsilon e_t) - f(x - \\varepsilon e_t)}{2 \\varepsilon}

    for every entry t of ``x`` (``e_t`` is 1 at entry t and 0 elsewhere).

    Parameters
    ----------
    f : callable () -> float
    x : float64 ndarray, any shape
        Modified during the call, restored before it returns.
    eps : float > 0
        The step ε.

    Returns
    -------
    grad : float64 ndarray, the shape of ``x``
    """
    raise NotImplementedError
