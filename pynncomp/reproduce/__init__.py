"""Reproducing the comparative study, Han et al. and OBS: targets, the resumable runner, reports and figures.

* :mod:`.targets` — what each target trains (its grid of runs) and run keys;
* :mod:`.han` — the Han et al. targets' grids, protocols and published numbers;
* :mod:`.obs` — the Optimal Brain Surgeon targets' grids and protocols;
* :mod:`.runner` — ``pynncomp reproduce``: runs.jsonl, resume, worker processes;
* :mod:`.runlog` — the append-only, crash-safe ``runs.jsonl``;
* :mod:`.cells` — the runs of a target grouped into cells, as numbers (mean, std, count, per seed);
* :mod:`.tables` — how those numbers are printed: table entries, durations, md/csv/tex;
* :mod:`.report`, :mod:`.han_report`, :mod:`.obs_report` — ``pynncomp report``: the papers' tables;
* :mod:`.plots` — ``pynncomp plot``: the papers' figures;
* :mod:`.convnets` — the small conv baselines and their Pareto front;
* :mod:`.paper` — the study's published numbers.
"""
from .runner import reproduce
from .targets import TARGETS, grid, run_key

__all__ = ["TARGETS", "grid", "run_key", "reproduce"]
