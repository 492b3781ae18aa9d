"""A saved model is measured on its own test images, and never silently on images it was trained on.

Covers :mod:`pynncomp.evaluation` and how ``pynncomp train``, ``evaluate``
and ``sensitivity`` use it: the data recorded in the model file, the
refusal of overlapping data, file names unique per experiment, and the
output folder checked before any training.
"""
import json

import numpy as np
import pytest

from conftest import mnist_dir
from pynncomp import cli, data, evaluation, experiment, io, nn
from pynncomp.data import splits

pytestmark = pytest.mark.usefixtures("isolated_data")
MNIST_DIR = mnist_dir()  # read before isolated_data hides $PYNNCOMP_DATA

SYNTH = ["--dataset", "synthetic-digits", "--n-train", "300", "--n-test", "100", "--val-size", "60"]
QUICK = ["--pretrain-epochs", "1", "--steps", "1", "--finetune-max", "1", "--patience", "1", "--batch-size", "32",
         "--quiet"]


def trained_as(name, split, val_size, seed=0):
    return {"name": name, "split": split, "val_size": val_size, "seed": seed, "n_train": None, "n_test": None}


# ---- which MNIST images a data set is made of -------------------------------------

def test_mnist_indices_follow_the_splits_and_the_validation_subset():
    paper = data.mnist_indices("mnist", "paper")
    train, test = splits.paper_split()
    assert paper["test"].tolist() == test.tolist()
    assert sorted(np.concatenate([paper["train"], paper["val"]]).tolist()) == sorted(train.tolist())
    assert paper["val"].size == 5000 and paper["train"].size == 45000
    assert data.mnist_indices("mnist-rot", "paper", 5000, 0)["val"].tolist() == paper["val"].tolist()
    standard = data.mnist_indices("mnist", "standard", 6000, 0)
    assert standard["test"].tolist() == list(range(60000, 70000))
    assert data.mnist_indices("synthetic-digits") is None


def test_the_images_behind_loaded_data_are_the_indexed_ones():
    """A second computation that shares no code with mnist_indices: the loaded pixels themselves."""
    images = np.arange(70000, dtype=np.float32)  # image i is the number i

    def fake_mnist(root, download=True, mirrors=None):
        return np.repeat(images[:, None], 784, axis=1).reshape(70000, 28, 28), np.zeros(70000, np.int64), {}

    original = data.load_mnist
    data.load_mnist = fake_mnist
    try:
        for split in ("paper", "standard"):
            loaded = data.load("mnist", split, val_size=700, seed=3)
            indexed = data.mnist_indices("mnist", split, 700, 3)
            for part in ("train", "val", "test"):
                assert getattr(loaded, f"X_{part}")[:, 0].astype(np.int64).tolist() == indexed[part].tolist()
    finally:
        data.load_mnist = original


@pytest.mark.parametrize("trained, split, seen", [
    (trained_as("mnist", "standard", 6000), "paper", 10305),
    (trained_as("mnist", "paper", 5000), "standard", 7231),
    (trained_as("mnist", "paper", 5000), "paper", 0),
])
def test_the_two_splits_share_most_images(trained, split, seen):
    request = evaluation.measurement(trained, split=split)
    assert evaluation.seen_images(trained, request, "test").size == seen


def test_a_validation_measurement_counts_the_training_images_only():
    trained = trained_as("mnist", "paper", 5000)
    # a smaller validation subset with the same seed lies inside the model's own
    assert evaluation.seen_images(trained, evaluation.measurement(trained, val_size=3000), "val").size == 0
    larger = evaluation.seen_images(trained, evaluation.measurement(trained, val_size=8000), "val")
    assert larger.size > 0  # 3 000 of its images trained the model
    assert np.intersect1d(larger, data.mnist_indices("mnist", "paper", 5000, 0)["train"]).size == larger.size


def test_a_variant_read_from_the_original_archives_is_not_compared_with_mnist_digits():
    trained = dict(trained_as("mnist-rot", "paper", 5000), variant_source="original")
    on_mnist = evaluation.measurement(trained, dataset="mnist")
    assert evaluation.seen_images(trained, on_mnist, "test") is None
    assert evaluation.seen_images(dict(trained, variant_source="generated"), on_mnist, "test").size == 0
    # its own parts are told apart by position, whatever the source
    assert evaluation.seen_images(trained, evaluation.measurement(trained, val_size=3000), "val").size == 0


