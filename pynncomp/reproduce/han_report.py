"""Tables and figures of the Han et al. targets, from ``runs.jsonl``.

* ``han-lenet300``, ``han-lenet5``: Han et al.'s Table 2/3 layout — per
  layer the weights, the kept fraction (theirs and ours) and the implied
  quality parameter q_l; then the network's test error before and after,
  ours (mean ± std over runs) beside theirs.  The figure: histograms of the
  largest layer's weights before pruning and after pruning + retraining.
* ``han-l1l2``: accuracy loss (dense accuracy − pruned accuracy, points)
  against the fraction pruned, L1 and L2, without and with retraining
  (Han et al. Fig. 5).
* ``han-iterative``: test accuracy, iterative against one-shot.
* ``han-sensitivity``: validation accuracy with one layer pruned, per
  layer and level (Han et al. Fig. 6).
"""
import statistics

from .. import io
from . import han, report


def collect(records, target, fast):
    """``{cell: [records]}`` of the target, cells keyed by their spec (seed left out)."""
    cells = {}
    for spec in han.grid(target, 1, fast):
        cells[report.cell_key(_key(spec))] = spec
    found = {}
    for key, record in records.items():
        spec = cells.get(report.cell_key(key))
        if spec is not None:
            found.setdefault(report.cell_key(key), (spec, []))[1].append(record)
    return found


def _key(spec):
    from .targets import run_key

    return run_key(spec)


def _mean_std(values):
    if not values:
        return ""
    mean, std, n = report.summary(values)
    return f"{mean:.2f} ± {std:.2f} ({n})" if std is not None else f"{mean:.2f} (1)"


def table(records, target, fast=False):
    found = collect(records, target, fast)
    if target in ("han-lenet300", "han-lenet5"):
        return _lenet_table(found, target.split("-")[1])
    if target == "han-l1l2":
        return _l1l2_table(found)
    if target == "han-iterative":
        return _iterative_table(found)
    return _sensitivity_table(found)


def _lenet_table(found, arch):
    dense = [r for spec, recs in found.values() if spec["method"] == "dense" for r in recs]
    pruned = [r for spec, recs in found.values() if spec["method"] == "han" for r in recs]
    header = ["layer", "weights", "kept (Han et al.)", "kept (ours)", "q_l (ours)"]
    rows = []
    if pruned:
        first = pruned[0]
        for (key, entry), han_kept in zip(first["layers"].items(), han.PAPER_KEPT[arch]):
            kept = [r["layers"][key]["kept"] / r["layers"][key]["total"] for r in pruned]
            q = [r["method_notes"]["steps"][-1]["q_layer"][key] for r in pruned]
            rows.append([key, f"{entry['total']:,}", f"{100 * han_kept:g} %", f"{100 * statistics.fmean(kept):.2f} %",
                         f"{statistics.fmean(q):.3f}"])
        total = first["weights_total"]
        kept_total = first["weights_kept"]
        paper = han.PAPER[arch]
        rows.append(["total", f"{total:,}", f"{paper['weights_pruned']:,} kept ({paper['weights'] / paper['weights_pruned']:.0f}×)",
                     f"{kept_total:,} kept ({total / kept_total:.1f}×)", ""])
    paper = han.PAPER[arch]
    rows.append(["test error, dense", "", f"{paper['error_dense']:.2f} %",
                 _mean_std([100 * (1 - r["test_accuracy"]) for r in dense]) + " %", ""])
    rows.append(["test error, pruned", "", f"{paper['error_pruned']:.2f} %",
                 _mean_std([100 * (1 - r["test_accuracy"]) for r in pruned]) + " %", ""])
    # the quality bar's measure: each pruned net against the dense net of its seed
    dense_by_seed = {r["seed"]: r for r in dense}
    change = [100 * (dense_by_seed[r["seed"]]["test_accuracy"] - r["test_accuracy"])
              for r in pruned if r["seed"] in dense_by_seed]
    rows.append(["pruned − dense, same seed", "", f"{paper['error_pruned'] - paper['error_dense']:.2f} points",
                 _mean_std(change) + " points", ""])
    return header, rows


def _l1l2_table(found):
    dense = {}
    curves = {}
    for spec, recs in found.values():
        penalty = spec["protocol"]["penalty"]
        if spec["method"] == "dense":
            for r in recs:
                dense[(penalty, r["seed"])] = r
    for spec, recs in found.values():
        penalty = spec["protocol"]["penalty"]
        if spec["method"] == "dense":
            for r in recs:
                for level, acc in r.get("pruned_without_retraining", {}).items():
                    curves.setdefault((penalty, "without", float(level)), []).append(
                        100 * (r["test_accuracy"] - acc))
        else:
            for r in recs:
                base = dense.get((penalty, r["seed"]))
                if base is not None:
                    curves.setdefault((penalty, "with", spec["sparsity"]), []).append(
                        100 * (base["test_accuracy"] - r["test_accuracy"]))
    levels = sorted({key[2] for key in curves})
    variants = [("l1", "without"), ("l1", "with"), ("l2", "without"), ("l2", "with")]
    header = ["pruned"] + [f"{p.upper()} {w} retraining" for p, w in variants]
    rows = [[f"{100 * level:g} %"] + [_mean_std(curves.get((p, w, level), [])) for p, w in variants]
            for level in levels]
    return header, rows


