"""The runs of a target grouped into cells, and the numbers each cell stands for.

A *cell* is one entry of a target's grid without its seed: the runs of one
method, data set, network and level (or conv setting) under one protocol.
Records are matched to a cell by their run key without the seed and data
options (:func:`cell_key`), so only runs of the target's protocol (full,
or ``--fast``) count.

Everything here returns numbers: a :class:`Summary` (mean, standard
deviation, count, and the value of each seed) per cell, in the unit the
tables print (test accuracy in %, accuracy loss in points, weights
removed in %).  The tables of :mod:`.report`, :mod:`.han_report`,
:mod:`.obs_report` and :mod:`.structured_report` and the figures of
:mod:`.plots` are built from these numbers; only :mod:`.tables` turns them
into text.
"""
import dataclasses
import os
import pathlib
import re
import statistics

from . import convnets, han, obs, runlog, structured, targets


def cell_key(run_key):
    """The run key without its seed and data-options parts."""
    return re.sub(r"/d[0-9a-f]{8}$", "", re.sub(r"/seed\d+", "", run_key))


def seed_of(record):
    """The seed of a run, read from its run key (the part :func:`cell_key` leaves out)."""
    return int(re.search(r"/seed(\d+)", record["run_key"]).group(1))


@dataclasses.dataclass(frozen=True)
class Cell:
    """The runs found for one entry of a target's grid.

    Attributes
    ----------
    spec : dict
        The grid's spec of the cell (seed 0, see :func:`pynncomp.reproduce.targets.grid`).
    records : list of dict
        The records of its runs, in the order of ``runs.jsonl``.
    """

    spec: dict
    records: list


@dataclasses.dataclass(frozen=True)
class Summary:
    r"""Mean and sample standard deviation of a cell's values, one value per run.

    .. math::

        \bar x = \frac{1}{n}\sum_i x_i, \qquad
        s = \sqrt{\frac{1}{n - 1}\sum_i (x_i - \bar x)^2}

    Attributes
    ----------
    values : tuple of float
        One value per run, in the order of ``runs.jsonl``.
    seeds : tuple of int
        The seed of each value.
    mean : float
    std : float or None
        The sample standard deviation (ddof = 1); None for a single run.
    n : int
        The number of runs.
    """

    values: tuple
    seeds: tuple
    mean: float
    std: float
    n: int


def summarise(values, seeds):
    """The :class:`Summary` of ``values`` (one per run, ``seeds[i]`` the seed of ``values[i]``); None if empty."""
    values, seeds = tuple(values), tuple(seeds)
    if len(values) != len(seeds):
        raise ValueError(f"seeds must give one seed per value: {len(values)} values, {len(seeds)} seeds")
    if not values:
        return None
    std = statistics.stdev(values) if len(values) > 1 else None
    return Summary(values, seeds, statistics.fmean(values), std, len(values))


def accuracy(records):
    """The :class:`Summary` of the test accuracies (in %) of ``records``; None if there are none."""
    return summarise([100 * r["test_accuracy"] for r in records], [seed_of(r) for r in records])


def within_sigma(ours, published):
    """|ours − published| <= std(ours) + std(published): the two agree within their standard deviations.

    Parameters
    ----------
    ours : Summary
        Of at least two runs.
    published : (float, float)
        The paper's mean and standard deviation.
    """
    return abs(ours.mean - published[0]) <= ours.std + published[1]


# ---- records → cells -------------------------------------------------------------

def _grid_cells(target, fast):
    """``{cell key: spec}`` of every cell of the target's grid (synthetic-digits included)."""
    datasets = None if target in han.HAN_TARGETS else targets.datasets_of(target) + ("synthetic-digits",)
    return {cell_key(targets.run_key(spec)): spec for spec in targets.grid(target, 1, fast, datasets)}


def collect(records, target, fast=False):
    """``{cell key: Cell}`` of the target's cells that have runs in ``records``.

    Parameters
    ----------
    records : dict ``{run_key: record}``
        As :func:`pynncomp.reproduce.runlog.read_runs` returns them.
    target : one of :data:`pynncomp.reproduce.targets.TARGETS`
    fast : bool
        The cells of the ``--fast`` protocol instead of the full one.
    """
    grid_cells = _grid_cells(targets.check_target(target), fast)
    found = {}
    for key, record in records.items():
        spec = grid_cells.get(cell_key(key))
        if spec is not None:
            found.setdefault(cell_key(key), Cell(spec, [])).records.append(record)
    return found


