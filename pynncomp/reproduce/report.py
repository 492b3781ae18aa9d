"""``pynncomp report``: the paper's table layout from ``runs.jsonl``.

A cell is the mean ± standard deviation of the test accuracy (in %) over
the runs found for it, with their number; the standard deviation is the
sample one (ddof = 1; "–" for a single run).  Where the paper has a number
(Table 1, :mod:`.paper`), it is printed beside ours with the difference
ours − paper, and "within σ" says whether that difference is at most the
sum of the two standard deviations.  Records are matched to a target by
their run key without the seed (:mod:`.cells`), so only runs of the
target's protocol (full, or ``--fast``) count.  The tables of the Han et
al. targets are built by :mod:`.han_report`, those of the OBS targets (one
per network) by :mod:`.obs_report`, those of ``structured`` (one per
network, each entry with the fraction of weights removed beside) by
:mod:`.structured_report`.
"""
import statistics

from .. import models
from . import cells, convnets, han, han_report, obs, obs_report, paper, structured, structured_report, targets
from .tables import Duration, Number, Spread, Table, percent, render_titled

STUDY_METHODS = ("magl1", "magl2", "obd", "hashednet")


def tables(records, target, fast=False):
    """``[(title, Table)]``: the tables of ``target`` from ``records`` (``{run_key: record}``).

    One untitled table (:func:`table`), or for the OBS targets and
    ``structured`` one per network, titled with the network and its data.
    """
    if target in obs.OBS_TARGETS:
        return obs_report.tables(cells.collect(records, target, fast), target, fast)
    if target in structured.STRUCTURED_TARGETS:
        return structured_report.tables(cells.collect(records, target, fast), fast)
    return [(None, table(records, target, fast))]


def table(records, target, fast=False):
    """The :class:`pynncomp.reproduce.tables.Table` of ``target`` from ``records`` (``{run_key: record}``).

    The OBS targets and ``structured`` have one table per network: :func:`tables`.
    """
    if target in obs.OBS_TARGETS or target in structured.STRUCTURED_TARGETS:
        raise ValueError(f"{target} has one table per network: use pynncomp.reproduce.report.tables")
    found = cells.collect(records, target, fast)
    if target in han.HAN_TARGETS:
        return han_report.table(found, target)
    if target == "convnets":
        return _conv_table(cells.by_column(found))
    return _study_table(cells.by_column(found), target)


def _study_table(columns, target):
    """One row per level (and method), one column per data set; Table 1 with the paper's numbers beside."""
    datasets = [d for d in targets.datasets_of(target) + ("synthetic-digits",)
                if any(key[1] == d for key in columns)]
    levels = sorted({key[2] for key in columns})
    methods = sorted({key[0] for key in columns}, key=STUDY_METHODS.index)
    header = ["removed"] + (["method"] if len(methods) > 1 else [])
    with_paper = target == "table1"
    for dataset in datasets:
        header += [dataset] + (["paper", "Δ", "within σ"] if with_paper else [])
    rows = []
    for level in levels:
        for method in methods:
            row = [percent(level)] + ([method] if len(methods) > 1 else [])
            for dataset in datasets:
                ours = cells.accuracy(columns.get((method, dataset, level), []))
                row.append(Spread.of(ours))
                if with_paper:
                    row += _beside_paper(ours, paper.paper_cell(target, dataset, level))
            rows.append(row)
    return Table(header, rows)


def _beside_paper(ours, published):
    """The paper's cell, ours − paper, and whether they agree within σ (entries left empty where unknown)."""
    if published is None:
        return [None, None, None]
    difference = None if ours is None else Number(ours.mean - published[0], "+.2f")
    agree = None if ours is None or ours.n < 2 else ("yes" if cells.within_sigma(ours, published) else "no")
    return [Spread(*published), difference, agree]


def _conv_table(columns):
    """Every conv setting by parameter count, the Pareto-optimal ones marked."""
    header = ["dataset", "setting", "parameters", "test accuracy (%)", "Pareto"]
    rows = []
    for dataset in sorted({key[1] for key in columns}):
        points = [(recs[0]["parameters"], cells.accuracy(recs), setting)
                  for (_, d, setting), recs in columns.items() if d == dataset]
        front = {setting for _, _, setting in convnets.pareto_front(
            [(params, ours.mean, setting) for params, ours, setting in points])}
        for params, ours, setting in sorted(points, key=lambda p: p[0]):
            rows.append([dataset, setting, Number(params, "d"), Spread.of(ours), "yes" if setting in front else ""])
    return Table(header, rows)


