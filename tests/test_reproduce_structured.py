"""The structured target: its grid, run keys, the --fast target end to end, its tables, timings and figure."""
import hashlib

import pytest

from pynncomp import cli, methods, models
from pynncomp.compress import prune_units, unit_norm
from pynncomp.reproduce import cells, plots, report, runlog, structured, targets
from pynncomp.reproduce.runner import reproduce
from pynncomp.reproduce.tables import Spread, SpreadAt
from pynncomp.train import Protocol

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SYNTH = {"n_train": 600, "n_test": 200}
# The targets before structured, and the number and SHA-1 of the sorted set of all their distinct run keys (full
# and --fast grids) as the code made them before structured existed: the committed results are found by these keys.
EARLIER_TARGETS = ("table1", "table2", "table3", "table4", "table5", "table6", "fig1", "fig2", "fig3", "fig4",
                   "fig5", "fig6", "convnets", "han-lenet300", "han-lenet5", "han-l1l2", "han-iterative",
                   "han-sensitivity", "obs-oneshot", "obs-iterative")
EARLIER_KEYS = (2589, "509de142823589b366fb236118aadafaf45e14d9")
NEURONS = ("neurons-l1", "neurons-l2", "neurons-apoz", "neurons-taylor")
FILTERS = ("filters-l1", "filters-l2", "filters-taylor")


# ---- the grid --------------------------------------------------------------------------

def test_the_grid_is_magl2_against_the_criteria_of_each_network_and_the_dense_net():
    specs = targets.grid("structured")
    assert targets.levels_of("structured") == (0.0, 0.5, 0.8, 0.9, 0.95)
    assert targets.datasets_of("structured") == ("mnist",)
    by_network = {}
    for s in specs:
        by_network.setdefault((s["arch"], str(s["hidden"]), s["split"]), set()).add((s["method"], s["sparsity"]))
    levels = (0.5, 0.8, 0.9, 0.95)
    assert by_network == {
        ("mlp", "[100]", "paper"): {("dense", 0.0)} | {(m, S) for m in ("magl2",) + NEURONS for S in levels},
        ("lenet5", "None", "standard"): {("dense", 0.0)} | {(m, S) for m in ("magl2",) + FILTERS for S in levels},
    }
    assert {s["seed"] for s in specs} == {0, 1, 2} and {s["dataset"] for s in specs} == {"mnist"}
    assert len(specs) == 3 * (1 + 4 * 5) + 3 * (1 + 4 * 4) == 114
    assert not any(s["save_model"] or s.get("train_subset") for s in specs)


def test_784_100_10_takes_the_studys_protocol_and_lenet5_a_shorter_one():
    specs = targets.grid("structured")
    assert all(s["protocol"] == Protocol().to_dict() for s in specs if s["arch"] == "mlp")
    lenet5 = Protocol(batch_size=64, lr=0.02, lr_decay=0.9, l2=5e-4, pretrain_epochs=6, steps=5, power=3.0,
                      prune_every=1, finetune_max=5)
    assert all(s["protocol"] == lenet5.to_dict() for s in specs if s["arch"] == "lenet5")
    # at most 15 epochs a LeNet-5 run: 6 of pre-training, 5 steps an epoch apart, at most 5 of fine-tuning
    assert (lenet5.fixed_epochs, lenet5.prune_epochs(5), lenet5.fixed_epochs + lenet5.finetune_max) == (
        10, [6, 7, 8, 9, 10], 15)


def test_every_run_of_the_grid_is_one_its_method_accepts():
    for arch, hidden, method, level, protocol in {
            (s["arch"], None if s["hidden"] is None else tuple(s["hidden"]), s["method"], s["sparsity"],
             tuple(s["protocol"].items())) for fast in (False, True) for s in targets.grid("structured", fast=fast)}:
        chosen = methods.get(method)
        chosen.check(arch, models.arch_hidden(arch, hidden), level)
        schedule = chosen.schedule(level, Protocol(**dict(protocol)))  # refuses a level no step can reach
        assert (schedule[-1] if schedule else 0.0) == pytest.approx(level)


