"""Grades tutorials/exercises/ex03_magnitude.py: against pynncomp's pruning engine and schedules."""
import grader
import numpy as np
import pytest

from pynncomp.compress import cubic_schedule, magnitude_saliency, power_schedule, prune
from pynncomp.nn import Conv2D, Dense, Sequential

exercise = grader.load("ex03_magnitude")


def engine_case(W, sparsity, keep=None):
    """(W as the student gets it, pynncomp's keep-mask): one layer holding W, pruned by magnitude.

    A 2-D W sits in a Dense layer, a 4-D one in a Conv2D layer; ``keep`` is
    installed first (which zeroes the weights it prunes), then
    ``pynncomp.compress.prune`` takes the step.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim == 2:
        layer = Dense(W.shape[0], W.shape[1], seed=0, dtype=np.float64)
    else:
        F, C, k_h, k_w = W.shape
        layer = Conv2D(C, F, (k_h, k_w), seed=0, dtype=np.float64)
    layer.params["W"][...] = W
    if keep is not None:
        layer.set_mask("W", keep)
    given = layer.params["W"].copy()
    model = Sequential([layer])
    prune(model, magnitude_saliency(model), sparsity)
    return given, layer.masks["W"].copy()


def check_mask(W, sparsity, keep=None, what=None):
    given, expected = engine_case(W, sparsity, keep)
    what = what or f"magnitude_mask of a {given.shape} W at S = {sparsity}"
    got = grader.call(exercise.magnitude_mask, given.copy(), sparsity,
                      None if keep is None else np.asarray(keep).copy())
    if got is not None and np.asarray(got).dtype != np.bool_:
        pytest.fail(f"{what}: must return a bool array (True = kept), got dtype {np.asarray(got).dtype}")
    if got is not None and np.shape(got) == expected.shape and np.count_nonzero(got) != expected.sum():
        pytest.fail(f"{what}: keeps {np.count_nonzero(got)} weights, expected round((1 - S) m) = "
                    f"{int(expected.sum())} of m = {expected.size}")
    grader.assert_equal(f"{what} (True = kept)", got, expected)


def test_magnitude_mask_keeps_the_largest_weights():
    rng = np.random.default_rng(30)
    for shape in ((7, 5), (20, 13), (1, 9)):
        W = rng.standard_normal(shape)
        for S in (0.0, 0.5, 0.9, float(rng.uniform(0, 0.99))):
            check_mask(W, S)


def test_magnitude_mask_keeps_round_half_to_even():
    rng = np.random.default_rng(31)
    # (1 − S)·m is exactly 2.5, 10.5 and 6.5: Python's round keeps 2, 10 and 6
    for shape, S in (((2, 2), 0.375), ((3, 4), 0.125), ((2, 5), 0.35)):
        check_mask(rng.standard_normal(shape), S)


def test_magnitude_mask_breaks_ties_by_flat_index():
    rng = np.random.default_rng(32)
    lesson = [[0.2, -0.1, 0.4, 0.2], [-0.2, 0.3, 0.1, -0.4], [0.3, 0.2, -0.1, 0.4]]
    check_mask(lesson, 0.5, what="magnitude_mask of the lesson's 3x4 W at S = 0.5")
    for shape in ((6, 5), (40, 30)):
        # few distinct magnitudes, so most of the weights tie with many others
        W = rng.integers(-2, 3, size=shape) * 0.5
        for S in (0.3, 0.55, 0.8):
            check_mask(W, S, what=f"magnitude_mask of a {shape} W with many ties at S = {S}")


def test_magnitude_mask_prunes_the_already_pruned_first():
    rng = np.random.default_rng(33)
    W = rng.standard_normal((5, 6))
    W[0, :4] = 0.0                       # kept weights that are exactly 0, early in row-major order
    keep = np.ones(W.shape, dtype=bool)
    keep[3:, :] = rng.random((2, 6)) < 0.5   # pruned ones, later in row-major order
    n_pruned = int((~keep).sum())
    # remove all the pruned ones and two more: both must be kept zeros, not pruned ones twice
    S = (n_pruned + 2) / W.size
    check_mask(W, S, keep, what=f"magnitude_mask with {n_pruned} weights already pruned, S = {S:.4f}")
    check_mask(W, n_pruned / W.size, keep, what="magnitude_mask at the sparsity the keep-mask already has")


def test_magnitude_mask_never_revives():
    rng = np.random.default_rng(34)
    W = rng.standard_normal((4, 5))
    keep = rng.random(W.shape) < 0.5
    W[~keep] = 0.0
    try:
        got = grader.call(exercise.magnitude_mask, W, 0.2, keep)
    except ValueError:
        return
    pytest.fail(f"magnitude_mask(W, 0.2, keep) with only {int(keep.sum())} of 20 weights kept must raise "
                f"ValueError (S = 0.2 would keep 16: pruned weights are never revived); it returned {got!r}")


def test_magnitude_mask_on_a_conv_weight():
    rng = np.random.default_rng(35)
    W = rng.integers(-3, 4, size=(4, 2, 3, 3)) * 0.25
    for S in (0.4, 0.9):
        check_mask(W, S, what=f"magnitude_mask of a (4, 2, 3, 3) conv weight with ties at S = {S}")


@pytest.mark.parametrize("S, k, c", [(0.99, 20, 10.0), (0.9, 5, 1.0), (0.5, 1, 3.0), (0.998, 7, 2.5)])
def test_power_schedule(S, k, c):
    got = grader.call(exercise.power_schedule, S, k, c)
    grader.assert_close(f"power_schedule({S}, {k}, {c})", got, power_schedule(S, k, c), rtol=1e-12)


@pytest.mark.parametrize("S, k", [(0.99, 20), (0.9, 3), (0.5, 1), (0.95, 8)])
def test_cubic_schedule(S, k):
    got = grader.call(exercise.cubic_schedule, S, k)
    grader.assert_close(f"cubic_schedule({S}, {k})", got, cubic_schedule(S, k), rtol=1e-12)
