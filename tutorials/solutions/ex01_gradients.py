"""Worked solutions of lesson 1's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numpy as np


def dense_backward(x, W, dout):
    """Gradients of Y = X W + b: (dx, dW, db); see tutorials/exercises/ex01_gradients.py."""
    dx = dout @ W.T          # each input feeds every output through its row of W
    dW = x.T @ dout          # sums over the batch: the loss is already a batch mean
    db = dout.sum(axis=0)
    return dx, dW, db


def relu_backward(a, dout):
    """dL/da of y = max(a, 0): dout where a > 0, else 0."""
    return dout * (a > 0)


def masked_dense_backward(x, W, keep, dout):
    """Gradients of Y = X (W ⊙ M) + b: (dx, dW, db)."""
    W_used = W * keep        # the pruned entries of W may hold anything: use only what the layer computes with
    dx = dout @ W_used.T
    dW = (x.T @ dout) * keep  # a pruned weight changes nothing downstream, so its gradient is 0
    db = dout.sum(axis=0)
    return dx, dW, db


def numerical_gradient(f, x, eps=1e-6):
    """Centred differences of f() along each entry of x, nudged in place and restored."""
    grad = np.empty(x.shape)
    for t in np.ndindex(x.shape):   # every index of x, whatever its shape
        old = x[t]
        x[t] = old + eps         # in place: f reads this very array
        f_plus = f()
        x[t] = old - eps
        f_minus = f()
        x[t] = old               # the saved value, not old + eps - eps, which may round differently
        grad[t] = (f_plus - f_minus) / (2 * eps)
    return grad
