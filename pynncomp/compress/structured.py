"""Structured pruning: whole hidden neurons and conv filters, and the smaller dense net they leave.

docs/methods.md#structured.  A *unit* is

* a hidden neuron j of a :class:`~pynncomp.nn.Dense` layer: column j of its
  W, which is (n_in, n_out), and its bias b_j;
* a filter f of a :class:`~pynncomp.nn.Conv2D` layer: W[f], (C, k_h, k_w),
  and its bias b_f.

Its output reaches the next weighted layer, the *consumer*, through

* row j of the next Dense layer's W (neuron → dense);
* input channel f of the next Conv2D, W'[:, f] (filter → conv);
* rows f·P … f·P + P − 1 of the dense layer after a Flatten (filter →
  flatten → dense), P = H·W the size of the feature map: Flatten reshapes
  the (B, C, H, W) batch channel-major, so feature (c, i, j) is column
  c·H·W + i·W + j.

ReLU, Dropout and MaxPool2D act on each unit's output on its own and may
stand in between: they have nothing to remove.  The units of the output
layer (the classes) are never removed, nor are those of a layer whose
consumer is a HashedDense or a SparseDense (:func:`unit_layers`).

Removing a unit takes one of two forms:

* **masks** (:func:`mask_units`, the engine :func:`prune_units`): its
  incoming and outgoing weights are masked, with the mask semantics of
  docs/methods.md#masks.  The net keeps its shape, trains on the masked
  path as any pruned net does, and the unit contributes exactly 0 to all
  that follows it; its bias stays but reaches nothing.
* **surgery** (:func:`remove_units`, :func:`compact`): its column (filter),
  its bias and its outgoing rows (input channel) are deleted.  The result
  is an ordinary smaller :class:`~pynncomp.nn.Sequential`, with no mask
  left but those of weights pruned one by one, which computes what the
  masked net computes, to rounding.

The criteria (lowest removed first, as everywhere in pynncomp) are
:func:`unit_norm` (L1 or L2 norm of the incoming weights),
:func:`mean_activation`, :func:`apoz` (average percentage of zeros),
:func:`taylor_saliency` (Molchanov et al. 2017) and
:func:`obd_unit_saliency` (OBD's ½·h·w² summed over the unit).  Each returns
``{layer_index: s}``, s float64 (n_units,), for the layers of
:func:`unit_layers`.
"""
import copy
import dataclasses
import math
import numbers

import numpy as np

from .._checks import check_input, check_positive_int, check_real
from ..nn import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential
from ..nn.loss import check_labels
from ..nn.obd import obd_hessian
from .prune import SCOPES, kept_count

KINDS = ("neuron", "filter")
# Layers that act on each unit's output on its own, so a unit can be followed through them.
_PASS_THROUGH = (ReLU, Dropout, MaxPool2D)


@dataclasses.dataclass(frozen=True)
class UnitLayer:
    """A layer whose units can be removed, and where their outputs go.

    Attributes
    ----------
    index : int
        The layer's position in ``model.layers`` (the *producer*).
    kind : {"neuron", "filter"}
        A Dense layer's neurons or a Conv2D layer's filters.
    n_units : int
        n_out or F.
    consumer : int
        The position of the next Dense or Conv2D layer, which reads the units.
    rows_per_unit : int or None
        For a Dense consumer, the rows of its W each unit feeds: 1 after a
        Dense producer, the feature-map size P = H·W after a Flatten.  None
        for a Conv2D consumer (one input channel per unit).
    activation : int
        The position of the layer whose output is the units' activation:
        the ReLU right after the producer, or the producer itself.
    relu : bool
        Whether a ReLU follows the producer directly.
    """

    index: int
    kind: str
    n_units: int
    consumer: int
    rows_per_unit: object
    activation: int
    relu: bool


def _check_model(model):
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a pynncomp Sequential, got {type(model).__name__}")


def _check_kind(kind):
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be None (every unit) or one of {KINDS}, got {kind!r}")
    return kind


def unit_layers(model, kind=None):
    """The layers of ``model`` whose units can be removed, in order.

    A Dense or Conv2D layer qualifies when its outputs reach another Dense
    or Conv2D layer through ReLU, Dropout, MaxPool2D and at most one
    Flatten only, with shapes that map each unit onto its own rows or
    channel of that consumer (module docstring).  The last weighted layer
    (the classes) never qualifies.

    Parameters
    ----------
    model : Sequential
    kind : None, "neuron" or "filter"
        None: both; "neuron": Dense producers only; "filter": Conv2D only.

    Returns
    -------
    list of UnitLayer
    """
    _check_model(model)
    kind = _check_kind(kind)
    layers = model.layers
    found = []
    for index, layer in enumerate(layers):
        if type(layer) not in (Dense, Conv2D):
            continue
        unit_kind = "neuron" if type(layer) is Dense else "filter"
        if kind is not None and unit_kind != kind:
            continue
        n_units = layer.n_out if unit_kind == "neuron" else layer.out_channels
        flattened, consumer = False, None
        for later in range(index + 1, len(layers)):
            if isinstance(layers[later], Flatten) and not flattened:
                flattened = True
            elif not isinstance(layers[later], _PASS_THROUGH):
                consumer = later
                break
        if consumer is None:
            continue
        target = layers[consumer]
        if type(target) is Dense:
            per_unit, rest = divmod(target.n_in, n_units)
            if rest or (per_unit != 1 and not flattened) or (unit_kind == "filter" and not flattened):
                continue
            rows_per_unit = per_unit
        elif type(target) is Conv2D and unit_kind == "filter" and not flattened and target.in_channels == n_units:
            rows_per_unit = None
        else:
            continue
        relu = index + 1 < len(layers) and isinstance(layers[index + 1], ReLU)
        found.append(UnitLayer(index, unit_kind, n_units, consumer, rows_per_unit, index + 1 if relu else index,
                               relu))
    return found


