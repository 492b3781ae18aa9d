"""The tables of the ``structured`` target, from the numbers of :mod:`.cells`.

* one table per network: a row per method (``dense``, ``magl2``, then the
  structured criteria), what its level counts (``removes``: weights,
  neurons or filters) and a column per level; each entry the test
  accuracy (%) as mean ± std (runs) and the mean fraction of the weights
  its runs removed (:func:`pynncomp.reproduce.structured.weights_removed`),
  the number the two kinds of pruning are compared on;
* its timings: per network and method, the wall time of a run and of its
  pruning steps alone, medians over the runs, and the total
  (:func:`pynncomp.reproduce.obs_report.timing`).

Its figure is drawn by :mod:`.plots` from the same numbers.
"""
from .. import methods
from . import cells, obs_report, structured
from .tables import Number, Spread, SpreadAt, Table, percent, text


def tables(found, fast=False):
    """``[(network, Table)]`` of ``structured`` from its cells (:func:`.cells.collect`), in the grid's order."""
    accuracy = cells.level_accuracy(found)
    removed = cells.level_weights_removed(found)
    return [(network, _method_table(accuracy[network], removed[network]))
            for network in cells.network_order("structured", fast) if network in accuracy]


def _method_table(accuracy, removed):
    """A row per method, a column per level: test accuracy at the mean fraction of weights removed."""
    levels = sorted({level for level, _ in accuracy})
    rows = []
    for method in ("dense",) + structured.METHODS:
        if not any(m == method for _, m in accuracy):
            continue
        row = [method, "" if method == "dense" else methods.REGISTRY[method].removes]
        for level in levels:
            if (level, method) in accuracy:
                row.append(SpreadAt(Spread.of(accuracy[(level, method)]),
                                    Number(removed[(level, method)].mean, ".1f", " % removed")))
            else:
                row.append(None)
        rows.append(row)
    return Table(["method", "removes"] + [text(percent(level)) for level in levels], rows)


def timing(found, fast=False, jobs=2):
    """The :class:`~pynncomp.reproduce.tables.Table` of the wall times of the runs of ``structured``.

    As :func:`pynncomp.reproduce.obs_report.timing`, a row per network and
    method: the runs, the median wall time of a run, the median time of its
    pruning steps alone (``prune_s``), the total and the total divided by
    ``jobs``.
    """
    return obs_report.timing(found, "structured", fast, jobs, methods=("dense",) + structured.METHODS)
