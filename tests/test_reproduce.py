"""The reproduction runner: grids, run keys, runs.jsonl, resume after a kill, reports, plots."""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import pytest

from pynncomp import cli
from pynncomp.reproduce import cells, report, runlog, targets
from pynncomp.reproduce.runner import reproduce

REPO = pathlib.Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SYNTH = {"n_train": 600, "n_test": 200}

pytestmark = pytest.mark.usefixtures("isolated_data")


# ---- grids and keys ---------------------------------------------------------------

def test_table_grids_follow_the_study():
    specs = targets.grid("table1")
    assert len(specs) == 14 * 4 * 5
    assert {s["method"] for s in specs} == {"magl2"} and {tuple(s["hidden"]) for s in specs} == {(100,)}
    assert sorted({s["sparsity"] for s in specs}) == list(targets.LEVELS_100)
    table4 = targets.grid("table4", runs=1)
    assert sorted({s["sparsity"] for s in table4}) == [0.9, 0.95, 0.97, 0.98, 0.985, 0.988, 0.989, 0.99]
    assert {s["hidden"][0] for s in table4} == {30}
    assert {(s["method"], s["hidden"][0]) for s in targets.grid("table5", runs=1)} == {("obd", 100)}
    assert {s["dataset"] for s in targets.grid("fig4", runs=1)} == {"mnist-back-rand"}
    assert {s["method"] for s in targets.grid("fig2", runs=1)} == {"magl1", "magl2", "obd", "hashednet"}
    fig6 = targets.grid("fig6", runs=1)
    assert [(s["method"], s["hidden"], s["sparsity"], s["save_model"]) for s in fig6] == [
        ("magl1", [50], 0.96, True), ("magl2", [50], 0.96, True)]
    assert len(targets.grid("convnets", runs=5, datasets=["mnist"])) == 24 * 5


# The study's captions, as it numbers its tables and figures (docs/methods.md#table-numbering): the target of
# the same number must be the (method, hidden units) of a table, the data set of a figure (after the last comma).
CAPTIONS = (
    "Table 1: MagL2, 100 hidden units",
    "Table 2: MagL1, 30 hidden units",
    "Table 3: MagL1, 100 hidden units",
    "Table 4: MagL2, 30 hidden units",
    "Table 5: OBD, 100 hidden units",
    "Table 6: OBD, 30 hidden units",
    "Figure 1: HashedNet against the conv nets, mnist",
    "Figure 2: the pruning methods against the conv nets, mnist",
    "Figure 3: the same, mnist-rot",
    "Figure 4: the same, mnist-back-rand",
    "Figure 5: the same, mnist-back-image",
)


@pytest.mark.parametrize("caption", CAPTIONS)
def test_each_target_is_the_table_or_figure_of_the_same_number_in_the_study(caption):
    table = re.fullmatch(r"Table (\d): (MagL1|MagL2|OBD), (\d+) hidden units", caption)
    if table:
        target, method, hidden = f"table{table.group(1)}", table.group(2).lower(), int(table.group(3))
        specs = targets.grid(target, runs=1)
        assert targets.TABLES[target] == (method, hidden)
        assert {(s["method"], s["hidden"][0]) for s in specs} == {(method, hidden)}
        assert {s["dataset"] for s in specs} == set(targets.datasets_of(target)) == {
            "mnist", "mnist-back-image", "mnist-back-rand", "mnist-rot"}
        assert targets.levels_of(target) == (targets.LEVELS_100 if hidden == 100 else targets.LEVELS_30)
    else:
        figure = re.fullmatch(r"Figure (\d): .*, (\S+)", caption)
        target, dataset = f"fig{figure.group(1)}", figure.group(2)
        specs = targets.grid(target, runs=1)
        assert targets.FIGURE_DATASETS[target] == dataset
        assert {s["dataset"] for s in specs} == {dataset} and targets.datasets_of(target) == (dataset,)
        # Figure 1 is HashedNet alone; fig2…fig5 draw HashedNet beside the three pruning methods
        assert {s["method"] for s in specs} == (
            {"hashednet"} if target == "fig1" else {"magl1", "magl2", "obd", "hashednet"})
        assert {s["hidden"][0] for s in specs} == {100}
        assert sorted({s["sparsity"] for s in specs}) == list(targets.LEVELS_100)


