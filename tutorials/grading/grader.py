"""What the graders share: which exercise files to grade, and messages a student can act on.

``PYNNCOMP_EXERCISES`` chooses the files graded:

* unset or ``exercises``: ``tutorials/exercises/`` (the student's work);
* ``solutions``: ``tutorials/solutions/`` (the worked solutions);
* any other value: a folder holding ``exNN_*.py`` files of the same names.

An exercise function that still raises ``NotImplementedError`` is reported
as "not implemented yet" (the test is skipped, with that reason), never as
an error.  A wrong answer fails with the entry that is wrong, the expected
and the received value, and their relative error.
"""
import importlib.util
import os
import pathlib

import numpy as np
import pytest

TUTORIALS = pathlib.Path(__file__).resolve().parent.parent
EXERCISES_ENV = "PYNNCOMP_EXERCISES"


def exercise_folder():
    """The folder graded, as ``PYNNCOMP_EXERCISES`` says."""
    choice = os.environ.get(EXERCISES_ENV, "exercises") or "exercises"
    if choice in ("exercises", "solutions"):
        return TUTORIALS / choice
    folder = pathlib.Path(choice)
    if not folder.is_dir():
        raise ValueError(f"{EXERCISES_ENV} must be 'exercises', 'solutions' or a folder, got {choice!r}")
    return folder


class _Exercise:
    """An exercise module, imported when a test first uses one of its functions.

    Importing at first use rather than when pytest collects the grader lets
    ``-k ex03`` grade a folder that holds only ``ex03_*.py``.
    """

    def __init__(self, name):
        self._name = name
        self._module = None

    def __getattr__(self, attribute):
        if attribute.startswith("_"):  # pytest's probes while it collects (__test__, ...): not an exercise
            raise AttributeError(attribute)
        if self._module is None:
            path = exercise_folder() / f"{self._name}.py"
            if not path.exists():
                pytest.fail(f"{path} does not exist: the exercise file was moved or renamed")
            spec = importlib.util.spec_from_file_location(f"graded_{self._name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._module = module
        return getattr(self._module, attribute)


def load(name):
    """The exercise module ``name`` (e.g. ``"ex01_gradients"``) of the graded folder, imported at first use."""
    return _Exercise(name)


def call(function, *args, **kwargs):
    """``function(*args, **kwargs)``; an exercise still to be written is skipped as "not implemented yet"."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        pytest.skip(f"{function.__module__.removeprefix('graded_')}.{function.__name__}: not implemented yet")


def assert_close(what, got, expected, rtol=1e-6, atol=0.0):
    """Compare an answer with the reference; the failure names the worst entry.

    Parameters
    ----------
    what : str
        What is compared, as the message names it (``"dx"``, ``"grads['W']"``).
    got, expected : array-like
    rtol, atol : float
        ``|got − expected| <= atol + rtol·|expected|`` entry by entry.
    """
    if got is None:
        pytest.fail(f"{what}: the function returned None (a missing return statement?)")
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        pytest.fail(f"{what}: expected shape {expected.shape}, got shape {got.shape}")
    if got.size == 0:
        return
    if not np.all(np.isfinite(got)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        pytest.fail(f"{what}: entry {index} is {_plain(got[index])!r}, expected {_plain(expected[index])!r}")
    error = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    allowed = atol + rtol * np.abs(expected.astype(np.float64))
    if np.all(error <= allowed):
        return
    index = tuple(int(i) for i in np.unravel_index(np.argmax(error - allowed), error.shape))
    want, have = float(expected[index]) + 0.0, float(got[index]) + 0.0  # + 0.0: print -0 as 0
    if want == 0:
        how = f"absolute error {error[index]:.2e}, allowed {atol:.0e}"
    else:
        how = f"relative error {error[index] / abs(want):.2e}, allowed {rtol:.0e}"
    wrong = int(np.count_nonzero(error > allowed))
    pytest.fail(f"{what}: entry {index} is wrong: expected {want:.6g}, got {have:.6g} ({how}); "
                f"{wrong} of {got.size} entries are off")


def _plain(value):
    """A NumPy scalar as the Python value it holds (``3``, not ``np.int64(3)``); anything else as it is."""
    return value.item() if isinstance(value, np.generic) else value


def assert_equal(what, got, expected):
    """Exact comparison (integers, masks, indices), naming the first entry that differs."""
    if got is None:
        pytest.fail(f"{what}: the function returned None (a missing return statement?)")
    got = np.asarray(got)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        pytest.fail(f"{what}: expected shape {expected.shape}, got shape {got.shape}")
    if got.ndim == 0:
        if got != expected:
            pytest.fail(f"{what}: expected {_plain(expected[()])!r}, got {_plain(got[()])!r}")
        return
    differ = np.argwhere(got != expected)
    if differ.size:
        index = tuple(int(i) for i in differ[0])
        pytest.fail(f"{what}: entry {index} is wrong: expected {_plain(expected[index])!r}, "
                    f"got {_plain(got[index])!r}; {len(differ)} of {got.size} entries differ")
