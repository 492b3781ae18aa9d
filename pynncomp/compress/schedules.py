"""Pruning schedules: the target sparsity S_i after each pruning step i = 1..k.

Every schedule returns a list of k floats, non-decreasing, whose last entry is
the final sparsity S exactly (so the engine's kept count at the end is
``round((1 − S)·m)`` whatever the rounding of the intermediate steps).
"""
from .._checks import check_positive_int, check_real


def _check_sparsity(sparsity):
    return check_real("sparsity", sparsity, 0.0, 1.0, high_open=True)


def _finish(sparsity, fractions):
    """S·f_i for each fraction f_i in [0, 1], the last forced to S exactly."""
    targets = [sparsity * f for f in fractions]
    targets[-1] = sparsity
    return targets


def power_schedule(sparsity, steps, power=1.0):
    """The comparative study's schedule (docs/methods.md#schedules).

    .. math:: S_i = S \\cdot (i / k)^{1/c}, \\qquad i = 1, \\dots, k

    Large early steps and small late ones for c > 1; c = 1 is linear.

    Parameters
    ----------
    sparsity : float in [0, 1)
        S, the final fraction of weights removed.
    steps : int >= 1
        k, the number of pruning steps.
    power : float >= 1
        c.

    Returns
    -------
    list of float
        [S_1, ..., S_k], non-decreasing, S_k == S.
    """
    sparsity = _check_sparsity(sparsity)
    steps = check_positive_int("steps", steps)
    power = check_real("power", power, 1.0, None)
    return _finish(sparsity, [(i / steps) ** (1.0 / power) for i in range(1, steps + 1)])


def cubic_schedule(sparsity, steps):
    """Zhu & Gupta (2018), "To prune, or not to prune", eq. (1) with s_i = 0.

    .. math:: S_i = S \\cdot \\big(1 - (1 - i / k)^3\\big), \\qquad i = 1, \\dots, k

    Parameters
    ----------
    sparsity : float in [0, 1)
    steps : int >= 1

    Returns
    -------
    list of float
        [S_1, ..., S_k], non-decreasing, S_k == S.
    """
    sparsity = _check_sparsity(sparsity)
    steps = check_positive_int("steps", steps)
    return _finish(sparsity, [1.0 - (1.0 - i / steps) ** 3 for i in range(1, steps + 1)])


def one_shot_schedule(sparsity):
    """One pruning step straight to the final sparsity: ``[S]``."""
    return [_check_sparsity(sparsity)]


__all__ = ["power_schedule", "cubic_schedule", "one_shot_schedule"]
