"""Every lesson of the course runs to the end, shortened (``PYNNCOMP_LESSON_FAST=1``), and draws its figures.

A student runs the full lesson (``python tutorials/03_magnitude_pruning.py``);
here each one runs in a fresh process with the fast switch, its output
folder in a temporary directory, MNIST from ``$PYNNCOMP_DATA`` when it is
there and the generated digits otherwise.  Each lesson must be valid
percent-format (its cells are what Jupyter and VS Code show), open with its
goals, end with its exercises, and save at least one figure.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

TUTORIALS = pathlib.Path(__file__).resolve().parent.parent / "tutorials"
LESSONS = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))


def test_there_are_lessons():
    assert LESSONS


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_is_cells_with_goals_first_and_exercises_last(lesson):
    text = lesson.read_text()
    cells = re.split(r"^# %%.*$", text, flags=re.MULTILINE)
    markdown = re.findall(r"^# %% \[markdown\]\n((?:#.*\n)+)", text, flags=re.MULTILINE)
    assert len(cells) >= 4, "a lesson is a sequence of # %% cells"
    assert markdown, "a lesson explains itself in # %% [markdown] cells"
    assert re.search(r"goals", markdown[0], re.IGNORECASE), "the first text cell states the lesson's goals"
    assert re.search(r"exercises", markdown[-1], re.IGNORECASE), "the last text cell holds the exercises"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_a_lesson_runs_to_the_end_and_saves_its_figures(lesson, tmp_path):
    env = dict(os.environ, PYNNCOMP_LESSON_FAST="1", PYNNCOMP_LESSON_OUT=str(tmp_path), MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(lesson)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = list((tmp_path / lesson.stem).glob("*.png"))
    assert figures, f"{lesson.name} saved no figure into {tmp_path / lesson.stem}"
    for figure in figures:
        assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
