"""Grades tutorials/exercises/ex09_reproduction.py against pynncomp's reproduction reports.

The oracles: ``pynncomp.reproduce.cells`` (``summarise``, ``within_sigma``,
``cell_key``) and the Table 1 that ``pynncomp.reproduce.report.table`` builds
from records of runs, as ``pynncomp report`` prints it.
"""
import grader
import numpy as np
import pytest

from pynncomp.reproduce import cells, paper, report, targets
from pynncomp.reproduce.tables import Spread

exercise = grader.load("ex09_reproduction")


def test_mean_std_matches_the_cells_summary():
    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 7):
        values = list(95 + rng.standard_normal(n))
        expected = cells.summarise(values, list(range(n)))
        mean, std = grader.call(exercise.mean_std, values)
        grader.assert_close(f"mean of {n} values", mean, expected.mean, rtol=1e-12)
        grader.assert_close(f"sample standard deviation (ddof = 1) of {n} values", std, expected.std, rtol=1e-10)


def test_mean_std_of_one_value_has_no_std():
    mean, std = grader.call(exercise.mean_std, [97.5])
    grader.assert_close("mean of one value", mean, 97.5)
    if std is not None:
        pytest.fail(f"std of a single value: expected None (one run has no standard deviation), got {std!r}")


def test_within_matches_cells_within_sigma():
    rng = np.random.default_rng(5)
    cases = [([97.0, 98.0], 98.2, 0.1)]  # |Δ| = 0.7: inside s + 0.1 with ddof = 1 (0.807), outside with ddof = 0 (0.6)
    for _ in range(12):
        n = int(rng.integers(2, 6))
        values = list(94 + rng.standard_normal(n) * rng.uniform(0.05, 1.5))
        cases.append((values, float(94 + rng.normal(0, 1)), float(rng.uniform(0.05, 1.0))))
    for values, paper_mean, paper_std in cases:
        expected = cells.within_sigma(cells.summarise(values, list(range(len(values)))), (paper_mean, paper_std))
        got = grader.call(exercise.within, values, paper_mean, paper_std)
        # in a list: grader.assert_equal compares arrays, and a 0-d one would hide a difference
        grader.assert_equal(f"within({[round(v, 3) for v in values]}, {paper_mean:.3f}, {paper_std:.3f})",
                            [got], [expected])


def _records(values_by_level):
    """Records of table1 runs on mnist (default protocol), seed i holding values[i] (in %)."""
    records = {}
    for level, values in values_by_level.items():
        for spec in targets.grid("table1", len(values), False, ["mnist"], [level]):
            key = targets.run_key(spec)
            records[key] = {"run_key": key, "test_accuracy": values[spec["seed"]] / 100}
    return records


def test_mean_std_and_within_give_the_numbers_pynncomp_report_prints():
    rng = np.random.default_rng(9)
    # one run: no verdict.  Two runs 1 point apart, 0.7 above the paper's 97.69 ± 0.05: inside
    # s + 0.05 with ddof = 1 (0.757), outside with ddof = 0 (0.55)
    values_by_level = {0.0: [97.7], 0.5: [97.89, 98.89]}
    for level in (0.9, 0.97, 0.99, 0.997):
        published_mean, published_std = paper.paper_cell("table1", "mnist", level)
        # near the edge of the band: half inside, half outside
        spread = rng.uniform(0.05, 0.6)
        values = published_mean + rng.uniform(-2, 2) * (spread + published_std) + spread * rng.standard_normal(5)
        values_by_level[level] = [float(v) for v in values]
    table = report.table(_records(values_by_level), "table1")
    column = table.header.index("mnist")
    verdict = table.header.index("within σ")
    for row in table.rows:
        level = row[0].value / 100
        if level not in values_by_level:
            continue
        shown = row[column]
        assert isinstance(shown, Spread)
        mean, std = grader.call(exercise.mean_std, values_by_level[level])
        grader.assert_close(f"mean at {100 * level:g} % removed, as the report prints it", mean, shown.mean,
                            rtol=1e-12)
        if shown.std is None:
            if std is not None:
                pytest.fail(f"std at {100 * level:g} % removed (one run): expected None, got {std!r}")
        else:
            grader.assert_close(f"std at {100 * level:g} % removed, as the report prints it", std, shown.std,
                                rtol=1e-10)
        published_mean, published_std = paper.paper_cell("table1", "mnist", level)
        got = grader.call(exercise.within, values_by_level[level], published_mean, published_std)
        expected = {None: None, "yes": True, "no": False}[row[verdict]]
        if (None if got is None else bool(got)) is not expected:
            pytest.fail(f"'within σ' at {100 * level:g} % removed: the report prints {row[verdict]!r}, so "
                        f"expected {expected!r}, got {got!r}")


def test_cell_key_matches_cells_cell_key():
    specs = (targets.grid("table1", 2, False, ["mnist"], [0.99])
             + targets.grid("han-sensitivity", 1, True)
             + targets.grid("han-lenet300", 1, False)
             + targets.grid("convnets", 1, True)[:2])
    keys = [targets.run_key(spec) for spec in specs]
    tiny = targets.grid("table1", 13, True, ["synthetic-digits"], [0.9])[-1]  # seed 12
    tiny["data"] = {"n_train": 300, "n_test": 100}
    keys.append(targets.run_key(tiny))  # ends in /d<8 hex digits>
    for key in keys:
        grader.assert_equal(f"cell_key({key!r})", [grader.call(exercise.cell_key, key)], [cells.cell_key(key)])
