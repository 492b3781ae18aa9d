"""Bad input a user can give the command line and the data layer: one clear message each.

Every case is one row of a table: what the user typed (or called), and the
words the message must hold.  A command-line case must exit with status 2
and print one ``pynncomp: error:`` line naming the problem; a library case
must raise ``ValueError`` or ``TypeError`` naming it.  The kernels and the
model files have catalogues of their own (``test_bad_inputs_kernels.py``,
``test_bad_inputs_model_files.py``).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pynncomp import cli, data, experiment, io, nn
from pynncomp.data import mnist

pytestmark = pytest.mark.usefixtures("isolated_data")

SYNTH = ["--dataset", "synthetic-digits", "--n-train", "300", "--n-test", "100", "--val-size", "60"]
QUICK = ["--pretrain-epochs", "1", "--steps", "1", "--finetune-max", "1", "--patience", "1", "--batch-size", "32",
         "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny dense 784-8-10 trained on synthetic digits by ``pynncomp train``: (model file, record file)."""
    out = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(out / "xdg"))
        assert cli.main(["train", "--method", "dense", "--hidden", "8", "--out", str(out), *SYNTH, *QUICK]) == 0
    (model_file,) = out.glob("*.npz")
    (record_file,) = out.glob("*.json")
    return model_file, record_file


def _files(tmp_path, trained):
    """The paths a case may name: ``{MODEL}``, ``{RECORD}``, ``{TMP}``, ``{FILE}`` (an existing plain file)."""
    plain = tmp_path / "plain.txt"
    plain.write_text("not a folder\n")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(0).bytes(3000))
    narrow = tmp_path / "narrow.npz"  # a model for 100 inputs, recorded as trained on synthetic digits
    io.save_model(narrow, nn.Sequential([nn.Dense(100, 10, seed=0)]), metadata={
        "data": {"name": "synthetic-digits", "split": "paper", "validation": {"val_size": 60, "seed": 0},
                 "generator": {"n_train": 300, "n_test": 100}}})
    runs = tmp_path / "runs"
    runs.mkdir()
    return {"{MODEL}": str(trained[0]), "{RECORD}": str(trained[1]), "{TMP}": str(tmp_path), "{FILE}": str(plain),
            "{GARBAGE}": str(garbage), "{NARROW}": str(narrow), "{RUNS}": str(runs)}


def _expand(argv, names):
    for name, value in names.items():
        argv = [arg.replace(name, value) for arg in argv]
    return argv


TRAIN = ["train", "--out", "{TMP}/out", *SYNTH, *QUICK]

