"""Grades tutorials/exercises/ex01_gradients.py against pynncomp's layers, pynncomp.gradcheck and finite differences."""
import grader
import numpy as np
import pytest

from pynncomp import gradcheck
from pynncomp.gradcheck import numerical_gradient
from pynncomp.nn import Dense, ReLU

exercise = grader.load("ex01_gradients")


def test_dense_backward_matches_the_layer():
    rng = np.random.default_rng(1)
    layer = Dense(5, 3, seed=0, dtype=np.float64)
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 3))
    _, cache = layer.forward(x)
    expected_dx = layer.backward(dout, cache)
    dx, dW, db = grader.call(exercise.dense_backward, x, layer.params["W"].copy(), dout)
    grader.assert_close("dx", dx, expected_dx)
    grader.assert_close("dW", dW, layer.grads["W"])
    grader.assert_close("db", db, layer.grads["b"])


def test_dense_backward_matches_finite_differences():
    rng = np.random.default_rng(2)
    x, W, dout = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    _, dW, _ = grader.call(exercise.dense_backward, x, W, dout)
    # L(W) = Σ dout ⊙ (X W): its gradient is the dW asked for
    numeric = numerical_gradient(lambda: float(np.sum(dout * (x @ W))), W)
    grader.assert_close("dW against finite differences", dW, numeric, rtol=1e-6, atol=1e-8)


def test_relu_backward_matches_the_layer_and_is_zero_at_zero():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 6))
    a[0, :3] = 0.0
    dout = rng.standard_normal((5, 6))
    layer = ReLU()
    _, cache = layer.forward(a)
    got = grader.call(exercise.relu_backward, a, dout)
    grader.assert_close("da", got, layer.backward(dout, cache))


@pytest.mark.parametrize("B, n_in, n_out, seed", [(4, 5, 3, 10), (1, 7, 2, 11), (6, 3, 8, 12)])
def test_masked_dense_backward_matches_the_masked_layer(B, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, seed=seed, dtype=np.float64)
    W = layer.params["W"].copy()                # the pruned entries still hold their old values here
    keep = rng.random((n_in, n_out)) > 0.4
    keep[0, 0] = False
    layer.set_mask("W", keep)
    x = rng.standard_normal((B, n_in))
    dout = rng.standard_normal((B, n_out))
    _, cache = layer.forward(x)
    expected_dx = layer.backward(dout, cache)
    dx, dW, db = grader.call(exercise.masked_dense_backward, x, W, keep.copy(), dout)
    grader.assert_close("dx (it must use W ⊙ M, not W)", dx, expected_dx)
    grader.assert_close("dW (exactly 0 at pruned entries)", dW, layer.grads["W"])
    grader.assert_close("db", db, layer.grads["b"])


def test_masked_dense_backward_matches_finite_differences():
    rng = np.random.default_rng(13)
    x, W, dout = rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    keep = rng.random((4, 3)) > 0.5
    dx, dW, _ = grader.call(exercise.masked_dense_backward, x, W.copy(), keep.copy(), dout)
    # L = Σ dout ⊙ (X (W ⊙ M)): a pruned weight does not change it, so its gradient is 0
    grader.assert_close("dW against finite differences", dW,
                        numerical_gradient(lambda: float(np.sum(dout * (x @ (W * keep)))), W), rtol=1e-6, atol=1e-8)
    grader.assert_close("dx against finite differences", dx,
                        numerical_gradient(lambda: float(np.sum(dout * (x @ (W * keep)))), x), rtol=1e-6, atol=1e-8)


def _cubic_and_exp(x, weights):
    """A smooth scalar with large third derivatives, so that the step ε shows in the result."""
    return lambda: float(np.sum(weights * (np.exp(x) + x ** 3)))


@pytest.mark.parametrize("shape, seed", [((5,), 20), ((3, 4), 21), ((2, 2, 3), 22)])
def test_numerical_gradient_matches_pynncomp_gradcheck(shape, seed):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(shape)
    x = rng.standard_normal(shape)
    f = _cubic_and_exp(x, weights)
    for eps in (1e-6, 1e-2):                    # the large step shows whether eps is the one used
        got = grader.call(exercise.numerical_gradient, f, x, eps)
        grader.assert_close(f"numerical_gradient with eps={eps:g}", got, gradcheck.numerical_gradient(f, x, eps),
                            rtol=1e-8, atol=1e-8)


def test_numerical_gradient_is_centred():
    rng = np.random.default_rng(23)
    weights = rng.standard_normal(6)
    x = rng.standard_normal(6)
    exact = weights * (np.exp(x) + 3 * x ** 2)
    # with eps = 1e-3 a centred difference is off by about eps²·f'''/6 ≈ 1e-6 relative,
    # a one-sided one by about eps·f''/2 ≈ 1e-3
    got = grader.call(exercise.numerical_gradient, _cubic_and_exp(x, weights), x, 1e-3)
    grader.assert_close("the gradient of Σ w (eᵡ + x³) with eps=1e-3 (is the difference centred?)", got, exact,
                        rtol=1e-5, atol=1e-9)


def test_numerical_gradient_leaves_x_unchanged():
    rng = np.random.default_rng(24)
    x = rng.standard_normal((4, 3)) * 10.0 ** rng.integers(-3, 4, size=(4, 3))
    before = x.copy()
    grader.call(exercise.numerical_gradient, lambda: float(np.sum(x * x)), x, 1e-6)
    grader.assert_equal("x after the call (each entry must be put back exactly)", x, before)


def test_numerical_gradient_checks_a_layer():
    rng = np.random.default_rng(25)
    layer = Dense(4, 3, seed=25, dtype=np.float64)
    x = rng.standard_normal((5, 4))
    G = rng.standard_normal((5, 3))
    _, cache = layer.forward(x)
    layer.backward(G, cache)
    got = grader.call(exercise.numerical_gradient, lambda: float(np.sum(layer.forward(x)[0] * G)),
                      layer.params["W"])
    grader.assert_close("the numerical dW of a Dense layer", got, layer.grads["W"], rtol=1e-6, atol=1e-8)
