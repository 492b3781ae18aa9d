"""The exact pruning engine: saliencies, keep-masks, Han et al.'s threshold.

docs/methods.md#pruning.  A pruning step at sparsity S keeps exactly

.. math:: n_{kept} = \\operatorname{round}\\big((1 - S)\\, m\\big)

weights (:func:`kept_count`), m the number of prunable weights in the scope:
all prunable parameters of the model together (``scope="global"``, the
comparative study's default) or each parameter on its own (``scope="layer"``).
The weights of lowest saliency go first.

**Order of pruning** (the tie rule).  Weights are ranked by the key
(saliency, position of the parameter in ``model.parameters(prunable_only=True)``,
row-major flat index), ascending, with the weights already pruned given
saliency −∞; the first ``m − n_kept`` of that order are pruned.  So among
equal saliencies the earlier layer, then the earlier entry, is pruned first,
and a pruned weight is never revived (docs/methods.md#pruning).
"""
import numpy as np

from .._checks import check_real
from ..nn.obd import obd_saliency

SCOPES = ("global", "layer")


def kept_count(sparsity, n_weights):
    """``round((1 − S)·m)``: the weights a step at sparsity S keeps out of m.

    Python's ``round`` (half to even) of the float product; every part of
    pynncomp that needs this count calls this function, so they agree.
    """
    return int(round((1.0 - sparsity) * n_weights))


def _prunable(model):
    entries = list(model.parameters(prunable_only=True))
    if not entries:
        raise ValueError("model has no prunable parameters (Dense, Conv2D, HashedDense or SparseDense weights)")
    return entries


def _keep_mask(layer, name):
    mask = layer.masks.get(name)
    return np.ones(layer.params[name].shape, dtype=bool) if mask is None else mask


# ---- saliencies ------------------------------------------------------------

def magnitude_saliency(model):
    """``s = |w|`` of every prunable parameter (MagL1/MagL2, docs/methods.md#pruning).

    Returns
    -------
    dict
        ``{(layer_index, name): s}``, s float64 of the weight's shape
        (pruned weights have s = 0).
    """
    return {(index, name): np.abs(layer.masked(name).astype(np.float64))
            for index, layer, name in _prunable(model)}


def random_saliency(model, seed):
    """Uniform random saliency in [0, 1): the "prune at random" baseline.

    Parameters
    ----------
    model : Sequential
    seed : int >= 0
        The same seed gives the same saliencies (drawn in parameter order
        from ``numpy.random.default_rng(seed)``).

    Returns
    -------
    dict
        ``{(layer_index, name): s}``, s float64 of the weight's shape.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer >= 0, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    return {(index, name): rng.random(layer.params[name].shape)
            for index, layer, name in _prunable(model)}


# ---- the engine --------------------------------------------------------------

def _checked_saliency(entries, saliency):
    if not isinstance(saliency, dict):
        raise TypeError(f"saliency must be a dict {{(layer_index, name): array}}, got {type(saliency).__name__}")
    checked = []
    for index, layer, name in entries:
        key = (index, name)
        if key not in saliency:
            raise ValueError(f"saliency has no entry for layer {index}, parameter {name!r}")
        s = np.asarray(saliency[key], dtype=np.float64)
        if s.shape != layer.params[name].shape:
            raise ValueError(
                f"saliency[{key}] must have the shape of the parameter {layer.params[name].shape}, got {s.shape}"
            )
        if np.isnan(s).any():
            raise ValueError(f"saliency[{key}] holds NaN; saliencies must be numbers")
        checked.append(s)
    return checked


def _prune_group(group, saliencies, sparsity):
    """Masks for one scope group: lists of (index, layer, name) and their saliencies."""
    masks = [_keep_mask(layer, name) for _, layer, name in group]
    n_total = sum(mask.size for mask in masks)
    n_keep = kept_count(sparsity, n_total)
    n_kept_now = sum(int(mask.sum()) for mask in masks)
    if n_keep > n_kept_now:
        where = "the model" if len(group) > 1 else f"layer {group[0][0]} ({group[0][2]!r})"
        raise ValueError(
            f"sparsity {sparsity!r} would keep {n_keep} of {n_total} weights of {where}, more than the "
            f"{n_kept_now} kept now (current sparsity {1 - n_kept_now / n_total:.6g}); pruned weights are "
            "never revived, so the target sparsity must not decrease"
        )
    # The rank key: (saliency, parameter position, flat index); pruned weights first.
    score = np.concatenate([np.where(mask, s, -np.inf).ravel() for mask, s in zip(masks, saliencies)])
    position = np.concatenate([np.full(mask.size, p) for p, mask in enumerate(masks)])
    flat_index = np.concatenate([np.arange(mask.size) for mask in masks])
    order = np.lexsort((flat_index, position, score))
    keep = np.ones(n_total, dtype=bool)
    keep[order[:n_total - n_keep]] = False
    start = 0
    for mask in masks:
        mask_keep = keep[start:start + mask.size].reshape(mask.shape)
        start += mask.size
        yield mask_keep


def prune(model, saliency, sparsity, scope="global"):
    """Prune ``model`` in place to sparsity S: exactly ``round((1 − S)·m)`` kept.

    Installs a keep-mask (``layer.set_mask``) on every prunable parameter;
    the weights it removes become exactly 0.  See the module docstring for
    the order in which weights go (lowest saliency first, ties by layer
    then flat index, pruned weights never revived).

    Parameters
    ----------
    model : Sequential
    saliency : dict ``{(layer_index, name): ndarray}``
        One array of the parameter's shape per prunable parameter, e.g. from
        :func:`magnitude_saliency`, :func:`obd_saliency` or
        :func:`random_saliency`.  NaN is refused; the saliency of weights
        already pruned is ignored.
    sparsity : float in [0, 1), or dict ``{(layer_index, name): S_l}``
        S, the fraction of the scope's weights removed after this step; a
        dict (with ``scope="layer"``) gives each parameter its own S_l, as
        Han et al. prune each layer to its own fraction.
    scope : {"global", "layer"}
        "global" ranks all prunable weights together (m = all of them);
        "layer" prunes each parameter to S (or S_l) on its own (m = its size).

    Returns
    -------
    dict
        ``sparsity`` (S), ``kept`` and ``total`` (over the model),
        ``achieved_sparsity`` (1 − kept/total) and ``layers``:
        ``{(layer_index, name): {"kept", "total", "sparsity"}}``.

    Raises
    ------
    ValueError
        S outside [0, 1), an unknown scope, a saliency missing, misshaped
        or NaN, or an S that would keep more weights than are kept now.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    entries = _prunable(model)
    per_layer = isinstance(sparsity, dict)
    if per_layer:
        if scope != "layer":
            raise ValueError("a sparsity per layer (a dict) needs scope='layer'")
        sparsity = _checked_layer_sparsity(entries, sparsity)
    else:
        sparsity = check_real("sparsity", sparsity, 0.0, 1.0, high_open=True)
    saliencies = _checked_saliency(entries, saliency)
    if scope == "global":
        groups = [(entries, saliencies, sparsity)]
    else:
        groups = [([entry], [s], sparsity[(entry[0], entry[2])] if per_layer else sparsity)
                  for entry, s in zip(entries, saliencies)]
    # Work out every mask before installing any, so a refused step changes nothing.
    new_masks = []
    for group, group_saliencies, group_sparsity in groups:
        new_masks.extend(_prune_group(group, group_saliencies, group_sparsity))
    for (_, layer, name), keep_mask in zip(entries, new_masks):
        layer.set_mask(name, keep_mask)
    return pruning_report(model, None if per_layer else sparsity)


