"""How many BLAS threads the ``pynncomp`` command uses.

Every GEMM of these small networks is short, and OpenBLAS threads spin
while they wait for work, so BLAS threads beyond the first slow training
down as soon as other processes share the cores; one thread also makes a
seed's numbers independent of the machine's core count.  To see the cost
on a machine, time ``pynncomp quickstart`` with and without
``OPENBLAS_NUM_THREADS=2`` while another training runs.

The command therefore runs BLAS on one thread unless the user has set one of
:data:`BLAS_THREAD_VARIABLES`, which then decides (``OPENBLAS_NUM_THREADS=2
pynncomp train ...``).  ``pynncomp reproduce`` gives each of its worker
processes ``cpu_count // jobs`` threads with the same function, called in
the worker (:func:`pynncomp.reproduce.runner.start_worker`).

The limit is set through threadpoolctl on the BLAS libraries already
loaded, and OpenBLAS applies it to every later call: after it,
``threadpoolctl.threadpool_info()`` reports the new ``num_threads``
(``tests/test_package.py`` and ``tests/test_reproduce_threads.py`` check it,
in the command and in a worker).
"""
import os

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def user_set_blas_threads():
    """True when the environment names a BLAS thread count."""
    return any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES)


def limit_blas_threads(threads=1):
    """Limit the loaded BLAS to ``threads`` threads unless the user chose a count.

    Parameters
    ----------
    threads : int >= 1

    Returns
    -------
    int or None
        The limit set, or None when one of :data:`BLAS_THREAD_VARIABLES`
        is set (the BLAS then keeps the count it read from it).
    """
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise TypeError(f"threads must be an int, got {type(threads).__name__} {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if user_set_blas_threads():
        return None
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    return threads
