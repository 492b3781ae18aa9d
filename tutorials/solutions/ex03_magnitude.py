"""Worked solutions of lesson 3's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numpy as np


def magnitude_mask(W, sparsity, keep=None):
    """Keep-mask of a magnitude step to sparsity S; see tutorials/exercises/ex03_magnitude.py."""
    W = np.asarray(W)
    keep = np.ones(W.shape, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    m = W.size
    n_kept = int(round((1.0 - sparsity) * m))   # Python's round: half to even, like kept_count
    if n_kept > int(keep.sum()):
        raise ValueError(f"sparsity {sparsity} would keep {n_kept} of {m} weights, more than the "
                         f"{int(keep.sum())} kept now: pruned weights are never revived")
    # already-pruned weights rank below every real saliency, so they go first
    score = np.where(keep, np.abs(W), -np.inf).ravel()
    # a stable sort keeps equal scores in flat-index order: the earlier entry goes first
    order = np.argsort(score, kind="stable")
    new_keep = np.ones(m, dtype=bool)
    new_keep[order[:m - n_kept]] = False
    return new_keep.reshape(W.shape)


def power_schedule(sparsity, steps, power):
    """[S·(i/k)^(1/c) for i = 1..k]; the last is S itself, since (k/k)^(1/c) = 1."""
    return [sparsity * (i / steps) ** (1.0 / power) for i in range(1, steps + 1)]


def cubic_schedule(sparsity, steps):
    """[S·(1 − (1 − i/k)³) for i = 1..k]; steps that shrink to almost nothing at the end."""
    return [sparsity * (1.0 - (1.0 - i / steps) ** 3) for i in range(1, steps + 1)]
