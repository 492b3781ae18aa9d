"""Shared pytest fixtures and markers."""
import os

# One BLAS thread: the tests' matrices are small, and on a 2-core machine
# that is also running experiments, OpenBLAS threads stall each other (a
# test module measured 33 s with one thread and 272 s with two).  Set before
# NumPy is imported; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import pathlib

import numpy as np
import pytest

from pynncomp import kernels

requires_c = pytest.mark.skipif(not kernels.c_available(), reason="the C core is not built")


def mnist_dir():
    """The MNIST folder under PYNNCOMP_DATA, or None when absent."""
    root = os.environ.get("PYNNCOMP_DATA")
    if not root:
        return None
    path = pathlib.Path(root) / "mnist"
    return path if path.is_dir() else None


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """A private user cache, no PYNNCOMP_DATA, and MNIST mirrors that do not exist.

    Data tests use it so that they never read the developer's cache or the
    network, whatever the machine has.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PYNNCOMP_DATA", raising=False)
    monkeypatch.setenv("PYNNCOMP_MNIST_MIRRORS", (tmp_path / "no-mirror").as_uri())
