"""Every tutorial script runs to the end (students run them as they are)."""
import pathlib
import runpy

import pytest

TUTORIALS = sorted((pathlib.Path(__file__).resolve().parent.parent / "tutorials").glob("*.py"))


def test_there_are_tutorials():
    assert TUTORIALS


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.name)
def test_tutorial_runs(script, capsys):
    runpy.run_path(str(script), run_name="__main__")
    assert "relative error" in capsys.readouterr().out