def _unit_layers_or_refuse(model, kind):
    found = unit_layers(model, kind)
    if not found:
        what = "units" if kind is None else f"{kind}s"
        raise ValueError(f"model has no {what} that can be removed (a Dense or Conv2D layer whose outputs reach "
                         "another Dense or Conv2D layer; the output layer's units are never removed)")
    return found


# ---- which units are removed ------------------------------------------------------

def _outgoing_kept(model, entry):
    """bool (n_units,): whether any outgoing weight of each unit is kept (unmasked)."""
    mask = model.layers[entry.consumer].masks.get("W")
    if mask is None:
        return np.ones(entry.n_units, dtype=bool)
    if entry.rows_per_unit is None:
        return mask.any(axis=(0, 2, 3))
    return mask.reshape(entry.n_units, -1).any(axis=1)


def masked_units(model, kind=None):
    """The units the masks have removed: those whose every outgoing weight is masked.

    Such a unit reaches nothing after it, so deleting it changes no output
    (:func:`compact`).  :func:`mask_units` also masks its incoming weights,
    so that they are not counted as kept.

    Parameters
    ----------
    model : Sequential
    kind : None, "neuron" or "filter"

    Returns
    -------
    dict
        ``{layer_index: removed}``, ``removed`` bool (n_units,), for every
        layer of :func:`unit_layers`.
    """
    return {entry.index: ~_outgoing_kept(model, entry) for entry in unit_layers(model, kind)}


def unit_report(model, kind=None):
    """Units and weights kept, per layer and over the model.

    Parameters
    ----------
    model : Sequential
    kind : None, "neuron" or "filter"
        Which units are counted.

    Returns
    -------
    dict
        ``units_total``, ``units_kept``, ``unit_sparsity`` (1 − kept/total
        over the units of :func:`unit_layers`), ``weights_total``,
        ``weights_kept`` and ``weight_sparsity`` (over every prunable
        weight of the model), and ``layers``:
        ``{layer_index: {"kind", "total", "kept"}}``.
    """
    removed = masked_units(model, kind)
    kinds = {entry.index: entry.kind for entry in unit_layers(model, kind)}
    layers = {index: {"kind": kinds[index], "total": int(r.size), "kept": int(r.size - r.sum())}
              for index, r in removed.items()}
    units_total = sum(entry["total"] for entry in layers.values())
    units_kept = sum(entry["kept"] for entry in layers.values())
    weights_total, weights_kept = model.n_weights, model.n_kept_weights
    return {"units_total": units_total, "units_kept": units_kept,
            "unit_sparsity": 1.0 - units_kept / units_total if units_total else 0.0,
            "weights_total": weights_total, "weights_kept": weights_kept,
            "weight_sparsity": 1.0 - weights_kept / weights_total if weights_total else 0.0,
            "layers": layers}


def _checked_units(model, units, argument):
    """``{layer_index: sorted unique int64 unit indices}`` from indices or bool masks, and ``{index: UnitLayer}``."""
    if not isinstance(units, dict):
        raise TypeError(f"{argument} must be a dict {{layer_index: unit indices}}, got {type(units).__name__}")
    by_index = {entry.index: entry for entry in unit_layers(model)}
    checked = {}
    for index, chosen in units.items():
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, numbers.Integral) or index not in by_index:
            raise ValueError(f"{argument} has the key {index!r}, which is no layer with removable units; "
                             f"accepted: {sorted(by_index)}")
        n_units = by_index[index].n_units
        chosen = np.asarray(chosen)
        if chosen.dtype == np.bool_:
            if chosen.shape != (n_units,):
                raise ValueError(f"{argument}[{index}] as a bool mask must have shape ({n_units},), "
                                 f"got {chosen.shape}")
            chosen = np.flatnonzero(chosen)
        elif chosen.size == 0:
            chosen = np.zeros(0, dtype=np.int64)
        elif chosen.ndim != 1 or chosen.dtype.kind not in "iu":
            raise TypeError(f"{argument}[{index}] must be a 1-D sequence of unit indices or a bool mask, "
                            f"got {chosen.dtype} of shape {chosen.shape}")
        chosen = chosen.astype(np.int64)
        if chosen.size and (chosen.min() < 0 or chosen.max() >= n_units):
            raise ValueError(f"{argument}[{index}] must hold unit indices in [0, {n_units}) (layer {index} has "
                             f"{n_units} units), got values in [{chosen.min()}, {chosen.max()}]")
        if np.unique(chosen).size != chosen.size:
            raise ValueError(f"{argument}[{index}] lists a unit more than once")
        checked[int(index)] = np.sort(chosen)
    return checked, by_index


