"""``pynncomp report``: the paper's table layout from ``runs.jsonl``.

A cell is the mean ± standard deviation of the test accuracy (in %) over
the runs found for it, with their number; the standard deviation is the
sample one (ddof = 1; "–" for a single run).  Where the paper has a number
(Table 1, :mod:`.paper`), it is printed beside ours with the difference
ours − paper, and "within σ" says whether that difference is at most the
sum of the two standard deviations.  Records are matched to a target by their run key without the
seed, so only runs of the target's protocol (full, or ``--fast``) count.
"""
import re
import statistics

from . import convnets, han, paper, runlog, targets

FORMATS = ("md", "csv", "tex")


def cell_key(run_key):
    """The run key without its seed and data-options parts."""
    return re.sub(r"/d[0-9a-f]{8}$", "", re.sub(r"/seed\d+", "", run_key))


def target_cells(target, fast=False):
    """``{cell key: (method, dataset, sparsity)}`` for every cell of the target."""
    datasets = targets.datasets_of(target) + ("synthetic-digits",)
    specs = targets.grid(target, 1, fast, datasets, None)
    return {cell_key(targets.run_key(spec)): spec for spec in specs}


def collect(records, target, fast=False):
    """Accuracies (in %) per cell: ``{(method, dataset, sparsity or setting label): [acc, ...]}``."""
    cells = target_cells(target, fast)
    found = {}
    for key, record in records.items():
        spec = cells.get(cell_key(key))
        if spec is None:
            continue
        column = convnets.label(spec["setting"]) if spec["method"] == "conv" else spec["sparsity"]
        found.setdefault((spec["method"], spec["dataset"], column), []).append(record)
    return found


def summary(values):
    """(mean, std or None, n) of a list of numbers."""
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else None
    return mean, std, len(values)


def _format_cell(values):
    if not values:
        return ""
    mean, std, n = summary(values)
    return f"{mean:.2f} ± {std:.2f} ({n})" if std is not None else f"{mean:.2f} ± – (1)"


def _within(values, paper_cell):
    """"yes" when |ours − paper| <= std(ours) + std(paper), the combined standard deviations."""
    mean, std, _ = summary(values)
    return "yes" if abs(mean - paper_cell[0]) <= std + paper_cell[1] else "no"


def table(records, target, fast=False):
    """(header, rows) of the target's table, strings ready to format."""
    found = collect(records, target, fast)
    if target == "convnets":
        return _conv_table(found)
    datasets = [d for d in targets.datasets_of(target) + ("synthetic-digits",)
                if any(key[1] == d for key in found)]
    levels = sorted({key[2] for key in found})
    methods = sorted({key[0] for key in found}, key=["magl1", "magl2", "obd", "hashednet"].index)
    header = ["removed"] + (["method"] if len(methods) > 1 else [])
    with_paper = target == "table1"
    for dataset in datasets:
        header += [dataset] + (["paper", "Δ", "within σ"] if with_paper else [])
    rows = []
    for level in levels:
        for method in methods:
            row = [f"{100 * level:g} %"] + ([method] if len(methods) > 1 else [])
            for dataset in datasets:
                values = [100 * r["test_accuracy"] for r in found.get((method, dataset, level), [])]
                row.append(_format_cell(values))
                if with_paper:
                    cell = paper.paper_cell(target, dataset, level)
                    row.append("" if cell is None else f"{cell[0]:.2f} ± {cell[1]:.2f}")
                    row.append("" if cell is None or not values else f"{statistics.fmean(values) - cell[0]:+.2f}")
                    row.append("" if cell is None or len(values) < 2 else _within(values, cell))
            rows.append(row)
    return header, rows


def _conv_table(found):
    header = ["dataset", "setting", "parameters", "test accuracy (%)", "Pareto"]
    rows = []
    for dataset in sorted({key[1] for key in found}):
        points = []
        for (_, d, setting), recs in found.items():
            if d == dataset:
                points.append((recs[0]["parameters"], statistics.fmean(100 * r["test_accuracy"] for r in recs),
                               (setting, recs)))
        front = {payload[0] for _, _, payload in convnets.pareto_front(points)}
        for params, _, (setting, recs) in sorted(points, key=lambda p: p[0]):
            rows.append([dataset, setting, str(params), _format_cell([100 * r["test_accuracy"] for r in recs]),
                         "yes" if setting in front else ""])
    return header, rows


def render(header, rows, fmt):
    """The table as Markdown, CSV or LaTeX (booktabs)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if fmt == "md":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")

    def tex(text):
        return text.replace("%", r"\%").replace("±", r"$\pm$").replace("Δ", r"$\Delta$").replace("_", r"\_")

    lines = [r"\begin{tabular}{" + "l" * len(header) + "}", r"\toprule", " & ".join(map(tex, header)) + r" \\",
             r"\midrule"]
    lines += [" & ".join(map(tex, row)) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


def _duration(seconds):
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{seconds / 60:.1f} min"


def timing(records, target, fast=False, jobs=2):
    """(header, rows): the wall time of the target's runs per data set and method.

    Each run records its own wall time (``wall_s``, pre-training included
    unless it was shared, see ``pretraining_reused``); the total is the
    sum over runs, and "at --jobs N" that total divided by N, the time the
    same runs take on N workers when nothing else shares the cores.
    """
    groups = {}
    if target in han.HAN_TARGETS:
        from . import han_report

        for spec, recs in han_report.collect(records, target, fast).values():
            groups.setdefault((spec["arch"], spec["method"]), []).extend(r["wall_s"] for r in recs)
    else:
        for (method, dataset, _), recs in collect(records, target, fast).items():
            groups.setdefault((dataset, method), []).extend(r["wall_s"] for r in recs)
    header = ["network" if target in han.HAN_TARGETS else "dataset", "method", "runs", "median per run", "total",
              f"at --jobs {jobs}"]
    rows = []
    for (dataset, method), times in sorted(groups.items()):
        rows.append([dataset, method, str(len(times)), f"{statistics.median(times):.0f} s", _duration(sum(times)),
                     _duration(sum(times) / jobs)])
    if len(rows) > 1:
        everything = [t for times in groups.values() for t in times]
        rows.append(["all", "", str(len(everything)), f"{statistics.median(everything):.0f} s",
                     _duration(sum(everything)), _duration(sum(everything) / jobs)])
    return header, rows


def report(results_dir, target, fmt="md", fast=False, timings=False):
    """The formatted table of ``target`` from ``results_dir/runs.jsonl``.

    With ``timings``, the wall times of its runs (:func:`timing`) instead.
    """
    targets.check_target(target)
    records, notes, path = runlog.read_results(results_dir, target)
    if timings:
        header, rows = timing(records, target, fast)
    elif target in han.HAN_TARGETS:
        from . import han_report

        header, rows = han_report.table(records, target, fast)
    else:
        header, rows = table(records, target, fast)
    if not rows:
        raise ValueError(f"{path} holds no run of {target}" + (" (--fast protocol)" if fast else "")
                         + "; run `pynncomp reproduce` for it first")
    return render(header, rows, fmt), notes
