"""The tables of the OBS targets, from the numbers of :mod:`.cells`.

* ``obs-oneshot``, ``obs-iterative``: one table per network, a row per
  level removed and a column per method (``magl2``, ``obd``, ``lobs``),
  each entry the test accuracy (%) as mean ± std (runs); in
  ``obs-oneshot`` the row "0 % (dense)" is the dense net every method
  starts its one step from (the same net in every column).
* their timings: per network and method, the wall time of a run and of its
  pruning step(s) alone (``prune_s``), medians over the runs, and the total.

Their figure is drawn by :mod:`.plots` from the same numbers.
"""
import statistics

from . import cells, obs
from .tables import Duration, Number, Spread, Table, percent


def tables(found, target, fast=False):
    """``[(network, Table)]`` of an OBS target from its cells (:func:`.cells.collect`), in the grid's order."""
    accuracy = cells.level_accuracy(found)
    return [(network, _level_table(accuracy[network]))
            for network in cells.network_order(target, fast) if network in accuracy]


def _level_table(accuracy):
    methods = [method for method in obs.METHODS if any(m == method for _, m in accuracy)]
    rows = []
    for level in sorted({level for level, _ in accuracy}):
        if level == 0:
            dense = Spread.of(accuracy.get((0.0, "dense")))
            rows.append(["0 % (dense)"] + [dense] * len(methods))
        else:
            rows.append([percent(level)] + [Spread.of(accuracy.get((level, method))) for method in methods])
    return Table(["removed"] + methods, rows)


def timing(found, target, fast=False, jobs=2, methods=("dense",) + obs.METHODS):
    """The :class:`~pynncomp.reproduce.tables.Table` of the wall times of an OBS target's runs.

    Per network and method: the runs, the median wall time of a run
    (``wall_s``, its pre-training included only where it was not shared),
    the median time of its pruning step(s) alone (``prune_s``), the total
    and the total divided by ``jobs``.  ``methods`` are the rows of each
    network, in order (``structured`` gives its own,
    :func:`pynncomp.reproduce.structured_report.timing`).
    """
    times = cells.run_times(found)
    header = ["network", "method", "runs", "median per run", "pruning, median per run", "total",
              f"at --jobs {jobs}"]
    rows = []
    for network in cells.network_order(target, fast):
        for method in methods:
            if (network, method) in times:
                entry = times[(network, method)]
                rows.append([network, method, Number(entry.wall.n, "d"),
                             Number(statistics.median(entry.wall.values), ".1f", " s"),
                             None if method == "dense" else Number(statistics.median(entry.prune.values), ".2f", " s"),
                             Duration(sum(entry.wall.values)), Duration(sum(entry.wall.values) / jobs)])
    if len(rows) > 1:
        everything = [value for entry in times.values() for value in entry.wall.values]
        rows.append(["all", "", Number(len(everything), "d"), Number(statistics.median(everything), ".1f", " s"),
                     None, Duration(sum(everything)), Duration(sum(everything) / jobs)])
    return Table(header, rows)
