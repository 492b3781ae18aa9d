"""The OBS targets: their grids, run keys, the --fast targets end to end, their tables, timings and figures."""
import hashlib
import pathlib

import pytest

from pynncomp import cli
from pynncomp.reproduce import cells, obs, report, runlog, targets
from pynncomp.reproduce.runner import reproduce
from pynncomp.reproduce.tables import Spread
from pynncomp.train import Protocol

REPO = pathlib.Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SYNTH = {"n_train": 600, "n_test": 200}
# The targets before the OBS ones, and the number and SHA-1 of the sorted set of all their distinct run keys
# (full and --fast grids) as the code made them before the OBS targets existed: the committed results are found
# by these keys.  A set, so that neither the order of the targets nor which target holds a run changes it.
EARLIER_TARGETS = ("table1", "table2", "table3", "table4", "table5", "table6", "fig1", "fig2", "fig3", "fig4",
                   "fig5", "fig6", "convnets", "han-lenet300", "han-lenet5", "han-l1l2", "han-iterative",
                   "han-sensitivity")
EARLIER_KEYS = (2444, "72a7406d9f0573b3e37c2cef04bd1c063549ddb4")


# ---- grids and keys ---------------------------------------------------------------

def test_oneshot_grid_prunes_the_pretrained_dense_net_once_without_retraining():
    specs = targets.grid("obs-oneshot")
    assert targets.levels_of("obs-oneshot") == (0.0, 0.5, 0.8, 0.9, 0.95, 0.98)
    assert {(s["method"], s["sparsity"]) for s in specs} == (
        {("dense", 0.0)} | {(m, S) for m in ("magl2", "obd", "lobs") for S in (0.5, 0.8, 0.9, 0.95, 0.98)})
    assert {s["seed"] for s in specs} == {0, 1, 2} and {s["dataset"] for s in specs} == {"mnist"}
    assert {(s["arch"], str(s["hidden"]), s["split"]) for s in specs} == {("mlp", "[100]", "paper"),
                                                                         ("lenet300", "None", "standard")}
    assert len(specs) == 2 * 3 * (1 + 5 * 3)
    expected = Protocol(lr_decay=0.95, pretrain_epochs=20, schedule="oneshot", steps=1, finetune_max=0)
    assert all(s["protocol"] == expected.to_dict() for s in specs)
    # the dense net is the first P epochs; the one step comes at the end of them, and nothing after it
    assert (expected.fixed_epochs, expected.prune_epochs(1)) == (20, [20])


def test_iterative_grid_is_the_studys_protocol_at_three_levels():
    specs = targets.grid("obs-iterative")
    assert {(s["method"], s["sparsity"], s["seed"]) for s in specs} == {
        (m, S, seed) for m in ("magl2", "obd", "lobs") for S in (0.9, 0.99, 0.998) for seed in (0, 1, 2)}
    assert len(specs) == 27
    assert all(s["protocol"] == Protocol().to_dict() and s["arch"] == "mlp" and s["hidden"] == [100]
               and s["split"] == "paper" for s in specs)


def test_run_keys_are_unique_and_the_earlier_targets_keep_theirs():
    oneshot = [targets.run_key(s) for s in targets.grid("obs-oneshot")]
    iterative = [targets.run_key(s) for s in targets.grid("obs-iterative")]
    fast = [targets.run_key(s) for t in obs.OBS_TARGETS for s in targets.grid(t, fast=True)]
    everything = oneshot + iterative + fast
    assert len(everything) == len(set(everything)) == 96 + 27 + 28 + 12
    assert "lobs/mnist@standard/784-300-100-10/S0.98/seed2/p" in oneshot[-1]
    # the magl2 and obd runs of obs-iterative are the study's runs of MagL2 and OBD (100 hidden units) at those levels
    tables = [t for t, (method, hidden) in targets.TABLES.items() if method in ("magl2", "obd") and hidden == 100]
    assert len(tables) == 2
    study = {targets.run_key(s) for t in tables for s in targets.grid(t, datasets=["mnist"])}
    assert {k for k in iterative if not k.startswith("lobs/")} <= study
    earlier = sorted({targets.run_key(s) for t in EARLIER_TARGETS for fast_ in (False, True)
                      for s in targets.grid(t, fast=fast_)})
    assert (len(earlier), hashlib.sha1("\n".join(earlier).encode()).hexdigest()) == EARLIER_KEYS
    assert targets.TARGETS[:len(EARLIER_TARGETS)] == EARLIER_TARGETS


@pytest.mark.parametrize("kwargs, match", [
    ({"target": "obs-oneshot", "levels": [0.99]}, r"levels must be among \(0.0, 0.5, 0.8, 0.9, 0.95, 0.98\)"),
    ({"target": "obs-iterative", "levels": [0.5]}, r"levels must be among \(0.9, 0.99, 0.998\)"),
    ({"target": "obs-oneshot", "datasets": ["mnist-rot"]}, r"datasets must be among \('mnist', 'synthetic-digits'\)"),
    ({"target": "obs-iterative", "runs": 0}, "runs must be an integer >= 1"),
])
def test_a_level_or_data_set_outside_the_target_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        targets.grid(**kwargs)


def test_the_command_line_refuses_them_naming_the_option(tmp_path, capsys):
    for args, message in ((["--levels", "0.42"], "--levels: levels must be among"),
                          (["--datasets", "cifar"], "--datasets: datasets must be among")):
        assert cli.main(["reproduce", "obs-oneshot", "--results", str(tmp_path), *args]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "runs.jsonl").exists()