def test_the_model_s_own_data_is_the_default():
    trained = trained_as("mnist", "standard", 6000, seed=4)
    assert evaluation.measurement(trained) == {"name": "mnist", "split": "standard", "val_size": 6000, "seed": 4}
    assert evaluation.measurement(trained, dataset="mnist-rot") == {"name": "mnist-rot", "split": "paper",
                                                                   "val_size": None, "seed": 0}
    with pytest.raises(ValueError, match="does not record the split it was trained on"):
        evaluation.measurement(None, dataset="mnist")
    with pytest.raises(ValueError, match="does not record the data set"):
        evaluation.measurement(None)


# ---- the commands -----------------------------------------------------------------

def _train(out, *extra):
    return cli.main(["train", "--method", "dense", "--hidden", "8", "--out", str(out), *SYNTH, *QUICK, *extra])


def test_the_model_file_records_its_data_and_evaluate_uses_it(tmp_path, capsys):
    assert _train(tmp_path) == 0
    (model_file,) = tmp_path.glob("*.npz")
    record = json.loads(next(tmp_path.glob("*.json")).read_text())
    recorded = io.load_metadata(model_file)["data"]
    assert recorded["name"] == "synthetic-digits" and recorded["split"] == "paper"
    assert recorded["validation"] == {"val_size": 60, "seed": 0}
    assert recorded["generator"] == {"n_train": 300, "n_test": 100}
    capsys.readouterr()
    assert cli.main(["evaluate", str(model_file), "--json"]) == 0  # no data options: the model's own
    result = json.loads(capsys.readouterr().out)
    assert result["test_accuracy"] == record["test_accuracy"] and result["n_test"] == 100
    assert result["seen_images"] == 0


def test_sensitivity_refuses_a_validation_subset_it_cannot_check(tmp_path, capsys):
    assert _train(tmp_path) == 0
    (model_file,) = tmp_path.glob("*.npz")
    capsys.readouterr()
    assert cli.main(["sensitivity", str(model_file), "--sparsities", "0,0.5", "--out", str(tmp_path / "s")]) == 0
    assert cli.main(["sensitivity", str(model_file), "--val-size", "30", "--sparsities", "0,0.5",
                     "--out", str(tmp_path / "t")]) == 2
    assert "--allow-overlap" in capsys.readouterr().err
    assert cli.main(["sensitivity", str(model_file), "--val-size", "30", "--sparsities", "0,0.5",
                     "--out", str(tmp_path / "t"), "--allow-overlap"]) == 0
    assert "pynncomp: warning: pynncomp cannot tell" in capsys.readouterr().err
    assert json.loads((tmp_path / "t.json").read_text())["seen_images"] is None


def _mnist_model(path, split):
    """An untrained 784-10 net whose file says it was trained on ``split`` (measuring needs no training)."""
    model = nn.Sequential([nn.Dense(784, 10, seed=0)])
    val_size = 5000 if split == "paper" else 6000
    io.save_model(path, model, metadata={"data": {"name": "mnist", "split": split,
                                                  "validation": {"val_size": val_size, "seed": 0}}})
    return model


@pytest.mark.parametrize("trained_split, asked, seen, total", [("standard", "paper", 10305, 12000),
                                                               ("paper", "standard", 7231, 10000)])
def test_evaluate_refuses_the_other_split_and_names_the_overlap(tmp_path, capsys, trained_split, asked, seen,
                                                                total):
    model_file = tmp_path / "model.npz"
    _mnist_model(model_file, trained_split)
    # refused before any data is read: no MNIST needed
    assert cli.main(["evaluate", str(model_file), "--split", asked]) == 2
    err = capsys.readouterr().err
    assert f"{seen:,} of the {total:,} test images of mnist ({asked} split) were training or validation " \
           f"images of this model (trained on mnist ({trained_split} split))" in err
    assert "--allow-overlap" in err


