"""How many BLAS threads the ``pynncomp`` command uses.

Every GEMM of these small networks is short, and OpenBLAS threads spin
while they wait for work, so extra BLAS threads cost a great deal when the
cores are shared. With two other trainings on
the 2 cores of our test machine, ``pynncomp quickstart`` took 427 s with
OpenBLAS's default of one thread per core and 54 s with one thread; on the
idle machine 56 s with two and 51 s with one. One thread also makes a
seed's numbers independent of the machine's core count.

The command therefore runs BLAS on one thread unless the user has set one of
:data:`BLAS_THREAD_VARIABLES`, which then decides (``OPENBLAS_NUM_THREADS=2
pynncomp train ...``). ``pynncomp reproduce`` gives each worker
``cpu_count // jobs`` threads through the same variables
(:mod:`pynncomp.reproduce.runner`).
"""
import os

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def user_set_blas_threads():
    """True when the environment names a BLAS thread count."""
    return any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES)


def limit_blas_threads(threads=1):
    """Limit the loaded BLAS to ``threads`` threads unless the user chose a count; returns the limit set or None."""
    if user_set_blas_threads():
        return None
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads, user_api="blas")
    return threads