def _refuse_emptying(argument, index, n_units):
    raise ValueError(f"{argument} would remove all {n_units} units of layer {index}; a layer keeps at least one "
                     "unit (the net's output would no longer depend on its input)")


# ---- removing units by masks ------------------------------------------------------

def mask_units(model, units):
    """Remove units by masks, in place: their incoming and outgoing weights are masked.

    Neuron j of a Dense layer loses column j of its W and row j (rows
    j·P … j·P + P − 1 after a Flatten) of the consumer's W; filter f of a
    Conv2D loses W[f] and the consumer's input channel f (or its rows
    f·P … f·P + P − 1).  The new masks are ANDed with those present, so a
    weight pruned before stays pruned and nothing is revived.  The bias is
    not a prunable parameter and stays; what the unit computes from it
    reaches nothing.

    Parameters
    ----------
    model : Sequential
    units : dict ``{layer_index: unit indices or bool (n_units,)}``
        Units to remove, for layers of :func:`unit_layers`; units removed
        before may be listed again.

    Returns
    -------
    dict
        :func:`unit_report` after the step.

    Raises
    ------
    ValueError
        An unknown layer index or unit index, a unit listed twice, or a
        layer that would lose every unit.
    """
    checked, by_index = _checked_units(model, units, "units")
    removed = masked_units(model)
    for index, chosen in checked.items():
        after = removed[index].copy()
        after[chosen] = True
        if after.all():
            _refuse_emptying("units", index, by_index[index].n_units)
    for index, chosen in checked.items():
        _install(model, by_index[index], chosen)
    return unit_report(model)


def _install(model, entry, chosen):
    """AND the masks of ``entry``'s producer and consumer with the removal of units ``chosen``."""
    producer, consumer = model.layers[entry.index], model.layers[entry.consumer]
    keep_in = np.ones(producer.params["W"].shape, dtype=bool) if "W" not in producer.masks \
        else producer.masks["W"].copy()
    if entry.kind == "neuron":
        keep_in[:, chosen] = False
    else:
        keep_in[chosen] = False
    producer.set_mask("W", keep_in)
    keep_out = np.ones(consumer.params["W"].shape, dtype=bool) if "W" not in consumer.masks \
        else consumer.masks["W"].copy()
    if entry.rows_per_unit is None:
        keep_out[:, chosen] = False
    else:
        keep_out[_rows(chosen, entry.rows_per_unit)] = False
    consumer.set_mask("W", keep_out)


def _rows(chosen, rows_per_unit):
    """The consumer rows of units ``chosen``: u·P + r for r < P, unit by unit (channel-major)."""
    return (chosen[:, None] * rows_per_unit + np.arange(rows_per_unit)).ravel()


# ---- the engine ------------------------------------------------------------------------

