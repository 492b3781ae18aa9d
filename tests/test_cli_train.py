"""``pynncomp train``, ``evaluate``, ``sensitivity`` and ``quickstart`` on tiny synthetic data.

The commands run in this process (``cli.main``); a few run the real
``python -m pynncomp`` to check that an error is one line and no traceback.
"""
import json
import os
import subprocess
import sys

import pytest

from pynncomp import cli, data, experiment, io, quickstart
from pynncomp.train import Protocol, protocol_hash

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY_DATA = ["--dataset", "synthetic-digits", "--n-train", "400", "--n-test", "150", "--val-size", "80"]
TINY_PROTOCOL = ["--pretrain-epochs", "1", "--steps", "2", "--prune-every", "1", "--finetune-max", "2",
                 "--patience", "1", "--batch-size", "32"]

pytestmark = pytest.mark.usefixtures("isolated_data")


@pytest.fixture
def runs(tmp_path):
    """The output folder (tmp_path also holds the isolated user cache)."""
    return tmp_path / "runs"


def train(out, *extra):
    return cli.main(["train", "--method", "magl2", "--hidden", "16", "--sparsity", "0.9", "--seed", "3",
                     "--out", str(out), *TINY_DATA, *TINY_PROTOCOL, *extra])


def test_train_writes_the_model_and_the_record(runs, capsys):
    assert train(runs) == 0
    out = capsys.readouterr().out
    assert "epoch   1 pretrain" in out and "prune step 2: 90.00 % of the weights removed" in out
    protocol = Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=2, patience=1, batch_size=32)
    stem = f"magl2_synthetic-digits_784-16-10_S0.9_seed3_p{protocol_hash(protocol.to_dict())}"
    record = json.loads((runs / f"{stem}.json").read_text())
    for field in experiment.RECORD_FIELDS:
        assert field in record
    assert record["target_sparsity"] == 0.9 and record["seed"] == 3 and record["hidden"] == [16]
    assert record["weights_kept"] == round(0.1 * (784 * 16 + 160))
    assert record["config"]["protocol"]["steps"] == 2 and record["config"]["protocol"]["batch_size"] == 32
    assert record["file_bytes"] == (runs / f"{stem}.npz").stat().st_size
    assert sorted(p.name for p in runs.iterdir()) == [f"{stem}.json", f"{stem}.npz"]


def test_evaluate_reproduces_the_recorded_accuracy_through_the_sparse_kernels(runs, capsys):
    assert train(runs) == 0
    model_file = next(runs.glob("*.npz"))
    record = json.loads(next(runs.glob("*.json")).read_text())
    capsys.readouterr()
    assert cli.main(["evaluate", str(model_file), "--json", *TINY_DATA[2:]]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"] == "synthetic-digits"  # taken from the model file
    assert result["test_accuracy"] == record["test_accuracy"] == result["recorded_test_accuracy"]
    assert result["file_bytes"] == record["file_bytes"]
    assert result["file_ratio"] == pytest.approx(record["file_bytes"] / result["dense_float32_bytes"])
    assert cli.main(["evaluate", str(model_file), *TINY_DATA[2:]]) == 0
    assert "bytes on disk" in capsys.readouterr().out


def test_sensitivity_writes_table_json_and_plot(runs, capsys):
    assert cli.main(["train", "--method", "dense", "--hidden", "16", "--out", str(runs), "--quiet",
                     *TINY_DATA, *TINY_PROTOCOL]) == 0
    model_file = next(runs.glob("*.npz"))
    assert cli.main(["sensitivity", str(model_file), "--sparsities", "0,0.5,0.9,0.99", "--out",
                     str(runs / "sens"), *TINY_DATA[2:]]) == 0
    out = capsys.readouterr().out
    assert "| sparsity | 0.W (Dense 784x16) | 2.W (Dense 16x10) |" in out
    result = json.loads((runs / "sens.json").read_text())
    assert result["sparsities"] == [0, 0.5, 0.9, 0.99]
    assert [entry["accuracy"][0] for entry in result["layers"].values()] == [result["baseline"]] * 2
    assert (runs / "sens.png").read_bytes().startswith(PNG_SIGNATURE)


def run_command(*args):
    return subprocess.run([sys.executable, "-m", "pynncomp", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--method", "prune-it"], "method must be one of ('dense', 'magl1', 'magl2', 'obd', 'han', 'oneshot', "
                               "'random', 'hashednet', 'obs', 'lobs', 'neurons-l1', 'neurons-l2', 'neurons-mean', "
                               "'neurons-apoz', 'neurons-taylor', 'filters-l1', 'filters-l2', 'filters-taylor'), "
                               "got 'prune-it'"),
    (["--dataset", "cifar10"], "--dataset must be one of ('mnist', 'mnist-rot'"),
    (["--sparsity", "1.0"], "sparsity must be in [0, 1), got 1.0"),
    (["--sparsity", "-0.5"], "sparsity must be in [0, 1), got -0.5"),
    (["--hidden", "0"], "hidden must be an integer >= 1, got 0"),
    (["--steps", "0"], "--steps: steps must be an integer >= 1, got 0"),
    (["--power", "0.5"], "--power: power must be in [1, inf), got 0.5"),
    (["--arch", "vgg"], "arch must be one of ('mlp', 'lenet300', 'lenet5'), got 'vgg'"),
    (["--arch", "lenet5", "--method", "hashednet"], "use arch 'mlp' or 'lenet300', not 'lenet5'"),
    (["--method", "dense"], "'dense' does not compress: sparsity must be 0"),
    (["--scope", "neuron"], "--scope: scope must be one of ('global', 'layer'), got 'neuron'"),
])
def test_bad_arguments_are_one_clear_message(tmp_path, capsys, args, message):
    base = {"--method": "magl2", "--dataset": "synthetic-digits", "--sparsity": "0.9", "--hidden": "16"}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    if "--arch" in base and base["--arch"] != "mlp":
        del base["--hidden"]
    argv = ["train", "--out", str(tmp_path / "out")] + [x for kv in base.items() for x in kv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("pynncomp: error: ") and message in err
    assert not (tmp_path / "out").exists()


def test_mlp_without_hidden_is_the_documented_784_100_10(tmp_path):
    runs = tmp_path / "runs"
    assert cli.main(["train", "--method", "dense", "--out", str(runs), "--quiet", "--dataset", "synthetic-digits",
                     "--n-train", "200", "--n-test", "100", "--pretrain-epochs", "1", "--steps", "1",
                     "--finetune-max", "1"]) == 0
    (record_file,) = runs.glob("*.json")
    record = json.loads(record_file.read_text())
    assert record["hidden"] == [100] and record["arch"] == "784-100-10"


def test_an_error_is_one_line_without_traceback(tmp_path):
    result = run_command("train", "--method", "obdd", "--dataset", "synthetic-digits", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_evaluate_a_missing_or_corrupt_model_file(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path / "nothing.npz"), "--dataset", "synthetic-digits"]) == 2
    assert "nothing.npz" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    assert cli.main(["evaluate", str(bad), "--dataset", "synthetic-digits"]) == 2
    assert "cannot read the pynncomp model file" in capsys.readouterr().err


def test_sensitivity_refuses_bad_sparsities(runs, capsys):
    assert cli.main(["train", "--method", "dense", "--hidden", "8", "--out", str(runs), "--quiet",
                     *TINY_DATA, *TINY_PROTOCOL]) == 0
    model_file = next(runs.glob("*.npz"))
    for bad in ("0.5,0.2", "0.5,1.0"):
        assert cli.main(["sensitivity", str(model_file), "--sparsities", bad, "--out", str(runs / "s"),
                         *TINY_DATA[2:]]) == 2
        assert "sparsities must" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["sensitivity", str(model_file), "--sparsities", "half", "--out", str(runs / "s")])