def by_column(cells):
    """``{(method, dataset, column): records}`` of a comparative-study target's cells.

    The column is the sparsity, or the setting's label for a conv baseline
    (:func:`pynncomp.reproduce.convnets.label`).
    """
    columns = {}
    for cell in cells.values():
        spec = cell.spec
        column = convnets.label(spec["setting"]) if spec["method"] == "conv" else spec["sparsity"]
        columns.setdefault((spec["method"], spec["dataset"], column), []).extend(cell.records)
    return columns


def wall_times(cells, by):
    """``{(spec[by], method): [wall_s, ...]}`` of the runs of ``cells``; ``by`` is ``"dataset"`` or ``"arch"``."""
    groups = {}
    for cell in cells.values():
        groups.setdefault((cell.spec[by], cell.spec["method"]), []).extend(r["wall_s"] for r in cell.records)
    return groups


# ---- reading, and where the runs are when they are not here ------------------------

def read(results_dir, target, fast=False, command=None):
    """The records of ``results_dir/runs.jsonl`` for a report or figure of ``target``, and its notes.

    Parameters
    ----------
    results_dir : path
    target : one of :data:`pynncomp.reproduce.targets.TARGETS`
    fast : bool
    command : callable or None
        ``command(folder)`` is the command that reads another folder the
        same way (e.g. ``pynncomp report FOLDER --target T``); it is named in
        the error when the runs are elsewhere.

    Returns
    -------
    records : dict ``{run_key: record}``
    notes : list of str
        What :func:`pynncomp.reproduce.runlog.read_runs` found wrong with the file.

    Raises
    ------
    ValueError
        ``runs.jsonl`` is missing, or holds no run of ``target`` under the
        protocol asked for.  The message names the folders next to
        ``results_dir`` (its subfolders, its parent, the parent's other
        subfolders) whose ``runs.jsonl`` holds them, or says that this
        file holds the other protocol's runs, or which command makes them.
    """
    records, notes, path = runlog.read_results(results_dir, target)
    if collect(records, target, fast):
        return records, notes
    protocol = " (--fast protocol)" if fast else ""
    problem = f"{path} holds no run of {target}{protocol}"
    if collect(records, target, not fast):
        other, change = ("full", "leave out --fast") if fast else ("--fast", "add --fast")
        raise ValueError(f"{problem}; it holds runs of its {other} protocol: {change}")
    elsewhere = [folder for folder in _folders_near(results_dir) if _holds_runs(folder, target, fast)]
    if elsewhere:
        where = " and ".join(str(folder) for folder in elsewhere)
        usage = f": {command(elsewhere[0])}" if command is not None else ""
        raise ValueError(f"{problem}; the runs of {target}{protocol} are in {where}{usage}")
    raise ValueError(f"{problem}; run `pynncomp reproduce {target} --results {results_dir}"
                     f"{' --fast' if fast else ''}` first")


def _folders_near(results_dir):
    """The subfolders of ``results_dir``, its parent and the parent's other subfolders that hold a runs.jsonl."""
    here = pathlib.Path(results_dir)
    parent = pathlib.Path(os.path.normpath(here / os.pardir))

    def subfolders(folder):
        return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    near = []
    for folder in [*subfolders(here), parent, *subfolders(parent)]:
        if (folder / runlog.FILE_NAME).is_file() and folder.resolve() != here.resolve() and folder not in near:
            near.append(folder)
    return near


def _holds_runs(folder, target, fast):
    try:
        records = runlog.read_runs(pathlib.Path(folder) / runlog.FILE_NAME)[0]
    except (ValueError, OSError):  # only a hint: a damaged or unreadable file is not named
        return False
    return bool(collect(records, target, fast))


# ---- the numbers of the Han et al. targets -----------------------------------------