def prune_units(model, saliency, sparsity, scope="global", kind=None):
    """Remove the units of lowest saliency by masks, to exactly ``round((1 − S)·n)`` kept.

    The unit counterpart of :func:`pynncomp.compress.prune`
    (docs/methods.md#structured-engine): n is the number of units in the
    scope, all units of the layers of :func:`unit_layers` together
    (``scope="global"``) or each layer's own (``scope="layer"``), and

    .. math:: n_{kept} = \\operatorname{round}\\big((1 - S)\\, n\\big)

    units are kept.  Units are ranked by the key (saliency, position of the
    layer, unit index), ascending, units already removed first (−∞); the
    first ``n − n_kept`` are removed (:func:`mask_units`), so among equal
    saliencies the earlier layer, then the earlier unit, goes first, and a
    removed unit is never revived.  Every layer keeps at least one unit: in
    the global ranking each layer's kept unit that ranks last (the most
    salient, the last of equals) is given +∞, so that the exact count is
    still met whenever it is at least the number of layers; this changes
    the order only where a layer would otherwise lose every unit.

    Parameters
    ----------
    model : Sequential
    saliency : dict ``{layer_index: ndarray (n_units,)}``
        One entry per layer of ``unit_layers(model, kind)``, e.g. from
        :func:`unit_norm` or :func:`taylor_saliency`; NaN is refused.
    sparsity : float in [0, 1), or dict ``{layer_index: S_l}``
        S, the fraction of the scope's units removed after this step; a dict
        (with ``scope="layer"``) gives each layer its own S_l.
    scope : {"global", "layer"}
    kind : None, "neuron" or "filter"
        The units ranked; the others are left as they are.

    Returns
    -------
    dict
        :func:`unit_report` over ``kind``, with ``sparsity`` (S) and
        ``achieved_sparsity`` (its ``unit_sparsity``).

    Raises
    ------
    ValueError
        S outside [0, 1); an unknown scope or kind; a saliency missing,
        misshaped, NaN, or for a layer without removable units; an S that
        would keep more units than are kept now, that would empty a layer
        (scope "layer"), or that keeps fewer units than there are layers
        (scope "global").  A refused step changes nothing.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    kind = _check_kind(kind)
    entries = _unit_layers_or_refuse(model, kind)
    per_layer = isinstance(sparsity, dict)
    if per_layer:
        if scope != "layer":
            raise ValueError("a sparsity per layer (a dict) needs scope='layer'")
        sparsity = _checked_layer_sparsity(entries, sparsity)
    else:
        sparsity = check_real("sparsity", sparsity, 0.0, 1.0, high_open=True)
    saliencies = _checked_saliency(entries, saliency)
    removed = masked_units(model, kind)
    if scope == "global":
        groups = [(entries, sparsity)]
    else:
        groups = [([entry], sparsity[entry.index] if per_layer else sparsity) for entry in entries]
    to_remove = {}
    for group, group_sparsity in groups:
        to_remove.update(_rank_group(group, saliencies, removed, group_sparsity, scope))
    for entry in entries:
        if to_remove.get(entry.index) is not None and to_remove[entry.index].size:
            _install(model, entry, to_remove[entry.index])
    report = unit_report(model, kind)
    report["sparsity"] = None if per_layer else sparsity
    report["achieved_sparsity"] = report["unit_sparsity"]
    return report


def _checked_layer_sparsity(entries, sparsity):
    expected = {entry.index for entry in entries}
    if set(sparsity) != expected:
        raise ValueError(f"sparsity per layer must have exactly the keys {sorted(expected)} (the layers with "
                         f"removable units), got {sorted(sparsity, key=str)}")
    return {index: check_real(f"sparsity[{index}]", value, 0.0, 1.0, high_open=True)
            for index, value in sparsity.items()}


def _checked_saliency(entries, saliency):
    if not isinstance(saliency, dict):
        raise TypeError(f"saliency must be a dict {{layer_index: array (n_units,)}}, got {type(saliency).__name__}")
    expected = {entry.index for entry in entries}
    unknown = sorted(set(saliency) - expected, key=str)
    if unknown:
        raise ValueError(f"saliency has the keys {unknown}, which are no layers with removable units; "
                         f"accepted: {sorted(expected)}")
    checked = {}
    for entry in entries:
        if entry.index not in saliency:
            raise ValueError(f"saliency has no entry for layer {entry.index}")
        s = np.asarray(saliency[entry.index], dtype=np.float64)
        if s.shape != (entry.n_units,):
            raise ValueError(f"saliency[{entry.index}] must have shape ({entry.n_units},) (one per unit), "
                             f"got {s.shape}")
        if np.isnan(s).any():
            raise ValueError(f"saliency[{entry.index}] holds NaN; saliencies must be numbers")
        checked[entry.index] = s
    return checked


def _rank_group(group, saliencies, removed, sparsity, scope):
    """``{layer_index: units to remove now}`` for one scope group of unit layers."""
    n_total = sum(entry.n_units for entry in group)
    n_keep = kept_count(sparsity, n_total)
    n_kept_now = sum(int((~removed[entry.index]).sum()) for entry in group)
    where = "the model's units" if scope == "global" else f"the units of layer {group[0].index}"
    if n_keep > n_kept_now:
        raise ValueError(
            f"sparsity {sparsity!r} would keep {n_keep} of {n_total} of {where}, more than the {n_kept_now} kept "
            f"now (current sparsity {1 - n_kept_now / n_total:.6g}); removed units are never revived, so the "
            "target sparsity must not decrease")
    if n_keep < len(group):
        if scope == "layer":
            _refuse_emptying(f"sparsity {sparsity!r}", group[0].index, n_total)
        raise ValueError(f"sparsity {sparsity!r} would keep {n_keep} of {n_total} of {where}, fewer than the "
                         f"{len(group)} layers; every layer keeps at least one unit")
    scores = []
    for entry in group:
        score = np.where(removed[entry.index], -np.inf, saliencies[entry.index])
        if scope == "global":
            alive = np.flatnonzero(~removed[entry.index])
            if alive.size:
                # the layer's kept unit that ranks last (most salient, the last of equals) never goes
                score[alive[alive.size - 1 - np.argmax(score[alive][::-1])]] = np.inf
        scores.append(score)
    score = np.concatenate(scores)
    position = np.concatenate([np.full(entry.n_units, p) for p, entry in enumerate(group)])
    unit = np.concatenate([np.arange(entry.n_units) for entry in group])
    order = np.lexsort((unit, position, score))
    drop = np.zeros(n_total, dtype=bool)
    drop[order[:n_total - n_keep]] = True
    result, start = {}, 0
    for entry in group:
        newly = drop[start:start + entry.n_units] & ~removed[entry.index]
        start += entry.n_units
        result[entry.index] = np.flatnonzero(newly)
    return result


def check_unit_target(unit_counts, sparsity, scope):
    """Refuse a target S that no pruning step can reach: ValueError naming ``sparsity``.

    Parameters
    ----------
    unit_counts : dict ``{layer_index: n_units}``
    sparsity : float in [0, 1)
    scope : {"global", "layer"}
        "layer": every layer must keep ``round((1 − S)·n_l) >= 1``;
        "global": ``round((1 − S)·n) >=`` the number of layers.
    """
    sparsity = check_real("sparsity", sparsity, 0.0, 1.0, high_open=True)
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if scope == "layer":
        for index, n_units in unit_counts.items():
            if kept_count(sparsity, n_units) < 1:
                raise ValueError(f"sparsity {sparsity!r} would remove all {n_units} units of layer {index} "
                                 f"(round((1 - S)·{n_units}) = 0 with scope 'layer'); a layer keeps at least one "
                                 "unit: lower the sparsity or rank the units globally")
        return
    n_total = sum(unit_counts.values())
    if kept_count(sparsity, n_total) < len(unit_counts):
        raise ValueError(f"sparsity {sparsity!r} would keep {kept_count(sparsity, n_total)} of {n_total} units, "
                         f"fewer than the {len(unit_counts)} layers; every layer keeps at least one unit")


# ---- surgery --------------------------------------------------------------------------------

def remove_units(model, units, optimizer=None):
    """The smaller net without ``units``: columns (filters), biases and outgoing rows (channels) deleted.

    For each listed layer l, with K the kept units in increasing order
    (docs/methods.md#surgery):

    .. math::
        W_l \\leftarrow W_l[:, K], \\quad b_l \\leftarrow b_l[K], \\quad
        W_{l'} \\leftarrow W_{l'}[R(K), :]

    for a Dense layer l and its consumer l' (R(K) = K, or the rows
    k·P … k·P + P − 1 of every k in K after a Flatten, in order), and
    :math:`W_l \\leftarrow W_l[K]`, :math:`W_{l'} \\leftarrow W_{l'}[:, K]`
    for a Conv2D layer and a Conv2D consumer.  Masks are cut the same way;
    a mask left all True is dropped, so a weight pruned one by one stays
    masked and exactly 0.  Every other layer (ReLU, Dropout with its
    generator's state, MaxPool2D, Flatten, a layer with no removable
    units) is copied.  ``model`` is not changed.

    When the removed units are masked (:func:`masked_units`), the new net
    computes what ``model`` computes, to rounding: what is deleted
    contributed exact zeros (:func:`compact`).

    Parameters
    ----------
    model : Sequential
    units : dict ``{layer_index: unit indices or bool (n_units,)}``
        For layers of :func:`unit_layers`.
    optimizer : None or SGD
        When given, its velocities for ``model``'s parameters are cut the
        same way and moved to the new layers (the old entries dropped), so
        that training continues on the smaller net with the momentum of the
        units kept.

    Returns
    -------
    Sequential
        The new net, of the parameters' dtype; its layer positions are
        those of ``model``.

    Raises
    ------
    ValueError
        An unknown layer index or unit index, a unit listed twice, or every
        unit of a layer.
    """
    checked, by_index = _checked_units(model, units, "units")
    if optimizer is not None and not isinstance(getattr(optimizer, "velocity", None), dict):
        raise TypeError(f"optimizer must be None or an SGD (with a velocity dict), got {type(optimizer).__name__}")
    outputs, inputs = {}, {}
    for index, chosen in checked.items():
        entry = by_index[index]
        if chosen.size == entry.n_units:
            _refuse_emptying("units", index, entry.n_units)
        kept = np.setdiff1d(np.arange(entry.n_units), chosen)
        outputs[index] = kept
        inputs[entry.consumer] = kept if entry.rows_per_unit is None else _rows(kept, entry.rows_per_unit)
    new_layers = []
    moved = {}
    for index, layer in enumerate(model.layers):
        if type(layer) in (Dense, Conv2D):
            new = _cut(layer, inputs.get(index), outputs.get(index))
            cut = _cutter(layer, inputs.get(index), outputs.get(index))
        else:
            new = copy.deepcopy(layer)
            cut = {name: (lambda v: v.copy()) for name in layer.params}
        new_layers.append(new)
        moved[id(layer)] = (new, cut)
    if optimizer is not None:
        velocity = {}
        for (layer, name), v in optimizer.velocity.items():
            if id(layer) in moved and name in moved[id(layer)][1]:
                new, cut = moved[id(layer)]
                velocity[(new, name)] = cut[name](v)
            else:
                velocity[(layer, name)] = v
        optimizer.velocity = velocity
    return Sequential(new_layers)


def _cutter(layer, rows, cols):
    """``{name: function}`` cutting an array of each parameter's shape as :func:`_cut` cuts the parameter.

    ``rows`` are the kept inputs (Dense rows of W, Conv2D input channels),
    ``cols`` the kept outputs (Dense columns, Conv2D filters); None keeps all.
    """
    def cut_W(a):
        if type(layer) is Dense:
            a = a if rows is None else a[rows]
            return np.ascontiguousarray(a if cols is None else a[:, cols])
        a = a if cols is None else a[cols]
        return np.ascontiguousarray(a if rows is None else a[:, rows])

    def cut_b(a):
        return a.copy() if cols is None else a[cols]

    return {"W": cut_W, "b": cut_b}


def _cut(layer, rows, cols):
    """A new Dense or Conv2D holding ``layer``'s parameters and mask cut to the kept inputs and outputs."""
    cut = _cutter(layer, rows, cols)
    W, b = cut["W"](layer.params["W"]), cut["b"](layer.params["b"])
    if type(layer) is Dense:
        new = Dense(W.shape[0], W.shape[1], seed=0, dtype=W.dtype)
    else:
        new = Conv2D(W.shape[1], W.shape[0], layer.kernel_size, stride=layer.stride, padding=layer.padding, seed=0,
                     dtype=W.dtype)
    new.params["W"], new.params["b"] = W, b
    mask = layer.masks.get("W")
    if mask is not None:
        mask = cut["W"](mask)
        if not mask.all():
            new.set_mask("W", mask)
    return new


