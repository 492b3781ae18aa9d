"""``obd``: Optimal Brain Damage (LeCun, Denker & Solla 1989).

The saliency of a weight is the loss increase a diagonal quadratic model
predicts for setting it to 0 (docs/methods.md#obd-saliency):

.. math:: s_k = \\tfrac12\\, h_{kk}\\, w_k^2,

h the diagonal second derivative of the training loss, from the second
backward pass of :func:`pynncomp.nn.obd_hessian`.  h is recomputed at every
pruning step, on ``protocol.obd_samples`` training images drawn once per
run (the same subsample at every step, so that steps differ only by the
weights).  The net trains with the L2 penalty, as MagL2 does, so that OBD
and MagL2 differ only in the saliency.
"""
from ..nn.obd import obd_saliency
from .base import Method


class OBD(Method):
    name = "obd"
    summary = "saliency h·w²/2 from the OBD curvature pass, recomputed at each step, L2 penalty"
    penalty = "l2"

    def __init__(self):
        # drawn at the first step and kept, so that later steps differ only by the weights
        self.rows = None

    def saliency(self, model, context):
        if self.rows is None:
            n = context.X_train.shape[0]
            size = min(context.protocol.obd_samples, n)
            context.notes["obd_subsample"] = size
            self.rows = context.rng.choice(n, size=size, replace=False)
        return obd_saliency(model, context.X_train[self.rows], context.y_train[self.rows])
