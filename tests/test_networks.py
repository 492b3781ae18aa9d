"""Whole networks: loss → every parameter, masks under SGD, penalties, training.

Gradient checks are in float64 against centred differences of the mean
loss and must agree to ``GRAD_RTOL`` = 1e-6 in the whole-array relative
error; the measured errors are printed (``pytest -s``).
"""
import copy

import numpy as np
import pytest

from pynncomp.gradcheck import GRAD_RTOL, numerical_gradient, rel_error
from pynncomp.nn import (
    L1,
    L2,
    SGD,
    Dense,
    Dropout,
    Flatten,
    HashedDense,
    ReLU,
    Sequential,
    SparseDense,
)


def network_gradient_errors(model, x, y, penalty=None, before_each_loss=lambda: None):
    """Relative error of every parameter's gradient, ``{(layer_index, name): err}``.

    ``before_each_loss`` runs before every loss evaluation (to replay a
    dropout mask); with a penalty the objective is loss + penalty.
    """
    before_each_loss()
    model.loss_and_grads(x, y, train=True, penalty=penalty)
    analytic = {(i, name): layer.grads[name].copy() for i, layer, name in model.parameters()}

    def objective():
        before_each_loss()
        loss = model.loss(x, y, train=True)[0]
        return loss if penalty is None else loss + penalty.total(model)

    return {key: rel_error(analytic[key], numerical_gradient(objective, model[key[0]].params[key[1]]))
            for key in analytic}


def report(name, errors):
    worst = max(errors.values())
    print(f"\n[gradcheck] {name}: max relative error {worst:.2e} over {len(errors)} parameters")
    return worst


def with_random_biases(model, seed=0):
    rng = np.random.default_rng(seed)
    for _, layer, name in model.parameters():
        if name not in layer.prunable:
            layer.params[name][:] = 0.1 * rng.standard_normal(layer.params[name].shape)
    return model


@pytest.fixture
def batch(rng):
    return rng.standard_normal((6, 12)), rng.integers(0, 5, size=6)


def test_mlp_gradients(batch):
    model = with_random_biases(Sequential([
        Dense(12, 8, seed=0, dtype=np.float64), ReLU(), Dense(8, 5, seed=1, dtype=np.float64),
    ]))
    assert report("MLP 12-8-5", network_gradient_errors(model, *batch)) < GRAD_RTOL


def test_hashednet_mlp_gradients(batch):
    model = with_random_biases(Sequential([
        HashedDense(12, 8, compression=0.25, hash_seed=1691, seed=0, dtype=np.float64), ReLU(),
        HashedDense(8, 5, compression=0.5, hash_seed=1692, seed=1, dtype=np.float64),
    ]))
    assert report("HashedNet MLP 12-8-5", network_gradient_errors(model, *batch)) < GRAD_RTOL


def test_convnet_gradients(rng):
    from pynncomp.nn import Conv2D, MaxPool2D

    model = with_random_biases(Sequential([
        Conv2D(2, 3, 3, seed=0, dtype=np.float64), ReLU(), MaxPool2D(2), Flatten(),
        Dense(3 * 3 * 3, 4, seed=1, dtype=np.float64),
    ]))
    x = rng.standard_normal((3, 2, 8, 8))
    y = np.array([0, 3, 1])
    assert report("conv-relu-maxpool-flatten-dense", network_gradient_errors(model, x, y)) < GRAD_RTOL


def masked_mlp(rng):
    """12-8-6-5 with a masked Dense, a SparseDense and dropout."""
    first = Dense(12, 8, seed=0, dtype=np.float64)
    first.set_mask("W", rng.random((12, 8)) < 0.5)
    middle = Dense(8, 6, seed=1, dtype=np.float64)
    middle.set_mask("W", rng.random((8, 6)) < 0.5)
    last = Dense(6, 5, seed=2, dtype=np.float64)
    last.set_mask("W", rng.random((6, 5)) < 0.7)
    return with_random_biases(Sequential([
        first, ReLU(), Dropout(0.25, seed=0), SparseDense.from_dense(middle), ReLU(), last,
    ]))


@pytest.mark.parametrize("penalty", [None, L1(0.01), L2(0.05)], ids=["no penalty", "L1", "L2"])
def test_masked_mlp_gradients(penalty, batch, rng):
    model = masked_mlp(rng)

    def replay_dropout_mask():
        model[2].rng = np.random.default_rng(11)

    errors = network_gradient_errors(model, *batch, penalty=penalty, before_each_loss=replay_dropout_mask)
    assert report(f"masked MLP with dropout, penalty {penalty}", errors) < GRAD_RTOL
    for _, layer, name in model.parameters(prunable_only=True):
        if name in layer.masks:
            assert np.all(layer.grads[name][~layer.masks[name]] == 0)


