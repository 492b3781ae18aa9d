"""Stochastic gradient descent with momentum, masks and weight penalties.

One step for a parameter p with gradient g, keep-mask M (all ones if the
parameter has none) and penalty R (docs/methods.md#optimizer):

.. math::
    v \\leftarrow \\big(\\mu v - \\eta\\, (g + \\nabla R(p))\\big) \\odot M,
    \\qquad p \\leftarrow p + v

The mask zeroes the gradient, the penalty's gradient and the velocity of
every pruned entry at every step, so a pruned weight (0 when its mask was
installed) stays exactly 0: no gradient, no momentum, no penalty, no
revival — also when a mask is installed mid-training while v is nonzero.
The penalty touches only the prunable parameters (weights), never biases.
"""
import numpy as np

from .. import kernels
from .._checks import c_array, check_real
from .penalties import L1, L2, Penalty

# The penalties the fused kernel computes itself (pynncomp.kernels.sgd_step).
PENALTY_CODES = {type(None): 0, L1: 1, L2: 2}

__all__ = ["SGD", "L1", "L2", "Penalty"]


class SGD:
    """SGD with (heavy-ball) momentum.

    Parameters
    ----------
    lr : float > 0
        Learning rate η.
    momentum : float in [0, 1)
        μ; 0 is plain SGD (no velocity is kept).
    penalty : None or Penalty (L1, L2)
        Added to the gradient of the prunable parameters at each step.

    Attributes
    ----------
    velocity : dict
        ``{(layer, name): v}``; a v whose shape or dtype no longer matches its
        parameter (after ``astype``) restarts from 0.
    """

    def __init__(self, lr, momentum=0.0, penalty=None):
        self.lr = check_real("lr", lr, 0.0, None, low_open=True)
        self.momentum = check_real("momentum", momentum, 0.0, 1.0, high_open=True)
        if penalty is not None and not isinstance(penalty, Penalty):
            raise TypeError(f"penalty must be None or a Penalty (L1, L2), got {type(penalty).__name__}")
        self.penalty = penalty
        self.velocity = {}

    def step(self, model):
        """Update every parameter of ``model`` (a Sequential) in place from its grads.

        Each parameter takes one pass of :func:`pynncomp.kernels.sgd_step`
        (the C kernel, or its NumPy twin: the same bits), which computes the
        equation above; a penalty of another class than L1 and L2 is applied
        by :meth:`_step_generic`, the same equation in NumPy with its ``grad``.
        """
        if self.penalty is not None and model.grads_penalty is not None:
            raise ValueError(
                "penalty was given both to loss_and_grads and to SGD; give it to one of them "
                "so that its gradient is not added twice"
            )
        unchecked = kernels._unchecked()
        code = PENALTY_CODES.get(type(self.penalty), None)
        for index, layer, name in model.parameters():
            p = layer.params[name]
            g = layer.grads.get(name)
            if g is None:
                raise ValueError(f"layer {index} has no gradient for {name!r}; call loss_and_grads before step")
            penalised = self.penalty is not None and name in layer.prunable
            if penalised and code is None:
                self._step_generic(layer, name, p, g)
                continue
            v = None if self.momentum == 0.0 else self._velocity(layer, name, p)
            unchecked.sgd_step(p, v, c_array(g), layer.keep_factor(name), self.lr, self.momentum,
                               code if penalised else 0, self.penalty.lam if penalised else 0.0)

    def _step_generic(self, layer, name, p, g):
        """The step of the module's equation with any :class:`Penalty`'s ``grad``, in NumPy."""
        step = self.penalty.grad(p)
        step += g
        step *= self.lr
        factor = layer.keep_factor(name)
        if self.momentum == 0.0:
            if factor is not None:
                step *= factor
            p -= step
            return
        v = self._velocity(layer, name, p)
        v *= self.momentum
        v -= step
        if factor is not None:
            v *= factor
        p += v

    def _velocity(self, layer, name, p):
        v = self.velocity.get((layer, name))
        if v is None or v.shape != p.shape or v.dtype != p.dtype:
            v = np.zeros_like(p)
            self.velocity[(layer, name)] = v
        return v

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, penalty={self.penalty!r})"