def test_the_targets_are_in_the_studys_order_and_the_docs_number_them_the_same():
    assert targets.TARGETS[:12] == tuple(f"table{i}" for i in range(1, 7)) + tuple(f"fig{i}" for i in range(1, 7))
    assert [caption.split(":")[0] for caption in CAPTIONS] == (
        [f"Table {i}" for i in range(1, 7)] + [f"Figure {i}" for i in range(1, 6)])
    numbering = (REPO / "docs" / "methods.md").read_text()
    for caption, target in zip(CAPTIONS, targets.TARGETS):
        number, _, content = caption.partition(": ")
        assert f"| {number} | {content} | `{target}` |" in numbering


def test_run_keys_are_unique_and_separate_fast_from_full():
    keys = [targets.run_key(s) for s in targets.grid("fig2")]
    assert len(keys) == len(set(keys))
    full = targets.run_key(targets.grid("table1", runs=1, levels=[0.9], datasets=["mnist"])[0])
    fast = targets.run_key(targets.grid("table1", runs=1, fast=True, levels=[0.9], datasets=["mnist"])[0])
    assert full != fast and full.startswith("magl2/mnist/784-100-10/S0.9/seed0/p")
    # a run shared by two targets has one key
    shared = [s for s in targets.grid("fig2", runs=1) if s["method"] == "magl2" and s["sparsity"] == 0.9]
    assert targets.run_key(shared[0]) == full


@pytest.mark.parametrize("kwargs, match", [
    ({"target": "table7"}, "target must be one of"),
    ({"target": "table1", "datasets": ["cifar"]}, "datasets must be among"),
    ({"target": "fig2", "datasets": ["mnist-rot"]}, "datasets must be among"),
    ({"target": "table1", "levels": [0.42]}, "levels must be among"),
    ({"target": "table1", "runs": 0}, "runs must be an integer >= 1"),
])
def test_bad_grid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        targets.grid(**kwargs)


# ---- runs.jsonl -----------------------------------------------------------------------

def _line(key, acc=0.5):
    return json.dumps({"run_key": key, "test_accuracy": acc}) + "\n"