def _checked_layer_sparsity(entries, sparsity):
    """A dict {(layer_index, name): S_l in [0, 1)} with one entry per prunable parameter."""
    expected = {(index, name) for index, _, name in entries}
    if set(sparsity) != expected:
        raise ValueError(
            f"sparsity per layer must have exactly the keys {sorted(expected)} (the prunable parameters), "
            f"got {sorted(sparsity, key=str)}"
        )
    return {key: check_real(f"sparsity[{key}]", value, 0.0, 1.0, high_open=True) for key, value in sparsity.items()}


def pruning_report(model, sparsity=None):
    """Kept and total weights per prunable parameter and over the model."""
    layers = {}
    for index, layer, name in _prunable(model):
        mask = _keep_mask(layer, name)
        kept = int(mask.sum())
        layers[(index, name)] = {"kept": kept, "total": mask.size, "sparsity": 1.0 - kept / mask.size}
    kept = sum(entry["kept"] for entry in layers.values())
    total = sum(entry["total"] for entry in layers.values())
    return {"sparsity": sparsity, "kept": kept, "total": total,
            "achieved_sparsity": 1.0 - kept / total, "layers": layers}


# ---- Han et al. (2015) ------------------------------------------------------------

def kept_weight_std(weights, mask=None):
    """σ_l of Han et al.'s threshold: the standard deviation of a parameter's kept weights.

    The population standard deviation (divisor n, ``ddof=0``) in float64 of
    the entries the keep-mask keeps (docs/methods.md#q-sigma).  On the dense
    net it is the std of the whole tensor, as in Distiller's
    ``SensitivityPruner`` (which computes it once and freezes it); once
    small weights are pruned it ignores their zeros, so it grows, and the
    threshold q·σ_l with it: the "growing threshold" of Han's iterative
    pruning.  Counting the zeros would shrink it at every step instead.
    :func:`han_prune` and :func:`layer_normalised_magnitude` both take σ_l
    from here.

    Parameters
    ----------
    weights : ndarray, any shape
    mask : None or bool ndarray of the shape of ``weights``
        True where the weight is kept; None keeps all.

    Returns
    -------
    float
        σ_l >= 0; 0.0 when no weight is kept.
    """
    w = np.asarray(weights, dtype=np.float64)
    kept = w if mask is None else w[mask]
    return float(np.std(kept)) if kept.size else 0.0