def timing(records, target, fast=False, jobs=2):
    """The :class:`~pynncomp.reproduce.tables.Table` of the wall time of the target's runs per data set and method.

    Each run records its own wall time (``wall_s``, pre-training included
    unless it was shared, see ``pretraining_reused``); the total is the
    sum over runs, and "at --jobs N" that total divided by N, the time the
    same runs take on N workers when nothing else shares the cores.  The
    Han et al. targets, all on MNIST, are split by network instead; the OBS
    targets and ``structured`` by network too, with the time of the pruning
    steps beside (:func:`pynncomp.reproduce.obs_report.timing`).
    """
    if target in obs.OBS_TARGETS:
        return obs_report.timing(cells.collect(records, target, fast), target, fast, jobs)
    if target in structured.STRUCTURED_TARGETS:
        return structured_report.timing(cells.collect(records, target, fast), fast, jobs)
    by = "arch" if target in han.HAN_TARGETS else "dataset"
    groups = cells.wall_times(cells.collect(records, target, fast), by)
    header = ["network" if by == "arch" else "dataset", "method", "runs", "median per run", "total",
              f"at --jobs {jobs}"]
    rows = [_timing_row(where, method, times, jobs) for (where, method), times in sorted(groups.items())]
    if len(rows) > 1:
        everything = [t for times in groups.values() for t in times]
        rows.append(_timing_row("all", "", everything, jobs))
    return Table(header, rows)


def _timing_row(where, method, times, jobs):
    return [where, method, Number(len(times), "d"), Number(statistics.median(times), ".0f", " s"),
            Duration(sum(times)), Duration(sum(times) / jobs)]


def comparison(records, other, target, fast=False, labels=("ours", "other")):
    """Two sets of runs of one target, cell by cell: test accuracy, difference, agreement, wall time.

    For the cells that have runs in both: each side's test accuracy (mean
    ± std (runs), in %), the difference of the means, whether it is at most
    twice the combined standard deviation

    .. math:: |\\bar a - \\bar b| \\le 2 \\sqrt{s_a^2 + s_b^2}

    ("n/a" where a side has a single run), and each side's median wall time
    per run.  Used to check that a new training path (or machine, or
    version) reproduces committed runs within noise.

    Parameters
    ----------
    records, other : dict ``{run_key: record}``
    target : one of :data:`pynncomp.reproduce.targets.TARGETS`
    fast : bool
    labels : (str, str)
        The column names of the two sides.

    Returns
    -------
    Table
        Its last row counts the cells that agree.
    """
    ours, theirs = cells.collect(records, target, fast), cells.collect(other, target, fast)
    header = ["method", "dataset", "network", "removed", labels[0], labels[1], "difference", "within 2σ",
              f"median s ({labels[0]})", f"median s ({labels[1]})"]
    rows, agree, compared = [], 0, 0
    for key in ours:
        if key not in theirs:
            continue
        spec = ours[key].spec
        a, b = cells.accuracy(ours[key].records), cells.accuracy(theirs[key].records)
        within = None
        if a.std is not None and b.std is not None:
            within = abs(a.mean - b.mean) <= 2 * (a.std ** 2 + b.std ** 2) ** 0.5
            compared += 1
            agree += within
        rows.append([spec["method"], spec["dataset"], models.describe(spec["arch"], spec.get("hidden")),
                     percent(spec["sparsity"]), Spread.of(a), Spread.of(b), Number(a.mean - b.mean, "+.2f"),
                     "n/a" if within is None else ("yes" if within else "no"),
                     Number(statistics.median(r["wall_s"] for r in ours[key].records), ".1f"),
                     Number(statistics.median(r["wall_s"] for r in theirs[key].records), ".1f")])
    if not rows:
        raise ValueError(f"the two folders have no cell of {target} in common")
    rows.append(["cells within 2σ", "", "", "", "", "", "", f"{agree} of {compared}", "", ""])
    return Table(header, rows)


def report(results_dir, target, fmt="md", fast=False, timings=False, against=None):
    """The formatted table(s) of ``target`` from ``results_dir/runs.jsonl``, and the file's notes.

    Parameters
    ----------
    results_dir : path
        Holds ``runs.jsonl``.
    target : one of :data:`pynncomp.reproduce.targets.TARGETS`
    fmt : one of :data:`pynncomp.reproduce.tables.FORMATS`
    fast : bool
        The runs of ``pynncomp reproduce --fast``.
    timings : bool
        The wall times of its runs (:func:`timing`) instead.
    against : path or None
        Another results folder: the two compared cell by cell
        (:func:`comparison`) instead.

    Returns
    -------
    text : str
    notes : list of str
        What was wrong with ``runs.jsonl`` (:func:`pynncomp.reproduce.runlog.read_runs`).

    Raises
    ------
    ValueError
        An unknown target or format, or no run of the target in
        ``results_dir/runs.jsonl`` (:func:`pynncomp.reproduce.cells.read`).
    """
    targets.check_target(target)
    options = "".join(option for option, given in ((f" --format {fmt}", fmt != "md"), (" --fast", fast),
                                                   (" --timings", timings)) if given)
    records, notes = cells.read(results_dir, target, fast,
                                command=lambda folder: f"pynncomp report {folder} --target {target}{options}")
    if against is not None:
        if timings:
            raise ValueError("give --timings or --against, not both (--against prints the wall times too)")
        other, other_notes = cells.read(against, target, fast, command=lambda folder: (
            f"pynncomp report {results_dir} --target {target}{options} --against {folder}"))
        table = comparison(records, other, target, fast, labels=(str(results_dir), str(against)))
        return render_titled([(None, table)], fmt), notes + other_notes
    found = [(None, timing(records, target, fast))] if timings else tables(records, target, fast)
    return render_titled(found, fmt), notes