# (command line, words the error message must hold)
CLI_CASES = [
    (TRAIN + ["--method", "prune-it"], "method must be one of ('dense', 'magl1'"),
    (["train", "--method", "dense", "--dataset", "cifar10", "--out", "{TMP}/out"], "--dataset must be one of"),
    (TRAIN + ["--method", "magl2", "--sparsity", "1.0"], "sparsity must be in [0, 1), got 1.0"),
    (TRAIN + ["--method", "magl2", "--sparsity", "-0.5"], "sparsity must be in [0, 1), got -0.5"),
    (TRAIN + ["--method", "magl2", "--sparsity", "nan"], "sparsity must be"),
    (TRAIN + ["--method", "dense", "--hidden", "0"], "hidden must be an integer >= 1, got 0"),
    (TRAIN + ["--method", "dense", "--arch", "vgg"], "arch must be one of ('mlp', 'lenet300', 'lenet5')"),
    (TRAIN + ["--method", "magl2", "--sparsity", "0.9", "--steps", "0"], "--steps: steps must be an integer >= 1, got 0"),
    (TRAIN + ["--method", "dense", "--lr", "-1"], "--lr: lr must be in (0, inf), got -1.0"),
    (TRAIN + ["--method", "dense", "--momentum", "1"], "--momentum: momentum must be in [0, 1), got 1.0"),
    (TRAIN + ["--method", "magl2", "--sparsity", "0.9", "--schedule", "linear"],
     "--schedule: schedule must be one of ('power', 'cubic', 'oneshot'), got 'linear'"),
    (TRAIN + ["--method", "magl2", "--sparsity", "0.9", "--scope", "neuron"], "--scope: scope must be one of"),
    (TRAIN + ["--method", "dense", "--penalty", "l3"], "--penalty: penalty must be one of ('l1', 'l2', 'none')"),
    (TRAIN + ["--method", "dense", "--dropout", "1"], "--dropout: dropout must be in [0, 1), got 1.0"),
    (TRAIN + ["--method", "dense", "--lr-decay", "1.5"], "--lr-decay: lr_decay must be in (0, 1], got 1.5"),
    (TRAIN + ["--method", "dense", "--sparsity", "0.5"], "'dense' does not compress: sparsity must be 0"),
    (TRAIN + ["--method", "hashednet", "--arch", "lenet5", "--sparsity", "0.9"], "use arch 'mlp' or 'lenet300'"),
    (TRAIN + ["--method", "han", "--hidden", "8", "--layer-sparsity", "0.W=1.5,2.W=0.5"],
     "sparsity must be in [0, 1), got 1.5"),
    (TRAIN + ["--method", "han", "--hidden", "8", "--layer-sparsity", "0.W=0.5"], "layer_sparsity misses ['2.W']"),
    (["train", "--method", "dense", "--hidden", "8", "--out", "{TMP}/out", "--dataset", "synthetic-digits",
      "--val-size", "100000"], "val_size must be in [0, 4999], got 100000"),
    (["train", "--method", "dense", "--out", "{TMP}/out", "--dataset", "mnist-rot", "--split", "standard"],
     "split='standard' is defined for 'mnist' only"),
    (["train", "--method", "dense", "--out", "{TMP}/out", "--dataset", "mnist", "--n-train", "5"],
     "n_train and n_test are for 'synthetic-digits' only"),
    (TRAIN[:1] + ["--method", "dense", "--out", "{FILE}", *SYNTH], "--out '{FILE}' is a file, not a folder"),
    (TRAIN[:1] + ["--method", "dense", "--out", "/proc/pynncomp-out", *SYNTH],
     "--out '/proc/pynncomp-out' is not a folder pynncomp can write in"),
    (TRAIN[:1] + ["--method", "dense", "--out", "{FILE}/below", *SYNTH], "is not a folder pynncomp can write in"),
    (["train", "--method", "dense", "--out", "{TMP}/out", "--dataset", "mnist", "--root", "{TMP}/nowhere"],
     "root must be an existing directory"),
    (["evaluate", "{TMP}/missing.npz"], "missing.npz"),
    (["evaluate", "{GARBAGE}"], "not a pynncomp model file"),
    (["evaluate", "{RECORD}"], "not a pynncomp model file"),
    (["evaluate", "{MODEL}", "--dataset", "cifar10"], "dataset must be one of"),
    (["evaluate", "{MODEL}", "--split", "standard"], "split='standard' is defined for 'mnist' only"),
    (["evaluate", "{NARROW}"], "narrow.npz takes 100 inputs per image, but the images of synthetic-digits have 784"),
    (["evaluate", "{MODEL}", "--dataset", "mnist", "--n-test", "50"], "--n-train and --n-test are for synthetic"),
    (["sensitivity", "{MODEL}", "--sparsities", "0.5,0.2", "--out", "{TMP}/s"], "sparsities must"),
    (["sensitivity", "{MODEL}", "--sparsities", "0.5,1.0", "--out", "{TMP}/s"], "sparsities must"),
    (["sensitivity", "{MODEL}", "--val-size", "30", "--out", "{TMP}/s"],
     "cannot tell whether the validation images of synthetic-digits"),
    (["sensitivity", "{MODEL}", "--out", "{FILE}/s"], "the folder of --out '{FILE}' is a file, not a folder"),
    (["reproduce", "table9", "--results", "{RUNS}"], "target must be one of"),
    (["reproduce", "table1", "--results", "{RUNS}", "--jobs", "0"], "argument --jobs: expected an integer >= 1"),
    (["reproduce", "table1", "--results", "{RUNS}", "--runs", "0"], "--runs: runs must be an integer >= 1"),
    (["reproduce", "table1", "--results", "{RUNS}", "--levels", "0.42"], "--levels: levels must be among"),
    (["reproduce", "table1", "--results", "{RUNS}", "--datasets", "cifar10"], "--datasets: datasets must be"),
    (["reproduce", "table1", "--results", "{FILE}"], "--results '{FILE}' is a file, not a folder"),
    (["report", "{TMP}/empty", "--target", "table1"], "does not exist: run `pynncomp reproduce table1"),
    (["report", "{RUNS}", "--target", "table1"], "test_accuracy must be a number in [0, 1], got null"),
    (["plot", "{RUNS}", "--target", "table1", "--out", "{TMP}/p.txt"], "--out must name a .png file"),
    (["data", "preview", "mnist", "--out", "{TMP}/grid.txt"], "--out must name a .png file"),
    (["data", "preview", "synthetic-digits", "--n", "0", "--out", "{TMP}/grid.png"], "--n must be >= 1, got 0"),
    (["quickstart", "--out", "{FILE}"], "--out '{FILE}' is a file, not a folder"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES, ids=[" ".join(c[0][:3]) + f" #{i}" for i, c in
                                                           enumerate(CLI_CASES)])
def test_the_command_line_refuses_with_one_clear_message(tmp_path, capsys, trained, argv, message, monkeypatch):
    names = _files(tmp_path, trained)
    (tmp_path / "runs" / "runs.jsonl").write_text(json.dumps({"run_key": "a", "test_accuracy": None}) + "\n")
    try:
        status = cli.main(_expand(argv, names))
    except SystemExit as exit_:  # argparse's own check of an option's form
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err
    assert "error: " in err and "Traceback" not in err, err
    assert _expand([message], names)[0] in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), "nothing may be written"


