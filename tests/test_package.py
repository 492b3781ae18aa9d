"""The package as a user meets it: import, backend choice, `pynncomp info`."""
import json
import os
import subprocess
import sys

import pytest

import pynncomp
from pynncomp import kernels

# A child interpreter in which importing the compiled core fails, as it does
# where no compiler was present at install time.
BLOCK_C_CORE = """
import sys
class BlockCCore:
    def find_spec(self, name, path=None, target=None):
        if name == "pynncomp._pynncomp_c":
            raise ImportError("simulated: extension not built")
sys.meta_path.insert(0, BlockCCore())
"""


def run_python(code, **env):
    child_env = {k: v for k, v in os.environ.items() if k != "PYNNCOMP_BACKEND"}
    child_env.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env, timeout=120)


def test_info_reports_version_backend_and_kernels():
    proc = subprocess.run([sys.executable, "-m", "pynncomp", "info"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["version"] == pynncomp.__version__
    assert info["backend"] in ("c", "numpy")
    assert info["kernels"] == list(kernels.KERNELS)
    assert set(info["kernels"]) >= {"hash_buckets", "hashed_lookup", "bucket_accumulate", "sparse_matmul"}


def test_backend_env_forces_numpy():
    proc = run_python("import pynncomp; print(pynncomp.ACTIVE_BACKEND)", PYNNCOMP_BACKEND="numpy")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "numpy"
    assert "C core not available" not in proc.stderr


def test_unknown_backend_env_is_refused_by_name():
    proc = run_python("import pynncomp", PYNNCOMP_BACKEND="fortran")
    assert proc.returncode != 0
    assert "PYNNCOMP_BACKEND" in proc.stderr and "fortran" in proc.stderr


def test_missing_c_core_falls_back_to_numpy_and_warns_once():
    code = BLOCK_C_CORE + """
import warnings
warnings.simplefilter("always")
import numpy as np
import pynncomp, pynncomp.kernels as k
import pynncomp.cli
print(pynncomp.ACTIVE_BACKEND, k.c_available())
bucket, sign = k.hash_buckets(4, 3, 5, 1691)
print(k.hashed_lookup(np.arange(5.0), bucket, sign).shape)
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["numpy", "False", "(4,", "3)"]
    assert proc.stderr.count("C core not available") == 1
    assert "pip install -e ." in proc.stderr


def test_backend_c_requested_but_missing_is_an_error():
    proc = run_python(BLOCK_C_CORE + "import pynncomp", PYNNCOMP_BACKEND="c")
    assert proc.returncode != 0
    assert "PYNNCOMP_BACKEND=c" in proc.stderr


@pytest.mark.skipif(not kernels.c_available(), reason="the C core is not built")
def test_c_backend_is_active_by_default_when_built():
    proc = run_python("import pynncomp; print(pynncomp.ACTIVE_BACKEND)")
    assert proc.stdout.strip() == "c"


def test_cli_without_command_prints_usage_and_fails():
    proc = subprocess.run([sys.executable, "-m", "pynncomp"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "usage" in proc.stderr.lower()


def test_keep_freed_memory_can_be_turned_off(monkeypatch):
    from pynncomp import _memory

    monkeypatch.setenv("PYNNCOMP_KEEP_MEMORY", "0")
    assert _memory.keep_freed_memory() is False
    monkeypatch.delenv("PYNNCOMP_KEEP_MEMORY")
    import platform

    if platform.libc_ver()[0] == "glibc":
        assert _memory.keep_freed_memory() is True


BLAS_THREADS_AROUND_A_COMMAND = """
import json
import threadpoolctl
from pynncomp import cli
def blas_threads():
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
before = blas_threads()
status = cli.main(["evaluate", "no-such-model.npz"])  # a compute command that fails fast
print(json.dumps([status, before, blas_threads()]))
"""


def run_blas_threads_probe(**blas_env):
    from pynncomp._threads import BLAS_THREAD_VARIABLES

    child_env = {k: v for k, v in os.environ.items() if k not in BLAS_THREAD_VARIABLES}
    child_env.update(blas_env)
    proc = subprocess.run([sys.executable, "-c", BLAS_THREADS_AROUND_A_COMMAND], capture_output=True, text=True,
                          env=child_env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_commands_run_blas_on_one_thread_by_default():
    status, before, after = run_blas_threads_probe()
    assert status == 2  # the missing model is refused
    assert before, "numpy's BLAS was not found by threadpoolctl"
    assert after == [1] * len(before)


def test_commands_keep_a_blas_thread_count_the_user_set():
    status, before, after = run_blas_threads_probe(OPENBLAS_NUM_THREADS="2")  # before: 2 threads, or fewer on a 1-core machine
    assert status == 2
    assert after == before