def test_penalised_grads_add_exactly_the_penalty_gradient_to_weights_only(batch, rng):
    model = masked_mlp(rng)
    model.loss_and_grads(*batch, train=False)
    plain = {(i, name): layer.grads[name].copy() for i, layer, name in model.parameters()}
    plain_loss = model.loss(*batch)[0]
    penalty = L2(0.3)
    loss = model.loss_and_grads(*batch, train=False, penalty=penalty)
    assert loss == pytest.approx(plain_loss + penalty.total(model), rel=1e-14)
    for i, layer, name in model.parameters():
        if name in layer.prunable:
            expected = plain[(i, name)] + 0.3 * layer.params[name] * layer.masks.get(name, True)
            np.testing.assert_allclose(layer.grads[name], expected, rtol=1e-14, atol=1e-16)
        else:
            np.testing.assert_array_equal(layer.grads[name], plain[(i, name)])


# ---- SGD, masks and penalties -------------------------------------------------

def pruned_everywhere(model, rng):
    """Install a random keep-mask (half kept) on every prunable parameter."""
    masks = {}
    for i, layer, name in model.parameters(prunable_only=True):
        p = layer.params[name]
        keep = np.zeros(p.size, dtype=bool)
        keep[rng.permutation(p.size)[:p.size // 2]] = True
        masks[(i, name)] = keep.reshape(p.shape)
        layer.set_mask(name, masks[(i, name)])
    return masks


@pytest.mark.parametrize("penalty", [None, L1(1e-3), L2(1e-3)], ids=["no penalty", "L1", "L2"])
def test_sgd_keeps_pruned_weights_exactly_zero(penalty, rng):
    dense = Dense(12, 10, seed=2)
    sparse = SparseDense.from_dense(dense)
    model = Sequential([
        Dense(20, 12, seed=0), ReLU(), sparse, ReLU(), HashedDense(10, 4, K=15, seed=1),
    ])
    X = rng.standard_normal((64, 20)).astype(np.float32)
    y = rng.integers(0, 4, size=64)
    opt = SGD(0.05, momentum=0.9, penalty=penalty)
    for step in range(20):  # build up velocity everywhere
        model.loss_and_grads(X[step % 4::4], y[step % 4::4])
        opt.step(model)
    masks = pruned_everywhere(model, rng)  # mid-training, with nonzero velocity
    for (i, name), mask in masks.items():
        assert np.count_nonzero(opt.velocity[(model[i], name)][~mask]) > 0.25 * np.count_nonzero(~mask)
    kept_before = {key: model[key[0]].params[key[1]][mask].copy() for key, mask in masks.items()}
    for step in range(200):
        model.loss_and_grads(X[step % 4::4], y[step % 4::4])
        opt.step(model)
        for (i, name), mask in masks.items():
            assert np.all(model[i].params[name][~mask] == 0), f"step {step}: pruned {name} of layer {i} moved"
            assert np.all(opt.velocity[(model[i], name)][~mask] == 0)
    for key, mask in masks.items():
        moved = np.abs(model[key[0]].params[key[1]][mask] - kept_before[key])
        assert moved.max() > 1e-3  # the kept weights did train


@pytest.mark.parametrize("penalty, expected_shrink", [
    (L1(0.5), lambda w: 0.5 * np.sign(w)),
    (L2(0.5), lambda w: 0.5 * w),
], ids=["L1", "L2"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_penalty_touches_weights_but_never_biases_nor_pruned_entries(penalty, expected_shrink, momentum, rng):
    model = with_random_biases(Sequential([
        Dense(6, 5, seed=0, dtype=np.float64), ReLU(), HashedDense(5, 3, K=7, seed=1, dtype=np.float64),
    ]))
    masks = pruned_everywhere(model, rng)
    before = {(i, name): layer.params[name].copy() for i, layer, name in model.parameters()}
    for _, layer, name in model.parameters():  # only the penalty acts
        layer.grads[name] = np.zeros_like(layer.params[name])
    SGD(0.1, momentum=momentum, penalty=penalty).step(model)
    for i, layer, name in model.parameters():
        if name in layer.prunable:
            w = before[(i, name)]
            expected = w - 0.1 * expected_shrink(w) * masks[(i, name)]
            np.testing.assert_allclose(layer.params[name], expected, rtol=1e-15, atol=1e-17)
            assert np.all(layer.params[name][~masks[(i, name)]] == 0)
            assert np.any(layer.params[name] != w)
        else:
            np.testing.assert_array_equal(layer.params[name], before[(i, name)])


def test_sgd_refuses_a_penalty_given_twice(batch):
    model = Sequential([Dense(12, 5, seed=0, dtype=np.float64)])
    model.loss_and_grads(*batch, penalty=L2(0.1))
    with pytest.raises(ValueError, match="penalty was given both"):
        SGD(0.1, penalty=L2(0.1)).step(model)
    model.loss_and_grads(*batch)
    SGD(0.1, penalty=L2(0.1)).step(model)


def test_sgd_update_equations(batch):
    model = Sequential([Dense(12, 5, seed=0, dtype=np.float64)])
    opt = SGD(0.1, momentum=0.5)
    W0 = model[0].params["W"].copy()
    model.loss_and_grads(*batch)
    g1 = model[0].grads["W"].copy()
    opt.step(model)
    np.testing.assert_allclose(model[0].params["W"], W0 - 0.1 * g1, rtol=1e-15)
    model.loss_and_grads(*batch)
    g2 = model[0].grads["W"].copy()
    opt.step(model)
    v2 = 0.5 * (-0.1 * g1) - 0.1 * g2
    np.testing.assert_allclose(model[0].params["W"], W0 - 0.1 * g1 + v2, rtol=1e-14)


def test_sgd_asks_for_gradients_first():
    model = Sequential([Dense(3, 2)])
    with pytest.raises(ValueError, match="call loss_and_grads before step"):
        SGD(0.1).step(model)


# ---- training ---------------------------------------------------------------------

def test_training_a_tiny_mlp_on_separable_blobs_reduces_the_loss():
    rng = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = rng.integers(0, 3, size=300)
    X = (centres[y] + 0.3 * rng.standard_normal((300, 2))).astype(np.float32)
    model = Sequential([Dense(2, 16, seed=0), ReLU(), Dense(16, 3, seed=1)])
    opt = SGD(0.05, momentum=0.9)
    initial_loss = model.loss(X, y)[0]
    for _ in range(3):
        order = rng.permutation(300)
        for start in range(0, 300, 16):
            batch = order[start:start + 16]
            model.loss_and_grads(X[batch], y[batch])
            opt.step(model)
    final_loss = model.loss(X, y)[0]
    print(f"\n[training] blobs: loss {initial_loss:.3f} -> {final_loss:.4f}, accuracy {model.accuracy(X, y):.3f}")
    assert initial_loss > 1.0
    assert final_loss < 0.02
    assert model.accuracy(X, y) == 1.0
    assert model[0].params["W"].dtype == np.float32


# ---- the model object -----------------------------------------------------------

def test_counts_iteration_and_astype(rng):
    dense = Dense(10, 8, seed=0)
    dense.set_mask("W", np.arange(80).reshape(10, 8) % 4 == 0)  # 20 kept
    hashed = HashedDense(8, 6, K=12, seed=1)
    sparse = SparseDense.from_weights(np.ones((6, 4), np.float32), np.zeros(4, np.float32), np.eye(6, 4, dtype=bool))
    model = Sequential([Flatten(), dense, ReLU(), hashed, ReLU(), sparse])
    assert model.n_weights == 80 + 12 + 4
    assert model.n_kept_weights == 20 + 12 + 4
    assert model.n_biases == 8 + 6 + 4
    assert [(i, name) for i, _, name in model.parameters()] == [
        (1, "W"), (1, "b"), (3, "w"), (3, "b"), (5, "data"), (5, "b")]
    assert [(i, name) for i, _, name in model.parameters(prunable_only=True)] == [(1, "W"), (3, "w"), (5, "data")]

    x = rng.standard_normal((5, 2, 5)).astype(np.float32)
    out32 = model.forward(x)[0]
    model64 = copy.deepcopy(model).astype(np.float64)
    out64 = model64.forward(x.astype(np.float64))[0]
    assert out64.dtype == np.float64 and rel_error(out32, out64) < 1e-5
    assert model.predict(x).shape == (5,)
    assert model.accuracy(x, model.predict(x, batch_size=2)) == 1.0
    with pytest.raises(ValueError, match=r"y must have values in \[0, 4\)"):
        model.accuracy(x, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(TypeError, match="x must have dtype float32"):
        model.forward(x.astype(np.float64))
    with pytest.raises(TypeError, match=r"layers\[1\] must be a pynncomp Layer"):
        Sequential([ReLU(), "dense"])
    with pytest.raises(ValueError, match="layers must hold at least one layer"):
        Sequential([])
    with pytest.raises(TypeError, match="penalty must be None or a Penalty"):
        model.loss_and_grads(x, np.zeros(5, dtype=int), penalty=0.1)
