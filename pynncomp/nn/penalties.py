"""Weight penalties of magnitude pruning (Han et al. 2015; docs/methods.md#penalties).

MagL1 trains with the L1 penalty and MagL2 with the L2 penalty, on the
*weights* only: the ``prunable`` parameters of each layer, never biases,
and never pruned entries (their mask zeroes the penalty's gradient).
"""
import numpy as np

from .._checks import check_real


class Penalty:
    """A penalty R(w) summed over the prunable parameters of a model.

    Subclasses give ``value(w)`` and ``grad(w)`` for one array.
    """

    def __init__(self, lam):
        self.lam = check_real("lam", lam, 0.0, None)

    def value(self, w):
        raise NotImplementedError

    def grad(self, w):
        raise NotImplementedError

    def total(self, model):
        """Σ over the model's prunable parameters of ``value(w ⊙ M)``."""
        return sum(self.value(layer.masked(name))
                   for _, layer, name in model.parameters(prunable_only=True))

    def __repr__(self):
        return f"{type(self).__name__}(lam={self.lam})"


class L1(Penalty):
    """L1 penalty and its subgradient (sign(0) = 0):

    .. math:: R(w) = \\lambda \\sum_k |w_k|, \\qquad
              \\frac{\\partial R}{\\partial w_k} = \\lambda\\, \\mathrm{sign}(w_k)

    Parameters
    ----------
    lam : float >= 0
    """

    def value(self, w):
        return self.lam * float(abs(w).sum())

    def grad(self, w):
        return self.lam * np.sign(w)


class L2(Penalty):
    """L2 penalty (weight decay) and its gradient:

    .. math:: R(w) = \\frac{\\lambda}{2} \\sum_k w_k^2, \\qquad
              \\frac{\\partial R}{\\partial w_k} = \\lambda\\, w_k

    Parameters
    ----------
    lam : float >= 0
    """

    def value(self, w):
        return 0.5 * self.lam * float((w * w).sum())

    def grad(self, w):
        return self.lam * w
