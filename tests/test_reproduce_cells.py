"""Cells, tables and reports: the numbers, how they are printed, and what a report without runs says."""
import json
import pathlib
import statistics

import pytest

from pynncomp import cli
from pynncomp.reproduce import cells, han, plots, report, targets
from pynncomp.reproduce.tables import Duration, Kept, Number, Spread, Table, duration, render, text

REPO = pathlib.Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_runs(folder, records):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def study_records(target="table1", accuracies=(0.97, 0.96, 0.98)):
    """One record per seed of ``target`` at 90 % on mnist, with the given accuracies."""
    specs = targets.grid(target, runs=len(accuracies), levels=[0.9], datasets=["mnist"])
    return [{"run_key": targets.run_key(spec), "test_accuracy": accuracy, "seed": spec["seed"], "wall_s": 60.0}
            for spec, accuracy in zip(specs, accuracies)]


def lenet300_records(dense, pruned):
    """han-lenet300 records: ``dense`` / ``pruned`` map a seed to its test accuracy."""
    records = []
    for spec in han.grid("han-lenet300", 3, False):
        seed = spec["seed"]
        key = targets.run_key(spec)
        model_file = f"models/{key.replace('/', '_')}.npz"
        if spec["method"] == "dense" and seed in dense:
            records.append({"run_key": key, "test_accuracy": dense[seed], "seed": seed, "model_file": model_file})
        elif spec["method"] == "han" and seed in pruned:
            kept = {"0.W": 18_816 + seed, "2.W": 2_700, "4.W": 260}
            totals = {"0.W": 235_200, "2.W": 30_000, "4.W": 1_000}
            records.append({
                "run_key": key, "test_accuracy": pruned[seed], "seed": seed, "model_file": model_file,
                "layers": {name: {"kept": kept[name], "total": totals[name]} for name in kept},
                "method_notes": {"steps": [{"q_layer": {"0.W": 0.6 + seed / 100, "2.W": 0.7, "4.W": 0.5}}]},
                "weights_total": 266_200, "weights_kept": sum(kept.values()),
            })
    return records


# ---- numbers -------------------------------------------------------------------------

def test_a_summary_is_the_mean_and_sample_deviation_of_its_seeds():
    summary = cells.summarise([97.0, 98.0, 99.0], [4, 0, 2])
    assert (summary.mean, summary.std, summary.n) == (98.0, 1.0, 3)  # ((1 + 0 + 1) / 2) ** 0.5
    assert summary.values == (97.0, 98.0, 99.0) and summary.seeds == (4, 0, 2)
    one = cells.summarise([97.5], [3])
    assert (one.mean, one.std, one.n) == (97.5, None, 1)
    assert cells.summarise([], []) is None
    with pytest.raises(ValueError, match="seeds must give one seed per value: 2 values, 1 seeds"):
        cells.summarise([1.0, 2.0], [0])


def test_records_are_matched_to_cells_by_their_key_without_the_seed():
    records = {r["run_key"]: r for r in study_records()}
    other = targets.run_key(dict(targets.grid("table1", runs=1, levels=[0.9], datasets=["mnist"])[0],
                                 protocol=targets.FAST_PROTOCOL.to_dict()))
    records[other] = {"run_key": other, "test_accuracy": 0.1, "seed": 0}  # the --fast protocol's run
    found = cells.collect(records, "table1")
    assert len(found) == 1
    (cell,) = found.values()
    assert [r["seed"] for r in cell.records] == [0, 1, 2]
    assert cells.by_column(found) == {("magl2", "mnist", 0.9): cell.records}
    assert list(cells.collect(records, "table1", fast=True).values())[0].records == [records[other]]