@pytest.mark.skipif(MNIST_DIR is None, reason="MNIST not found under $PYNNCOMP_DATA")
def test_evaluate_measures_the_other_split_when_asked_and_lists_the_overlap(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYNNCOMP_DATA", str(MNIST_DIR.parent))
    model_file = tmp_path / "model.npz"
    model = _mnist_model(model_file, "standard")
    assert cli.main(["evaluate", str(model_file), "--json"]) == 0
    own = json.loads(capsys.readouterr().out)
    assert own["split"] == "standard" and own["n_test"] == 10000 and own["seen_images"] == 0
    assert cli.main(["evaluate", str(model_file), "--split", "paper", "--allow-overlap", "--json"]) == 0
    captured = capsys.readouterr()
    other = json.loads(captured.out)
    assert other["split"] == "paper" and other["seen_images"] == 10305
    expected = np.intersect1d(data.mnist_indices("mnist", "paper")["test"], np.arange(60000))
    assert other["mnist_indices"] == expected.tolist()
    assert "the accuracy below is not a test accuracy" in captured.err
    paper = data.load("mnist", "paper", val_size=0)
    assert other["test_accuracy"] == model.accuracy(paper.X_test, paper.y_test)


def test_a_model_with_non_finite_weights_is_refused_unless_asked(tmp_path, capsys):
    assert _train(tmp_path) == 0
    (model_file,) = tmp_path.glob("*.npz")
    model = io.load_model(model_file)
    model.layers[0].params["W"][3, 2] = np.nan
    io.save_model(tmp_path / "nan.npz", model, metadata=io.load_metadata(model_file))
    capsys.readouterr()
    assert cli.main(["evaluate", str(tmp_path / "nan.npz")]) == 2
    assert "non-finite" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "nan.npz"), "--allow-nonfinite", "--json"]) == 0


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_training_that_diverges_stops_with_a_clear_message(tmp_path, capsys):
    assert _train(tmp_path, "--lr", "1e30") == 2
    err = capsys.readouterr().err
    assert "the training loss became" in err and "lower lr" in err
    assert list(tmp_path.glob("*.npz")) == []


# ---- file names, overwriting, the output folder -----------------------------------

def test_file_names_tell_experiments_apart():
    from pynncomp.train import Protocol

    base = ("magl2", "mnist", "paper", "784-100-10", 0.9, 0)
    name = experiment.run_name(*base, Protocol())
    assert name.startswith("magl2_mnist_784-100-10_S0.9_seed0_p")
    assert experiment.run_name("magl2", "mnist", "standard", *base[3:], Protocol()).startswith(
        "magl2_mnist@standard_784-100-10_S0.9_seed0_p")
    assert experiment.run_name(*base, Protocol(lr=0.02)) != name
    assert experiment.run_name(*base, Protocol(), {"0.W": 0.9, "2.W": 0.5}) != experiment.run_name(
        *base, Protocol(), {"0.W": 0.9, "2.W": 0.6})


def test_train_refuses_to_overwrite_before_training_unless_asked(tmp_path, capsys):
    assert _train(tmp_path) == 0
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    capsys.readouterr()
    assert _train(tmp_path) == 2
    captured = capsys.readouterr()
    assert "already exist" in captured.err and "--overwrite" in captured.err
    assert "test accuracy" not in captured.out  # refused before it trained
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first
    assert _train(tmp_path, "--lr", "0.02") == 0  # another protocol: other files
    assert len(list(tmp_path.glob("*.npz"))) == 2
    assert _train(tmp_path, "--overwrite") == 0
    assert len(list(tmp_path.glob("*.npz"))) == 2


@pytest.mark.parametrize("out, message", [("{FILE}", "is a file, not a folder"),
                                          ("/proc/pynncomp", "is not a folder pynncomp can write in")])
def test_the_output_folder_is_checked_before_training(tmp_path, capsys, out, message, monkeypatch):
    (tmp_path / "plain").write_text("x")
    out = out.replace("{FILE}", str(tmp_path / "plain"))
    trained = []
    monkeypatch.setattr(experiment, "train_epoch", lambda *a: trained.append(1))
    assert _train(out) == 2
    err = capsys.readouterr().err
    assert f"--out '{out}' {message}" in err and ".part" not in err
    assert trained == []


def test_a_type_error_is_a_bug_and_keeps_its_traceback(monkeypatch):
    def broken(args):
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(cli, "_cmd_info", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        cli.main(["info"])


def test_evaluate_names_how_each_kind_of_layer_computes():
    hashed = nn.Sequential([nn.HashedDense(784, 10, K=100, hash_seed=1)])
    sparse = nn.Sequential([nn.SparseDense.from_weights(np.ones((784, 10), np.float32), np.zeros(10, np.float32),
                                                        np.eye(784, 10, dtype=bool))])
    assert evaluation.inference_path(hashed).startswith("the HashedNet kernels (")
    assert evaluation.inference_path(sparse).startswith("the sparse kernels (")
    assert evaluation.inference_path(nn.Sequential([nn.Dense(784, 10)])) == "dense NumPy matrix products"