def compact(model, kind=None, optimizer=None):
    """The smaller dense net that computes what the masked ``model`` computes.

    :func:`remove_units` of the units :func:`masked_units` finds removed:
    every unit whose outgoing weights are all masked, which therefore
    contributes exact zeros.  The outputs of the two nets agree to the
    rounding of sums that skip those zeros.

    Parameters
    ----------
    model : Sequential
    kind : None, "neuron" or "filter"
        Which removed units are cut out (None: all).
    optimizer : None or SGD
        See :func:`remove_units`.

    Returns
    -------
    Sequential
    """
    removed = masked_units(model, kind)
    return remove_units(model, {index: np.flatnonzero(r) for index, r in removed.items()}, optimizer)


# ---- criteria -------------------------------------------------------------------------------------

def unit_norm(model, order=1, kind=None):
    """The L1 or L2 norm of each unit's incoming weights (Li et al. 2017).

    For neuron j of a Dense layer (W is (n_in, n_out): its incoming weights
    are column j) and filter f of a Conv2D layer (W[f], (C, k_h, k_w)):

    .. math::
        s_j = \\lVert (W \\odot M)_{:, j} \\rVert_p, \\qquad
        s_f = \\lVert (W \\odot M)_{f} \\rVert_p, \\qquad p \\in \\{1, 2\\}

    the bias left out, masked weights counted as 0.

    Parameters
    ----------
    model : Sequential
    order : {1, 2}
        p.
    kind : None, "neuron" or "filter"

    Returns
    -------
    dict
        ``{layer_index: s}``, s float64 (n_units,), for every layer of
        :func:`unit_layers`.
    """
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"order must be 1 (L1 norm) or 2 (L2 norm), got {order!r}")
    saliency = {}
    for entry in _unit_layers_or_refuse(model, kind):
        W = model.layers[entry.index].masked("W").astype(np.float64)
        per_unit = W.T if entry.kind == "neuron" else W.reshape(W.shape[0], -1)
        saliency[entry.index] = np.abs(per_unit).sum(axis=1) if order == 1 else np.sqrt((per_unit ** 2).sum(axis=1))
    return saliency