def test_the_study_table_holds_numbers_that_render_as_the_paper_layout():
    found = report.table({r["run_key"]: r for r in study_records()}, "table1")
    assert found.header == ["removed", "mnist", "paper", "Δ", "within σ"]
    (row,) = found.rows
    assert row[0] == Number(90.0, "g", " %")
    assert (row[1].mean, row[1].std, row[1].n) == pytest.approx((97.0, 1.0, 3))
    assert row[2] == Spread(96.99, 0.18)
    assert row[3].value == pytest.approx(97.0 - 96.99)
    assert row[4] == "yes"
    assert render(found, "md").splitlines()[2] == "| 90 % | 97.00 ± 1.00 (3) | 96.99 ± 0.18 | +0.01 | yes |"


def test_the_lenet_numbers_pair_each_pruned_net_with_the_dense_net_of_its_seed():
    dense, pruned = {0: 0.984, 1: 0.9832}, {0: 0.9831, 1: 0.9827, 2: 0.9826}  # seed 2 has no dense twin
    found = cells.collect({r["run_key"]: r for r in lenet300_records(dense, pruned)}, "han-lenet300")
    result = cells.lenet_result(found)
    assert result.error_change.seeds == (0, 1)
    assert result.error_change.values == pytest.approx([100 * (dense[s] - pruned[s]) for s in (0, 1)])
    assert result.pruned_error.mean == pytest.approx(statistics.fmean(100 * (1 - a) for a in pruned.values()))
    assert result.dense_error.std == pytest.approx(statistics.stdev(100 * (1 - a) for a in dense.values()))
    first = result.layers[0]
    assert (first.name, first.weights) == ("0.W", 235_200)
    assert first.kept.mean == pytest.approx(statistics.fmean((18_816 + s) / 235_200 for s in pruned))
    assert first.q.mean == pytest.approx(0.61)
    assert (result.weights_total, result.weights_kept) == (266_200, 18_816 + 2_700 + 260)


def test_the_l1l2_loss_is_against_the_dense_net_of_the_same_penalty_and_seed():
    records = []
    accuracy = {("l1", 0): 0.98, ("l1", 1): 0.97, ("l2", 0): 0.96, ("l2", 1): 0.95}
    for spec in han.grid("han-l1l2", 2, True):
        penalty, seed = spec["protocol"]["penalty"], spec["seed"]
        record = {"run_key": targets.run_key(spec), "seed": seed}
        if spec["method"] == "dense":
            record["test_accuracy"] = accuracy[(penalty, seed)]
            record["pruned_without_retraining"] = {f"{level:g}": accuracy[(penalty, seed)] - level / 10
                                                   for level in han.FAST_LEVELS}
        else:
            record["test_accuracy"] = accuracy[(penalty, seed)] - spec["sparsity"] / 100
        records.append(record)
    losses = cells.accuracy_loss(cells.collect({r["run_key"]: r for r in records}, "han-l1l2", fast=True))
    assert set(losses) == {(p, w, level) for p, w in cells.L1L2_VARIANTS for level in han.FAST_LEVELS}
    for (penalty, retraining, level), loss in losses.items():
        expected = 100 * level / (10 if retraining == "without" else 100)
        assert loss.values == pytest.approx([expected, expected]) and loss.seeds == (0, 1)


def test_sensitivity_leaves_out_the_levels_a_layer_was_not_measured_at():
    records = []
    for spec in han.grid("han-sensitivity", 2, True):
        seed = spec["seed"]
        records.append({"run_key": targets.run_key(spec), "seed": seed, "test_accuracy": 0.9, "sensitivity": {
            "sparsities": [0.0, 0.5, 0.9],
            "layers": {"0.W": {"accuracy": [0.9 + seed / 100, 0.8, None]}, "2.W": {"accuracy": [0.9, 0.7, 0.5]}},
        }})
    accuracy = cells.sensitivity_accuracy(cells.collect({r["run_key"]: r for r in records}, "han-sensitivity",
                                                        fast=True))
    assert set(accuracy) == {"lenet300", "lenet5"}
    assert set(accuracy["lenet5"]["0.W"]) == {0.0, 0.5}
    assert accuracy["lenet5"]["0.W"][0.0].values == pytest.approx([90.0, 91.0])
    assert accuracy["lenet5"]["2.W"][0.9].mean == pytest.approx(50.0)


