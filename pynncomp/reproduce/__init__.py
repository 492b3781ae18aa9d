"""Reproducing the comparative study, Han et al., OBS and structured pruning: targets, runner, reports, figures.

* :mod:`.targets` — what each target trains (its grid of runs) and run keys;
* :mod:`.han` — the Han et al. targets' grids, protocols and published numbers;
* :mod:`.obs` — the Optimal Brain Surgeon targets' grids and protocols;
* :mod:`.structured` — the structured-pruning target's grid and protocols;
* :mod:`.runner` — ``pynncomp reproduce``: runs.jsonl, resume, worker processes;
* :mod:`.cluster` — ``pynncomp reproduce --scheduler``: the runs on a Dask cluster;
* :mod:`.runlog` — the append-only, crash-safe ``runs.jsonl``;
* :mod:`.cells` — the runs of a target grouped into cells, as numbers (mean, std, count, per seed);
* :mod:`.tables` — how those numbers are printed: table entries, durations, md/csv/tex;
* :mod:`.report`, :mod:`.han_report`, :mod:`.obs_report`, :mod:`.structured_report` — ``pynncomp report``:
  the tables;
* :mod:`.plots` — ``pynncomp plot``: the papers' figures;
* :mod:`.convnets` — the small conv baselines and their Pareto front;
* :mod:`.paper` — the study's published numbers.
"""
from .runner import reproduce
from .targets import TARGETS, grid, run_key

__all__ = ["TARGETS", "grid", "run_key", "reproduce"]
