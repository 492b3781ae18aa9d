"""Grades tutorials/exercises/ex04_obd.py: against pynncomp's curvature pass, finite differences and obd_saliency."""
import grader
import numpy as np
import pytest

from pynncomp.gradcheck import numerical_second_derivative
from pynncomp.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, obd_hessian, obd_saliency

exercise = grader.load("ex04_obd")

# (B, n_in, n_hidden, C): one sample, a few, a batch with more classes
SHAPES = [(1, 3, 4, 2), (7, 5, 6, 4), (32, 9, 12, 10)]


def two_layer_net(n_in, n_hidden, n_classes, seed):
    """Dense → ReLU → Dense in float64, with small random biases."""
    model = Sequential([Dense(n_in, n_hidden, seed=seed, dtype=np.float64), ReLU(),
                        Dense(n_hidden, n_classes, seed=seed + 1, dtype=np.float64)])
    rng = np.random.default_rng(seed + 100)
    for index in (0, 2):
        model[index].params["b"][:] = 0.1 * rng.standard_normal(model[index].n_out)
    return model


@pytest.mark.parametrize("B, n_in, n_hidden, C", SHAPES)
def test_last_layer_h_matches_the_curvature_pass(B, n_in, n_hidden, C):
    rng = np.random.default_rng(B)
    model = two_layer_net(n_in, n_hidden, C, seed=B)
    X, y = rng.standard_normal((B, n_in)), rng.integers(0, C, size=B)
    model.curvature(X, y)
    hidden = model[1].forward(model[0].forward(X)[0])[0]  # the last layer's input
    logits = model[2].forward(hidden)[0]
    got = grader.call(exercise.last_layer_obd_h, hidden, logits)
    grader.assert_close(f"h of the last layer's W (B={B}, n_in={n_hidden}, C={C})", got,
                        model[2].hessian["W"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("B, n_in, n_hidden, C", SHAPES)
def test_last_layer_h_is_the_second_derivative_of_the_loss(B, n_in, n_hidden, C):
    rng = np.random.default_rng(10 + B)
    model = Sequential([Dense(n_in, C, seed=B, dtype=np.float64)])
    X, y = rng.standard_normal((B, n_in)), rng.integers(0, C, size=B)
    logits = model.forward(X)[0]
    got = grader.call(exercise.last_layer_obd_h, X, logits)
    # centred second differences of the batch-mean loss, eps = 1e-4: rounding ~1e-8 of the loss
    exact = numerical_second_derivative(lambda: model.loss(X, y)[0], model[0].params["W"])
    grader.assert_close(f"h against finite differences (B={B}, n_in={n_in}, C={C})", got, exact,
                        rtol=1e-4, atol=1e-7)


def test_last_layer_h_survives_logits_that_overflow_a_naive_softmax():
    rng = np.random.default_rng(3)
    model = Sequential([Dense(4, 5, seed=3, dtype=np.float64)])
    # a common offset of 800 changes no p, but exp(800) overflows float64
    model[0].params["b"][:] = 800.0 + 0.5 * rng.standard_normal(5)
    X, y = rng.standard_normal((6, 4)), rng.integers(0, 5, size=6)
    logits = model.forward(X)[0]
    model.curvature(X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        got = grader.call(exercise.last_layer_obd_h, X, logits)
    grader.assert_close("h with logits near 800 (subtract each row's largest logit first)", got,
                        model[0].hessian["W"], rtol=1e-9, atol=1e-15)


def masked_net(seed):
    """A float64 Dense → ReLU → Dense net with a keep-mask on its first weight."""
    model = two_layer_net(6, 5, 3, seed)
    model[0].set_mask("W", np.random.default_rng(seed).random((6, 5)) > 0.4)
    return model


def conv_net(seed):
    """Conv2D → ReLU → MaxPool2D → Flatten → Dense in float64: a 4-D weight."""
    return Sequential([Conv2D(1, 3, 3, seed=seed, dtype=np.float64), ReLU(), MaxPool2D(2), Flatten(),
                       Dense(3 * 3 * 3, 4, seed=seed + 1, dtype=np.float64)])


@pytest.mark.parametrize("build, input_shape, seed", [(masked_net, (9, 6), 0), (masked_net, (4, 6), 1),
                                                      (conv_net, (5, 1, 8, 8), 2)])
def test_obd_saliency_matches_pynncomp(build, input_shape, seed):
    rng = np.random.default_rng(seed)
    model = build(seed)
    X = rng.standard_normal(input_shape)
    y = rng.integers(0, model[-1].n_out, size=input_shape[0])
    h = obd_hessian(model, X, y)
    expected = obd_saliency(model, hessian=h)
    for (index, name), s in expected.items():
        got = grader.call(exercise.obd_saliency, model[index].masked(name).copy(), h[(index, name)].copy())
        grader.assert_close(f"saliency of layer {index} {name!r} {s.shape}", got, s, rtol=1e-12)
