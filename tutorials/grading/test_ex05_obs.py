"""Grades tutorials/exercises/ex05_obs.py: against pynncomp.compress.obs and brute-force least-squares solves.

On a least-squares error E(v) = ‖X v − X w‖² / 2n the quadratic is exact,
with its minimum at w and H = XᵀX / n, so OBS's answers are also those of
solving the problem again from scratch: a re-fit by ``np.linalg.lstsq``
with some weights held at 0, and ``np.linalg.inv`` of H with rows and
columns deleted.
"""
import grader
import numpy as np
import pytest

from pynncomp.compress.obs import greedy_order, joint_update, obs_saliency, obs_update

exercise = grader.load("ex05_obs")

# (samples n, weights m, seed): one weight, a few, more (inputs 0 and 1 correlated when m >= 2)
CASES = [(5, 1, 0), (30, 3, 1), (60, 6, 2), (120, 12, 3)]
IDS = [f"m={m}" for _, m, _ in CASES]


def least_squares(n, m, seed):
    """Inputs X (n, m) of unequal scales, weights w (m,), and H⁻¹ of H = XᵀX / n."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m)) * rng.uniform(0.3, 2.0, m)
    if m >= 2:
        X[:, 1] += 0.8 * X[:, 0]
    w = rng.standard_normal(m)
    return X, w, np.linalg.inv(X.T @ X / n)


def refit(X, w, kept):
    """Brute force: the weights that best reproduce X w with only ``kept`` free (the others 0)."""
    v = np.zeros(X.shape[1])
    if kept.any():
        v[kept] = np.linalg.lstsq(X[:, kept], X @ w, rcond=None)[0]
    return v


def error(X, w, v):
    """E(v) = ‖X v − X w‖² / 2n = ½ (v − w)ᵀ H (v − w)."""
    return 0.5 * np.mean((X @ v - X @ w) ** 2)


def inverse_without(X, removed):
    """(H_KK)⁻¹ of the coordinates K not ``removed``, with zeros in the rows and columns removed."""
    H = X.T @ X / X.shape[0]
    K = np.flatnonzero(~removed)
    expected = np.zeros_like(H)
    expected[np.ix_(K, K)] = np.linalg.inv(H[np.ix_(K, K)])
    return expected


# ---- obs_update -------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, m, seed", CASES, ids=IDS)
def test_obs_update_matches_pynncomp(n, m, seed):
    _, w, hinv = least_squares(n, m, seed)
    expected_saliency = obs_saliency(w, np.diag(hinv))
    for q in range(m):
        given = hinv.copy()
        saliency, delta = grader.call(exercise.obs_update, w.copy(), given, q)
        grader.assert_close(f"saliency L_{q} (m={m})", saliency, expected_saliency[q], rtol=1e-10)
        expected = obs_update(w[q], hinv[:, q], hinv[q, q])
        grader.assert_close(f"δw of removing weight {q} (m={m})", delta, expected, rtol=1e-10,
                            atol=1e-13 * np.abs(expected).max())
        grader.assert_equal(f"δw[{q}] of removing weight {q} (m={m}), which must be exactly −w[{q}]", delta[q],
                            -w[q])
        grader.assert_equal(f"hinv after obs_update(w, hinv, {q}) (m={m}): it must not be modified", given, hinv)


@pytest.mark.parametrize("n, m, seed", CASES, ids=IDS)
def test_obs_update_is_the_constrained_least_squares_refit(n, m, seed):
    X, w, hinv = least_squares(n, m, 10 + seed)
    for q in range(m):
        removed = np.arange(m) == q
        best = refit(X, w, ~removed)  # the others re-solved with w_q held at 0
        saliency, delta = grader.call(exercise.obs_update, w.copy(), hinv.copy(), q)
        grader.assert_close(f"saliency L_{q} against the rise of the re-fitted error (m={m})", saliency,
                            error(X, w, best), rtol=1e-8)
        grader.assert_close(f"δw of removing weight {q} against the lstsq re-fit minus w (m={m})", delta, best - w,
                            rtol=1e-8, atol=1e-11 * np.abs(w).max())


# ---- remove_coordinate -------------------------------------------------------------------------------

@pytest.mark.parametrize("n, m, seed", CASES, ids=IDS)
def test_remove_coordinate_is_the_inverse_with_row_and_column_q_deleted(n, m, seed):
    X, _, hinv = least_squares(n, m, 20 + seed)
    for q in range(m):
        given = hinv.copy()
        got = grader.call(exercise.remove_coordinate, given, q)
        removed = np.arange(m) == q
        grader.assert_close(f"H⁻¹ with coordinate {q} eliminated (m={m}; row and column {q} must be 0)", got,
                            inverse_without(X, removed), rtol=1e-9, atol=1e-13 * np.abs(hinv).max())
        grader.assert_equal(f"hinv after remove_coordinate(hinv, {q}) (m={m}): it must not be modified", given, hinv)


def test_remove_coordinate_eliminates_one_coordinate_after_another():
    X, _, hinv = least_squares(120, 12, 4)
    removed = np.zeros(12, dtype=bool)
    for q in (7, 0, 11, 3, 4):
        hinv = grader.call(exercise.remove_coordinate, hinv, q)
        removed[q] = True
        grader.assert_close(f"H⁻¹ after eliminating {np.flatnonzero(removed).tolist()} in turn (m=12)", hinv,
                            inverse_without(X, removed), rtol=1e-8, atol=1e-12)


# ---- obs_greedy -----------------------------------------------------------------------------------------

def damped_problem(m, seed):
    """A damped H⁻¹ = (XᵀX/n + 0.01·I)⁻¹ of inputs of unequal scales, some correlated, and weights w."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3 * m, m)) * rng.uniform(0.2, 2.0, m)
    X[:, 1::2] += 0.7 * X[:, 0:m - 1:2]  # each odd input leans on the even one before it
    return rng.standard_normal(m), np.linalg.inv(X.T @ X / X.shape[0] + 0.01 * np.eye(m))


