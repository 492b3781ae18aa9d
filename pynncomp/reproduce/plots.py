"""``pynncomp plot``: the figures of every target, from the numbers of :mod:`.cells`.

The comparative study: accuracy against the number of parameters (kept
weights + biases), log x-axis, one line per method with the standard
deviation over runs as error bars, and the conv baselines as their Pareto
front (:mod:`.convnets`), as in the study's Figures 1–5; Figure 6 is the
histogram of the kept weights of the first layer, MagL1 against MagL2.

Han et al.: the weights of the largest layer before pruning and after
pruning + retraining (``han-lenet300``, ``han-lenet5``), accuracy loss
against the fraction pruned (``han-l1l2``, their Fig. 5), iterative
against one-shot pruning (``han-iterative``) and each layer's sensitivity
(``han-sensitivity``, their Fig. 6).

Optimal Brain Surgeon (``obs-oneshot``, ``obs-iterative``): test accuracy
against the fraction of weights removed, one line per method, one panel
per network, the dense net before pruning as a horizontal line.

Structured pruning (``structured``): the same axes, each run placed at the
fraction of the architecture's weights it removed as its record says
(:func:`pynncomp.reproduce.structured.weights_removed`), MagL2 against each
structured criterion, one panel per network, the dense net as a horizontal
line.

The histograms are drawn from the model files the runs saved
(``models/`` beside ``runs.jsonl``); every other figure needs
``runs.jsonl`` only.  Drawn on a matplotlib ``Figure`` with the Agg canvas
and written atomically.
"""
import pathlib

from .. import io
from .._files import atomic_write
from . import cells, convnets, obs, paper, structured, targets

COLOURS = {"magl1": "tab:blue", "magl2": "tab:orange", "obd": "tab:green", "hashednet": "tab:red",
           "lobs": "tab:purple", "conv": "black", "dense": "grey",
           # structured: one colour per criterion, the same for neurons and filters
           "neurons-l1": "tab:blue", "neurons-l2": "tab:green", "neurons-apoz": "tab:brown",
           "neurons-taylor": "tab:purple", "filters-l1": "tab:blue", "filters-l2": "tab:green",
           "filters-taylor": "tab:purple"}


def plot(results_dir, target, out, fast=False):
    """Draw ``target``'s figure from ``results_dir/runs.jsonl`` to ``out`` (PNG); returns ``out``.

    Parameters
    ----------
    results_dir : path
        Holds ``runs.jsonl`` and, for the weight histograms, ``models/``.
    target : one of :data:`pynncomp.reproduce.targets.TARGETS`
        fig1…fig6, a Han et al. target, an OBS target, ``structured``, or
        a table (drawn as accuracy against parameters).
    out : path
    fast : bool
        The runs of ``pynncomp reproduce --fast``.

    Raises
    ------
    ValueError
        An unknown target, no run of it (:func:`pynncomp.reproduce.cells.read`),
        or a model file a histogram needs is missing (the message names
        the command that makes it).
    """
    targets.check_target(target)
    results_dir = pathlib.Path(results_dir)
    records, _ = cells.read(results_dir, target, fast, command=lambda folder: (
        f"pynncomp plot {folder} --target {target} --out {out}" + (" --fast" if fast else "")))
    found = cells.collect(records, target, fast)
    if target in ("han-lenet300", "han-lenet5"):
        figure = _han_histograms(found, target, results_dir, fast)
    elif target == "han-l1l2":
        figure = _han_l1l2(cells.accuracy_loss(found))
    elif target == "han-iterative":
        figure = _han_iterative(cells.iterative_accuracy(found))
    elif target == "han-sensitivity":
        figure = _han_sensitivity(cells.sensitivity_accuracy(found))
    elif target in obs.OBS_TARGETS:
        figure = _accuracy_against_sparsity(cells.level_accuracy(found), cells.network_order(target, fast), target)
    elif target in structured.STRUCTURED_TARGETS:
        figure = _accuracy_against_weights_removed(cells.level_accuracy(found), cells.level_weights_removed(found),
                                                   cells.network_order(target, fast))
    elif target == "fig6":
        figure = _fig6(found, results_dir, fast)
    else:
        figure = _accuracy_against_parameters(found, cells.collect(records, "convnets", fast), target)
    figure.tight_layout()
    with atomic_write(out) as stream:
        figure.savefig(stream, format="png")
    return out


