"""What the course's lessons (``tutorials/NN_*.py``) share: the data, the figures, the fast switch.

A lesson is a script in the percent format: it runs with ``python
tutorials/03_magnitude_pruning.py`` and opens as a notebook (jupytext, VS
Code).  These helpers keep the lessons short and alike:

* :func:`load_data` gives MNIST when it is on this machine (``$PYNNCOMP_DATA``
  or the user cache) and the generated ``synthetic-digits`` otherwise,
  saying which, so that a lesson runs anywhere, offline included;
* :func:`save_figure` writes a figure into the lesson's output folder
  (``./lesson-output/LESSON/``, or ``$PYNNCOMP_LESSON_OUT/LESSON/``) and shows
  it when the lesson runs interactively (Jupyter, VS Code, IPython);
* :func:`scaled` picks the full size of a run, or a small one when
  ``PYNNCOMP_LESSON_FAST=1`` (the test suite runs every lesson that way;
  a student runs the full lesson).

Importing this module limits NumPy's BLAS to one thread, as the
``pynncomp`` command does, unless ``OPENBLAS_NUM_THREADS`` (or
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) is set: the lessons' matrices are
small, and BLAS threads that spin on a shared laptop slow training down
many times over (docs/performance.md#blas-threads).
"""
import os
import pathlib
import statistics
import sys
import time

from . import data
from ._threads import limit_blas_threads
from .data import DataNotFoundError

limit_blas_threads()

FAST_ENV = "PYNNCOMP_LESSON_FAST"
OUT_ENV = "PYNNCOMP_LESSON_OUT"
DEFAULT_OUT = "lesson-output"


def fast():
    """True when ``$PYNNCOMP_LESSON_FAST`` asks for the shortened lessons (set, and not "0")."""
    return os.environ.get(FAST_ENV, "") not in ("", "0")


def scaled(full, quick):
    """``full``, or ``quick`` under :func:`fast`: epochs, sizes, numbers of seeds."""
    return quick if fast() else full


def load_data(name="mnist", *, layout="flat", split="paper", val_size=None, say=print):
    """The data set ``name`` if it is on this machine, else ``synthetic-digits``, saying which.

    Nothing is downloaded: a lesson must run the same offline.  Under
    :func:`fast` the training part is cut to 6 000 images.

    Parameters
    ----------
    name : str
        ``"mnist"`` or a variant (:data:`pynncomp.data.DATASETS`).
    layout : {"flat", "image"}
    split : {"paper", "standard"}
    val_size : None or int
        As for :func:`pynncomp.data.load`.
    say : callable
        Where the message about the data goes.

    Returns
    -------
    pynncomp.data.Dataset
    """
    try:
        dataset = data.load(name, split, layout=layout, val_size=val_size, download=False)
    except DataNotFoundError:
        say(f"{name} is not on this machine (set PYNNCOMP_DATA to a folder holding mnist/*.gz, or run "
            f"`pynncomp quickstart` once online to download it): this lesson runs on the generated "
            f"synthetic-digits instead, so its numbers are not MNIST numbers.")
        dataset = data.load("synthetic-digits", layout=layout, val_size=val_size)
    if fast():
        dataset = subset(dataset, 6000)
    say(f"data: {dataset.name}, {dataset.X_train.shape[0]} training, {dataset.X_val.shape[0]} validation, "
        f"{dataset.X_test.shape[0]} test images")
    return dataset


def subset(dataset, n_train):
    """The first ``n_train`` training images of ``dataset`` (validation and test images unchanged)."""
    import dataclasses

    return dataclasses.replace(dataset, X_train=dataset.X_train[:n_train], y_train=dataset.y_train[:n_train])


def interactive():
    """True in Jupyter, VS Code's interactive window or an IPython shell, where figures are shown."""
    return hasattr(sys, "ps1") or "ipykernel" in sys.modules


def output_dir(lesson):
    """The folder a lesson writes into: ``$PYNNCOMP_LESSON_OUT/LESSON`` or ``./lesson-output/LESSON``."""
    path = pathlib.Path(os.environ.get(OUT_ENV) or DEFAULT_OUT) / lesson
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(figure, lesson, name):
    """Write ``figure`` to ``output_dir(lesson)/NAME.png``, show it when interactive, and say where.

    Returns
    -------
    pathlib.Path
    """
    import matplotlib.pyplot as plt

    from ._files import atomic_write

    path = output_dir(lesson) / f"{name}.png"
    figure.tight_layout()
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png", dpi=100)
    print(f"figure: {path}")
    if interactive():
        plt.show()
    else:
        plt.close(figure)
    return path


__all__ = ["FAST_ENV", "OUT_ENV", "fast", "scaled", "load_data", "subset", "interactive", "output_dir",
           "save_figure", "median_seconds"]


def median_seconds(candidates, repeat, sample_seconds=0.002, clock=time.perf_counter):
    """``{name: median seconds per call}`` of each zero-argument callable in ``candidates``.

    Each candidate is called once to warm up, then timed in ``repeat``
    interleaved rounds (the order rotates by one each round, so slow phases
    of the machine hit all alike); a sample is a loop of as many calls as
    fill about ``sample_seconds`` on ``clock``, divided by the number of
    calls.  ``clock`` is ``time.perf_counter`` (wall time) or
    ``time.process_time`` (this process's CPU time, which leaves out the
    time other programs hold the cores; valid for one-threaded code).
    """
    loops = {}
    for name, call in candidates.items():
        call()  # warm-up
        start, n = clock(), 0
        while clock() - start < sample_seconds / 4:
            call()
            n += 1
        loops[name] = max(1, 4 * n)
    samples = {name: [] for name in candidates}
    names = list(candidates)
    for round_index in range(repeat):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            call, n = candidates[name], loops[name]
            start = clock()
            for _ in range(n):
                call()
            samples[name].append((clock() - start) / n)
    return {name: statistics.median(values) for name, values in samples.items()}