def test_ctrl_c_leaves_no_file(tmp_path, capsys, monkeypatch):
    from pynncomp import experiment as experiment_module

    original = experiment_module.train_epoch
    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(experiment_module, "train_epoch", interrupted)
    assert train(tmp_path / "out") == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_ctrl_c_while_saving_leaves_no_half_written_file(runs, monkeypatch):
    import numpy

    def interrupted_savez(stream, **arrays):
        stream.write(b"PK\x03\x04 half of a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(numpy, "savez", interrupted_savez)
    assert train(runs) == 130
    assert not runs.exists() or list(runs.iterdir()) == []


def test_quickstart_on_synthetic_data(runs, capsys, monkeypatch):
    """The quickstart falls back to synthetic-digits when MNIST cannot be had (isolated: no MNIST)."""
    small = data.load("synthetic-digits", n_train=400, n_test=150, val_size=80)
    real_load = data.load

    def load(name, *args, **kwargs):
        return small if name == "synthetic-digits" else real_load(name, *args, **kwargs)

    monkeypatch.setattr(data, "load", load)
    monkeypatch.setattr(quickstart, "QUICK_PROTOCOL",
                        Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=2, patience=1))
    assert cli.main(["quickstart", "--out", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "MNIST is not available" in out and "synthetic-digits instead" in out
    lines = [line for line in out.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in lines] == ["method", "dense", "magl1", "hashednet"]
    records = [json.loads(p.read_text()) for p in sorted(runs.glob("*.json"))]
    kept = {r["method"]: r["weights_kept"] for r in records}
    assert kept["magl1"] == kept["hashednet"] == round(0.1 * (784 * 100 + 1000))
    assert (runs / "quickstart.png").read_bytes().startswith(PNG_SIGNATURE)
    for r in records:
        model = io.load_model(runs / r["model_file"])
        assert model.accuracy(small.X_test, small.y_test) == r["test_accuracy"]


def test_train_with_a_sparsity_per_layer(runs, capsys):
    assert cli.main(["train", "--method", "han", "--hidden", "16", "--layer-sparsity", "0.W=0.9,2.W=0.5",
                     "--out", str(runs), "--quiet", *TINY_DATA, *TINY_PROTOCOL]) == 0
    record = json.loads(next(runs.glob("*.json")).read_text())
    assert record["config"]["layer_sparsity"] == {"0.W": 0.9, "2.W": 0.5}
    assert record["layers"]["0.W"]["kept"] == round(0.1 * 784 * 16)
    assert record["layers"]["2.W"]["kept"] == 80
    with pytest.raises(SystemExit):
        cli.main(["train", "--method", "han", "--layer-sparsity", "0.W:0.9", "--out", str(runs), *TINY_DATA])
    assert cli.main(["train", "--method", "han", "--hidden", "16", "--layer-sparsity", "0.W=0.9",
                     "--out", str(runs), *TINY_DATA]) == 2
    assert "layer_sparsity misses ['2.W']" in capsys.readouterr().err


def test_evaluate_reads_a_lenet5_in_the_image_layout(runs, capsys):
    assert cli.main(["train", "--method", "magl2", "--arch", "lenet5", "--sparsity", "0.9", "--out", str(runs),
                     "--quiet", *TINY_DATA, *TINY_PROTOCOL]) == 0
    record = json.loads(next(runs.glob("*.json")).read_text())
    capsys.readouterr()
    assert cli.main(["evaluate", str(next(runs.glob("*.npz"))), "--json", *TINY_DATA[2:]]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_accuracy"] == record["test_accuracy"] and record["arch"] == "lenet5"
    assert result["weights_kept"] == record["weights_kept"] == round(0.1 * 430_500)