def _samples(X, y=None):
    X = check_input(X, None, name="X", contiguous=False)
    if X.shape[0] == 0:
        raise ValueError(f"X must hold at least one sample, got shape {X.shape}")
    if y is not None:
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) (one label per row of X), got {y.shape}")
    return X, y


def _per_unit(a, entry):
    """An activation (B, n_units) or (B, F, H, W) as (B, n_units, positions)."""
    return a.reshape(a.shape[0], entry.n_units, -1)


def _activation_statistics(model, X, kind, batch_size, what):
    """Σ_n Σ_p a, Σ_n Σ_p [a = 0] and N·P of every unit, a after its ReLU, in evaluation mode."""
    X, _ = _samples(X)
    batch_size = check_positive_int("batch_size", batch_size)
    entries = _unit_layers_or_refuse(model, kind)
    for entry in entries:
        if not entry.relu:
            raise ValueError(f"{what} reads each unit's output after its ReLU, and layer {entry.index} "
                             f"({type(model.layers[entry.index]).__name__}) has no ReLU after it")
    wanted = {entry.activation: entry for entry in entries}
    last = max(wanted)
    sums = {entry.index: np.zeros(entry.n_units) for entry in entries}
    zeros = {entry.index: np.zeros(entry.n_units) for entry in entries}
    count = {entry.index: 0 for entry in entries}
    for start in range(0, X.shape[0], batch_size):
        x = X[start:start + batch_size]
        for position, layer in enumerate(model.layers[:last + 1]):
            x, _ = layer.forward(x, train=False)
            entry = wanted.get(position)
            if entry is not None:
                a = _per_unit(x, entry)
                sums[entry.index] += a.sum(axis=(0, 2), dtype=np.float64)
                zeros[entry.index] += (a == 0).sum(axis=(0, 2))
                count[entry.index] += a.shape[0] * a.shape[2]
    return sums, zeros, count


