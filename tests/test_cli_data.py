"""``pynncomp data info`` and ``pynncomp data preview``.

Most tests call ``main(argv)`` in this process; the ones checking that an
error is one message and no traceback run the real command.  The network
is never used: mirrors point at a folder that does not exist.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import mnist_dir
from pynncomp import cli, data
from pynncomp.data import idx, mnist, sources

MNIST_DIR = mnist_dir()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("isolated_data")


def run_command(*args):
    """``python -m pynncomp ARGS`` with this process's (isolated) environment."""
    return subprocess.run([sys.executable, "-m", "pynncomp", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def test_data_info_reports_each_file_in_each_directory(tmp_path, capsys):
    root = tmp_path / "root"
    (root / "mnist").mkdir(parents=True)
    idx.write_idx(root / "mnist" / f"{mnist.TRAIN_LABELS}.gz", np.arange(10, dtype=np.uint8))
    (root / "mnist" / f"{mnist.TEST_IMAGES}.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert cli.main(["data", "info", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    cache = sources.user_cache_dir()
    assert f"  root: {root}\n" in out and f"  user cache: {cache}\n" in out
    assert "(PYNNCOMP_DATA is not set)" in out
    labels_line = next(line for line in out.splitlines() if line.strip().startswith(mnist.TRAIN_LABELS))
    assert f"expected {mnist.MD5[mnist.TRAIN_LABELS]}" in labels_line
    assert f"[{root / 'mnist' / (mnist.TRAIN_LABELS + '.gz')}]" in labels_line
    images_line = next(line for line in out.splitlines() if line.strip().startswith(mnist.TEST_IMAGES))
    assert "truncated or corrupt gzip" in images_line
    assert out.count("missing") == 2 + 4  # two files under root, four in the cache
    assert "MNIST is not usable: the first copy of" in out
    assert f"User cache: {cache}" in out
    assert "Variants in the cache: none" in out


def test_data_info_without_mnist_says_it_will_download(capsys):
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "MNIST is incomplete: " + ", ".join(mnist.MD5) + " will be downloaded on first use." in out
    assert "no-mirror" in out  # the mirrors from $PYNNCOMP_MNIST_MIRRORS


def test_data_info_lists_cached_variants(capsys, monkeypatch):
    from pynncomp.data import variants

    entry = dict(name="mnist-rot", seed=0, source="generated", path="/c/variants/mnist-rot-seed0.npz",
                 n_images=62000, manifest_ok=True, problem=None)
    monkeypatch.setattr(variants, "cached_variants",
                        lambda cache_dir: [entry] if cache_dir == sources.user_cache_dir() else [])
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "  mnist-rot (generated, seed 0, 62000 images) ok  [/c/variants/mnist-rot-seed0.npz]" in out


@pytest.mark.skipif(MNIST_DIR is None, reason="no MNIST under $PYNNCOMP_DATA/mnist")
def test_data_info_on_the_real_mnist(capsys):
    assert cli.main(["data", "info", "--root", str(MNIST_DIR)]) == 0
    out = capsys.readouterr().out
    for name in mnist.MD5:
        assert f"{name:<23}  ok  [{MNIST_DIR / (name + '.gz')}]" in out
    assert "MNIST is ready" in out


def test_missing_data_is_one_message_and_exit_2(tmp_path):
    out_png = tmp_path / "grid.png"
    proc = run_command("data", "preview", "mnist", "--out", str(out_png))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("pynncomp: error: MNIST not found: ")
    assert "PYNNCOMP_DATA" in proc.stderr.splitlines()[0]
    assert not out_png.exists()


def test_unknown_dataset_exits_2_listing_the_names(tmp_path):
    proc = run_command("data", "preview", "cifar10", "--out", str(tmp_path / "grid.png"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "invalid choice: 'cifar10'" in proc.stderr and "'mnist-back-image'" in proc.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data", "preview", "mnist-rot", "--split", "standard", "--out", "x.png"],
         "split='standard' is defined for 'mnist' only"),
        (["data", "preview", "mnist", "--n", "0", "--out", "x.png"], "--n must be >= 1, got 0"),
        (["data", "info", "--root", "/no/such/dir"], "root must be an existing directory, got '/no/such/dir'"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("pynncomp: error: ") and message in err
    assert err.count("\n") == 1


def test_data_without_a_command_prints_its_help(capsys):
    assert cli.main(["data"]) == 2
    assert "DATA_COMMAND" in capsys.readouterr().err


@pytest.mark.skipif(MNIST_DIR is None, reason="no MNIST under $PYNNCOMP_DATA/mnist")
def test_preview_of_mnist_writes_a_png(tmp_path, capsys):
    out_png = tmp_path / "grid.png"
    assert cli.main(["data", "preview", "mnist", "--n", "8", "--root", str(MNIST_DIR), "--out", str(out_png)]) == 0
    assert out_png.read_bytes()[:8] == PNG_SIGNATURE
    assert "first 8 training images" in capsys.readouterr().out


def test_preview_of_synthetic_digits_needs_no_data(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: pytest.fail("MNIST was read"))
    out_png = tmp_path / "grid.png"
    assert cli.main(["data", "preview", "synthetic-digits", "--n", "5", "--out", str(out_png)]) == 0
    assert out_png.read_bytes()[:8] == PNG_SIGNATURE