def layer_normalised_magnitude(model):
    """Han et al.'s saliency: each weight's magnitude over its layer's σ_l.

    .. math:: s_k = \\frac{|w_k|}{\\sigma_{l(k)}}

    Pruning every weight with s_k < q is pruning, in each layer l, the
    weights below the layer's own threshold q·σ_l, Han et al.'s rule
    (:func:`han_prune`): for σ_l > 0, |w_k| < q·σ_l exactly when s_k < q (in
    real numbers; in float64 the two can disagree only for a weight within
    rounding of the threshold).  So one q over all layers ranked together
    is the per-layer thresholds q·σ_l, and :func:`prune` on s reaches an
    exact sparsity with them (docs/methods.md#han-exact).  A layer with
    σ_l = 0 (a single kept weight, say) has the threshold q·0 = 0, below
    which no weight lies, so its weights get s = +∞: no finite q prunes them.

    Parameters
    ----------
    model : Sequential

    Returns
    -------
    dict
        ``{(layer_index, name): s}``, s float64 of the weight's shape, for
        every prunable parameter (σ_l from :func:`kept_weight_std`).
    """
    saliency = {}
    for index, layer, name in _prunable(model):
        w = layer.params[name].astype(np.float64)
        sigma = kept_weight_std(w, layer.masks.get(name))
        saliency[(index, name)] = np.abs(w) / sigma if sigma > 0 else np.full(w.shape, np.inf)
    return saliency


def han_prune(model, quality):
    """Han et al. (2015) per-layer threshold: prune the weights with |w| < q·σ_l.

    Han, Pool, Tran & Dally (2015), "Learning both Weights and Connections
    for Efficient Neural Networks", section 3 ("the pruning threshold is
    chosen as a quality parameter multiplied by the standard deviation of a
    layer's weights"); docs/methods.md#q-sigma.

    .. math:: M \\leftarrow M \\wedge \\big(|w| \\ge q\\, \\sigma_l\\big), \\qquad
              \\sigma_l = \\operatorname{std}\\{w_k : M_k\\}

    The paper's rule written literally, for one given q: the reference for
    ``--method han``, which reaches an exact sparsity instead by ranking
    :func:`layer_normalised_magnitude` with :func:`prune`.  Ranking all
    weights by s = |w|/σ_l and pruning those below one q gives, in each
    layer, exactly this threshold q·σ_l (docs/methods.md#han-exact), with
    σ_l from the same :func:`kept_weight_std`.  Each call recomputes σ_l
    from the weights kept now, so repeated calls raise the threshold as
    small weights go, Han's iterative pruning.  A layer with σ_l = 0 keeps
    every weight (no |w| is below q·0).

    Parameters
    ----------
    model : Sequential
    quality : float >= 0
        q.

    Returns
    -------
    dict
        ``{(layer_index, name): kept fraction}`` after the step.
    """
    quality = check_real("quality", quality, 0.0, None)
    kept_fraction = {}
    for index, layer, name in _prunable(model):
        w = layer.params[name].astype(np.float64)
        sigma = kept_weight_std(w, layer.masks.get(name))
        mask = _keep_mask(layer, name) & (np.abs(w) >= quality * sigma)
        layer.set_mask(name, mask)
        kept_fraction[(index, name)] = float(mask.sum()) / mask.size
    return kept_fraction


def rescaled_dropout(p_original, connections_initial, connections_now):
    """Han et al.'s dropout rate for retraining a pruned layer, eq. (2).

    .. math:: D_r = D_o \\sqrt{C_{ir} / C_{io}}

    C is the number of connections of the layer: C_i = N_{i−1}·N_i for a
    dense layer before pruning (C_io), its kept weights after (C_ir).  A
    sparser layer already has less capacity to overfit, so it gets less
    dropout.

    Parameters
    ----------
    p_original : float in [0, 1)
        D_o.
    connections_initial : int >= 1
        C_io.
    connections_now : int in [0, connections_initial]
        C_ir.

    Returns
    -------
    float
        D_r in [0, D_o].
    """
    p_original = check_real("p_original", p_original, 0.0, 1.0, high_open=True)
    for arg, value in (("connections_initial", connections_initial), ("connections_now", connections_now)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{arg} must be an integer, got {type(value).__name__} {value!r}")
    if connections_initial < 1:
        raise ValueError(f"connections_initial must be an integer >= 1, got {connections_initial}")
    if not 0 <= connections_now <= connections_initial:
        raise ValueError(
            f"connections_now must be an integer in [0, connections_initial = {connections_initial}], "
            f"got {connections_now}"
        )
    return p_original * float(np.sqrt(connections_now / connections_initial))


__all__ = ["kept_count", "prune", "pruning_report", "magnitude_saliency", "random_saliency", "obd_saliency",
           "kept_weight_std", "layer_normalised_magnitude", "han_prune", "rescaled_dropout", "SCOPES"]
