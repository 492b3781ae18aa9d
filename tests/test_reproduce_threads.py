"""BLAS threads in the worker processes of ``pynncomp reproduce --jobs N``."""
import concurrent.futures
import multiprocessing

import pytest
import threadpoolctl

from pynncomp._threads import BLAS_THREAD_VARIABLES, limit_blas_threads
from pynncomp.reproduce import runner


def blas_threads():
    """The ``num_threads`` of each BLAS loaded with NumPy in this process."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)

    return [entry["num_threads"] for entry in threadpoolctl.threadpool_info() if entry["user_api"] == "blas"]


def blas_threads_in_a_worker(initializer=None, initargs=()):
    """:func:`blas_threads` in a fresh spawned worker, after ``initializer``."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context, initializer=initializer,
                                                initargs=initargs) as pool:
        return pool.submit(blas_threads).result()


@pytest.fixture
def no_blas_variables(monkeypatch):
    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("cores, jobs, threads", [(8, 2, 4), (8, 3, 2), (2, 2, 1), (2, 4, 1), (None, 2, 1)])
def test_workers_share_the_cores_out(monkeypatch, cores, jobs, threads):
    monkeypatch.setattr(runner.os, "cpu_count", lambda: cores)
    assert runner.worker_blas_threads(jobs) == threads


def test_a_worker_runs_blas_on_the_threads_it_is_given(no_blas_variables):
    default = blas_threads_in_a_worker()
    assert default, "numpy's BLAS was not found by threadpoolctl"
    if max(default) == 1:
        pytest.skip("one core: BLAS runs on one thread without a limit too")
    assert blas_threads_in_a_worker(runner.start_worker, (1,)) == [1] * len(default)


def test_a_worker_keeps_the_thread_count_the_user_set(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    users = blas_threads_in_a_worker()
    assert users == [2] * len(users)
    assert blas_threads_in_a_worker(runner.start_worker, (1,)) == users


@pytest.mark.parametrize("threads, error, message", [
    ("2", TypeError, "threads must be an int, got str '2'"),
    (2.0, TypeError, "threads must be an int, got float 2.0"),
    (True, TypeError, "threads must be an int, got bool True"),
    (0, ValueError, "threads must be >= 1, got 0"),
])
def test_a_thread_count_must_be_a_positive_int(threads, error, message):
    with pytest.raises(error, match=message):
        limit_blas_threads(threads)