@dataclasses.dataclass(frozen=True)
class LayerKept:
    """One pruned layer of a LeNet: its weights, the fraction kept and Han's implied quality parameter.

    ``kept`` and ``q`` summarise the pruned runs; ``q`` is the q_l of the
    last pruning step (:mod:`pynncomp.methods.han`).
    """

    name: str
    weights: int
    kept: Summary
    q: Summary


@dataclasses.dataclass(frozen=True)
class LeNetResult:
    """The numbers of ``han-lenet300`` or ``han-lenet5``: Han et al.'s Table 2/3.

    Attributes
    ----------
    layers : list of LayerKept
        Empty when no pruned run was found.
    weights_total, weights_kept : int or None
        Of the whole net (the first pruned run's; every run keeps exactly as many).
    dense_error, pruned_error : Summary or None
        Test error in %.
    error_change : Summary or None
        Pruned − dense test error in points, each pruned net against the dense net of its seed.
    """

    layers: list
    weights_total: int
    weights_kept: int
    dense_error: Summary
    pruned_error: Summary
    error_change: Summary


def lenet_result(cells):
    """The :class:`LeNetResult` of the cells of ``han-lenet300`` or ``han-lenet5``."""
    dense = [r for cell in cells.values() if cell.spec["method"] == "dense" for r in cell.records]
    pruned = [r for cell in cells.values() if cell.spec["method"] == "han" for r in cell.records]
    seeds = [seed_of(r) for r in pruned]
    layers = []
    if pruned:
        for name, entry in pruned[0]["layers"].items():
            kept = [r["layers"][name]["kept"] / r["layers"][name]["total"] for r in pruned]
            q = [r["method_notes"]["steps"][-1]["q_layer"][name] for r in pruned]
            layers.append(LayerKept(name, entry["total"], summarise(kept, seeds), summarise(q, seeds)))
    dense_by_seed = {seed_of(r): r for r in dense}
    twinned = [r for r in pruned if seed_of(r) in dense_by_seed]
    return LeNetResult(
        layers=layers,
        weights_total=pruned[0]["weights_total"] if pruned else None,
        weights_kept=pruned[0]["weights_kept"] if pruned else None,
        dense_error=summarise([100 * (1 - r["test_accuracy"]) for r in dense], [seed_of(r) for r in dense]),
        pruned_error=summarise([100 * (1 - r["test_accuracy"]) for r in pruned], seeds),
        error_change=summarise([100 * (dense_by_seed[seed_of(r)]["test_accuracy"] - r["test_accuracy"])
                                for r in twinned], [seed_of(r) for r in twinned]),
    )


def _summarise_pairs(pairs):
    """The :class:`Summary` of ``[(value, seed), ...]``."""
    return summarise([value for value, _ in pairs], [seed for _, seed in pairs])


# The four curves of Han et al.'s Fig. 5, in the order the table and the figure show them.
L1L2_VARIANTS = (("l1", "without"), ("l1", "with"), ("l2", "without"), ("l2", "with"))


def accuracy_loss(cells):
    """``{(penalty, retraining, level): Summary}`` of ``han-l1l2``, Han et al.'s Fig. 5.

    The accuracy loss, in points, is the dense net's test accuracy minus the
    pruned net's, each pruned net against the dense net of its penalty and
    seed; ``retraining`` is ``"without"`` (the dense runs' pruned-once
    curve) or ``"with"`` (the ``han`` runs retrained after one step).
    """
    dense = {(cell.spec["protocol"]["penalty"], seed_of(r)): r
             for cell in cells.values() if cell.spec["method"] == "dense" for r in cell.records}
    losses = {}
    for cell in cells.values():
        penalty = cell.spec["protocol"]["penalty"]
        for r in cell.records:
            if cell.spec["method"] == "dense":
                for level, pruned_accuracy in r.get("pruned_without_retraining", {}).items():
                    losses.setdefault((penalty, "without", float(level)), []).append(
                        (100 * (r["test_accuracy"] - pruned_accuracy), seed_of(r)))
            elif (penalty, seed_of(r)) in dense:
                base = dense[(penalty, seed_of(r))]
                losses.setdefault((penalty, "with", cell.spec["sparsity"]), []).append(
                    (100 * (base["test_accuracy"] - r["test_accuracy"]), seed_of(r)))
    return {key: _summarise_pairs(pairs) for key, pairs in losses.items()}