def test_torn_last_line_is_reported_ignored_and_cut_before_appending(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(_line("a") + _line("b") + '{"run_key": "c", "test_acc')
    records, intact, notes = runlog.read_runs(path)
    assert set(records) == {"a", "b"} and len(notes) == 1 and "line 3 is incomplete" in notes[0]
    assert intact == len((_line("a") + _line("b")).encode())
    with runlog.open_for_append(path) as stream:
        runlog.append_run(stream, {"run_key": "c", "test_accuracy": 0.7})
    records, _, notes = runlog.read_runs(path)
    assert notes == [] and records["c"]["test_accuracy"] == 0.7
    assert path.read_text().count("\n") == 3


def test_a_complete_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(_line("a") + _line("b").rstrip("\n"))
    assert set(runlog.read_runs(path)[0]) == {"a", "b"}
    with runlog.open_for_append(path) as stream:
        runlog.append_run(stream, {"run_key": "c", "test_accuracy": 0.5})
    assert set(runlog.read_runs(path)[0]) == {"a", "b", "c"}


def test_damage_in_the_middle_is_refused_not_deleted(tmp_path):
    path = tmp_path / "runs.jsonl"
    content = _line("a") + "garbage\n" + _line("b")
    path.write_text(content)
    with pytest.raises(runlog.RunLogError, match="line 2 is not a run record"):
        runlog.read_runs(path)
    with pytest.raises(runlog.RunLogError):
        runlog.open_for_append(path)
    assert path.read_text() == content


# ---- the runner -------------------------------------------------------------------------

def test_fast_target_end_to_end_report_and_plot(tmp_path, capsys):
    results = tmp_path / "res"
    assert reproduce("table1", results, fast=True, datasets=["synthetic-digits"], data_options=SYNTH,
                     say=lambda *a: None) == (6, 0)
    # a second call finds everything done
    messages = []
    assert reproduce("table1", results, fast=True, datasets=["synthetic-digits"], data_options=SYNTH,
                     say=messages.append) == (0, 0)
    assert "6 already in" in messages[0] and "0 to do" in messages[0]
    assert cli.main(["report", str(results), "--target", "table1", "--fast"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "| removed | synthetic-digits | paper | Δ | within σ |"
    assert "| 90 % | " in out and "(2)" in out
    assert cli.main(["plot", str(results), "--target", "table1", "--fast", "--out", str(tmp_path / "t1.png")]) == 0
    assert (tmp_path / "t1.png").read_bytes().startswith(PNG_SIGNATURE)


def test_fig2_with_conv_front_and_fig6_histograms(tmp_path):
    results = tmp_path / "res"
    quiet = {"say": lambda *a: None, "data_options": SYNTH, "fast": True, "runs": 1}
    assert reproduce("fig2", results, datasets=["synthetic-digits"], **quiet) == (12, 0)
    assert reproduce("convnets", results, datasets=["synthetic-digits"], **quiet) == (3, 0)
    assert reproduce("fig6", results, datasets=["synthetic-digits"], **quiet) == (2, 0)
    records, _, _ = runlog.read_runs(results / "runs.jsonl")
    conv = [r for r in records.values() if r["method"] == "conv"]
    assert len(conv) == 3 and all(r["epochs"] == 2 and r["parameters"] > 0 for r in conv)
    fig6 = [r for r in records.values() if "model_file" in r]
    assert len(fig6) == 2 and all((results / r["model_file"]).exists() for r in fig6)
    header, rows = report.table(records, "convnets", fast=True)
    assert header[-1] == "Pareto" and any(row[-1] == "yes" for row in rows)
    for target in ("fig2", "fig6"):
        out = tmp_path / f"{target}.png"
        assert cli.main(["plot", str(results), "--target", target, "--fast", "--out", str(out)]) == 0
        assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_report_aggregates_known_records(tmp_path):
    specs = targets.grid("table1", runs=3, levels=[0.9, 0.99], datasets=["mnist"])
    accs = {0.9: [0.97, 0.96, 0.98], 0.99: [0.94, 0.95, 0.93]}
    lines = []
    for spec in specs:
        lines.append(_line(targets.run_key(spec), accs[spec["sparsity"]][spec["seed"]]))
    lines.append(_line("magl2/mnist/784-100-10/S0.9/seed9/pdeadbeef", 0.1))  # another protocol: ignored
    (tmp_path / "runs.jsonl").write_text("".join(lines))
    text, notes = report.report(tmp_path, "table1")
    assert notes == []
    rows = text.splitlines()
    assert rows[0] == "| removed | mnist | paper | Δ | within σ |"
    assert rows[2] == "| 90 % | 97.00 ± 1.00 (3) | 96.99 ± 0.18 | +0.01 | yes |"
    assert rows[3] == "| 99 % | 94.00 ± 1.00 (3) | 94.31 ± 0.17 | -0.31 | yes |"
    csv_text, _ = report.report(tmp_path, "table1", "csv")
    assert csv_text.splitlines()[1] == "90 %,97.00 ± 1.00 (3),96.99 ± 0.18,+0.01,yes"
    tex, _ = report.report(tmp_path, "table1", "tex")
    assert r"90 \% & 97.00 $\pm$ 1.00 (3)" in tex and tex.startswith(r"\begin{tabular}")


def test_report_timings_sum_the_runs_wall_times(tmp_path, capsys):
    specs = targets.grid("table1", runs=2, levels=[0.9, 0.99], datasets=["mnist"])
    lines = [json.dumps({"run_key": targets.run_key(spec), "test_accuracy": 0.9, "wall_s": wall}) + "\n"
             for spec, wall in zip(specs, (30.0, 50.0, 40.0, 3600.0))]
    (tmp_path / "runs.jsonl").write_text("".join(lines))
    assert cli.main(["report", str(tmp_path), "--target", "table1", "--timings"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "| dataset | method | runs | median per run | total | at --jobs 2 |"
    assert rows[2] == "| mnist | magl2 | 4 | 45 s | 1 h 02 min | 31.0 min |"


def test_report_errors_name_what_is_missing(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path), "--target", "table1"]) == 2
    assert "runs.jsonl does not exist" in capsys.readouterr().err
    (tmp_path / "runs.jsonl").write_text(_line("something/else"))
    assert cli.main(["report", str(tmp_path), "--target", "table2"]) == 2
    assert "holds no run of table2" in capsys.readouterr().err
    assert cli.main(["reproduce", "table9", "--results", str(tmp_path)]) == 2
    assert "target must be one of" in capsys.readouterr().err
    for args, message in ((["--datasets", "cifar"], "--datasets: datasets must be among"),
                          (["--levels", "0.42"], "--levels: levels must be among"),
                          (["--runs", "0"], "--runs: runs must be an integer >= 1")):
        assert cli.main(["reproduce", "table1", "--results", str(tmp_path), *args]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse's type check
        cli.main(["reproduce", "table1", "--results", str(tmp_path), "--jobs", "0"])
    assert "argument --jobs: expected an integer >= 1, got '0'" in capsys.readouterr().err


def test_killed_reproduction_resumes_without_recomputing_or_losing(tmp_path):
    """Kill the runner (and its workers) mid-grid, restart, and check the bookkeeping."""
    results = tmp_path / "res"
    command = [sys.executable, "-m", "pynncomp", "reproduce", "table1", "--fast", "--runs", "6", "--jobs", "2",
               "--datasets", "synthetic-digits", "--n-train", "2500", "--n-test", "200", "--results", str(results)]
    log = results / "runs.jsonl"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ),
                               start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or log.read_text().count("\n") < 3):
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = log.read_bytes()
    n_before = before.count(b"\n")
    assert 3 <= n_before < 18, "the kill must land mid-grid"
    # simulate the worst a kill can do to the file: a torn last line
    with open(log, "ab") as stream:
        stream.write(b'{"run_key": "magl2/synth')
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is incomplete" in result.stdout
    assert f"{n_before} already in" in result.stdout and f"{18 - n_before} to do" in result.stdout
    after = log.read_bytes()
    assert after.startswith(before)  # nothing lost or rewritten
    keys = [json.loads(line)["run_key"] for line in after.splitlines()]
    assert len(keys) == len(set(keys)) == 18


def test_a_killed_worker_stops_the_run_cleanly_and_it_resumes(tmp_path):
    results = tmp_path / "res"
    command = [sys.executable, "-m", "pynncomp", "reproduce", "table1", "--fast", "--runs", "6", "--jobs", "2",
               "--datasets", "synthetic-digits", "--n-train", "2500", "--n-test", "200", "--results", str(results)]
    log = results / "runs.jsonl"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ))
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or log.read_text().count("\n") < 2):
        time.sleep(0.02)
    workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
    workers = [pid for pid in workers if "spawn_main" in open(f"/proc/{pid}/cmdline").read()]
    assert workers, "no worker process found"
    os.kill(int(workers[0]), signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "a worker process died" in err and "Traceback" not in err
    before = log.read_bytes()
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert result.returncode == 0
    after = log.read_bytes()
    assert after.startswith(before)
    keys = [json.loads(line)["run_key"] for line in after.splitlines()]
    assert len(keys) == len(set(keys)) == 18


def test_within_sigma_compares_the_difference_with_both_deviations():
    assert cells.within_sigma(cells.summarise([97.0, 98.0], [0, 1]), (97.0, 0.1))       # |0.5| <= 0.707 + 0.1
    assert not cells.within_sigma(cells.summarise([97.0, 97.2], [0, 1]), (96.0, 0.5))   # |1.1| >  0.141 + 0.5


def test_a_second_writer_on_the_same_results_is_refused(tmp_path):
    with runlog.exclusive(tmp_path):
        with pytest.raises(runlog.RunLogError, match="another pynncomp reproduce is writing"):
            reproduce("table1", tmp_path, fast=True, datasets=["synthetic-digits"], data_options=SYNTH,
                      say=lambda *a: None)
    # released: the same call now runs
    assert reproduce("table1", tmp_path, fast=True, runs=1, levels=[0.0], datasets=["synthetic-digits"],
                     data_options=SYNTH, say=lambda *a: None) == (1, 0)


def test_repeated_kills_at_random_moments_lose_nothing_and_recompute_nothing(tmp_path):
    """SIGKILL a 2-worker reproduction (runner and workers) at seeded random moments, five times, then finish.

    After each kill the file must be what it was plus whole records; each
    restart must count exactly the records in the file as done; at the end
    every run is in the file once.
    """
    import random

    results = tmp_path / "res"
    command = [sys.executable, "-m", "pynncomp", "reproduce", "table1", "--fast", "--runs", "8", "--jobs", "2",
               "--datasets", "synthetic-digits", "--n-train", "2500", "--n-test", "200", "--results", str(results)]
    total = len(targets.grid("table1", 8, True, ["synthetic-digits"]))
    log = results / "runs.jsonl"
    moments = random.Random(20261202)
    previous = b""
    for kill in range(5):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env=dict(os.environ), start_new_session=True)
        if kill % 2:
            time.sleep(moments.uniform(0.5, 4.0))  # anywhere: start-up, training, writing
        else:  # just after a record landed, while the next one may be written
            deadline = time.time() + 60
            lines = previous.count(b"\n")
            while time.time() < deadline and (not log.exists() or log.read_bytes().count(b"\n") <= lines):
                time.sleep(0.005)
            time.sleep(moments.uniform(0.0, 0.3))
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate()[0]
        now = log.read_bytes() if log.exists() else b""
        assert now.startswith(previous), "a kill changed what was written before"
        if "to do" in output:
            done_at_start = previous.count(b"\n")
            assert f"{done_at_start} already in" in output, output
        keys = [json.loads(line)["run_key"] for line in now.splitlines() if line.endswith(b"}")]
        assert len(keys) == len(set(keys)), "a run was recorded twice"
        previous = now[:now.rfind(b"\n") + 1]  # a torn last line is cut before the next append
    assert previous.count(b"\n") < total, "the kills must land before the grid is done"
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    n_before = previous.count(b"\n")
    assert f"{n_before} already in" in result.stdout and f"{total - n_before} to do" in result.stdout
    after = log.read_bytes()
    assert after.startswith(previous)
    keys = [json.loads(line)["run_key"] for line in after.splitlines()]
    assert len(keys) == len(set(keys)) == total