def test_a_subset_of_levels_and_the_fast_grid():
    assert {s["sparsity"] for s in targets.grid("obs-oneshot", levels=[0, 0.9])} == {0.0, 0.9}
    fast = targets.grid("obs-oneshot", fast=True)
    assert {s["seed"] for s in fast} == {0, 1} and {s["sparsity"] for s in fast} == {0.0, 0.5, 0.9}
    assert all(s["protocol"]["pretrain_epochs"] == 1 and s["train_subset"] == 3000 for s in fast)


# ---- the --fast targets end to end ----------------------------------------------------------

@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("obs")
    quiet = {"fast": True, "runs": 1, "datasets": ["synthetic-digits"], "data_options": SYNTH,
             "say": lambda *a: None}
    assert reproduce("obs-oneshot", folder, **quiet) == (14, 0)
    assert reproduce("obs-iterative", folder, **quiet) == (6, 0)
    return folder


def test_the_fast_runs_record_their_pruning_time_apart(results):
    records = runlog.read_runs(results / "runs.jsonl")[0].values()
    for record in records:
        assert len(record["prune_step_s"]) == (0 if record["method"] == "dense" else
                                               record["config"]["protocol"]["steps"])
        assert record["prune_s"] == sum(record["prune_step_s"]) <= record["wall_s"]
    oneshot = [r for r in records if r["config"]["protocol"]["finetune_max"] == 0]
    assert len(oneshot) == 14 and all(r["epochs"] == 1 for r in oneshot)


def test_the_reports_have_one_table_per_network(results, capsys):
    assert cli.main(["report", str(results), "--target", "obs-oneshot", "--fast"]) == 0
    out = capsys.readouterr().out
    blocks = out.strip().split("\n\n")
    assert blocks[0] == "**784-16-10, synthetic-digits**" and blocks[2] == "**784-32-16-10, synthetic-digits**"
    for table in (blocks[1], blocks[3]):
        lines = table.splitlines()
        assert lines[0] == "| removed | magl2 | obd | lobs |"
        rows = [[entry.strip() for entry in line.strip("|").split("|")] for line in lines[2:]]
        assert [row[0] for row in rows] == ["0 % (dense)", "50 %", "90 %"]
        assert len(set(rows[0][1:])) == 1 and rows[0][1].endswith("(1)")  # one dense net, every method's start
    assert cli.main(["report", str(results), "--target", "obs-iterative", "--fast", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["# 784-16-10, synthetic-digits", "removed,magl2,obd,lobs"]
    assert [line.split(",")[0] for line in lines[2:]] == ["90 %", "99 %"]


def test_the_timings_give_the_pruning_steps_apart(results, capsys):
    assert cli.main(["report", str(results), "--target", "obs-oneshot", "--fast", "--timings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("| network | method | runs | median per run | pruning, median per run | total | "
                        "at --jobs 2 |")
    assert [line.split(" | ")[1] for line in lines[2:6]] == ["dense", "magl2", "obd", "lobs"]
    assert lines[-1].startswith("| all |  | 14 | ")


def test_the_figures(results, tmp_path):
    for target in obs.OBS_TARGETS:
        out = tmp_path / f"{target}.png"
        assert cli.main(["plot", str(results), "--target", target, "--fast", "--out", str(out)]) == 0
        assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_a_full_report_of_fast_runs_says_so(results, capsys):
    assert cli.main(["report", str(results), "--target", "obs-oneshot"]) == 2
    assert "it holds runs of its --fast protocol: add --fast" in capsys.readouterr().err


# ---- the numbers of the tables --------------------------------------------------------------

def test_the_table_numbers_are_the_mean_and_deviation_over_seeds():
    records = {}
    for spec in targets.grid("obs-iterative", runs=3, levels=[0.99]):
        key = targets.run_key(spec)
        accuracy = {"magl2": 0.95, "obd": 0.94, "lobs": 0.93}[spec["method"]] + spec["seed"] / 1000
        records[key] = {"run_key": key, "test_accuracy": accuracy, "wall_s": 30.0, "prune_s": 1.0}
    ((title, table),) = report.tables(records, "obs-iterative")
    assert title == "784-100-10, mnist (paper split)"
    assert table.header == ["removed", "magl2", "obd", "lobs"]
    (row,) = table.rows
    assert [entry.mean for entry in row[1:]] == pytest.approx([95.1, 94.1, 93.1])
    assert [entry.std for entry in row[1:]] == pytest.approx([0.1] * 3) and [entry.n for entry in row[1:]] == [3] * 3
    assert isinstance(row[1], Spread)
    with pytest.raises(ValueError, match="one table per network"):
        report.table(records, "obs-iterative")


# ---- the committed evidence ------------------------------------------------------------------

EVIDENCE = REPO / "results" / "obs"


@pytest.mark.skipif(not (EVIDENCE / "runs.jsonl").exists(), reason="results/obs holds no runs")
def test_the_committed_evidence_is_every_run_of_both_targets_once():
    records = runlog.read_runs(EVIDENCE / "runs.jsonl")[0]
    for target in obs.OBS_TARGETS:
        found = cells.collect(records, target)
        grid = targets.grid(target, runs=max(cells.seed_of(r) for c in found.values() for r in c.records) + 1)
        assert sum(len(cell.records) for cell in found.values()) == len(grid)