# ---- how numbers are printed -----------------------------------------------------------

@pytest.mark.parametrize("seconds, expected", [
    (0.4, "0 s"), (45, "45 s"), (59.4, "59 s"), (59.6, "1.0 min"), (1860, "31.0 min"), (3569, "59.5 min"),
    (3590, "1 h 00 min"), (3720, "1 h 02 min"), (36_000, "10 h 00 min"),
])
def test_one_duration_format_for_reports_and_progress(seconds, expected):
    assert duration(seconds) == expected


def test_entries_are_printed_only_when_rendered():
    table = Table(["removed", "mnist", "Δ", "kept", "time"], [
        [Number(99.8, "g", " %"), Spread(97.654, 0.111, 5), Number(-0.3, "+.2f"), Kept(21_776, 266_200), Duration(45)],
        [Number(50.0, "g", " %"), Spread(96.0, None, 1, " %"), None, Kept(22_000, 267_000, digits=0), "x_y"],
    ])
    assert render(table, "md") == (
        "| removed | mnist | Δ | kept | time |\n|---|---|---|---|---|\n"
        "| 99.8 % | 97.65 ± 0.11 (5) | -0.30 | 21,776 kept (12.2×) | 45 s |\n"
        "| 50 % | 96.00 ± – (1) % |  | 22,000 kept (12×) | x_y |")
    assert render(table, "csv").splitlines()[1] == '99.8 %,97.65 ± 0.11 (5),-0.30,"21,776 kept (12.2×)",45 s'
    tex = render(table, "tex").splitlines()
    assert tex[0] == r"\begin{tabular}{lllll}" and tex[2] == r"removed & mnist & $\Delta$ & kept & time \\"
    assert tex[5] == r"50 \% & 96.00 $\pm$ – (1) \% &  & 22,000 kept (12×) & x\_y \\"
    assert text(Spread(96.99, 0.18)) == "96.99 ± 0.18"
    with pytest.raises(ValueError, match=r"format must be one of \('md', 'csv', 'tex'\), got 'html'"):
        render(table, "html")
    with pytest.raises(TypeError, match="a table entry must be None, a str, Number, Spread, SpreadAt, Kept or Duration, got 0.5"):
        text(0.5)


# ---- a report or figure without runs -----------------------------------------------------

def test_a_report_without_runs_of_the_target_says_which_folder_holds_them(tmp_path, capsys):
    results = write_runs(tmp_path / "results", study_records())
    write_runs(results / "han", lenet300_records({0: 0.984}, {0: 0.983}))
    assert cli.main(["report", str(results), "--target", "han-lenet300"]) == 2
    assert capsys.readouterr().err == (
        f"pynncomp: error: {results}/runs.jsonl holds no run of han-lenet300; the runs of han-lenet300 are in "
        f"{results}/han: pynncomp report {results}/han --target han-lenet300\n")
    assert cli.main(["report", str(results / "han"), "--target", "table1", "--format", "csv"]) == 2
    assert capsys.readouterr().err.endswith(
        f"the runs of table1 are in {results}: pynncomp report {results} --target table1 --format csv\n")
    assert cli.main(["plot", str(results), "--target", "han-lenet300", "--out", str(tmp_path / "f.png")]) == 2
    assert capsys.readouterr().err.endswith(
        f"pynncomp plot {results}/han --target han-lenet300 --out {tmp_path / 'f.png'}\n")
    sibling = write_runs(tmp_path / "other", [{"run_key": "x", "test_accuracy": 0.5}])
    assert cli.main(["report", str(sibling), "--target", "table1", "--timings"]) == 2
    assert f"the runs of table1 are in {results}: pynncomp report {results} --target table1 --timings" \
        in capsys.readouterr().err


