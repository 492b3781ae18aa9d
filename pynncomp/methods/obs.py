"""``obs`` and ``lobs``: Optimal Brain Surgeon, over the whole net and layer by layer.

OBS (Hassibi & Stork 1993) removes the weight whose removal costs least,

.. math:: L_q = \\frac{w_q^2}{2\\,[H^{-1}]_{qq}},

and moves the remaining weights by :math:`\\delta w = -(w_q / [H^{-1}]_{qq})\\, H^{-1} e_q`
to make up for it (docs/methods.md#obs).  Unlike the other methods a step
changes the weights it keeps, so these methods override
:meth:`~pynncomp.methods.Method.prune_step`: the engine still decides how
many weights go (the exact sparsity, the scope), and the kept weights then
move.

* ``obs``: H is the Gauss–Newton Hessian of the training loss over every
  kept weight of the net (:func:`pynncomp.compress.obs_prune`); only for
  nets of at most :data:`~pynncomp.compress.OBS_MAX_WEIGHTS` weights.
* ``lobs``: each layer on its own, H the Hessian XᵀX/n of the error with
  which the layer reproduces its outputs (Dong et al. 2017; OBC), for any
  net of Dense and Conv2D layers (:func:`pynncomp.compress.lobs_prune`).

H is measured at every pruning step, with the current weights and masks,
on a subsample of the training images drawn once per run (like OBD's).
Both train with the L2 penalty, as MagL2 and OBD do.
"""
from .. import models
from .._checks import check_positive_int
from ..compress import OBS_MAX_WEIGHTS, lobs_prune, obs_prune
from ..compress.lobs import LOBS_DAMPING
from ..compress.obs import OBS_DAMPING, check_damping
from .base import Method

# Samples H is averaged over.  Whole-net OBS backpropagates 10 gradients
# per image into an H⁻¹ of m² entries, so it takes fewer.
OBS_SAMPLES = 500
LOBS_SAMPLES = 1000


class _Surgeon(Method):
    """What ``obs`` and ``lobs`` share: the subsample, the damping, the notes."""

    penalty = "l2"
    damping_optional = False

    def __init__(self, samples, damping):
        self.samples = check_positive_int("samples", samples)
        self.damping = check_damping(damping, optional=self.damping_optional)
        # drawn at the first step and kept, so that later steps differ only by the weights
        self.rows = None

    def subsample(self, context):
        """The training images H is measured on; their number goes in ``notes["<name>_subsample"]``."""
        if self.rows is None:
            n = context.X_train.shape[0]
            size = min(self.samples, n)
            context.notes[f"{self.name}_subsample"] = size
            self.rows = context.rng.choice(n, size=size, replace=False)
        return context.X_train[self.rows]


class OBS(_Surgeon):
    """Whole-net OBS.

    Parameters
    ----------
    samples : int >= 1
        Training images the Gauss–Newton Hessian is averaged over; default
        :data:`OBS_SAMPLES`.
    damping : float > 0
        λ of H + λ·mean(diag H)·I; default
        :data:`~pynncomp.compress.obs.OBS_DAMPING`.
    """

    name = "obs"
    summary = "Optimal Brain Surgeon over the whole net: Gauss-Newton H⁻¹, compensating update, L2 penalty"

    def __init__(self, samples=OBS_SAMPLES, damping=OBS_DAMPING):
        super().__init__(samples, damping)

    def check(self, arch, hidden, sparsity):
        n_weights = models.build(arch, hidden).n_weights
        if n_weights > OBS_MAX_WEIGHTS:
            raise ValueError(
                f"method 'obs' inverts the Hessian of all the weights, at most {OBS_MAX_WEIGHTS} of them: arch "
                f"{arch!r} ({models.describe(arch, hidden)}) has {n_weights}; use method 'lobs' (OBS layer by "
                "layer) or fewer hidden units"
            )

    def prune_step(self, model, sparsity, scope, context):
        report = obs_prune(model, self.subsample(context), sparsity, scope, self.damping)
        context.notes.setdefault("steps", []).append(
            {"step": context.step, "predicted_loss_increase": report["predicted_increase"]})
        return report


class LOBS(_Surgeon):
    """Layer-wise OBS.

    Parameters
    ----------
    samples : int >= 1
        Training images the layers' inputs are taken on; default
        :data:`LOBS_SAMPLES`.
    damping : float > 0 or None
        λ of H + λ·mean(diag H)·I, default
        :data:`~pynncomp.compress.lobs.LOBS_DAMPING`; None: no damping (a
        singular H is refused).
    """

    name = "lobs"
    summary = "OBS layer by layer (L-OBS, OBC): each unit pruned against its layer's inputs, L2 penalty"
    damping_optional = True

    def __init__(self, samples=LOBS_SAMPLES, damping=LOBS_DAMPING):
        super().__init__(samples, damping)

    def prune_step(self, model, sparsity, scope, context):
        report = lobs_prune(model, self.subsample(context), sparsity, scope, self.damping)
        context.notes.setdefault("steps", []).append(
            {"step": context.step, "reconstruction_increase": {
                f"{index}.{name}": error for (index, name), error in report["predicted_increase"].items()}})
        return report
