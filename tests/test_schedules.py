"""Pruning schedules against their formulas, and their argument checks."""
import numpy as np
import pytest

from pynncomp.compress import cubic_schedule, one_shot_schedule, power_schedule


@pytest.mark.parametrize("S, k, c", [(0.9, 1, 1), (0.99, 5, 3), (0.5, 7, 1.5), (0.0, 3, 2), (0.998, 10, 4)])
def test_power_schedule_matches_formula(S, k, c):
    expected = [S * (i / k) ** (1 / c) for i in range(1, k + 1)]
    got = power_schedule(S, k, c)
    assert len(got) == k
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert got[-1] == S
    assert all(a <= b for a, b in zip(got, got[1:]))


def test_power_schedule_takes_large_steps_first():
    steps = np.diff([0.0] + power_schedule(0.9, 4, 3))
    assert np.all(np.diff(steps) < 0)
    assert power_schedule(0.8, 4, 1) == pytest.approx([0.2, 0.4, 0.6, 0.8], abs=1e-15)


@pytest.mark.parametrize("S, k", [(0.9, 1), (0.9, 4), (0.97, 9), (0.0, 2)])
def test_cubic_schedule_matches_formula(S, k):
    expected = [S * (1 - (1 - i / k) ** 3) for i in range(1, k + 1)]
    got = cubic_schedule(S, k)
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert got[-1] == S and all(a <= b for a, b in zip(got, got[1:]))
    assert cubic_schedule(0.9, 4)[0] == pytest.approx(0.9 * 37 / 64)


def test_one_shot():
    assert one_shot_schedule(0.95) == [0.95]


@pytest.mark.parametrize("call, error, words", [
    (lambda: power_schedule(1.0, 3), ValueError, "sparsity"),
    (lambda: power_schedule(-0.1, 3), ValueError, "sparsity"),
    (lambda: power_schedule(0.5, 0), ValueError, "steps"),
    (lambda: power_schedule(0.5, 2.0), TypeError, "steps"),
    (lambda: power_schedule(0.5, 2, 0.5), ValueError, "power"),
    (lambda: cubic_schedule(0.5, True), TypeError, "steps"),
    (lambda: one_shot_schedule("0.5"), TypeError, "sparsity"),
    (lambda: one_shot_schedule(float("nan")), ValueError, "sparsity"),
])
def test_schedule_arguments_are_checked(call, error, words):
    with pytest.raises(error, match=words):
        call()