def _iterative_table(found):
    cells = {}
    for spec, recs in found.values():
        cells[(spec["sparsity"], spec["protocol"]["schedule"])] = [100 * r["test_accuracy"] for r in recs]
    levels = sorted({level for level, _ in cells})
    header = ["pruned", "iterative (k steps)", "one-shot", "iterative − one-shot"]
    rows = []
    for level in levels:
        it, one = cells.get((level, "power"), []), cells.get((level, "oneshot"), [])
        diff = f"{statistics.fmean(it) - statistics.fmean(one):+.2f}" if it and one else ""
        rows.append([f"{100 * level:g} %", _mean_std(it), _mean_std(one), diff])
    return header, rows


def _sensitivity_table(found):
    header = ["network", "pruned"]
    per_layer = {}
    for spec, recs in found.values():
        for r in recs:
            result = r.get("sensitivity")
            if not result:
                continue
            for label, entry in result["layers"].items():
                for level, acc in zip(result["sparsities"], entry["accuracy"]):
                    if acc is not None:
                        per_layer.setdefault((spec["arch"], label), {}).setdefault(level, []).append(100 * acc)
    archs = sorted({arch for arch, _ in per_layer})
    rows = []
    for arch in archs:
        labels = [label for a, label in per_layer if a == arch]
        levels = sorted({level for (a, _), cells in per_layer.items() if a == arch for level in cells})
        rows.append([arch, "layer →"] + labels)
        for level in levels:
            rows.append([arch, f"{100 * level:g} %"] + [_mean_std(per_layer[(arch, label)].get(level, []))
                                                      for label in labels])
    width = max(len(row) for row in rows) if rows else 2
    header += [""] * (width - 2)
    return header, [row + [""] * (width - len(row)) for row in rows]


# ---- figures -------------------------------------------------------------------------

def plot(records, target, out, results_dir, fast=False):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .._files import atomic_write

    found = collect(records, target, fast)
    if not found:
        raise ValueError(f"no run of {target} found; run `pynncomp reproduce {target}` first")
    figure = Figure(figsize=(10.5 if target == "han-sensitivity" else 6.4, 4.3), dpi=110)
    FigureCanvasAgg(figure)
    if target in ("han-lenet300", "han-lenet5"):
        _histograms(figure.add_subplot(), found, target.split("-")[1], results_dir)
    elif target == "han-l1l2":
        header, rows = _l1l2_table(found)
        ax = figure.add_subplot()
        for column, name in enumerate(header[1:], start=1):
            points = [(float(row[0].rstrip(" %")), row[column]) for row in rows if row[column]]
            ax.plot([p[0] for p in points], [float(p[1].split(" ")[0]) for p in points], marker="o",
                    linestyle="--" if "without" in name else "-", label=name)
        ax.set_xlabel("parameters pruned (%)")
        ax.set_ylabel("accuracy loss (points)")
        ax.set_title("LeNet-300-100: L1 vs L2, with and without retraining (Han et al. Fig. 5)", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    elif target == "han-iterative":
        header, rows = _iterative_table(found)
        ax = figure.add_subplot()
        for column, name in ((1, "iterative"), (2, "one-shot")):
            points = [(float(row[0].rstrip(" %")), row[column]) for row in rows if row[column]]
            ax.plot([p[0] for p in points], [float(p[1].split(" ")[0]) for p in points], marker="o", label=name)
        ax.set_xlabel("parameters pruned (%)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title("LeNet-300-100: iterative against one-shot pruning", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    else:
        _sensitivity_panels(figure, found)
    figure.tight_layout()
    with atomic_write(out) as stream:
        figure.savefig(stream, format="png")
    return out


def _histograms(ax, found, arch, results_dir):
    layer_index = 0 if arch == "lenet300" else 5  # the largest layer
    for method, colour, label in (("dense", "tab:blue", "before pruning"),
                                  ("han", "tab:orange", "after pruning and retraining")):
        recs = [r for spec, rs in found.values() if spec["method"] == method for r in rs if "model_file" in r]
        if not recs:
            continue
        record = min(recs, key=lambda r: r["seed"])
        model = io.load_model(results_dir / record["model_file"])
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


def _sensitivity_panels(figure, found):
    by_arch = {}
    for spec, recs in found.values():
        for r in recs:
            if r.get("sensitivity"):
                by_arch.setdefault(spec["arch"], []).append(r["sensitivity"])
    for panel, (arch, results) in enumerate(sorted(by_arch.items()), start=1):
        ax = figure.add_subplot(1, len(by_arch), panel)
        for label in results[0]["layers"]:
            levels = results[0]["sparsities"]
            means = [statistics.fmean(100 * r["layers"][label]["accuracy"][i] for r in results)
                     for i in range(len(levels))]
            ax.plot([100 * s for s in levels], means, marker="o", markersize=3, label=label)
        ax.set_xlabel("weights removed from the layer (%)")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"{arch}: one layer pruned, no retraining", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, alpha=0.3)