def test_removing_neurons_removes_as_many_weights_and_filters_take_their_rows_along():
    for level in (0.5, 0.8, 0.9, 0.95):
        mlp = models.build("mlp", 100)
        report_ = prune_units(mlp, unit_norm(mlp, 1, "neuron"), level, "layer", "neuron")
        assert report_["weight_sparsity"] == pytest.approx(level)
    removed = []
    for level in (0.5, 0.8, 0.9, 0.95):
        lenet5 = models.build("lenet5")
        removed.append(prune_units(lenet5, unit_norm(lenet5, 1, "filter"), level, "layer", "filter")["weight_sparsity"])
    assert [round(100 * r, 1) for r in removed] == [50.9, 80.0, 89.5, 93.2]  # as the module docstring says


def test_the_weight_fraction_is_read_from_the_record_of_each_kind():
    assert structured.weights_removed({"achieved_sparsity": 0.9}) == 0.9  # magl2, dense
    # a structured run's achieved_sparsity counts its units
    assert structured.weights_removed({"achieved_sparsity": 0.9, "weight_sparsity": 0.895,
                                       "units": {"kind": "filter"}}) == 0.895


# ---- keys ------------------------------------------------------------------------------------

def test_run_keys_are_unique_and_the_earlier_targets_keep_theirs():
    full = [targets.run_key(s) for s in targets.grid("structured")]
    fast = [targets.run_key(s) for s in targets.grid("structured", fast=True)]
    assert len(full + fast) == len(set(full + fast)) == 114 + 40
    assert "filters-taylor/mnist@standard/lenet5/S0.95/seed2/p" in full[-1]
    earlier = sorted({targets.run_key(s) for t in EARLIER_TARGETS for fast_ in (False, True)
                      for s in targets.grid(t, fast=fast_)})
    assert (len(earlier), hashlib.sha1("\n".join(earlier).encode()).hexdigest()) == EARLIER_KEYS
    assert targets.TARGETS == EARLIER_TARGETS + ("structured",)
    # shared only where they are the same runs: the study's MagL2 on mnist with 100 hidden units (table1) at
    # 50, 90 and 95 %, and the --fast magl2 runs of obs-iterative at 90 %
    table1 = {targets.run_key(s) for s in targets.grid("table1", runs=3, datasets=["mnist"], levels=[0.5, 0.9, 0.95])}
    assert set(full) & set(earlier) == table1
    obs_fast = {targets.run_key(s) for s in targets.grid("obs-iterative", fast=True, levels=[0.9])
                if s["method"] == "magl2"}
    assert set(fast) & set(earlier) == obs_fast and len(obs_fast) == 2


@pytest.mark.parametrize("kwargs, match", [
    ({"levels": [0.99]}, r"levels must be among \(0.0, 0.5, 0.8, 0.9, 0.95\)"),
    ({"levels": [0.98]}, r"levels must be among"),
    ({"datasets": ["mnist-rot"]}, r"datasets must be among \('mnist', 'synthetic-digits'\)"),
    ({"runs": 0}, "runs must be an integer >= 1"),
])
def test_a_level_or_data_set_outside_the_target_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        targets.grid("structured", **kwargs)


def test_the_command_line_refuses_them_naming_the_option(tmp_path, capsys):
    for args, message in ((["--levels", "0.42"], "--levels: levels must be among"),
                          (["--datasets", "cifar"], "--datasets: datasets must be among")):
        assert cli.main(["reproduce", "structured", "--results", str(tmp_path), *args]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "runs.jsonl").exists()


def test_a_subset_of_levels_and_the_fast_grid():
    assert {s["sparsity"] for s in targets.grid("structured", levels=[0, 0.9])} == {0.0, 0.9}
    fast = targets.grid("structured", fast=True)
    assert {s["seed"] for s in fast} == {0, 1} and {s["sparsity"] for s in fast} == {0.0, 0.5, 0.9}
    assert {(s["arch"], str(s["hidden"])) for s in fast} == {("mlp", "[16]"), ("lenet5", "None")}
    assert all(s["protocol"]["pretrain_epochs"] == 1 and s["train_subset"] == 3000 and s["eval_subset"] == 1000
               for s in fast)
    # synthetic-digits has one split: its runs take the study's
    assert {s["split"] for s in targets.grid("structured", datasets=["synthetic-digits"])} == {"paper"}


