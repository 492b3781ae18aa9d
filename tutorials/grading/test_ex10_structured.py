"""Grades tutorials/exercises/ex10_structured.py: against pynncomp's surgery, its masks, its APoZ and Flatten."""
import copy

import grader
import numpy as np
import pytest

from pynncomp import models
from pynncomp.compress import apoz, mask_units, remove_units
from pynncomp.nn import Conv2D, Dense, Flatten, ReLU, Sequential

exercise = grader.load("ex10_structured")


def hidden_net(n_in, n, n_next, seed, dtype=np.float64):
    """Dense(n_in, n) → ReLU → Dense(n, n_next) with random weights and biases, some biases positive."""
    rng = np.random.default_rng(seed)
    first, second = Dense(n_in, n, seed=seed, dtype=dtype), Dense(n, n_next, seed=seed + 1, dtype=dtype)
    first.params["b"][...] = rng.uniform(-0.5, 0.5, n)
    second.params["b"][...] = rng.uniform(-0.5, 0.5, n_next)
    return Sequential([first, ReLU(), second])


def cut_arrays(model, j, what):
    """The exercise's answer for neuron j of ``model``'s hidden layer, checked to be a triple."""
    W_in, b_in, W_out = (np.array(model.layers[0].params["W"]), np.array(model.layers[0].params["b"]),
                         np.array(model.layers[2].params["W"]))
    got = grader.call(exercise.remove_neuron, W_in, b_in, W_out, j)
    if got is None or not isinstance(got, (tuple, list)) or len(got) != 3:
        pytest.fail(f"{what}: expected the tuple (W_in, b_in, W_out), got {got!r}")
    return got


# (n_in, n, n_next, j, seed): the first, a middle and the last neuron; two neurons; a wide layer
NEURON_CASES = [(6, 5, 3, 0, 0), (6, 5, 3, 2, 1), (6, 5, 3, 4, 2), (4, 2, 7, 1, 3), (30, 12, 10, 9, 4)]


@pytest.mark.parametrize("n_in, n, n_next, j, seed", NEURON_CASES)
def test_remove_neuron_matches_remove_units(n_in, n, n_next, j, seed):
    model = hidden_net(n_in, n, n_next, seed)
    what = f"remove_neuron on {n_in}-{n}-{n_next}, j = {j}"
    got = cut_arrays(model, j, what)
    expected = remove_units(model, {0: [j]})
    grader.assert_equal(f"{what}: W_in", got[0], expected.layers[0].params["W"])
    grader.assert_equal(f"{what}: b_in", got[1], expected.layers[0].params["b"])
    grader.assert_equal(f"{what}: W_out", got[2], expected.layers[2].params["W"])


@pytest.mark.parametrize("n_in, n, n_next, j, seed", NEURON_CASES)
def test_remove_neuron_computes_what_the_masked_net_computes(n_in, n, n_next, j, seed):
    model = hidden_net(n_in, n, n_next, seed)
    # a positive bias: the masked neuron still outputs max(0, b_j) > 0, which its masked row stops
    model.layers[0].params["b"][j] = 0.7
    what = f"the {n_in}-{n}-{n_next} net without neuron {j}"
    W_in, b_in, W_out = cut_arrays(model, j, what)
    masked = copy.deepcopy(model)
    mask_units(masked, {0: [j]})
    X = np.random.default_rng(seed + 100).standard_normal((8, n_in))
    got = np.maximum(X @ np.asarray(W_in) + np.asarray(b_in), 0.0) @ np.asarray(W_out) + model.layers[2].params["b"]
    grader.assert_close(f"{what}: its outputs, against the masked net's (mask_units)", got, masked.forward(X)[0],
                        rtol=1e-10, atol=1e-12)


def test_remove_neuron_leaves_its_arguments_alone():
    model = hidden_net(5, 4, 3, 7)
    W_in, b_in, W_out = (model.layers[0].params["W"].copy(), model.layers[0].params["b"].copy(),
                         model.layers[2].params["W"].copy())
    given = (W_in.copy(), b_in.copy(), W_out.copy())
    grader.call(exercise.remove_neuron, W_in, b_in, W_out, 1)
    for name, after, before in zip(("W_in", "b_in", "W_out"), (W_in, b_in, W_out), given):
        grader.assert_equal(f"remove_neuron must not modify its arguments: {name} after the call", after, before)


@pytest.mark.parametrize("n, j", [(5, 5), (5, 9), (5, -1), (3, -3), (1, 0)])
def test_remove_neuron_refuses_a_neuron_that_is_not_there(n, j):
    model = hidden_net(4, n, 3, 8)
    args = (model.layers[0].params["W"], model.layers[0].params["b"], model.layers[2].params["W"], j)
    try:
        got = grader.call(exercise.remove_neuron, *args)
    except ValueError:
        return
    why = "a layer keeps at least one neuron" if n == 1 else f"the neurons are 0 … {n - 1}"
    shapes = [np.shape(part) for part in got] if isinstance(got, (tuple, list)) else None
    pytest.fail(f"remove_neuron(..., j = {j}) on a layer of {n} neurons must raise ValueError ({why}); "
                f"it returned {type(got).__name__}" + (f" of arrays of shapes {shapes}" if shapes else ""))