GREEDY = [(1, 1, 0), (5, 0, 1), (5, 2, 2), (10, 7, 3), (16, 16, 4)]


@pytest.mark.parametrize("m, n_remove, seed", GREEDY, ids=[f"m={m}-remove={k}" for m, k, _ in GREEDY])
def test_obs_greedy_matches_greedy_order_and_joint_update(m, n_remove, seed):
    w, hinv = damped_problem(m, 30 + seed)
    w_given, hinv_given = w.copy(), hinv.copy()
    order, saliency, w_after = grader.call(exercise.obs_greedy, w_given, hinv_given, n_remove)
    expected_order, expected_saliency = greedy_order(hinv[None], w[None])
    grader.assert_equal(f"order of removal (m={m}, n_remove={n_remove})", order, expected_order[0, :n_remove])
    grader.assert_close(f"saliency of each removal (m={m}, n_remove={n_remove})", saliency,
                        expected_saliency[0, :n_remove], rtol=1e-8)
    removed = np.zeros(m, dtype=bool)
    removed[expected_order[0, :n_remove]] = True
    delta, _ = joint_update(hinv, w, removed)
    grader.assert_close(f"w_after (m={m}, n_remove={n_remove})", w_after, w + delta, rtol=1e-8,
                        atol=1e-10 * np.abs(w).max())
    grader.assert_equal(f"w_after at the removed weights (m={m}, n_remove={n_remove}), which must be exactly 0",
                        np.asarray(w_after)[removed], np.zeros(removed.sum()))
    grader.assert_equal(f"w after obs_greedy (m={m}): it must not be modified", w_given, w)
    grader.assert_equal(f"hinv after obs_greedy (m={m}): it must not be modified", hinv_given, hinv)


def brute_force_greedy(X, w):
    """Remove, one at a time, the weight whose removal costs least once the rest are re-fitted by lstsq."""
    kept = np.ones(X.shape[1], dtype=bool)
    order, increases, before = [], [], 0.0
    while kept.any():
        costs = {}
        for q in np.flatnonzero(kept):
            trial = kept.copy()
            trial[q] = False
            costs[q] = error(X, w, refit(X, w, trial))
        q = min(costs, key=costs.get)
        order.append(q)
        increases.append(costs[q] - before)
        before = costs[q]
        kept[q] = False
    return np.array(order), np.array(increases)


@pytest.mark.parametrize("n, m, seed", CASES[1:], ids=IDS[1:])
def test_obs_greedy_is_the_brute_force_greedy_on_least_squares(n, m, seed):
    X, w, hinv = least_squares(n, m, 40 + seed)
    expected_order, expected_increase = brute_force_greedy(X, w)
    n_remove = m - 1
    order, saliency, w_after = grader.call(exercise.obs_greedy, w.copy(), hinv.copy(), n_remove)
    grader.assert_equal(f"order of removal against the brute-force greedy (m={m})", order,
                        expected_order[:n_remove])
    grader.assert_close(f"saliency of each removal against the rise of the re-fitted error (m={m})", saliency,
                        expected_increase[:n_remove], rtol=1e-7, atol=1e-14)
    grader.assert_close(f"w_after against the lstsq re-fit of the weight left (m={m})", w_after,
                        refit(X, w, ~np.isin(np.arange(m), expected_order[:n_remove])), rtol=1e-8,
                        atol=1e-11 * np.abs(w).max())
