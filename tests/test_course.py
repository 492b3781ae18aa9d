"""The course's grader grades: the shipped exercises wait to be written, the solutions pass, and a wrong answer is named.

The grader (``tutorials/grading``) runs here in a subprocess, as a student
runs it: ``python -m pytest tutorials/grading``, with ``PYNNCOMP_EXERCISES``
choosing the files graded.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from pynncomp import course

TUTORIALS = pathlib.Path(__file__).resolve().parent.parent / "tutorials"
EXERCISES = sorted(path.stem for path in (TUTORIALS / "exercises").glob("ex[0-9][0-9]_*.py"))


def grade(folder, *args):
    """Run the grader on ``folder`` (``exercises``, ``solutions`` or a path); the completed process."""
    env = dict(os.environ, PYNNCOMP_EXERCISES=str(folder))
    return subprocess.run([sys.executable, "-m", "pytest", str(TUTORIALS / "grading"), "-p", "no:cacheprovider",
                           "-rs", "-q", *args], cwd=TUTORIALS.parent, env=env, capture_output=True, text=True,
                          timeout=600)


def test_every_exercise_has_a_solution_and_a_grader():
    assert EXERCISES
    for name in EXERCISES:
        assert (TUTORIALS / "solutions" / f"{name}.py").exists(), f"no solution for {name}"
        assert (TUTORIALS / "grading" / f"test_{name}.py").exists(), f"no grader for {name}"


def test_the_shipped_exercises_are_reported_as_not_implemented_yet():
    result = grade("exercises")
    assert result.returncode == 0, result.stdout[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=* ?\d+ skipped in .*", summary), summary
    skipped = re.findall(r"^SKIPPED \[\d+\] .*: (ex\d\d_\w+)\.\w+: not implemented yet$", result.stdout, re.M)
    assert sorted(set(skipped)) == EXERCISES
    assert "Traceback" not in result.stdout and "Error" not in result.stdout


def test_the_solutions_pass():
    result = grade("solutions")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "skipped" not in result.stdout.splitlines()[-1] and "failed" not in result.stdout


def test_a_wrong_answer_fails_naming_the_wrong_entry(tmp_path):
    """ReLU's derivative taken as 1 at a = 0 (``a >= 0`` for ``a > 0``): only the entries where a is 0 are off."""
    for path in (TUTORIALS / "solutions").glob("ex*.py"):
        shutil.copy(path, tmp_path)
    wrong = tmp_path / "ex01_gradients.py"
    text = wrong.read_text()
    assert "dout * (a > 0)" in text
    wrong.write_text(text.replace("dout * (a > 0)", "dout * (a >= 0)"))
    result = grade(tmp_path, "-k", "relu")
    assert result.returncode == 1
    # the grader's input has a[0, :3] = 0
    assert re.search(r"da: entry \(0, [012]\) is wrong: expected 0, got -?[\d.e+-]+ \(absolute error [\d.e+-]+, "
                     r"allowed 0e\+00\); 3 of 30 entries are off", result.stdout), result.stdout[-3000:]


def test_a_bad_choice_of_exercise_files_is_named():
    result = grade("/nowhere/at/all")
    assert result.returncode != 0
    assert "PYNNCOMP_EXERCISES must be 'exercises', 'solutions' or a folder, got '/nowhere/at/all'" in (
        result.stdout + result.stderr)


def test_the_lessons_fast_switch_and_output_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(course.FAST_ENV, "1")
    assert course.fast() and course.scaled(100, 5) == 5
    monkeypatch.setenv(course.FAST_ENV, "0")
    assert not course.fast() and course.scaled(100, 5) == 100
    monkeypatch.setenv(course.OUT_ENV, str(tmp_path))
    assert course.output_dir("03_x") == tmp_path / "03_x" and (tmp_path / "03_x").is_dir()


def test_a_lesson_without_mnist_says_so_and_uses_the_generated_digits(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PYNNCOMP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(course.FAST_ENV, "1")
    dataset = course.load_data()
    out = capsys.readouterr().out
    assert dataset.name == "synthetic-digits" and "synthetic-digits instead" in out
    assert dataset.X_train.shape[0] <= 6000


def test_the_grader_s_comparisons_name_what_is_wrong():
    sys.path.insert(0, str(TUTORIALS / "grading"))
    try:
        import grader
    finally:
        sys.path.pop(0)
    cases = [
        (lambda: grader.assert_equal("count", 3, 4), "count: expected 4, got 3"),
        (lambda: grader.assert_equal("mask", [True, False], [True, True]),
         "mask: entry (1,) is wrong: expected True, got False; 1 of 2 entries differ"),
        (lambda: grader.assert_close("dW", [[1.0, 2.0]], [[1.0, 2.5]]),
         "dW: entry (0, 1) is wrong: expected 2.5, got 2 (relative error 2.00e-01, allowed 1e-06); 1 of 2"),
        (lambda: grader.assert_close("dx", [1.0, 2.0], [1.0, 2.0, 3.0]), "dx: expected shape (3,), got shape (2,)"),
        (lambda: grader.assert_close("db", None, [1.0]), "db: the function returned None"),
        (lambda: grader.assert_close("h", [1.0, float("nan")], [1.0, 2.0]), "h: entry (1,) is nan, expected 2.0"),
    ]
    for check, message in cases:
        with pytest.raises(pytest.fail.Exception) as caught:
            check()
        assert message in str(caught.value)
    grader.assert_equal("count", 3, 3)
    grader.assert_close("dW", [[1.0, 2.0]], [[1.0, 2.0 + 1e-9]])