def _figure(n_panels, width=5.2, height=3.9):
    """A Figure on the Agg canvas with ``n_panels`` axes, two per row."""
    # imported here, not with the module: reports and runs do not need matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(n_panels, 2)
    rows = (n_panels + 1) // 2
    figure = Figure(figsize=(width * columns, height * rows), dpi=110)
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(rows, columns, i + 1) for i in range(n_panels)]
    return figure, axes


def _lowest_seed_saved(found, method):
    """The record of ``method``'s lowest seed that saved its model, or None."""
    saved = [r for cell in found.values() if cell.spec["method"] == method for r in cell.records
             if "model_file" in r]
    return min(saved, key=cells.seed_of) if saved else None


def _saved_models(results_dir, records, target, fast):
    """The models of ``records`` (``model_file`` under ``results_dir``), loaded.

    Raises
    ------
    ValueError
        Naming the model files that are missing, and the commands that
        train the same runs again in a new folder and draw them from there
        (the runs already in ``runs.jsonl`` are never run again in the same
        folder).
    """
    paths = [results_dir / r["model_file"] for r in records]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        fast_flag = " --fast" if fast else ""
        runs = max(cells.seed_of(r) for r in records) + 1
        raise ValueError(
            f"the figure of {target} is drawn from saved models, and {' and '.join(missing)} "
            f"{'does' if len(missing) == 1 else 'do'} not exist. A folder whose runs.jsonl holds these runs "
            f"does not train them again: `pynncomp reproduce {target} --runs {runs}{fast_flag} --results NEW_DIR` "
            f"trains them into a new folder, and `pynncomp plot NEW_DIR --target {target}{fast_flag} "
            "--out FILE.png` draws them")
    return [io.load_model(path) for path in paths]


# ---- the comparative study ---------------------------------------------------------------

