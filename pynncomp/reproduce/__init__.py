"""Reproducing the comparative study: targets, the resumable runner, reports and figures.

* :mod:`.targets` — what each target trains (its grid of runs) and run keys;
* :mod:`.runner` — ``pynncomp reproduce``: runs.jsonl, resume, worker processes;
* :mod:`.runlog` — the append-only, crash-safe ``runs.jsonl``;
* :mod:`.report` — ``pynncomp report``: the paper's tables, mean ± std;
* :mod:`.plots` — ``pynncomp plot``: the paper's figures;
* :mod:`.convnets` — the small conv baselines and their Pareto front;
* :mod:`.paper` — the study's published numbers.
"""
from .runner import reproduce
from .targets import TARGETS, grid, run_key

__all__ = ["TARGETS", "grid", "run_key", "reproduce"]
