"""``han``: Han, Pool, Tran & Dally (2015), train → prune → retrain.

A layer's weights below q·σ_l are pruned, σ_l the standard deviation of
that layer's kept weights (docs/methods.md#q-sigma; section 3 of the paper).
Pruning the weights with |w| < q·σ_l in every layer is the same as
ranking all weights together by the *layer-normalised magnitude*

.. math:: s_k = |w_k| / \\sigma_{l(k)}

and pruning those below q.  So this method hands that saliency to the
exact engine: each step reaches round((1 − S_i)·m) kept weights exactly,
with the per-layer thresholds of Han et al., and reports the q it implies
(the largest pruned s; per layer, ``q_layer``, when each layer has its own
target) and the kept fraction of each layer.
:func:`pynncomp.compress.han_prune` applies a given q directly.

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
import numpy as np

from ..compress import rescaled_dropout
from ..nn import Dropout
from .base import Method


def layer_normalised_magnitude(model):
    """``{(layer_index, name): |w| / σ_l}``, σ_l the std of the layer's kept weights."""
    saliency = {}
    for index, layer, name in model.parameters(prunable_only=True):
        w = layer.params[name].astype(np.float64)
        mask = layer.masks.get(name)
        kept = w if mask is None else w[mask]
        sigma = float(np.std(kept)) if kept.size else 0.0
        saliency[(index, name)] = np.abs(w) / sigma if sigma > 0 else np.zeros_like(w)
    return saliency


class Han(Method):
    name = "han"
    summary = "per-layer threshold q·σ, retraining at lr/10, dropout rescaled, L2 penalty"
    penalty = "l2"

    def saliency(self, model, context):
        saliency = layer_normalised_magnitude(model)
        context.notes["_saliency"] = saliency
        return saliency

    def after_prune(self, model, context):
        # q implied by the step: the largest normalised magnitude pruned so far
        # by this step (the kept weights all lie at or above it).
        saliency = context.notes.pop("_saliency")
        q_layer, kept = {}, {}
        for (index, name), s in saliency.items():
            mask = model.layers[index].masks.get(name)
            pruned = s[~mask] if mask is not None else s[:0]
            q_layer[f"{index}.{name}"] = float(pruned.max()) if pruned.size else 0.0
            kept[f"{index}.{name}"] = float(mask.mean()) if mask is not None else 1.0
        context.notes.setdefault("steps", []).append(
            {"step": context.step, "q": max(q_layer.values()), "q_layer": q_layer, "kept_fraction": kept}
        )
        # each retraining is a new run of the solver: 1/10 of the original
        # rate, its decay (if any) counted from this step
        context.lr_factor = context.protocol.han_lr_factor
        context.lr_restart_epoch = context.epoch
        self._rescale_dropout(model, context)

    @staticmethod
    def _rescale_dropout(model, context):
        original = context.notes.setdefault("_dropout_original", {})
        last_weighted = None
        for layer in model.layers:
            if isinstance(layer, Dropout) and last_weighted is not None:
                mask = last_weighted.masks.get("W")
                total = last_weighted.params["W"].size
                kept = total if mask is None else int(mask.sum())
                p_original = original.setdefault(id(layer), layer.p)
                layer.p = rescaled_dropout(p_original, total, kept)
            elif "W" in layer.params:
                last_weighted = layer
