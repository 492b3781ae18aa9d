"""Grades tutorials/exercises/ex02_training.py: against SoftmaxCrossEntropy, finite differences and pynncomp.nn.SGD."""
import grader
import numpy as np
import pytest

from pynncomp.gradcheck import numerical_gradient
from pynncomp.nn import L2, SGD, Dense, Sequential, SoftmaxCrossEntropy

exercise = grader.load("ex02_training")


def _reference_loss(z, y):
    return SoftmaxCrossEntropy().forward(z, y)[0]


@pytest.mark.parametrize("B, C, scale, seed", [(4, 10, 1.0, 0), (1, 3, 5.0, 1), (7, 5, 0.1, 2), (16, 10, 20.0, 3)])
def test_softmax_cross_entropy_matches_the_loss_layer(B, C, scale, seed):
    rng = np.random.default_rng(seed)
    z = scale * rng.standard_normal((B, C))
    y = rng.integers(0, C, size=B)
    loss_layer = SoftmaxCrossEntropy()
    expected_loss, cache = loss_layer.forward(z, y)
    loss, dz = grader.call(exercise.softmax_cross_entropy, z.copy(), y.copy())
    grader.assert_close("loss (the mean over the batch, not the sum)", loss, expected_loss, rtol=1e-10)
    grader.assert_close("dz", dz, loss_layer.backward(cache), rtol=1e-8, atol=1e-15)


@pytest.mark.parametrize("B, C, seed", [(3, 4, 10), (5, 10, 11)])
def test_softmax_cross_entropy_gradient_matches_finite_differences(B, C, seed):
    rng = np.random.default_rng(seed)
    z = 2 * rng.standard_normal((B, C))
    y = rng.integers(0, C, size=B)
    _, dz = grader.call(exercise.softmax_cross_entropy, z.copy(), y.copy())
    numeric = numerical_gradient(lambda: _reference_loss(z, y), z)
    grader.assert_close("dz against finite differences of the loss", dz, numeric, rtol=1e-6, atol=1e-9)


def test_softmax_cross_entropy_is_stable_for_large_logits():
    rng = np.random.default_rng(12)
    y = np.array([0, 1, 2, 3])
    z = 1000.0 + rng.standard_normal((4, 5))    # e^1000 overflows float64
    z[3] = [-1000.0, -1000.0, -1000.0, -1800.0, -1000.0]  # the right class's p underflows to 0: log p needs care
    loss_layer = SoftmaxCrossEntropy()
    expected_loss, cache = loss_layer.forward(z, y)
    loss, dz = grader.call(exercise.softmax_cross_entropy, z.copy(), y.copy())
    grader.assert_close("loss for logits around ±1000 (subtract each row's largest logit first)", loss,
                        expected_loss, rtol=1e-10)
    grader.assert_close("dz for logits around ±1000", dz, loss_layer.backward(cache), rtol=1e-8, atol=1e-15)


def _one_layer(seed):
    return Sequential([Dense(5, 3, seed=seed, dtype=np.float64)])


def _run_against_sgd(lr, momentum, lam, seed, steps, prune_after=None):
    """Steps of pynncomp's SGD on a Dense layer next to the exercise's steps on W (penalised) and b (not)."""
    rng = np.random.default_rng(seed)
    model = _one_layer(seed)
    layer = model.layers[0]
    optimizer = SGD(lr, momentum, penalty=L2(lam))
    w = {name: layer.params[name].copy() for name in ("W", "b")}
    v = {name: np.zeros_like(w[name]) for name in ("W", "b")}
    keep = None
    for step in range(1, steps + 1):
        if step == prune_after:
            keep = rng.random(w["W"].shape) > 0.5
            keep[0, 0] = False
            layer.set_mask("W", keep)
            w["W"] = w["W"] * keep                # what set_mask does to the weights; the velocity is left as it was
        before = {name: layer.params[name].copy() for name in ("W", "b")}
        layer.grads = {name: rng.standard_normal(w[name].shape) for name in ("W", "b")}
        optimizer.step(model)
        for name, l2, mask in (("W", lam, keep), ("b", 0.0, None)):
            args = (w[name].copy(), layer.grads[name].copy(), v[name].copy(), lr, momentum, l2)
            kwargs = {} if mask is None else {"keep": mask.copy()}
            result = grader.call(exercise.sgd_momentum_step, *args, **kwargs)
            if result is None:
                pytest.fail("sgd_momentum_step returned None (a missing return statement?)")
            w[name], v[name] = result
            when = f"after step {step}" + (f" (a keep-mask was installed before step {prune_after})"
                                           if prune_after and step >= prune_after else "")
            expected_v = (optimizer.velocity[(layer, name)] if momentum > 0
                          else layer.params[name] - before[name])   # with μ = 0 SGD keeps no velocity: v' = w' − w
            grader.assert_close(f"{name} {when}", w[name], layer.params[name], rtol=1e-9, atol=1e-14)
            grader.assert_close(f"velocity of {name} {when}", v[name], expected_v, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("lr, momentum, lam, seed", [
    (0.01, 0.9, 3e-4, 20),     # the protocol's defaults
    (0.1, 0.5, 0.05, 21),      # a large λ: a penalty in the wrong place shows at once
    (0.05, 0.0, 0.01, 22),     # no momentum
])
def test_sgd_momentum_step_matches_pynncomp_sgd(lr, momentum, lam, seed):
    _run_against_sgd(lr, momentum, lam, seed, steps=4)


def test_sgd_momentum_step_with_a_keep_mask_installed_mid_training():
    # the velocity of the entries pruned at step 4 is not 0: the mask must clear it too
    _run_against_sgd(0.05, 0.9, 1e-3, 23, steps=6, prune_after=4)
