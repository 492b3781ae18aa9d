"""Shared pytest fixtures and markers."""
import os
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
