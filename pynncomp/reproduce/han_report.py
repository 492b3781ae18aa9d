"""The tables of the Han et al. targets, from the numbers of :mod:`.cells`.

* ``han-lenet300``, ``han-lenet5``: Han et al.'s Table 2/3 layout — per
  layer the weights, the kept fraction (theirs and ours) and the implied
  quality parameter q_l; then the network's test error before and after,
  ours (mean ± std over runs) beside theirs.
* ``han-l1l2``: accuracy loss (dense accuracy − pruned accuracy, points)
  against the fraction pruned, L1 and L2, without and with retraining
  (Han et al. Fig. 5).
* ``han-iterative``: test accuracy, iterative against one-shot.
* ``han-sensitivity``: validation accuracy with one layer pruned, per
  layer and level (Han et al. Fig. 6).

Their figures are drawn by :mod:`.plots` from the same numbers.
"""
from . import cells, han
from .tables import Kept, Number, Spread, Table, percent


def table(found, target):
    """The :class:`~pynncomp.reproduce.tables.Table` of a Han et al. target from its cells (:func:`.cells.collect`)."""
    if target in ("han-lenet300", "han-lenet5"):
        return _lenet_table(cells.lenet_result(found), target.split("-")[1])
    if target == "han-l1l2":
        return _l1l2_table(cells.accuracy_loss(found))
    if target == "han-iterative":
        return _iterative_table(cells.iterative_accuracy(found))
    if target == "han-sensitivity":
        return _sensitivity_table(cells.sensitivity_accuracy(found))
    raise ValueError(f"target must be one of {han.HAN_TARGETS}, got {target!r}")


def _lenet_table(result, arch):
    header = ["layer", "weights", "kept (Han et al.)", "kept (ours)", "q_l (ours)"]
    published = han.PAPER[arch]
    rows = []
    for layer, han_kept in zip(result.layers, han.PAPER_KEPT[arch]):
        rows.append([layer.name, Number(layer.weights, ","), percent(han_kept),
                     Number(100 * layer.kept.mean, ".2f", " %"), Number(layer.q.mean, ".3f")])
    if result.layers:
        rows.append(["total", Number(result.weights_total, ","),
                     Kept(published["weights_pruned"], published["weights"], digits=0),
                     Kept(result.weights_kept, result.weights_total), None])
    rows.append(["test error, dense", None, Number(published["error_dense"], ".2f", " %"),
                 Spread.of(result.dense_error, " %"), None])
    rows.append(["test error, pruned", None, Number(published["error_pruned"], ".2f", " %"),
                 Spread.of(result.pruned_error, " %"), None])
    rows.append(["pruned − dense, same seed", None,
                 Number(published["error_pruned"] - published["error_dense"], ".2f", " points"),
                 Spread.of(result.error_change, " points"), None])
    return Table(header, rows)


def _l1l2_table(losses):
    levels = sorted({level for _, _, level in losses})
    header = ["pruned"] + [f"{penalty.upper()} {retraining} retraining" for penalty, retraining in cells.L1L2_VARIANTS]
    rows = [[percent(level)] + [Spread.of(losses.get((penalty, retraining, level)))
                                for penalty, retraining in cells.L1L2_VARIANTS]
            for level in levels]
    return Table(header, rows)


def _iterative_table(accuracy):
    levels = sorted({level for level, _ in accuracy})
    header = ["pruned", "iterative (k steps)", "one-shot", "iterative − one-shot"]
    rows = []
    for level in levels:
        iterative, one_shot = accuracy.get((level, "power")), accuracy.get((level, "oneshot"))
        gain = None if iterative is None or one_shot is None else Number(iterative.mean - one_shot.mean, "+.2f")
        rows.append([percent(level), Spread.of(iterative), Spread.of(one_shot), gain])
    return Table(header, rows)


def _sensitivity_table(accuracy):
    """Per network a row of layer labels, then one row per level; columns padded to the widest network."""
    rows = []
    for arch in sorted(accuracy):
        layers = accuracy[arch]
        levels = sorted({level for by_level in layers.values() for level in by_level})
        rows.append([arch, "layer →", *layers])
        for level in levels:
            rows.append([arch, percent(level), *(Spread.of(by_level.get(level)) for by_level in layers.values())])
    width = max((len(row) for row in rows), default=2)
    header = ["network", "pruned"] + [""] * (width - 2)
    return Table(header, [row + [None] * (width - len(row)) for row in rows])