@pytest.mark.parametrize("value, problem", [("missing", "which does not exist"),
                                            ("file", "which is a file, not a directory"),
                                            ("empty", "which holds no usable mnist/NAME.gz")])
def test_a_pynncomp_data_that_does_not_hold_mnist_is_named_as_set(tmp_path, capsys, monkeypatch, value, problem):
    target = {"missing": tmp_path / "nowhere", "file": tmp_path / "plain.txt", "empty": tmp_path / "empty"}[value]
    (tmp_path / "plain.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PYNNCOMP_DATA", str(target))
    assert cli.main(["train", "--method", "dense", "--dataset", "mnist", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"PYNNCOMP_DATA is set to '{target}', {problem}" in err
    assert "Set PYNNCOMP_DATA" not in err


# (call, exception type, words of the message)
LIBRARY_CASES = [
    (lambda: data.load("mnist", root=123), TypeError, "root must be None, a str or an os.PathLike, got int 123"),
    (lambda: data.load("mnist", split="other"), ValueError, "split must be one of ('paper', 'standard')"),
    (lambda: data.load("cifar10"), ValueError, "name must be one of"),
    (lambda: data.load("synthetic-digits", layout="grid"), ValueError, "layout must be one of ('flat', 'image')"),
    (lambda: data.load("synthetic-digits", seed=-1), ValueError, "seed must be in [0, 4294967295], got -1"),
    (lambda: data.load("synthetic-digits", seed=1.5), TypeError, "seed must be an integer"),
    (lambda: data.load("synthetic-digits", n_train=0), ValueError, "n_train must be >= 1, got 0"),
    (lambda: data.load("synthetic-digits", val_size=-3), ValueError, "val_size must be >= 0, got -3"),
    (lambda: data.load("mnist", variant_source="original"), ValueError, "for the variants"),
    (lambda: data.mnist_indices("cifar10"), ValueError, "name must be one of"),
    (lambda: data.mnist_indices("mnist-rot", "standard"), ValueError, "split='standard' is defined for 'mnist'"),
    (lambda: experiment.run("nope", None), ValueError, "method must be one of"),
    (lambda: experiment.check_sparsity("0.5"), TypeError, "sparsity must be a real number"),
]


@pytest.mark.parametrize("call, kind, message", LIBRARY_CASES,
                         ids=[f"library #{i}" for i in range(len(LIBRARY_CASES))])
def test_the_library_refuses_with_a_clear_message(call, kind, message):
    with pytest.raises(kind) as caught:
        call()
    assert message in str(caught.value)


def test_a_corrupt_mnist_file_is_named_with_its_checksum(tmp_path):
    folder = tmp_path / "root" / "mnist"
    folder.mkdir(parents=True)
    for name in mnist.MD5:
        (folder / f"{name}.gz").write_bytes(b"\x1f\x8b\x08\x00 not gzip at all")
    with pytest.raises(ValueError) as caught:
        data.load("mnist", root=tmp_path / "root", download=False)
    assert "train-images-idx3-ubyte" in str(caught.value) and "corrupt" in str(caught.value)


def test_saving_over_an_earlier_run_is_refused_unless_asked(tmp_path, trained):
    model = io.load_model(trained[0])
    record = json.loads(trained[1].read_text())
    name = trained[0].stem
    experiment.save_run(tmp_path, model, record, name)
    with pytest.raises(ValueError, match="already exist .* give --overwrite"):
        experiment.save_run(tmp_path, model, record, name, overwrite=False)
    experiment.save_run(tmp_path, model, record, name, overwrite=True)


def test_an_error_reaches_the_terminal_as_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pynncomp", "plot", str(tmp_path), "--target", "table1",
                             "--out", str(tmp_path / "figure.txt")], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "figure.txt").exists()
