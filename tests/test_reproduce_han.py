"""The Han et al. targets end to end with --fast (MNIST needed: skipped without it)."""
import pytest

from conftest import mnist_dir
from pynncomp.compress import kept_count
from pynncomp.reproduce import han, runlog
from pynncomp.reproduce.report import report
from pynncomp.reproduce.plots import plot
from pynncomp.reproduce.runner import reproduce

pytestmark = pytest.mark.skipif(mnist_dir() is None, reason="MNIST not found under $PYNNCOMP_DATA")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("han")
    for target in han.HAN_TARGETS:
        assert reproduce(target, folder, fast=True, runs=1, say=lambda *a: None)[1] == 0
    return folder


def test_lenets_reach_han_et_al_per_layer_fractions_exactly(results):
    records = runlog.read_runs(results / "runs.jsonl")[0].values()
    for arch in ("lenet300", "lenet5"):
        pruned = [r for r in records if r["method"] == "han" and r["config"]["layer_sparsity"]
                  and r["arch"] == ("784-300-100-10" if arch == "lenet300" else "lenet5")]
        assert len(pruned) == 1
        for (key, entry), kept in zip(pruned[0]["layers"].items(), han.KEPT[arch]):
            assert entry["kept"] == kept_count(1 - kept, entry["total"])
        kept_total, total = han.kept_weights(arch)
        assert pruned[0]["weights_kept"] == kept_total and total / kept_total >= 12
        assert (results / pruned[0]["model_file"]).exists()


@pytest.mark.parametrize("target, first_line", [
    ("han-lenet300", "| layer | weights | kept (Han et al.) | kept (ours) | q_l (ours) |"),
    ("han-lenet5", "| layer | weights | kept (Han et al.) | kept (ours) | q_l (ours) |"),
    ("han-l1l2", "| pruned | L1 without retraining | L1 with retraining | L2 without retraining | L2 with retraining |"),
    ("han-iterative", "| pruned | iterative (k steps) | one-shot | iterative − one-shot |"),
])
def test_reports_and_figures(results, target, first_line, tmp_path):
    text, _ = report(results, target, fast=True)
    lines = text.splitlines()
    assert lines[0] == first_line
    cells = ([line for line in lines[2:] if "test error" in line or "pruned − dense" in line]
             if target.startswith("han-lenet") else lines[2:])
    assert cells and all("(1)" in line for line in cells)
    if target.startswith("han-lenet"):
        assert len(cells) == 3 and cells[-1].startswith("| pruned − dense, same seed |")
    out = plot(results, target, tmp_path / "f.png", fast=True)
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_sensitivity_report_has_every_layer_of_both_lenets(results, tmp_path):
    text, _ = report(results, "han-sensitivity", fast=True)
    assert "0.W (Dense 784x300)" in text and "5.W (Dense 800x500)" in text and "0.W (Conv2D 20x1x5x5)" in text
    assert plot(results, "han-sensitivity", tmp_path / "s.png", fast=True).read_bytes().startswith(PNG_SIGNATURE)


def test_han_targets_refuse_datasets_and_levels():
    from pynncomp.reproduce import targets

    with pytest.raises(ValueError, match="leave --datasets and --levels unset"):
        targets.grid("han-lenet300", levels=[0.5])
    with pytest.raises(ValueError, match="datasets must be among"):
        targets.grid("han-lenet5", datasets=["mnist-rot"])


def test_sensitivity_measures_the_saved_dense_lenets_instead_of_training_them_again(results, tmp_path):
    records = runlog.read_runs(results / "runs.jsonl")[0]
    dense = {r["arch"]: key for key, r in records.items() if r["method"] == "dense" and r.get("model_file")}
    measured = {r["arch"]: r for r in records.values() if r.get("sensitivity")}
    assert set(dense) == set(measured) == {"784-300-100-10", "lenet5"}
    for arch, record in measured.items():
        assert record["model_reused_from"] == dense[arch]
        assert record["test_accuracy"] == records[dense[arch]]["test_accuracy"]
    # the same target in an empty folder trains both nets: the same measurements, bit for bit
    assert reproduce("han-sensitivity", tmp_path, fast=True, runs=1, say=lambda *a: None)[1] == 0
    trained = {r["arch"]: r for r in runlog.read_runs(tmp_path / "runs.jsonl")[0].values()}
    for arch, record in trained.items():
        assert "model_reused_from" not in record
        assert record["sensitivity"] == measured[arch]["sensitivity"]


def test_sensitivity_trains_when_the_saved_model_is_damaged(results, tmp_path):
    import shutil

    from pynncomp.reproduce.runner import trained_twin

    shutil.copytree(results, tmp_path / "copy")
    spec = [s for s in han.grid("han-sensitivity", 1, True) if s["arch"] == "lenet5"][0]
    assert trained_twin(spec, tmp_path / "copy") is not None
    records = runlog.read_runs(tmp_path / "copy" / "runs.jsonl")[0].values()
    model_file = [r["model_file"] for r in records if r["method"] == "dense" and r.get("model_file")
                  and r["arch"] == "lenet5"][0]
    (tmp_path / "copy" / model_file).write_bytes(b"not a model")
    assert trained_twin(spec, tmp_path / "copy") is None
    (tmp_path / "copy" / model_file).unlink()
    assert trained_twin(spec, tmp_path / "copy") is None
