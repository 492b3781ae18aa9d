"""Worked solutions of lesson 5's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numpy as np


def obs_update(w, hinv, q):
    """(L_q, δw) of removing weight q; see tutorials/exercises/ex05_obs.py."""
    column = hinv[:, q]                      # H⁻¹ e_q: no need to form e_q
    saliency = w[q] ** 2 / (2.0 * hinv[q, q])
    delta = -(w[q] / hinv[q, q]) * column   # a new array: hinv is not touched
    delta[q] = -w[q]                         # exactly, so that w + δw is exactly 0 there
    return float(saliency), delta


def remove_coordinate(hinv, q):
    """H⁻¹ − (H⁻¹ e_q)(e_qᵀ H⁻¹) / [H⁻¹]_qq, a new array."""
    column = hinv[:, q]
    # H⁻¹ is symmetric, so row q is column q: one outer product
    updated = hinv - np.outer(column, column) / hinv[q, q]
    # 0 in exact arithmetic; written as 0 so that later updates move no removed weight
    updated[q, :] = 0.0
    updated[:, q] = 0.0
    return updated


def obs_greedy(w, hinv, n_remove):
    """Remove the weight of least saliency, update w and H⁻¹, repeat."""
    w, hinv = w.copy(), hinv.copy()
    left = np.ones(w.size, dtype=bool)
    order, saliency = [], []
    for _ in range(n_remove):
        # removed coordinates have diag ≈ 0 and w = 0: keep them out of the argmin
        diag = np.where(left, np.diag(hinv), 1.0)
        L = np.where(left, w * w / (2.0 * diag), np.inf)
        q = int(np.argmin(L))
        L_q, delta = obs_update(w, hinv, q)
        w += delta  # delta[q] is exactly −w[q], and removed weights have a 0 column: they stay 0
        hinv = remove_coordinate(hinv, q)
        left[q] = False
        order.append(q)
        saliency.append(L_q)
    return np.array(order, dtype=np.int64), np.array(saliency), w