def mean_activation(model, X, kind=None, batch_size=256):
    """Each unit's mean output after its ReLU over samples (and positions of a feature map).

    .. math:: s_j = \\frac{1}{N P} \\sum_{n=1}^{N} \\sum_{p=1}^{P} a_{n j p}

    a the unit's ReLU output in evaluation mode (dropout off), P = 1 for a
    neuron and H·W for a filter's feature map.  A unit that rarely fires
    passes little on (Molchanov et al. 2017 compare with it).

    Parameters
    ----------
    model : Sequential
    X : ndarray (N, ...) of the model's dtype, N >= 1
    kind : None, "neuron" or "filter"
    batch_size : int >= 1

    Returns
    -------
    dict
        ``{layer_index: s}``, s float64 (n_units,).

    Raises
    ------
    ValueError
        A layer of ``kind`` without a ReLU right after it (LeNet-5's
        convolutions have none).
    """
    sums, _, count = _activation_statistics(model, X, kind, batch_size, "mean_activation")
    return {index: sums[index] / count[index] for index in sums}


def apoz(model, X, kind=None, batch_size=256):
    """Average percentage of zeros of each unit's ReLU output (Hu et al. 2016).

    .. math:: \\mathrm{APoZ}_j = \\frac{1}{N P} \\sum_{n=1}^{N} \\sum_{p=1}^{P} [a_{n j p} = 0]

    as a fraction in [0, 1], a the unit's ReLU output in evaluation mode,
    P = 1 for a neuron and H·W for a filter.  A unit that is mostly zero is
    removed first, so the saliency ranked is ``1 − APoZ``.

    Parameters
    ----------
    model : Sequential
    X : ndarray (N, ...) of the model's dtype, N >= 1
    kind : None, "neuron" or "filter"
    batch_size : int >= 1

    Returns
    -------
    dict
        ``{layer_index: APoZ}``, float64 (n_units,) in [0, 1].

    Raises
    ------
    ValueError
        A layer of ``kind`` without a ReLU right after it.
    """
    _, zeros, count = _activation_statistics(model, X, kind, batch_size, "apoz")
    return {index: zeros[index] / count[index] for index in zeros}


def taylor_saliency(model, X, y, kind=None, batch_size=256, per_sample=True):
    """First-order Taylor estimate of the loss change when a unit is removed (Molchanov et al. 2017).

    Removing a unit sets its output a (after its ReLU, if any) to 0
    everywhere.  To first order the loss of sample n changes by
    :math:`-\\sum_p a_{njp}\\, \\partial \\ell_n / \\partial a_{njp}`, so
    (docs/methods.md#structured-taylor)

    .. math::
        t_{nj} = \\sum_{p=1}^{P} a_{n j p} \\frac{\\partial \\ell_n}{\\partial a_{n j p}}, \\qquad
        \\Theta_j = \\frac{1}{N} \\sum_{n=1}^{N} \\lvert t_{nj} \\rvert
        \\quad \\text{(per\\_sample)}, \\qquad
        \\Theta_j = \\Big\\lvert \\frac{1}{N} \\sum_{n=1}^{N} t_{nj} \\Big\\rvert \\quad \\text{(otherwise)}

    ℓ_n the cross-entropy of sample n, P = 1 for a neuron and H·W for a
    filter (a sum over the map: the change for zeroing all of it;
    Molchanov et al. average over the map instead, a constant factor per
    layer).  The first form is the paper's (each example's criterion,
    averaged over the examples): at a stationary point of the loss the
    mean of t vanishes, since :math:`\\sum_n t_{nj}/N` equals
    :math:`\\sum_k W'_{jk}\\, \\partial L / \\partial W'_{jk}` over the
    unit's outgoing weights, so the second form measures only how far from
    it training is, while the mean of :math:`\\lvert t \\rvert` keeps the
    spread of t.  Computed in evaluation mode, ``batch_size`` samples at a
    time; the layers' ``grads`` are overwritten.

    Parameters
    ----------
    model : Sequential
    X : ndarray (N, ...) of the model's dtype, N >= 1
    y : integer ndarray (N,)
    kind : None, "neuron" or "filter"
    batch_size : int >= 1
    per_sample : bool
        The paper's mean of |t| (True) or |mean of t| (False).

    Returns
    -------
    dict
        ``{layer_index: Θ}``, float64 (n_units,), >= 0.
    """
    X, y = _samples(X, y)
    if y is None:
        raise ValueError("y must be the labels of X, got None")
    batch_size = check_positive_int("batch_size", batch_size)
    entries = _unit_layers_or_refuse(model, kind)
    wanted = {entry.activation: entry for entry in entries}
    first = min(wanted)
    totals = {entry.index: np.zeros(entry.n_units) for entry in entries}
    layers = model.layers
    n_samples = X.shape[0]
    for start in range(0, n_samples, batch_size):
        x, y_batch = X[start:start + batch_size], y[start:start + batch_size]
        B = x.shape[0]
        outputs, caches = {}, []
        for position, layer in enumerate(layers):
            x, cache = layer.forward(x, train=False)
            caches.append(cache)
            if position in wanted:
                outputs[position] = x
        check_labels(y_batch, B, x.shape[1])
        _, loss_cache = model.loss_layer.forward(x, y_batch)
        d = model.loss_layer.backward(loss_cache)
        for position in range(len(layers) - 1, first, -1):
            d = layers[position].backward(d, caches[position])
            entry = wanted.get(position - 1)
            if entry is not None:
                # d is ∂L/∂a of the batch mean L = Σ ℓ_n / B: B·a·d is sample n's a·∂ℓ_n/∂a
                t = B * (_per_unit(outputs[position - 1], entry).astype(np.float64)
                         * _per_unit(d, entry)).sum(axis=2)
                totals[entry.index] += np.abs(t).sum(axis=0) if per_sample else t.sum(axis=0)
    return {index: total / n_samples if per_sample else np.abs(total / n_samples)
            for index, total in totals.items()}