# ---- the --fast target end to end ----------------------------------------------------------

@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("structured")
    quiet = {"fast": True, "runs": 1, "datasets": ["synthetic-digits"], "data_options": SYNTH,
             "say": lambda *a: None}
    assert reproduce("structured", folder, **quiet) == (20, 0)
    return folder


def test_the_structured_runs_record_units_and_weights_removed(results):
    records = list(runlog.read_runs(results / "runs.jsonl")[0].values())
    assert len(records) == 20
    for record in records:
        if record["method"] in NEURONS + FILTERS:
            assert record["achieved_sparsity"] == pytest.approx(1 - record["units"]["kept"] / record["units"]["total"])
            assert record["weight_sparsity"] == pytest.approx(1 - record["weights_kept"] / record["weights_total"])
        else:
            assert "units" not in record
            assert record["achieved_sparsity"] == pytest.approx(1 - record["weights_kept"] / record["weights_total"])
            assert record["achieved_sparsity"] == pytest.approx(record["target_sparsity"], abs=1e-4)
    # 90 % of 16 neurons keeps round(1.6) = 2: 87.5 % of the units, and of the weights
    (l1,) = [r for r in records if r["method"] == "neurons-l1" and r["target_sparsity"] == 0.9]
    assert (l1["units"]["kept"], l1["weight_sparsity"]) == (2, pytest.approx(0.875))