# worked examples: (activations, APoZ); -0.0 is a zero, 1e-30 is not
APOZ_EXAMPLES = [
    ([[0.0, 1.5, 0.0, 2.0],
      [0.0, 0.0, 2.0, 1e-30],
      [0.0, 3.0, 0.0, 5.0],
      [0.0, 0.5, 1.0, -0.0]], [1.0, 0.25, 0.5, 0.25]),
    ([[0.0, 2.0, 0.0]], [1.0, 0.0, 1.0]),
    ([[0.1], [0.2], [0.0]], [1.0 / 3.0]),
]


@pytest.mark.parametrize("activations, expected", APOZ_EXAMPLES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_apoz_on_worked_examples(activations, expected, dtype):
    a = np.array(activations, dtype=dtype)
    got = grader.call(exercise.apoz, a.copy())
    grader.assert_close(f"apoz of the {a.shape} {np.dtype(dtype).name} activations {a.tolist()}", got, expected,
                        rtol=1e-12)


def small_relu_net(seed):
    """Dense(20, 12) → ReLU → Dense(12, 7) → ReLU → Dense(7, 3): a dead unit, an always active one."""
    model = Sequential([Dense(20, 12, seed=seed), ReLU(), Dense(12, 7, seed=seed + 1), ReLU(),
                        Dense(7, 3, seed=seed + 2)])
    model.layers[0].params["b"][3] = -100.0    # never fires: APoZ 1
    model.layers[0].params["b"][5] = 100.0     # always fires: APoZ 0
    return model


@pytest.mark.parametrize("seed, B", [(0, 300), (1, 37), (2, 1)])
def test_apoz_matches_pynncomp_on_a_small_net(seed, B):
    model = small_relu_net(seed)
    X = np.random.default_rng(seed + 50).standard_normal((B, 20)).astype(np.float32)
    expected = apoz(model, X)
    x = X
    for position, layer in enumerate(model.layers[:4]):
        x, _ = layer.forward(x)
        if isinstance(layer, ReLU):
            got = grader.call(exercise.apoz, x.copy())
            grader.assert_close(f"apoz of the ReLU outputs of layer {position - 1} ({B} samples), against "
                                "pynncomp.compress.apoz", got, expected[position - 1], rtol=1e-12)


def test_apoz_of_a_trained_size_net():
    model = models.build("mlp", 100, seed=3)
    X = np.random.default_rng(3).random((200, 784)).astype(np.float32)
    a, _ = model.layers[1].forward(model.layers[0].forward(X)[0])
    got = grader.call(exercise.apoz, a)
    grader.assert_close("apoz of the 100 hidden neurons of 784-100-10 on 200 inputs", got, apoz(model, X)[0],
                        rtol=1e-12)


def rows_masked_with_filter(model, producer, consumer, f):
    """The consumer rows pynncomp masks when filter f of ``producer`` is removed (mask_units)."""
    model = copy.deepcopy(model)
    mask_units(model, {producer: [f]})
    return np.flatnonzero(~model.layers[consumer].masks["W"].any(axis=1))


def check_rows(f, P, expected, what):
    got = grader.call(exercise.filter_rows, f, P)
    if got is not None and np.asarray(got).dtype.kind not in "iu":
        pytest.fail(f"{what}: must return integer row indices, got dtype {np.asarray(got).dtype}")
    grader.assert_equal(what, got, expected)


@pytest.mark.parametrize("f", [0, 1, 17, 49])
def test_filter_rows_of_lenet5(f):
    lenet5 = models.build("lenet5", seed=0)
    # layer 2 (50 filters) → pooling → Flatten → layer 5, Dense(800, 500): P = 4·4 = 16
    check_rows(f, 16, rows_masked_with_filter(lenet5, 2, 5, f),
               f"filter_rows({f}, 16): the rows of LeNet-5's dense layer that mask_units masks with filter {f}")


@pytest.mark.parametrize("f", [0, 2, 3])
def test_filter_rows_of_a_small_conv_net(f):
    # 2 channels of 7 x 7 → 4 filters of 3 x 3 → 5 x 5 maps, P = 25
    model = Sequential([Conv2D(2, 4, 3, seed=0), ReLU(), Flatten(), Dense(100, 5, seed=1)])
    check_rows(f, 25, rows_masked_with_filter(model, 0, 3, f),
               f"filter_rows({f}, 25): the rows of Dense(100, 5) after 4 filters of 5 x 5 maps")


@pytest.mark.parametrize("C, H, W, f", [(3, 2, 2, 1), (4, 3, 5, 3), (5, 1, 1, 2), (2, 4, 4, 0)])
def test_filter_rows_follow_flatten(C, H, W, f):
    maps = np.zeros((1, C, H, W))
    maps[0, f] = 1.0 + np.arange(H * W).reshape(H, W)   # channel f numbered 1, 2, … row by row
    flat, _ = Flatten().forward(maps)
    # the columns Flatten fills from channel f, in the order of the map's positions
    expected = np.argsort(np.where(flat[0] > 0, flat[0], np.inf))[:H * W]
    check_rows(f, H * W, expected, f"filter_rows({f}, {H * W}): the columns Flatten makes of channel {f} of "
                                   f"{C} channels of {H} x {W}")