def obd_unit_saliency(model, X=None, y=None, kind=None, batch_size=256, hessian=None):
    """Optimal Brain Damage's saliency summed over a unit's incoming weights and bias.

    .. math::
        s_j = \\sum_i \\tfrac{1}{2}\\, h_{W, ij}\\, W_{ij}^2 + \\tfrac{1}{2}\\, h_{b, j}\\, b_j^2

    (over column j of a Dense W, or over W[f] of a filter), h OBD's
    diagonal second derivative (:func:`pynncomp.nn.obd_hessian`;
    docs/methods.md#obd-saliency).  Setting these weights and the bias to
    0 makes the unit's pre-activation 0, so its output after a ReLU is 0:
    the unit is removed.  s is the diagonal quadratic model's estimate of
    that, which drops the cross terms :math:`h_{ik} w_i w_k` between the
    weights of one unit (large: they all act through one pre-activation).

    Parameters
    ----------
    model : Sequential
    X, y : the samples h is averaged over; not needed when ``hessian`` is given.
    kind : None, "neuron" or "filter"
    batch_size : int >= 1
    hessian : dict, optional
        A result of :func:`pynncomp.nn.obd_hessian` to reuse.

    Returns
    -------
    dict
        ``{layer_index: s}``, float64 (n_units,), >= 0.
    """
    entries = _unit_layers_or_refuse(model, kind)
    if hessian is None:
        if X is None or y is None:
            raise ValueError("give X and y (the samples h is averaged over), or a precomputed hessian")
        hessian = obd_hessian(model, X, y, batch_size)
    saliency = {}
    for entry in entries:
        layer = model.layers[entry.index]
        for name in ("W", "b"):
            if (entry.index, name) not in hessian or hessian[(entry.index, name)].shape != layer.params[name].shape:
                raise ValueError(f"hessian must hold h of layer {entry.index}'s {name!r}, of shape "
                                 f"{layer.params[name].shape}")
        W = layer.masked("W").astype(np.float64)
        b = layer.params["b"].astype(np.float64)
        per_weight = 0.5 * hessian[(entry.index, "W")] * W * W
        per_unit = per_weight.sum(axis=0) if entry.kind == "neuron" else per_weight.reshape(W.shape[0], -1).sum(axis=1)
        saliency[entry.index] = per_unit + 0.5 * hessian[(entry.index, "b")] * b * b
    return saliency


def layer_normalised(saliency, removed=None):
    """Each layer's saliency divided by its L2 norm over the units kept (Molchanov et al. 2017).

    .. math:: \\hat s_j = \\frac{s_j}{\\sqrt{\\sum_{k \\in K_l} s_k^2}}

    K_l the units of j's layer still kept.  A global ranking then compares
    units of layers whose criteria live on other scales (the L1 norm of
    784 weights against that of 300); within a layer the order is
    unchanged, so a per-layer ranking is not affected.  A layer whose kept
    saliencies are all 0 is left as it is.

    Parameters
    ----------
    saliency : dict ``{layer_index: ndarray (n_units,)}``
    removed : None or dict ``{layer_index: bool (n_units,)}``
        Units left out of the norm (:func:`masked_units`).

    Returns
    -------
    dict
        ``{layer_index: ŝ}``, float64.
    """
    normalised = {}
    for index, s in saliency.items():
        s = np.asarray(s, dtype=np.float64)
        kept = s if removed is None or index not in removed else s[~removed[index]]
        norm = math.sqrt(float(np.sum(kept * kept)))
        normalised[index] = s / norm if norm > 0 else s.copy()
    return normalised


__all__ = ["KINDS", "UnitLayer", "unit_layers", "masked_units", "unit_report", "mask_units", "prune_units",
           "check_unit_target", "remove_units", "compact", "unit_norm", "mean_activation", "apoz",
           "taylor_saliency", "obd_unit_saliency", "layer_normalised"]