def _accuracy_against_parameters(found, conv_found, target):
    """One panel per data set: each method's accuracy against its parameter count, the conv front."""
    columns = cells.by_column(found)
    conv_columns = cells.by_column(conv_found)
    datasets = [d for d in targets.datasets_of(target) + ("synthetic-digits",)
                if any(key[1] == d for key in columns) or any(key[1] == d for key in conv_columns)]
    figure, axes = _figure(len(datasets))
    for ax, dataset in zip(axes, datasets):
        _method_curves(ax, columns, dataset)
        if target == "table1":
            _paper_curve(ax, columns, dataset)
        _conv_front(ax, conv_columns, dataset)
        ax.set_xscale("log")
        ax.set_xlabel("parameters (kept weights + biases)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(dataset, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    figure.suptitle(f"{target}: accuracy against parameters (mean ± std over runs)", fontsize=10)
    return figure


def _method_curves(ax, columns, dataset):
    for method in ("magl1", "magl2", "obd", "hashednet"):
        points = sorted((level, recs) for (m, d, level), recs in columns.items() if m == method and d == dataset)
        if not points:
            continue
        x = [recs[0]["parameters"] for _, recs in points]
        accuracy = [cells.accuracy(recs) for _, recs in points]
        ax.errorbar(x, [a.mean for a in accuracy], yerr=[a.std or 0.0 for a in accuracy], marker="o",
                    markersize=3, capsize=2, linewidth=1, color=COLOURS[method], label=method)


def _paper_curve(ax, columns, dataset):
    """Table 1 as published, at the parameter counts of our runs of the same levels."""
    points = []
    for (_, d, level), recs in columns.items():
        published = paper.paper_cell("table1", d, level)
        if d == dataset and published is not None:
            points.append((recs[0]["parameters"], published))
    points.sort()
    if points:
        ax.errorbar([p[0] for p in points], [p[1][0] for p in points], yerr=[p[1][1] for p in points],
                    marker="x", markersize=4, capsize=2, linewidth=1, linestyle=":", color="grey",
                    label="paper (Table 1)")


def _conv_front(ax, conv_columns, dataset):
    points = [(recs[0]["parameters"], cells.accuracy(recs).mean, setting)
              for (_, d, setting), recs in conv_columns.items() if d == dataset]
    if not points:
        return
    front = convnets.pareto_front(points)
    ax.plot([p[0] for p in front], [p[1] for p in front], marker="s", markersize=4, linestyle="--",
            color=COLOURS["conv"], label="conv nets (Pareto front)")


def _fig6(found, results_dir, fast):
    """The first layer's kept weights of the lowest seed's MagL1 and MagL2 nets."""
    drawn = [(method, _lowest_seed_saved(found, method)) for method in targets.FIG6["methods"]]
    drawn = [(method, record) for method, record in drawn if record is not None]
    models = _saved_models(results_dir, [record for _, record in drawn], "fig6", fast)
    figure, (ax,) = _figure(1)
    for model, (method, record) in zip(models, drawn):
        layer = model.layers[0]
        kept = layer.params["W"][layer.masks["W"]] if "W" in layer.masks else layer.params["W"].ravel()
        ax.hist(kept, bins=80, alpha=0.6, color=COLOURS[method],
                label=f"{method} (seed {cells.seed_of(record)}, {kept.size} kept)")
    ax.set_xlabel("weight value (first layer, kept weights)")
    ax.set_ylabel("count")
    ax.set_title(f"784-{targets.FIG6['hidden']}-10, {100 * targets.FIG6['sparsity']:g} % removed, "
                 "after the last step and fine-tuning", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return figure


# ---- Optimal Brain Surgeon -----------------------------------------------------------------

def _accuracy_against_sparsity(accuracy, order, target):
    """One panel per network: each method's test accuracy against the fraction removed.

    The x-axis is the fraction of weights kept on a log scale, reversed and
    labelled with the fraction removed (:func:`_removed_axis`).
    """
    networks = [network for network in order if network in accuracy]
    figure, axes = _figure(len(networks))
    for ax, network in zip(axes, networks):
        by_cell = accuracy[network]
        levels = sorted({level for level, _ in by_cell if level > 0})
        for method in obs.METHODS:
            points = [(level, by_cell[(level, method)]) for level in levels if (level, method) in by_cell]
            if points:
                ax.errorbar([100 * (1 - level) for level, _ in points], [a.mean for _, a in points],
                            yerr=[a.std or 0.0 for _, a in points], marker="o", markersize=3, capsize=2,
                            linewidth=1, color=COLOURS[method], label=method)
        dense = by_cell.get((0.0, "dense"))
        if dense is not None:
            ax.axhline(dense.mean, linestyle="--", linewidth=1, color=COLOURS["dense"],
                       label=f"dense, before pruning ({dense.mean:.2f} %)")
        _removed_axis(ax, levels)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(network, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    what = "one step, no retraining" if target == "obs-oneshot" else "the study's iterative protocol"
    figure.suptitle(f"{target}: test accuracy against weights removed, {what} (mean ± std over runs)",
                    fontsize=10)
    return figure


def _removed_axis(ax, levels):
    """The x-axis of weights removed: the % kept on a log scale, reversed, ticks at ``levels`` labelled removed.

    So that 99 % and 99.8 % removed lie as far apart as 50 % and 90 %.
    """
    from matplotlib.ticker import NullLocator

    ax.set_xscale("log")
    ax.set_xticks([100 * (1 - level) for level in levels])
    ax.set_xticklabels([f"{100 * level:g}" for level in levels])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.invert_xaxis()
    ax.set_xlabel("weights removed (%)")


# ---- structured pruning ----------------------------------------------------------------------

def _accuracy_against_weights_removed(accuracy, removed, order):
    """One panel per network: each method's test accuracy against the fraction of weights its runs removed.

    Each point is a level of one method, at the mean over its runs of the
    fraction of weights removed (``removed``, in %; its standard deviation
    as a horizontal error bar where the runs differ, as the global Taylor
    criterion's may), on the axis of :func:`_removed_axis` with ticks at the
    levels.
    """
    networks = [network for network in order if network in accuracy]
    figure, axes = _figure(len(networks))
    for ax, network in zip(axes, networks):
        by_cell, removed_by_cell = accuracy[network], removed[network]
        levels = sorted({level for level, _ in by_cell if level > 0})
        for method in structured.METHODS:
            points = [(removed_by_cell[(level, method)], by_cell[(level, method)]) for level in levels
                      if (level, method) in by_cell]
            if points:
                ax.errorbar([100 - r.mean for r, _ in points], [a.mean for _, a in points],
                            xerr=[r.std or 0.0 for r, _ in points], yerr=[a.std or 0.0 for _, a in points],
                            marker="s" if method == "magl2" else "o", markersize=3, capsize=2,
                            linewidth=1.6 if method == "magl2" else 1, color=COLOURS[method], label=method)
        dense = by_cell.get((0.0, "dense"))
        if dense is not None:
            ax.axhline(dense.mean, linestyle="--", linewidth=1, color=COLOURS["dense"],
                       label=f"dense ({dense.mean:.2f} %)")
        _removed_axis(ax, levels)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(network, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    figure.suptitle("structured: test accuracy against the weights removed, whole units (neurons, filters) "
                    "against single weights (magl2); mean ± std over runs", fontsize=10)
    return figure


# ---- Han et al. ----------------------------------------------------------------------------

def _han_histograms(found, target, results_dir, fast):
    """The largest layer's weights, the dense net's against the pruned and retrained one's (lowest seed of each)."""
    arch = target.split("-")[1]
    layer_index = 0 if arch == "lenet300" else 5  # the largest layer
    drawn = [(_lowest_seed_saved(found, method), colour, label)
             for method, colour, label in (("dense", "tab:blue", "before pruning"),
                                           ("han", "tab:orange", "after pruning and retraining"))]
    drawn = [entry for entry in drawn if entry[0] is not None]
    models = _saved_models(results_dir, [record for record, _, _ in drawn], target, fast)
    figure, (ax,) = _figure(1, width=6.4, height=4.3)
    for model, (_, colour, label) in zip(models, drawn):
        layer = model.layers[layer_index]
        mask = layer.masks.get("W")
        weights = layer.params["W"][mask] if mask is not None else layer.params["W"].ravel()
        ax.hist(weights, bins=100, alpha=0.6, color=colour, label=f"{label} ({weights.size:,} weights)")
    ax.set_xlabel(f"weight value, layer {layer_index} of {arch}")
    ax.set_ylabel("count")
    ax.set_yscale("log")
    ax.set_title(f"{arch}: weights before pruning and after pruning + retraining", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return figure


def _han_l1l2(losses):
    figure, (ax,) = _figure(1, width=6.4, height=4.3)
    for penalty, retraining in cells.L1L2_VARIANTS:
        points = sorted((100 * level, loss.mean) for (p, r, level), loss in losses.items()
                        if (p, r) == (penalty, retraining))
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                linestyle="--" if retraining == "without" else "-",
                label=f"{penalty.upper()} {retraining} retraining")
    ax.set_xlabel("parameters pruned (%)")
    ax.set_ylabel("accuracy loss (points)")
    ax.set_title("LeNet-300-100: L1 vs L2, with and without retraining (Han et al. Fig. 5)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return figure


def _han_iterative(accuracy):
    figure, (ax,) = _figure(1, width=6.4, height=4.3)
    for schedule, label in (("power", "iterative"), ("oneshot", "one-shot")):
        points = sorted((100 * level, acc.mean) for (level, s), acc in accuracy.items() if s == schedule)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xlabel("parameters pruned (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("LeNet-300-100: iterative against one-shot pruning", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return figure


def _han_sensitivity(accuracy):
    """One panel per network, one line per layer: accuracy with that layer alone pruned."""
    figure, axes = _figure(len(accuracy), width=5.25, height=4.3)
    for ax, arch in zip(axes, sorted(accuracy)):
        for label, by_level in accuracy[arch].items():
            levels = sorted(by_level)
            ax.plot([100 * level for level in levels], [by_level[level].mean for level in levels], marker="o",
                    markersize=3, label=label)
        ax.set_xlabel("weights removed from the layer (%)")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"{arch}: one layer pruned, no retraining", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
    return figure
