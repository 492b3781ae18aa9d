"""Sensitivity analysis: prune one layer at a time, no retraining.

Han et al. (2015), Fig. 6, and Distiller's sensitivity analysis: for each
prunable layer l and each sparsity S in a list, prune *only* layer l to S
with magnitude saliency (keeping exactly round((1 − S)·m_l) of its m_l
weights, ties as in :func:`pynncomp.compress.prune`), measure the accuracy,
and put the layer back.  Layers whose accuracy falls early are sensitive
and should be pruned less; Han et al. choose per-layer thresholds this way.
"""
import numpy as np

from .._checks import check_real
from .prune import _prunable, _prune_group


def _check_sparsities(sparsities):
    values = [check_real("sparsities", s, 0.0, 1.0, high_open=True) for s in sparsities]
    if not values:
        raise ValueError("sparsities must hold at least one value in [0, 1), got none")
    if values != sorted(set(values)):
        raise ValueError(f"sparsities must be strictly increasing, got {list(sparsities)}")
    return values


def layer_label(model, index, name):
    """``"0.W (Dense 784x100)"``: the key used in records, with what the layer is."""
    layer = model.layers[index]
    shape = "x".join(str(n) for n in layer.params[name].shape)
    return f"{index}.{name} ({type(layer).__name__} {shape})"


def sensitivity(model, X, y, sparsities):
    """Accuracy of ``model`` with one layer at a time pruned by magnitude.

    The model is left exactly as it was (weights and masks are restored
    after each measurement).

    Parameters
    ----------
    model : Sequential
    X, y : the samples to measure accuracy on (a validation set, normally)
    sparsities : sequence of float in [0, 1), strictly increasing

    Returns
    -------
    dict
        ``sparsities`` (list), ``baseline`` (accuracy of the model as given),
        ``layers``: ``{label: {"key": "index.name", "weights": m_l,
        "accuracy": [one per sparsity]}}``.  A sparsity below a layer's
        current sparsity (pruned weights are never revived) gives None.
    """
    sparsities = _check_sparsities(sparsities)
    baseline = model.accuracy(X, y)
    layers = {}
    for entry in _prunable(model):
        index, layer, name = entry
        saved_weight = layer.params[name].copy()
        saved_mask = layer.masks.get(name)
        saliency = np.abs(layer.masked(name).astype(np.float64))
        accuracy = []
        for sparsity in sparsities:
            try:
                keep_mask = next(iter(_prune_group([entry], [saliency], sparsity)))
            except ValueError:
                accuracy.append(None)
                continue
            layer.set_mask(name, keep_mask)
            accuracy.append(model.accuracy(X, y))
            layer.params[name][...] = saved_weight
            if saved_mask is None:
                del layer.masks[name]
            else:
                layer.masks[name] = saved_mask
        layers[layer_label(model, index, name)] = {
            "key": f"{index}.{name}", "weights": int(layer.params[name].size), "accuracy": accuracy,
        }
    return {"sparsities": sparsities, "baseline": baseline, "layers": layers}


def sensitivity_table(result):
    """The result as a Markdown table: one row per sparsity, one column per layer (accuracy in %)."""
    labels = list(result["layers"])
    lines = ["| sparsity | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for i, sparsity in enumerate(result["sparsities"]):
        cells = []
        for label in labels:
            acc = result["layers"][label]["accuracy"][i]
            cells.append("—" if acc is None else f"{100 * acc:.2f}")
        lines.append(f"| {100 * sparsity:g} % | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_sensitivity(result, path, title=None):
    """Accuracy against the sparsity of one layer, one line per layer (Han et al. Fig. 6).

    Drawn on a matplotlib ``Figure`` with the Agg canvas (no display, the
    global backend untouched) and written atomically as PNG.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .._files import atomic_write

    figure = Figure(figsize=(6.4, 4.2), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    x = [100 * s for s in result["sparsities"]]
    for label, entry in result["layers"].items():
        y = [np.nan if a is None else 100 * a for a in entry["accuracy"]]
        axes.plot(x, y, marker="o", markersize=3, label=label)
    axes.axhline(100 * result["baseline"], color="grey", linestyle=":", linewidth=1, label="unpruned")
    axes.set_xlabel("weights removed from the layer (%)")
    axes.set_ylabel("accuracy (%)")
    axes.set_title(title or "Sensitivity: one layer pruned at a time, no retraining", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png")
    return path


__all__ = ["sensitivity", "sensitivity_table", "plot_sensitivity", "layer_label"]
