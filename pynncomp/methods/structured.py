"""Structured pruning: ``neurons-*`` and ``filters-*`` remove whole hidden units and conv filters.

docs/methods.md#structured.  ``--sparsity`` S is the fraction of the
*units* removed: of the hidden neurons of an MLP or LeNet-300-100
(``neurons-*``), of LeNet-5's convolution filters (``filters-*``), never of
the output layer.  Each pruning step removes the units of lowest saliency
until exactly round((1 − S_i)·n) are kept (:func:`pynncomp.compress.prune_units`),
on the common schedule and timetable; the criteria
(:mod:`pynncomp.compress.structured`):

====================  ==========================================  ===============
method                saliency of a unit (lowest removed first)   default scope
====================  ==========================================  ===============
``neurons-l1``        L1 norm of its incoming weights             layer
``neurons-l2``        L2 norm of its incoming weights             layer
``neurons-mean``      mean ReLU output                            layer
``neurons-apoz``      1 − APoZ (fraction of zero ReLU outputs)    layer
``neurons-taylor``    first-order Taylor, Molchanov et al. 2017   global
``filters-l1``        L1 norm of the filter (Li et al. 2017)      layer
``filters-l2``        L2 norm of the filter                       layer
``filters-taylor``    first-order Taylor, Molchanov et al. 2017   global
====================  ==========================================  ===============

Before ranking, each layer's saliencies are divided by their L2 norm over
the layer's kept units (:func:`pynncomp.compress.layer_normalised`,
Molchanov et al.'s rule), so that ``--scope global`` compares layers whose
criteria live on other scales; a per-layer ranking is unchanged by it.

The Taylor criterion is the first-order one, the mean over samples of
:math:`\\lvert \\sum_p a\\, \\partial \\ell / \\partial a \\rvert`, rather than
OBD's ½·h·w² summed over the unit (also in
:func:`pynncomp.compress.obd_unit_saliency`): it estimates the change of
the loss when the unit's output is set to 0, which is exactly what the
surgery does, from the activations, so one formula serves a neuron and a
filter; OBD's diagonal drops the cross terms between the weights of a
unit, which all act through one pre-activation and are strongly
correlated.  LeNet-5's convolutions have no ReLU, so APoZ and the mean
activation have no meaning for its filters and are offered for neurons
only.

**Masks during training, surgery at the end.**  A step removes units by
masks (incoming and outgoing weights masked, docs/methods.md#masks), so the
net keeps its shape while it trains: the masked path of every layer, the
optimiser (a masked weight's velocity is zeroed at each step), the
best-epoch snapshots, the shared pre-training and OBD's curvature all work
unchanged, and no velocity is left pointing at a deleted row.  At the end
of the run :meth:`StructuredPruning.finish` cuts the removed units out
(:func:`pynncomp.compress.compact`): the run returns, and saves, the
smaller dense net, which computes what the masked net computed.  The
record's counts are those of the smaller net; ``weights_total`` stays the
architecture's, ``achieved_sparsity`` is the fraction of units removed, and
``weight_sparsity`` and ``units`` say how many weights and which units went.

Every method trains with the L2 penalty, as MagL2 and OBD do.
"""
from .. import models
from .._checks import check_positive_int
from ..compress import (
    apoz,
    check_unit_target,
    compact,
    layer_normalised,
    masked_units,
    mean_activation,
    prune_units,
    taylor_saliency,
    unit_layers,
    unit_norm,
    unit_report,
)
from .base import Method

# Training images the activation criteria (mean, APoZ, Taylor) are measured on, drawn once per run.
UNIT_SAMPLES = 2000
NEURON_ARCHS = ("mlp", "lenet300")
FILTER_ARCHS = ("lenet5",)