def test_a_lenet_report_without_runs_fails_instead_of_printing_an_empty_table(tmp_path, capsys):
    results = write_runs(tmp_path / "results", study_records())
    assert cli.main(["report", str(results), "--target", "han-lenet5"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"pynncomp: error: {results}/runs.jsonl holds no run of han-lenet5; run "
                            f"`pynncomp reproduce han-lenet5 --results {results}` first\n")
    assert cli.main(["report", str(results), "--target", "table1", "--fast"]) == 2
    assert capsys.readouterr().err.endswith(
        "holds no run of table1 (--fast protocol); it holds runs of its full protocol: leave out --fast\n")


def test_a_histogram_without_its_model_files_names_them_and_the_commands_that_make_them(tmp_path):
    results = write_runs(tmp_path / "han", lenet300_records({0: 0.984, 1: 0.983}, {0: 0.983, 1: 0.982}))
    with pytest.raises(ValueError) as caught:
        plots.plot(results, "han-lenet300", tmp_path / "f.png")
    message = str(caught.value)
    dense, pruned = (results / r["model_file"] for r in lenet300_records({0: 0.98}, {0: 0.98}))
    assert message.startswith(f"the figure of han-lenet300 is drawn from saved models, and {dense} and {pruned} "
                              "do not exist.")
    assert "`pynncomp reproduce han-lenet300 --runs 1 --results NEW_DIR` trains them into a new folder" in message
    assert message.endswith("`pynncomp plot NEW_DIR --target han-lenet300 --out FILE.png` draws them")
    assert not (tmp_path / "f.png").exists()


# ---- the committed evidence -----------------------------------------------------------------

def test_the_committed_evidence_reports_the_numbers_the_docs_quote():
    table1, _ = report.report(REPO / "results", "table1")
    rows = table1.splitlines()
    assert rows[0].startswith("| removed | mnist | paper | Δ | within σ | mnist-back-image |")
    assert rows[2].startswith("| 0 % | 97.85 ± 0.09 (5) | 97.65 ± 0.11 | +0.20 | yes | ")
    assert rows[-1].startswith("| 99.8 % | 69.38 ± 3.17 (5) | 74.25 ± 2.14 | -4.87 | yes | ")
    lenet, _ = report.report(REPO / "results" / "han", "han-lenet300")
    assert lenet.splitlines()[2:] == [
        "| 0.W | 235,200 | 8 % | 8.00 % | 0.690 |",
        "| 2.W | 30,000 | 9 % | 9.00 % | 0.742 |",
        "| 4.W | 1,000 | 26 % | 26.00 % | 0.533 |",
        "| total | 266,200 | 22,000 kept (12×) | 21,776 kept (12.2×) |  |",
        "| test error, dense |  | 1.64 % | 1.64 ± 0.04 (3) % |  |",
        "| test error, pruned |  | 1.59 % | 1.72 ± 0.03 (3) % |  |",
        "| pruned − dense, same seed |  | -0.05 points | 0.08 ± 0.03 (3) points |  |",
    ]
    timings, _ = report.report(REPO / "results" / "han", "han-lenet300", timings=True)
    assert timings.splitlines()[-1] == "| all |  | 6 | 172 s | 17.2 min | 8.6 min |"
    with pytest.raises(ValueError, match=f"the runs of han-lenet300 are in {REPO / 'results' / 'han'}: "):
        report.report(REPO / "results", "han-lenet300")


@pytest.mark.parametrize("folder, target", [("results", "fig2"), ("results", "fig6"), ("results/han", "han-l1l2"),
                                            ("results/han", "han-iterative"), ("results/han", "han-sensitivity")])
def test_the_figures_drawn_from_committed_files_alone(folder, target, tmp_path):
    out = plots.plot(REPO / folder, target, tmp_path / "f.png")
    assert out.read_bytes().startswith(PNG_SIGNATURE)
