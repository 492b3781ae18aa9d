"""Worked solutions of lesson 9's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import re
import statistics


def mean_std(values):
    """Mean and sample standard deviation (None for one value); see tutorials/exercises/ex09_reproduction.py."""
    values = [float(v) for v in values]
    # statistics.stdev divides by n − 1; the mean was fitted to these same values
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else None)


def within(ours_values, paper_mean, paper_std):
    """|x̄ − paper_mean| <= s + paper_std; None when s cannot be computed (fewer than two runs)."""
    mean, std = mean_std(ours_values)
    if std is None:
        return None
    return abs(mean - paper_mean) <= std + paper_std


def cell_key(run_key):
    """The run key without ``/seed<n>`` and without a final ``/d<8 hex digits>``."""
    without_seed = re.sub(r"/seed\d+", "", run_key)
    return re.sub(r"/d[0-9a-f]{8}$", "", without_seed)  # anchored: "/dataset"-like parts stay