class StructuredPruning(Method):
    """Remove whole units on the common schedule; the run returns the smaller dense net.

    Parameters
    ----------
    samples : int >= 1
        Training images the activation criteria are measured on (at most the
        training set); default :data:`UNIT_SAMPLES`.
    """

    penalty = "l2"
    default_scope = "layer"
    kind = "neuron"
    removes = "neurons"
    what = "the hidden neurons of an MLP"
    archs = NEURON_ARCHS

    def __init__(self, samples=UNIT_SAMPLES):
        self.samples = check_positive_int("samples", samples)
        # drawn at the first step and kept, so that later steps differ only by the weights
        self.rows = None
        # {layer_index: n_units} of the architecture, from check()
        self.unit_counts = None

    def check(self, arch, hidden, sparsity):
        if arch not in self.archs:
            other = "a filters-* method for LeNet-5's conv filters" if self.kind == "neuron" else \
                "a neurons-* method for hidden neurons"
            raise ValueError(f"method {self.name!r} removes {self.what}: use arch "
                             f"{' or '.join(repr(a) for a in self.archs)}, not {arch!r} ({other})")
        self.unit_counts = {entry.index: entry.n_units
                            for entry in unit_layers(models.build(arch, hidden), self.kind)}

    def schedule(self, sparsity, protocol):
        targets = super().schedule(sparsity, protocol)
        if self.unit_counts is not None and targets:
            # the last target is the highest: refuse it before any training
            check_unit_target(self.unit_counts, targets[-1], self.scope(protocol))
        return targets

    def unit_saliency(self, model, context):
        """``{layer_index: s (n_units,)}``, lowest removed first."""
        raise NotImplementedError

    def subsample(self, context):
        """The training images (and labels) the criteria are measured on, drawn once per run."""
        if self.rows is None:
            n = context.X_train.shape[0]
            size = min(self.samples, n)
            context.notes["unit_samples"] = size
            self.rows = context.rng.choice(n, size=size, replace=False)
        return context.X_train[self.rows], context.y_train[self.rows]

    def prune_step(self, model, sparsity, scope, context):
        if isinstance(sparsity, dict):
            raise ValueError(f"method {self.name!r} takes one target S for the {self.removes}, not one per weight "
                             "parameter")
        removed = masked_units(model, self.kind)
        saliency = layer_normalised(self.unit_saliency(model, context), removed)
        report = prune_units(model, saliency, sparsity, scope, self.kind)
        context.notes.setdefault("steps", []).append(
            {"step": context.step, "units_kept": {str(i): entry["kept"] for i, entry in report["layers"].items()},
             "weight_sparsity": report["weight_sparsity"]})
        return report

    def achieved_sparsity(self, model):
        """The fraction of the units removed (masked) in the trained ``model``."""
        return unit_report(model, self.kind)["unit_sparsity"]

    def finish(self, model, record, context):
        """The smaller dense net, and the record with its counts and the units removed."""
        report = unit_report(model, self.kind)
        small = compact(model, self.kind)
        weights_kept = small.n_kept_weights
        record = dict(record)
        record.update(
            weights_kept=weights_kept, biases=small.n_biases, parameters=weights_kept + small.n_biases,
            weight_sparsity=1.0 - weights_kept / record["weights_total"],
            units={"kind": self.kind, "total": report["units_total"], "kept": report["units_kept"],
                   "removed": report["units_total"] - report["units_kept"],
                   "layers": {str(i): {"total": e["total"], "kept": e["kept"]} for i, e in report["layers"].items()}},
        )
        return small, record


class _NormCriterion(StructuredPruning):
    order = 1

    def unit_saliency(self, model, context):
        return unit_norm(model, self.order, self.kind)


class _TaylorCriterion(StructuredPruning):
    default_scope = "global"

    def unit_saliency(self, model, context):
        X, y = self.subsample(context)
        return taylor_saliency(model, X, y, self.kind)


class NeuronsL1(_NormCriterion):
    name = "neurons-l1"
    summary = "hidden neurons by the L1 norm of their incoming weights; the smaller dense net is returned"


class NeuronsL2(_NormCriterion):
    name = "neurons-l2"
    summary = "hidden neurons by the L2 norm of their incoming weights; the smaller dense net is returned"
    order = 2


class NeuronsMean(StructuredPruning):
    name = "neurons-mean"
    summary = "hidden neurons by their mean ReLU output; the smaller dense net is returned"

    def unit_saliency(self, model, context):
        X, _ = self.subsample(context)
        return mean_activation(model, X, self.kind)


class NeuronsAPoZ(StructuredPruning):
    name = "neurons-apoz"
    summary = "hidden neurons by 1 − APoZ (Hu et al. 2016); the smaller dense net is returned"

    def unit_saliency(self, model, context):
        X, _ = self.subsample(context)
        return {index: 1.0 - zeros for index, zeros in apoz(model, X, self.kind).items()}


class NeuronsTaylor(_TaylorCriterion):
    name = "neurons-taylor"
    summary = "hidden neurons by first-order Taylor (Molchanov et al. 2017), global; the smaller dense net returned"


class FiltersL1(_NormCriterion):
    name = "filters-l1"
    summary = "LeNet-5's conv filters by the L1 norm of their weights (Li et al. 2017); the smaller net is returned"
    kind = "filter"
    removes = "filters"
    what = "LeNet-5's conv filters"
    archs = FILTER_ARCHS


class FiltersL2(_NormCriterion):
    name = "filters-l2"
    summary = "LeNet-5's conv filters by the L2 norm of their weights; the smaller net is returned"
    kind = "filter"
    removes = "filters"
    what = "LeNet-5's conv filters"
    archs = FILTER_ARCHS
    order = 2


class FiltersTaylor(_TaylorCriterion):
    name = "filters-taylor"
    summary = "LeNet-5's conv filters by first-order Taylor (Molchanov et al. 2017), global; the smaller net returned"
    kind = "filter"
    removes = "filters"
    what = "LeNet-5's conv filters"
    archs = FILTER_ARCHS


STRUCTURED = (NeuronsL1, NeuronsL2, NeuronsMean, NeuronsAPoZ, NeuronsTaylor, FiltersL1, FiltersL2, FiltersTaylor)
