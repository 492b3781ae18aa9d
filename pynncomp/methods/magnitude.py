"""``magl1`` and ``magl2``: magnitude pruning with an L1 or L2 penalty.

docs/methods.md#pruning (Han et al. 2015; the comparative study's MagL1/MagL2).
The saliency of a weight is its magnitude,

.. math:: s_k = |w_k|,

and the net trains with the penalty λ·Σ|w| (MagL1, subgradient λ·sign(w))
or (λ/2)·Σw² (MagL2, gradient λ·w) on the weights, never on the biases.
The L1 penalty pushes many weights to (near) zero, which is why it is the
better choice when no retraining follows a pruning step (Han et al. 2015,
Fig. 5).
"""
from ..compress import magnitude_saliency
from .base import Method


class MagL1(Method):
    name = "magl1"
    summary = "magnitude saliency |w|, L1 penalty, iterative pruning"
    penalty = "l1"

    def saliency(self, model, context):
        return magnitude_saliency(model)


class MagL2(Method):
    name = "magl2"
    summary = "magnitude saliency |w|, L2 penalty, iterative pruning"
    penalty = "l2"

    def saliency(self, model, context):
        return magnitude_saliency(model)
