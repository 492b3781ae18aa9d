"""``han``: Han, Pool, Tran & Dally (2015), train → prune → retrain.

A layer's weights below q·σ_l are pruned, σ_l the standard deviation of
that layer's kept weights (docs/methods.md#q-sigma; section 3 of the paper),
the rule :func:`pynncomp.compress.han_prune` writes out for a given q.
Pruning the weights with |w| < q·σ_l in every layer is the same as
ranking all weights together by the *layer-normalised magnitude*

.. math:: s_k = |w_k| / \\sigma_{l(k)}

and pruning those below q (docs/methods.md#han-exact;
:func:`pynncomp.compress.layer_normalised_magnitude`, whose σ_l is
``han_prune``'s).  So this method hands that saliency to the exact engine:
each step reaches round((1 − S_i)·m) kept weights exactly, with the
per-layer thresholds of Han et al., and reports the q it implies (the
largest pruned s; per layer, ``q_layer``, when each layer has its own
target) and the kept fraction of each layer.

After the first step the learning rate drops to ``han_lr_factor``·lr (1/10
in the paper; a ``lr_decay`` counts again from every step, each retraining
being a new run of Caffe's solver) and the surviving weights are kept (no
re-initialisation);
after every step the dropout following a layer is rescaled as
D_r = D_o·sqrt(C_ir / C_io) (:func:`pynncomp.compress.rescaled_dropout`),
C the kept and initial connections of the dense layer whose outputs it
drops.  The net trains with the L2 penalty, which the paper finds best
with retraining.
"""
import math

from ..compress import layer_normalised_magnitude, rescaled_dropout
from ..nn import Dropout
from .base import Method


class Han(Method):
    name = "han"
    summary = "per-layer threshold q·σ, retraining at lr/10, dropout rescaled, L2 penalty"
    penalty = "l2"

    def __init__(self):
        # s of the step in progress: after_prune reads the q it implied
        self.step_saliency = None
        # D_o of each Dropout layer (by index): every step rescales from the original rate
        self.dropout_original = {}

    def saliency(self, model, context):
        self.step_saliency = layer_normalised_magnitude(model)
        return self.step_saliency

    def after_prune(self, model, context):
        # q implied by the step: the largest normalised magnitude pruned so far
        # by this step (the kept weights all lie at or above it).
        q_layer, kept = {}, {}
        for (index, name), s in self.step_saliency.items():
            mask = model.layers[index].masks[name]
            q_layer[f"{index}.{name}"] = _implied_q(s[~mask])
            kept[f"{index}.{name}"] = float(mask.mean())
        q = None if None in q_layer.values() else max(q_layer.values())
        context.notes.setdefault("steps", []).append(
            {"step": context.step, "q": q, "q_layer": q_layer, "kept_fraction": kept}
        )
        self.step_saliency = None
        # each retraining is a new run of the solver: 1/10 of the original
        # rate, its decay (if any) counted from this step
        context.lr_factor = context.protocol.han_lr_factor
        context.lr_restart_epoch = context.epoch
        self._rescale_dropout(model)

    def _rescale_dropout(self, model):
        last_weighted = None
        for index, layer in enumerate(model.layers):
            if isinstance(layer, Dropout) and last_weighted is not None:
                mask = last_weighted.masks.get("W")
                total = last_weighted.params["W"].size
                kept = total if mask is None else int(mask.sum())
                p_original = self.dropout_original.setdefault(index, layer.p)
                layer.p = rescaled_dropout(p_original, total, kept)
            elif "W" in layer.params:
                last_weighted = layer


def _implied_q(pruned_saliency):
    """The largest s pruned (0.0 if none).

    None when the step cut into a layer of σ_l = 0, whose s = +∞ no finite q
    reaches (an exact count can ask for that; the record stays valid JSON).
    """
    if not pruned_saliency.size:
        return 0.0
    q = float(pruned_saliency.max())
    return q if math.isfinite(q) else None
