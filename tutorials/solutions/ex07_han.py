"""Worked solutions of lesson 7's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import math

import numpy as np


def kept_sigma(W, mask=None):
    """σ of the kept weights, population std in float64; see tutorials/exercises/ex07_han.py."""
    w = np.asarray(W, dtype=np.float64)
    kept = w if mask is None else w[mask]  # the pruned zeros would pull σ down at every step
    return float(np.std(kept)) if kept.size else 0.0  # np.std divides by n (ddof=0)


def han_threshold_mask(W, q, mask=None):
    """Keep |w| >= q·σ among the weights kept so far."""
    w = np.asarray(W, dtype=np.float64)
    before = np.ones(w.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    sigma = kept_sigma(w, before)  # σ of this step: the weights kept before it
    return before & (np.abs(w) >= q * sigma)  # a pruned weight is never revived


def rescaled_dropout(p, kept_before, kept_after):
    """D_r = D_o·sqrt(C_ir / C_io): a sparser layer overfits less, so it gets less dropout."""
    return p * math.sqrt(kept_after / kept_before)