def iterative_accuracy(cells):
    """``{(level, schedule): Summary}`` of ``han-iterative``: test accuracy in %, schedule ``power`` or ``oneshot``."""
    return {(cell.spec["sparsity"], cell.spec["protocol"]["schedule"]): accuracy(cell.records)
            for cell in cells.values()}


def sensitivity_accuracy(cells):
    """``{arch: {layer label: {level: Summary}}}`` of ``han-sensitivity``: validation accuracy in %.

    Each dense run carries the accuracy of its net with one layer pruned at
    each level, no retraining (Han et al.'s Fig. 6); a level a layer was
    not measured at (None) is left out.
    """
    values = {}
    for cell in cells.values():
        for r in cell.records:
            result = r.get("sensitivity")
            if not result:
                continue
            for label, entry in result["layers"].items():
                for level, measured in zip(result["sparsities"], entry["accuracy"]):
                    if measured is not None:
                        (values.setdefault(cell.spec["arch"], {}).setdefault(label, {})
                         .setdefault(level, []).append((100 * measured, seed_of(r))))
    return {arch: {label: {level: _summarise_pairs(pairs) for level, pairs in levels.items()}
                   for label, levels in layers.items()}
            for arch, layers in values.items()}


# ---- the numbers of the OBS and structured targets ----------------------------------------

def _by_network_and_level(cells):
    """``{network: {(level, method): records}}``, ``network`` as :func:`pynncomp.reproduce.obs.network_of` names it."""
    grouped = {}
    for cell in cells.values():
        spec = cell.spec
        (grouped.setdefault(obs.network_of(spec), {})
         .setdefault((spec["sparsity"], spec["method"]), []).extend(cell.records))
    return grouped


def level_accuracy(cells):
    """``{network: {(level, method): Summary}}`` of an OBS target or ``structured``: test accuracy in %.

    ``network`` names the network and its data as :func:`pynncomp.reproduce.obs.network_of`
    does; the dense net of ``obs-oneshot`` and ``structured`` is ``(0.0, "dense")``.
    """
    return {network: {key: accuracy(records) for key, records in by_cell.items()}
            for network, by_cell in _by_network_and_level(cells).items()}


def level_weights_removed(cells):
    """``{network: {(level, method): Summary}}`` of ``structured``: the fraction of the weights removed, in %.

    Read from each run's record (:func:`pynncomp.reproduce.structured.weights_removed`):
    for a structured criterion the level counts units, and this is what
    they took with them; for ``magl2`` it is the level, for ``dense`` 0.
    """
    return {network: {key: summarise([100 * structured.weights_removed(r) for r in records],
                                     [seed_of(r) for r in records])
                      for key, records in by_cell.items()}
            for network, by_cell in _by_network_and_level(cells).items()}


def network_order(target, fast=False):
    """The networks of an OBS target or ``structured`` in their grid's order, as :func:`level_accuracy` names them."""
    specs = targets.grid(target, 1, fast, targets.datasets_of(target) + ("synthetic-digits",))
    return list(dict.fromkeys(obs.network_of(spec) for spec in specs))


@dataclasses.dataclass(frozen=True)
class RunTimes:
    """The wall times of the runs of one method on one network, in seconds, one value per run.

    Attributes
    ----------
    wall : Summary
        ``wall_s``: the whole run, its pre-training included unless it came
        from the cache (``pretraining_reused``).
    prune : Summary
        ``prune_s``: its pruning steps alone (all of them, for an iterative run).
    """

    wall: Summary
    prune: Summary


def run_times(cells):
    """``{(network, method): RunTimes}`` of the runs of an OBS target or ``structured``."""
    grouped = {}
    for cell in cells.values():
        grouped.setdefault((obs.network_of(cell.spec), cell.spec["method"]), []).extend(cell.records)
    return {key: RunTimes(summarise([r["wall_s"] for r in records], [seed_of(r) for r in records]),
                          summarise([r["prune_s"] for r in records], [seed_of(r) for r in records]))
            for key, records in grouped.items()}
