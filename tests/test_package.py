"""The package as a user meets it: import, backend choice, `pynncomp info`."""
import json
import os
import pathlib
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


def test_import_pynncomp_imports_no_kernels_and_no_numpy():
    proc = run_python("import sys, pynncomp; print('pynncomp.kernels' in sys.modules, 'numpy' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


BAD_BACKEND_MESSAGE = "PYNNCOMP_BACKEND must be one of auto, c, numpy (or unset), got 'gpu'"


def test_unknown_backend_env_is_refused_at_the_kernels_import():
    code = """
import pynncomp
try:
    import pynncomp.kernels
except pynncomp.BackendError as err:
    print(type(err).__name__, isinstance(err, ImportError), err, sep="|")
"""
    proc = run_python(code, PYNNCOMP_BACKEND="gpu")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"BackendError|True|{BAD_BACKEND_MESSAGE}"
    # Uncaught, it is the last line of the traceback.
    proc = run_python("import pynncomp.kernels", PYNNCOMP_BACKEND="gpu")
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == f"pynncomp.BackendError: {BAD_BACKEND_MESSAGE}"


def command_line_variants():
    """``python -m pynncomp`` and, when installed beside this interpreter, the ``pynncomp`` script."""
    variants = [pytest.param([sys.executable, "-m", "pynncomp"], id="python-m")]
    script = pathlib.Path(sys.executable).with_name("pynncomp")
    variants.append(pytest.param([str(script)], id="script", marks=pytest.mark.skipif(
        not script.exists(), reason=f"no installed pynncomp script at {script}")))
    return variants


@pytest.mark.parametrize("command", command_line_variants())
def test_command_with_unknown_backend_env_says_one_line_and_exits_2(command):
    proc = subprocess.run(command + ["info"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYNNCOMP_BACKEND": "gpu"})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"pynncomp: error: {BAD_BACKEND_MESSAGE}"]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", command_line_variants())
def test_command_runs_with_a_valid_backend_env(command):
    proc = subprocess.run(command + ["info"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYNNCOMP_BACKEND": "numpy"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["backend"] == "numpy"


def test_main_returns_the_status_of_the_command(capsys):
    from pynncomp.__main__ import main

    assert main(["info"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == pynncomp.__version__


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
    proc = run_python(BLOCK_C_CORE + "import pynncomp.kernels", PYNNCOMP_BACKEND="c")
    assert proc.returncode != 0
    last_line = proc.stderr.strip().splitlines()[-1]
    assert last_line.startswith("pynncomp.BackendError: PYNNCOMP_BACKEND=c but the C core is not built")
    # The command says it in one line.
    code = BLOCK_C_CORE + "from pynncomp.__main__ import main; sys.exit(main(['info']))"
    proc = run_python(code, PYNNCOMP_BACKEND="c")
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("pynncomp: error: PYNNCOMP_BACKEND=c but the C core is not built")


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