def test_the_report_has_one_table_per_network_with_the_weights_removed(results, capsys):
    assert cli.main(["report", str(results), "--target", "structured", "--fast"]) == 0
    blocks = capsys.readouterr().out.strip().split("\n\n")
    assert blocks[0] == "**784-16-10, synthetic-digits**" and blocks[2] == "**LeNet-5, synthetic-digits**"
    for table, criteria, kind in ((blocks[1], NEURONS, "neurons"), (blocks[3], FILTERS, "filters")):
        lines = table.splitlines()
        assert lines[0] == "| method | removes | 0 % | 50 % | 90 % |"
        rows = [[entry.strip() for entry in line.strip("|").split("|")] for line in lines[2:]]
        assert [row[:2] for row in rows] == [["dense", ""], ["magl2", "weights"]] + [[c, kind] for c in criteria]
        assert rows[0][2].endswith("(1) at 0.0 % removed") and rows[0][3:] == ["", ""]
        assert all(row[2] == "" and row[3].endswith("% removed") and row[4].endswith("% removed")
                   for row in rows[1:])
        assert rows[1][3].endswith("at 50.0 % removed") and rows[1][4].endswith("at 90.0 % removed")
    mlp = [line for line in blocks[1].splitlines() if line.startswith("| neurons-l1 ")]
    lenet5 = [line for line in blocks[3].splitlines() if line.startswith("| filters-l1 ")]
    assert mlp[0].endswith("at 87.5 % removed |")  # 14 of the 16 neurons
    assert "at 50.9 % removed" in lenet5[0] and lenet5[0].endswith("at 89.5 % removed |")
    assert cli.main(["report", str(results), "--target", "structured", "--fast", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["# 784-16-10, synthetic-digits", "method,removes,0 %,50 %,90 %"]


def test_the_table_entries_are_the_records_numbers(results):
    records = runlog.read_runs(results / "runs.jsonl")[0]
    tables = dict(report.tables(records, "structured", fast=True))
    for record in records.values():
        network = "784-16-10, synthetic-digits" if record["arch"] == "784-16-10" else "LeNet-5, synthetic-digits"
        table = tables[network]
        (row,) = [row for row in table.rows if row[0] == record["method"]]
        entry = row[table.header.index(f"{100 * record['target_sparsity']:g} %")]
        assert isinstance(entry, SpreadAt) and entry.spread.n == 1
        assert entry.spread.mean == pytest.approx(100 * record["test_accuracy"])
        assert entry.at.value == pytest.approx(100 * structured.weights_removed(record))


def test_the_timings_give_the_pruning_steps_apart(results, capsys):
    assert cli.main(["report", str(results), "--target", "structured", "--fast", "--timings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("| network | method | runs | median per run | pruning, median per run | total | "
                        "at --jobs 2 |")
    assert [line.split(" | ")[1] for line in lines[2:8]] == ["dense", "magl2", *NEURONS]
    assert [line.split(" | ")[1] for line in lines[8:13]] == ["dense", "magl2", *FILTERS]
    assert lines[-1].startswith("| all |  | 20 | ")


def test_the_figure_places_each_run_at_the_weights_its_record_says_were_removed(results, tmp_path):
    out = tmp_path / "structured.png"
    assert cli.main(["plot", str(results), "--target", "structured", "--fast", "--out", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    records = runlog.read_runs(results / "runs.jsonl")[0]
    found = cells.collect(records, "structured", fast=True)
    figure = plots._accuracy_against_weights_removed(cells.level_accuracy(found), cells.level_weights_removed(found),
                                                     cells.network_order("structured", fast=True))
    panels = figure.axes
    assert [ax.get_title() for ax in panels] == ["784-16-10, synthetic-digits", "LeNet-5, synthetic-digits"]
    for ax, arch in zip(panels, ("784-16-10", "lenet5")):
        curves = {container.get_label(): container.lines[0] for container in ax.containers}
        assert set(curves) == {"magl2", *(NEURONS if arch != "lenet5" else FILTERS)}
        for method, line in curves.items():
            runs = sorted((r["target_sparsity"], r) for r in records.values()
                          if r["method"] == method and r["arch"] == arch)
            assert list(line.get_xdata()) == pytest.approx([100 - 100 * structured.weights_removed(r) for _, r in runs])
            assert list(line.get_ydata()) == pytest.approx([100 * r["test_accuracy"] for _, r in runs])
        (dense,) = [r for r in records.values() if r["method"] == "dense" and r["arch"] == arch]
        assert any(line.get_ydata()[0] == pytest.approx(100 * dense["test_accuracy"]) and
                   line.get_label().startswith("dense") for line in ax.lines)


def test_a_full_report_of_fast_runs_says_so(results, capsys):
    assert cli.main(["report", str(results), "--target", "structured"]) == 2
    assert "it holds runs of its --fast protocol: add --fast" in capsys.readouterr().err


# ---- the numbers of the tables --------------------------------------------------------------

def test_the_table_numbers_are_the_means_over_seeds_and_each_run_its_own_weight_fraction():
    records = {}
    for spec in targets.grid("structured", runs=3, levels=[0, 0.9]):
        if spec["arch"] != "lenet5":
            continue
        key = targets.run_key(spec)
        accuracy = {"dense": 0.99, "magl2": 0.98, "filters-l1": 0.97, "filters-l2": 0.96,
                    "filters-taylor": 0.95}[spec["method"]] + spec["seed"] / 1000
        record = {"run_key": key, "test_accuracy": accuracy, "wall_s": 60.0, "prune_s": 1.0,
                  "achieved_sparsity": spec["sparsity"]}
        if spec["method"].startswith("filters-"):
            # the global Taylor ranking takes other layers' filters on other seeds
            record.update(units={"kind": "filter"}, weight_sparsity=0.89 + spec["seed"] / 100)
        records[key] = record
    ((title, table),) = report.tables(records, "structured")
    assert title == "LeNet-5, mnist (standard split)"
    assert table.header == ["method", "removes", "0 %", "90 %"]
    assert [row[:2] for row in table.rows] == [["dense", ""], ["magl2", "weights"], ["filters-l1", "filters"],
                                               ["filters-l2", "filters"], ["filters-taylor", "filters"]]
    assert table.rows[0][3] is None and all(row[2] is None for row in table.rows[1:])
    entries = [table.rows[0][2]] + [row[3] for row in table.rows[1:]]
    assert [entry.spread.mean for entry in entries] == pytest.approx([99.1, 98.1, 97.1, 96.1, 95.1])
    assert all(isinstance(entry.spread, Spread) and entry.spread.n == 3 for entry in entries)
    assert [entry.spread.std for entry in entries] == pytest.approx([0.1] * 5)
    assert [entry.at.value for entry in entries] == pytest.approx([0.0, 90.0, 90.0, 90.0, 90.0])
    with pytest.raises(ValueError, match="one table per network"):
        report.table(records, "structured")