def test_the_runs_are_read_under_the_lock(tmp_path, monkeypatch):
    """A second writer starting between the reading and the locking would redo the runs."""
    import fcntl

    seen = []
    original = runlog.read_runs

    def read_runs(path):
        with open(tmp_path / (runlog.FILE_NAME + ".lock"), "a") as probe:
            try:
                fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                seen.append("locked")
            else:
                fcntl.flock(probe.fileno(), fcntl.LOCK_UN)
                seen.append("unlocked")
        return original(path)

    monkeypatch.setattr(runlog, "read_runs", read_runs)
    reproduce("table1", tmp_path, fast=True, runs=1, levels=[0.0], datasets=["synthetic-digits"],
              data_options=SYNTH, say=lambda *a: None)
    assert seen and set(seen) == {"locked"}


def test_a_run_key_recorded_twice_is_reported(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    path.write_text(_line("a", 0.5) + _line("b") + _line("a", 0.9) + _line("a", 0.7))
    records, _, notes = runlog.read_runs(path)
    assert records["a"]["test_accuracy"] == 0.5  # the first record
    assert len(notes) == 1 and "1 run key(s) recorded more than once" in notes[0] and "a (lines 1, 3, 4)" in notes[0]
    said = []
    reproduce("table1", tmp_path, fast=True, runs=1, levels=[0.0], datasets=["synthetic-digits"],
              data_options=SYNTH, say=said.append)
    assert any("recorded more than once" in line for line in said)


@pytest.mark.parametrize("line, message", [
    ('{"run_key": "a", "test_accuracy": null}', "test_accuracy must be a number in [0, 1], got null"),
    ('{"run_key": "a", "test_accuracy": 97.5}', "test_accuracy must be a number in [0, 1], got 97.5"),
    ('{"run_key": "a", "test_accuracy": true}', "test_accuracy must be a number in [0, 1], got true"),
    ('{"run_key": 7, "test_accuracy": 0.5}', "run_key must be a string, got 7"),
    ('{"test_accuracy": 0.5}', "line 1 is not a run record"),
    ('[1, 2]', "line 1 is not a run record"),
])
def test_a_record_the_readers_cannot_use_is_refused_with_its_line(tmp_path, line, message):
    path = tmp_path / "runs.jsonl"
    path.write_text(line + "\n" + _line("b"))
    with pytest.raises(runlog.RunLogError) as caught:
        runlog.read_runs(path)
    assert message in str(caught.value) and "line 1" in str(caught.value)


def _records_of(target, levels, accuracies, wall_s):
    """Records of ``target`` on mnist at ``levels``: seed i of each cell gets ``accuracies[i]`` (fractions)."""
    out = {}
    for spec in targets.grid(target, runs=len(accuracies), datasets=["mnist"], levels=levels):
        key = targets.run_key(spec)
        out[key] = {"run_key": key, "test_accuracy": accuracies[spec["seed"]], "wall_s": wall_s}
    return out


def test_two_folders_compared_cell_by_cell_within_two_combined_std():
    """|mean_a − mean_b| <= 2 sqrt(s_a² + s_b²): here s = 0.1 points on both sides, so the bound is 0.283."""
    from pynncomp.reproduce.report import comparison

    ours = _records_of("table1", [0.9, 0.99], [0.979, 0.980, 0.981], 20.0)
    theirs = _records_of("table1", [0.9], [0.9815, 0.9825, 0.9835], 40.0)  # 0.25 points above: agrees
    theirs.update(_records_of("table1", [0.99], [0.9830, 0.9840, 0.9850], 40.0))  # 0.40 above: does not
    table = comparison(ours, theirs, "table1", labels=("new", "old"))
    assert table.header[4:8] == ["new", "old", "difference", "within 2σ"]
    (first, second, total) = table.rows
    assert [first[3].value, first[7], second[3].value, second[7]] == [90.0, "yes", 99.0, "no"]
    assert first[6].value == pytest.approx(-0.25) and second[6].value == pytest.approx(-0.40)
    assert (first[8].value, first[9].value) == (20.0, 40.0)
    assert total[7] == "1 of 2"
    with pytest.raises(ValueError, match="no cell of table1 in common"):
        comparison(ours, _records_of("table1", [0.5], [0.97, 0.98], 1.0), "table1")


def test_report_against_refuses_timings_too(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path), "--target", "table1", "--against", str(tmp_path), "--timings"]) == 2
