"""``pynncomp plot``: the study's figures from ``runs.jsonl``.

Accuracy against the number of parameters (kept weights + biases), log
x-axis, one line per method with the standard deviation over runs as error
bars, and the conv baselines as their Pareto front (:mod:`.convnets`), as
in the study's Figures 1–5; Figure 6 is the histogram of the kept weights
of the first layer, MagL1 against MagL2.  Drawn on a matplotlib ``Figure``
with the Agg canvas and written atomically.
"""
import pathlib
import statistics

from .._files import atomic_write
from . import convnets, han, paper, report, runlog, targets

COLOURS = {"magl1": "tab:blue", "magl2": "tab:orange", "obd": "tab:green", "hashednet": "tab:red",
           "conv": "black"}


def _figure(n_panels):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(n_panels, 2)
    rows = (n_panels + 1) // 2
    figure = Figure(figsize=(5.2 * columns, 3.9 * rows), dpi=110)
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(rows, columns, i + 1) for i in range(n_panels)]
    return figure, axes


def _method_curves(ax, found, dataset):
    for method in ("magl1", "magl2", "obd", "hashednet"):
        cells = sorted((level, recs) for (m, d, level), recs in found.items() if m == method and d == dataset)
        if not cells:
            continue
        x = [recs[0]["parameters"] for _, recs in cells]
        stats = [report.summary([100 * r["test_accuracy"] for r in recs]) for _, recs in cells]
        ax.errorbar(x, [s[0] for s in stats], yerr=[s[1] or 0.0 for s in stats], marker="o", markersize=3,
                    capsize=2, linewidth=1, color=COLOURS[method], label=method)


def _paper_curve(ax, found, dataset):
    """Table 1 as published, at the parameter counts of our runs of the same levels."""
    points = []
    for (method, d, level), recs in found.items():
        cell = paper.paper_cell("table1", d, level)
        if d == dataset and cell is not None:
            points.append((recs[0]["parameters"], cell))
    points.sort()
    if points:
        ax.errorbar([p[0] for p in points], [p[1][0] for p in points], yerr=[p[1][1] for p in points],
                    marker="x", markersize=4, capsize=2, linewidth=1, linestyle=":", color="grey",
                    label="paper (Table 1)")


def _conv_front(ax, conv_found, dataset):
    points = [(recs[0]["parameters"], statistics.fmean(100 * r["test_accuracy"] for r in recs), label)
              for (_, d, label), recs in conv_found.items() if d == dataset]
    if not points:
        return
    front = convnets.pareto_front(points)
    ax.plot([p[0] for p in front], [p[1] for p in front], marker="s", markersize=4, linestyle="--",
            color=COLOURS["conv"], label="conv nets (Pareto front)")


def plot(results_dir, target, out, fast=False):
    """Draw ``target`` (fig1…fig6, or a table as accuracy against parameters) to ``out`` (PNG)."""
    targets.check_target(target)
    records, _, path = runlog.read_results(results_dir, target)
    if target in han.HAN_TARGETS:
        from . import han_report

        return han_report.plot(records, target, out, pathlib.Path(results_dir), fast)
    if target == "fig6":
        return _fig6(records, pathlib.Path(results_dir), out, fast)
    found = report.collect(records, target, fast)
    conv_found = report.collect(records, "convnets", fast)
    datasets = [d for d in targets.datasets_of(target) + ("synthetic-digits",)
                if any(key[1] == d for key in found) or any(key[1] == d for key in conv_found)]
    if not datasets:
        raise ValueError(f"{path} holds no run of {target}; run `pynncomp reproduce {target}` first")
    figure, axes = _figure(len(datasets))
    for ax, dataset in zip(axes, datasets):
        _method_curves(ax, found, dataset)
        if target == "table1":
            _paper_curve(ax, found, dataset)
        _conv_front(ax, conv_found, dataset)
        ax.set_xscale("log")
        ax.set_xlabel("parameters (kept weights + biases)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(dataset, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    figure.suptitle(f"{target}: accuracy against parameters (mean ± std over runs)", fontsize=10)
    figure.tight_layout()
    with atomic_write(out) as stream:
        figure.savefig(stream, format="png")
    return out


def _fig6(records, results_dir, out, fast):
    from .. import io

    found = report.collect(records, "fig6", fast)
    figure, axes = _figure(1)
    ax = axes[0]
    drawn = False
    for method in targets.FIG6["methods"]:
        recs = [r for (m, _, _), rs in found.items() if m == method for r in rs if "model_file" in r]
        if not recs:
            continue
        first = min(recs, key=lambda r: r["seed"])
        model = io.load_model(results_dir / first["model_file"])
        layer = model.layers[0]
        kept = layer.params["W"][layer.masks["W"]] if "W" in layer.masks else layer.params["W"].ravel()
        ax.hist(kept, bins=80, alpha=0.6, color=COLOURS[method],
                label=f"{method} (seed {first['seed']}, {kept.size} kept)")
        drawn = True
    if not drawn:
        raise ValueError("no fig6 model found: run `pynncomp reproduce fig6` first")
    ax.set_xlabel("weight value (first layer, kept weights)")
    ax.set_ylabel("count")
    ax.set_title(f"784-{targets.FIG6['hidden']}-10, {100 * targets.FIG6['sparsity']:g} % removed, "
                 "after the last step and fine-tuning", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    figure.tight_layout()
    with atomic_write(out) as stream:
        figure.savefig(stream, format="png")
    return out
