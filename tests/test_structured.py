"""Structured pruning: the criteria, the removal by masks, the surgery, the methods and the command line."""
import copy
import json
import re

import numpy as np
import pytest

from pynncomp import cli, data, experiment, io, methods, models
from pynncomp.compress import (
    apoz,
    check_unit_target,
    compact,
    kept_count,
    layer_normalised,
    mask_units,
    masked_units,
    mean_activation,
    obd_unit_saliency,
    prune_units,
    remove_units,
    taylor_saliency,
    unit_layers,
    unit_norm,
    unit_report,
)
from pynncomp.gradcheck import GRAD_RTOL, numerical_gradient, rel_error
from pynncomp.nn import (
    L2,
    SGD,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    MaxPool2D,
    ReLU,
    Sequential,
    obd_hessian,
    obd_saliency,
)
from pynncomp.reproduce import convnets
from pynncomp.train import Protocol

TINY = Protocol(pretrain_epochs=1, steps=3, prune_every=1, finetune_max=2, patience=1, batch_size=32)
NEURONS = [name for name in methods.METHODS if name.startswith("neurons-")]
FILTERS = [name for name in methods.METHODS if name.startswith("filters-")]


@pytest.fixture(scope="module")
def digits():
    return data.load("synthetic-digits", n_train=200, n_test=80, val_size=50, seed=0)


@pytest.fixture(scope="module")
def images():
    return data.load("synthetic-digits", n_train=120, n_test=60, val_size=40, seed=0, layout="image")


def tiny_mlp(dropout=0.0, seed=0):
    """6 → 5 → 4 → 3 in float64, with biases away from 0."""
    rng = np.random.default_rng(seed)
    layers = [Dense(6, 5, seed=rng, dtype=np.float64), ReLU()]
    layers += [Dropout(dropout, seed=1)] if dropout else []
    layers += [Dense(5, 4, seed=rng, dtype=np.float64), ReLU(), Dense(4, 3, seed=rng, dtype=np.float64)]
    model = Sequential(layers)
    for _, layer, name in model.parameters():
        if name == "b":
            layer.params[name][...] = rng.normal(0, 0.3, layer.params[name].shape)
    return model


def tiny_convnet(seed=0):
    """(1, 8, 8) → conv 4@3×3 → ReLU → pool 2 → conv 3@2×2 → flatten (3·2·2) → dense 3, float64."""
    rng = np.random.default_rng(seed)
    model = Sequential([Conv2D(1, 4, 3, seed=rng, dtype=np.float64), ReLU(), MaxPool2D(2),
                        Conv2D(4, 3, 2, seed=rng, dtype=np.float64), Flatten(),
                        Dense(12, 3, seed=rng, dtype=np.float64)])
    for _, layer, name in model.parameters():
        if name == "b":
            layer.params[name][...] = rng.normal(0, 0.3, layer.params[name].shape)
    return model


def outputs(model, X):
    return model.forward(X)[0]


def assert_no_masks(model):
    assert all(not layer.masks for layer in model.layers)


# ---- which units a net has -------------------------------------------------------------------

def test_unit_layers_follow_each_unit_to_its_consumer():
    lenet300 = models.build("lenet300", dropout=0.5)
    found = unit_layers(lenet300)
    assert [(e.index, e.kind, e.n_units, e.consumer, e.rows_per_unit, e.activation, e.relu) for e in found] == [
        (0, "neuron", 300, 3, 1, 1, True), (3, "neuron", 100, 6, 1, 4, True)]
    lenet5 = models.build("lenet5")
    assert [(e.index, e.kind, e.n_units, e.consumer, e.rows_per_unit, e.relu) for e in unit_layers(lenet5)] == [
        (0, "filter", 20, 2, None, False), (2, "filter", 50, 5, 16, False), (5, "neuron", 500, 7, 1, True)]
    assert [e.index for e in unit_layers(lenet5, "filter")] == [0, 2]
    assert [e.index for e in unit_layers(lenet5, "neuron")] == [5]
    # the conv baseline: conv → ReLU → pool → flatten → dropout → dense 10
    baseline = convnets.build({"kernel": 5, "channels": 6, "stride": 1, "pool": 2, "dropout": 0.1})
    (entry,) = unit_layers(baseline)
    assert (entry.index, entry.kind, entry.n_units, entry.consumer, entry.rows_per_unit, entry.relu) == \
        (0, "filter", 6, 5, 12 * 12, True)
    # the output layer's units and a lone layer's are never removable
    assert unit_layers(Sequential([Dense(4, 3)])) == []
    with pytest.raises(ValueError, match="kind must be None"):
        unit_layers(lenet300, "channel")
    with pytest.raises(TypeError, match="model must be a pynncomp Sequential"):
        unit_layers([Dense(4, 3)])


# ---- surgery: the small net computes what the masked net computes --------------------------------

def _remove_some(model, fraction, seed):
    rng = np.random.default_rng(seed)
    chosen = {}
    for entry in unit_layers(model):
        n = int(fraction * entry.n_units)
        chosen[entry.index] = rng.choice(entry.n_units, size=n, replace=False)
    mask_units(model, chosen)
    return chosen


@pytest.mark.parametrize("arch, dtype", [("mlp", np.float64), ("lenet300", np.float32), ("lenet5", np.float64)])
def test_the_small_net_computes_what_the_masked_net_computes(arch, dtype):
    model = models.build(arch, [40, 20] if arch == "mlp" else None, seed=3, dropout=0.3, dtype=dtype)
    for _, layer, name in model.parameters():  # biases away from 0, so that a forgotten one shows
        if name == "b":
            layer.params[name][...] = np.random.default_rng(1).normal(0, 0.2, layer.params[name].shape)
    X = np.random.default_rng(0).random((7, 1, 28, 28) if arch == "lenet5" else (7, 784)).astype(dtype)
    before = outputs(model, X)
    chosen = _remove_some(model, 0.4, seed=2)
    masked = outputs(model, X)
    assert not np.allclose(masked, before)  # the removal did change the net
    small = compact(model)
    assert_no_masks(small)
    assert {e.index: e.n_units for e in unit_layers(small)} == \
        {e.index: e.n_units - len(chosen[e.index]) for e in unit_layers(model)}
    assert small.n_weights == small.n_kept_weights == model.n_kept_weights
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(outputs(small, X), masked, rtol=tolerance, atol=tolerance)
    # the original is untouched, and the dropout layers are copied with their rates
    assert [type(layer) for layer in small.layers] == [type(layer) for layer in model.layers]
    assert [layer.p for layer in small.layers if isinstance(layer, Dropout)] == \
        [layer.p for layer in model.layers if isinstance(layer, Dropout)]
    np.testing.assert_array_equal(outputs(model, X), masked)


def test_a_filter_removed_before_a_flatten_takes_its_block_of_rows_channel_major():
    model = models.build("lenet5", seed=0, dtype=np.float64)
    dense_W = model.layers[5].params["W"].copy()  # (50·4·4, 500), row c·16 + i·4 + j
    small = remove_units(model, {2: [0, 7, 49]})
    kept = [c for c in range(50) if c not in (0, 7, 49)]
    expected = np.concatenate([dense_W[16 * c:16 * c + 16] for c in kept])
    np.testing.assert_array_equal(small.layers[5].params["W"], expected)
    assert small.layers[2].params["W"].shape == (47, 20, 5, 5) and small.layers[2].out_channels == 47
    # a filter of conv1 is the matching input channel of conv2
    small = remove_units(model, {0: [3]})
    np.testing.assert_array_equal(small.layers[2].params["W"], np.delete(model.layers[2].params["W"], 3, axis=1))
    assert small.layers[2].in_channels == 19 and small.layers[0].params["b"].shape == (19,)


def test_weights_pruned_one_by_one_stay_masked_and_zero_in_the_small_net():
    model = tiny_mlp()
    keep = np.random.default_rng(0).random((5, 4)) > 0.3
    model.layers[2].set_mask("W", keep)
    mask_units(model, {0: [1], 2: [3]})
    small = compact(model)
    expected = np.delete(np.delete(keep, 1, axis=0), 3, axis=1)
    np.testing.assert_array_equal(small.layers[2].masks["W"], expected)
    assert not small.layers[2].params["W"][~expected].any()
    assert "W" not in small.layers[0].masks and "W" not in small.layers[4].masks
    X = np.random.default_rng(1).random((5, 6))
    np.testing.assert_allclose(outputs(small, X), outputs(model, X), rtol=1e-13, atol=1e-13)


def test_compact_also_cuts_units_that_weight_pruning_left_without_outgoing_weights():
    model = tiny_mlp()
    keep = np.ones((5, 4), dtype=bool)
    keep[2] = False  # unit 2 of layer 0 reaches nothing, its incoming weights still kept
    model.layers[2].set_mask("W", keep)
    assert [np.flatnonzero(r).tolist() for r in masked_units(model).values()] == [[2], []]
    small = compact(model)
    assert small.layers[0].params["W"].shape == (6, 4)
    X = np.random.default_rng(2).random((4, 6))
    np.testing.assert_allclose(outputs(small, X), outputs(model, X), rtol=1e-13, atol=1e-13)


def test_compact_of_the_conv_baseline():
    model = convnets.build({"kernel": 5, "channels": 6, "stride": 2, "pool": 2, "dropout": 0.2}, dtype=np.float64)
    X = np.random.default_rng(0).random((5, 1, 28, 28))
    mask_units(model, {0: [1, 4]})
    small = compact(model)
    assert small.layers[0].out_channels == 4 and small.layers[-1].n_in == 4 * 6 * 6
    np.testing.assert_allclose(outputs(small, X), outputs(model, X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("build, shape", [(lambda: tiny_mlp(dropout=0.4), (5, 6)), (tiny_convnet, (4, 1, 8, 8))])
def test_gradients_of_the_pruned_nets_match_finite_differences(build, shape):
    model = build()
    X = np.random.default_rng(0).random(shape)
    y = np.array([0, 2, 1, 2, 0][:shape[0]])
    mask_units(model, {entry.index: [1] for entry in unit_layers(model)})
    small = compact(model)
    for net in (model, small):
        net.loss_and_grads(X, y, train=False)
        for index, layer, name in net.parameters():
            analytic = layer.grads[name].copy()
            numeric = numerical_gradient(lambda net=net: net.loss(X, y)[0], layer.params[name])
            if name in layer.masks:
                numeric = numeric * layer.masks[name]  # a masked weight gets no gradient
            assert rel_error(analytic, numeric) < GRAD_RTOL, (index, name)
    # the kept parameters get the same gradient in both nets: the big net's gradients, cut like its weights
    model.loss_and_grads(X, y, train=False)
    small.loss_and_grads(X, y, train=False)
    grads_as_params = copy.deepcopy(model)
    for carrier, layer in zip(grads_as_params.layers, model.layers):
        for name in layer.grads:
            carrier.params[name] = layer.grads[name].copy()
    cut = remove_units(grads_as_params, {entry.index: [1] for entry in unit_layers(model)})
    for (index, carrier, name), (_, little, _) in zip(cut.parameters(), small.parameters()):
        np.testing.assert_allclose(little.grads[name], carrier.params[name], rtol=1e-11, atol=1e-14,
                                   err_msg=f"{index}.{name}")


def test_save_and_load_the_small_net(tmp_path):
    model = models.build("lenet300", seed=1)
    _remove_some(model, 0.5, seed=0)
    small = compact(model)
    path = tmp_path / "small.npz"
    io.save_model(path, small)
    loaded = io.load_model(path)
    assert_no_masks(loaded)
    assert [layer.params["W"].shape for layer in loaded.layers if "W" in layer.params] == [(784, 150), (150, 50),
                                                                                          (50, 10)]
    X = np.random.default_rng(0).random((6, 784)).astype(np.float32)
    np.testing.assert_array_equal(outputs(loaded, X), outputs(small, X))
    lenet5 = models.build("lenet5", seed=2)
    mask_units(lenet5, {0: [0, 5], 2: list(range(0, 50, 3))})
    small5 = compact(lenet5, kind="filter")
    io.save_model(tmp_path / "lenet5.npz", small5)
    loaded5 = io.load_model(tmp_path / "lenet5.npz")
    X5 = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_array_equal(outputs(loaded5, X5), outputs(small5, X5))
    assert loaded5.layers[5].n_in == 33 * 16


def test_the_optimizer_s_velocities_follow_the_surgery():
    """A step of the small net with its cut velocities is the masked net's step, on the kept parameters."""
    model = tiny_mlp()
    rng = np.random.default_rng(0)
    X, y = rng.random((8, 6)), rng.integers(0, 3, 8)
    mask_units(model, {0: [0, 3], 2: [2]})
    optimizer = SGD(0.1, momentum=0.9, penalty=L2(1e-3))
    for _ in range(3):
        model.loss_and_grads(X, y)
        optimizer.step(model)
    old_layers = list(model.layers)
    small = compact(model, optimizer=optimizer)
    assert not any(layer in old_layers for layer, _ in optimizer.velocity)
    assert {(small.layers.index(layer), name) for layer, name in optimizer.velocity} == \
        {(0, "W"), (0, "b"), (2, "W"), (2, "b"), (4, "W"), (4, "b")}
    # the same three steps on a twin of the masked net, then one more step on each
    big_optimizer = SGD(0.1, momentum=0.9, penalty=L2(1e-3))
    twin = tiny_mlp()
    mask_units(twin, {0: [0, 3], 2: [2]})
    for _ in range(3):
        twin.loss_and_grads(X, y)
        big_optimizer.step(twin)
    twin.loss_and_grads(X, y)
    big_optimizer.step(twin)
    small.loss_and_grads(X, y)
    optimizer.step(small)
    np.testing.assert_allclose(outputs(small, X), outputs(twin, X), rtol=1e-12, atol=1e-12)


# ---- refusals ----------------------------------------------------------------------------------

def test_removing_every_unit_of_a_layer_is_refused():
    model = tiny_mlp()
    with pytest.raises(ValueError, match="units would remove all 5 units of layer 0"):
        mask_units(model, {0: range(5)})
    with pytest.raises(ValueError, match="units would remove all 4 units of layer 2"):
        remove_units(model, {2: np.ones(4, dtype=bool)})
    mask_units(model, {0: [0, 1, 2, 3]})
    with pytest.raises(ValueError, match="all 5 units of layer 0"):
        mask_units(model, {0: [4]})
    saliency = {0: np.arange(5.0), 2: np.arange(4.0)}
    with pytest.raises(ValueError, match="would remove all 4 units of layer 2"):
        prune_units(model, saliency, 0.88, scope="layer")  # round(0.6) = 1 of 5, round(0.48) = 0 of 4
    with pytest.raises(ValueError, match="fewer than the 2 layers"):
        prune_units(tiny_mlp(), saliency, 0.9, scope="global")
    with pytest.raises(ValueError, match="would remove all 24 units of layer 0"):
        check_unit_target({0: 24}, 0.99, "layer")


@pytest.mark.parametrize("call, error, match", [
    (lambda m: mask_units(m, {1: [0]}), ValueError,
     r"units has the key 1, which is no layer with removable units; accepted: \[0, 2\]"),
    (lambda m: mask_units(m, {4: [0]}), ValueError, "accepted"),
    (lambda m: remove_units(m, {0: [5]}), ValueError, r"units\[0\] must hold unit indices in \[0, 5\)"),
    (lambda m: remove_units(m, {0: [-1]}), ValueError, r"units\[0\] must hold unit indices"),
    (lambda m: remove_units(m, {0: [1, 1]}), ValueError, "more than once"),
    (lambda m: remove_units(m, {0: [0.5]}), TypeError, r"units\[0\] must be a 1-D sequence"),
    (lambda m: remove_units(m, {0: np.ones(3, dtype=bool)}), ValueError, r"shape \(5,\)"),
    (lambda m: remove_units(m, [0, 1]), TypeError, "units must be a dict"),
    (lambda m: remove_units(m, {0: [1]}, optimizer=object()), TypeError, "optimizer must be None or an SGD"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4)}, 1.0), ValueError, r"sparsity must be in \[0, 1\)"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4)}, -0.1), ValueError, "sparsity must be"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4)}, 0.5, scope="unit"), ValueError, "scope must be one of"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4)}, 0.5, kind="channel"), ValueError, "kind must be"),
    (lambda m: prune_units(m, {0: np.ones(5)}, 0.5), ValueError, "saliency has no entry for layer 2"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4), 4: np.ones(3)}, 0.5), ValueError,
     r"saliency has the keys \[4\]"),
    (lambda m: prune_units(m, {0: np.ones(4), 2: np.ones(4)}, 0.5), ValueError, r"saliency\[0\] must have shape"),
    (lambda m: prune_units(m, {0: np.full(5, np.nan), 2: np.ones(4)}, 0.5), ValueError, "NaN"),
    (lambda m: prune_units(m, [1, 2], 0.5), TypeError, "saliency must be a dict"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4)}, {0: 0.5, 2: 0.5}), ValueError, "needs scope='layer'"),
    (lambda m: prune_units(m, {0: np.ones(5), 2: np.ones(4)}, {0: 0.5}, "layer"), ValueError, "exactly the keys"),
    (lambda m: prune_units(Sequential([Dense(3, 2)]), {}, 0.5), ValueError, "model has no units that can be removed"),
    (lambda m: unit_norm(m, order=3), ValueError, "order must be 1"),
    (lambda m: taylor_saliency(m, np.ones((0, 6)), np.zeros(0, int)), ValueError, "X must hold at least one sample"),
    (lambda m: taylor_saliency(m, np.ones((2, 6)), np.zeros(3, int)), ValueError, r"y must have shape \(2,\)"),
    (lambda m: mean_activation(m, np.ones((2, 6)), batch_size=0), ValueError, "batch_size"),
    (lambda m: obd_unit_saliency(m), ValueError, "give X and y"),
])
def test_bad_arguments_are_refused_naming_them(call, error, match):
    model = tiny_mlp()
    with pytest.raises(error, match=match):
        call(model)


def test_a_refused_step_changes_nothing_and_units_are_never_revived():
    model = tiny_mlp()
    saliency = {0: np.arange(5.0), 2: np.arange(4.0)}
    prune_units(model, saliency, 0.5, scope="layer")
    masks = {key: layer.masks["W"].copy() for key, layer in enumerate(model.layers) if "W" in layer.masks}
    with pytest.raises(ValueError, match="never revived"):
        prune_units(model, {0: -np.arange(5.0), 2: -np.arange(4.0)}, 0.2, scope="layer")
    for key, mask in masks.items():
        np.testing.assert_array_equal(model.layers[key].masks["W"], mask)
    # a later step with other saliencies removes more, and the units removed stay removed
    prune_units(model, {0: -np.arange(5.0), 2: -np.arange(4.0)}, 0.75, scope="layer")
    removed = masked_units(model)
    assert removed[0].tolist() == [True, True, True, False, True]  # 0, 1, 2 from before; then 4, the lowest of 3, 4
    assert removed[2].tolist() == [True, True, False, True]


def test_the_activation_criteria_need_a_relu():
    with pytest.raises(ValueError, match="apoz reads each unit's output after its ReLU, and layer 0 \\(Conv2D\\)"):
        apoz(models.build("lenet5"), np.zeros((2, 1, 28, 28), np.float32), kind="filter")


# ---- the engine's exact counts ------------------------------------------------------------------

@pytest.mark.parametrize("scope", ["global", "layer"])
def test_prune_units_keeps_exactly_round_1_minus_S_n_units(scope):
    model = models.build("lenet300", seed=0)
    rng = np.random.default_rng(0)
    for S in (0.2, 0.5, 0.83, 0.97):
        saliency = {0: rng.random(300), 2: rng.random(100)}
        report = prune_units(model, saliency, S, scope=scope)
        kept = {index: int((~r).sum()) for index, r in masked_units(model).items()}
        if scope == "layer":
            assert kept == {0: kept_count(S, 300), 2: kept_count(S, 100)}
        else:
            assert sum(kept.values()) == kept_count(S, 400)
        assert report["units_kept"] == sum(kept.values())
        assert report["achieved_sparsity"] == 1 - report["units_kept"] / 400
        assert {k: v for k, v in report.items() if k not in ("sparsity", "achieved_sparsity")} == unit_report(model)
        # the weights of a removed unit are all masked, in and out, and zero
        expected_kept = 784 * kept[0] + kept[0] * kept[2] + kept[2] * 10
        assert model.n_kept_weights == expected_kept == report["weights_kept"]


def test_the_global_ranking_keeps_one_unit_in_every_layer_and_breaks_ties_by_layer_then_unit():
    model = tiny_mlp()
    # layer 2's units are all below layer 0's: all but its best go, then the lowest of layer 0
    saliency = {0: np.array([5.0, 6.0, 7.0, 8.0, 9.0]), 2: np.array([0.1, 0.4, 0.3, 0.2])}
    prune_units(model, saliency, 5 / 9, scope="global")  # keeps round(4/9·9) = 4 of 9: 5 go
    assert masked_units(model)[2].tolist() == [True, False, True, True]
    assert masked_units(model)[0].tolist() == [True, True, False, False, False]
    tied = tiny_mlp()
    prune_units(tied, {0: np.ones(5), 2: np.ones(4)}, 3 / 9, scope="global")  # 3 go: the earlier layer first
    assert masked_units(tied)[0].tolist() == [True, True, True, False, False]
    assert not masked_units(tied)[2].any()


# ---- the criteria, against independent computations -------------------------------------------------

def test_unit_norms_are_the_column_and_filter_norms():
    model = models.build("lenet5", seed=0)
    mask_units(model, {2: [3]})
    l1, l2 = unit_norm(model, 1), unit_norm(model, 2)
    W0 = model.layers[0].params["W"].astype(np.float64)
    np.testing.assert_allclose(l1[0], [np.abs(W0[f]).sum() for f in range(20)])
    W2 = model.layers[2].masked("W").astype(np.float64)
    np.testing.assert_allclose(l2[2], [np.linalg.norm(W2[f]) for f in range(50)])
    assert l2[2][3] == 0.0
    W5 = model.layers[5].masked("W").astype(np.float64)  # (800, 500): neuron j's incoming weights are column j
    np.testing.assert_allclose(l1[5], np.abs(W5).sum(axis=0))


def test_mean_activation_and_apoz_count_the_relu_outputs():
    model = convnets.build({"kernel": 5, "channels": 4, "stride": 1, "pool": 2, "dropout": 0.3}, dtype=np.float64)
    model.layers[0].params["b"][...] = [0.5, -0.2, 0.0, -50.0]
    X = np.random.default_rng(0).random((9, 1, 28, 28))
    relu = np.maximum(model.layers[0].forward(X)[0], 0)  # (9, 4, 24, 24)
    np.testing.assert_allclose(mean_activation(model, X, batch_size=4)[0], relu.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(apoz(model, X, batch_size=4)[0], (relu == 0).mean(axis=(0, 2, 3)))
    assert apoz(model, X)[0][3] == 1.0  # a filter whose bias keeps it below 0
    mlp = tiny_mlp(dropout=0.5)
    X = np.random.default_rng(1).random((11, 6))
    hidden = np.maximum(X @ mlp.layers[0].params["W"] + mlp.layers[0].params["b"], 0)
    np.testing.assert_allclose(mean_activation(mlp, X)[0], hidden.mean(axis=0))
    np.testing.assert_allclose(apoz(mlp, X, batch_size=3)[0], (hidden == 0).mean(axis=0))


def _outgoing_products(model, entry, X, y):
    """Σ over unit j's outgoing weights of W'·∂L/∂W', (n_units,), from the weight gradients of loss_and_grads."""
    model.loss_and_grads(X, y, train=False)
    consumer = model.layers[entry.consumer]
    product = (consumer.params["W"] * consumer.grads["W"]).astype(np.float64)
    if entry.rows_per_unit is None:
        return product.sum(axis=(0, 2, 3))
    return product.reshape(entry.n_units, -1).sum(axis=1)


@pytest.mark.parametrize("build, shape", [(tiny_mlp, (10, 6)), (tiny_convnet, (6, 1, 8, 8))])
def test_taylor_is_a_times_its_gradient_which_the_outgoing_weights_also_give(build, shape):
    """Σ_p a·∂ℓ/∂a of a unit equals Σ_k W'_jk ∂ℓ/∂W'_jk (scaling a unit's output is scaling its outgoing weights)."""
    model = build()
    rng = np.random.default_rng(0)
    X, y = rng.random(shape), rng.integers(0, 3, shape[0])
    mean_form = taylor_saliency(model, X, y, per_sample=False, batch_size=4)
    paper_form = taylor_saliency(model, X, y, batch_size=4)
    for entry in unit_layers(model):
        np.testing.assert_allclose(mean_form[entry.index], np.abs(_outgoing_products(model, entry, X, y)),
                                   rtol=1e-10, atol=1e-14)
        per_sample = [_outgoing_products(model, entry, X[n:n + 1], y[n:n + 1]) for n in range(shape[0])]
        np.testing.assert_allclose(paper_form[entry.index], np.mean(np.abs(per_sample), axis=0), rtol=1e-10,
                                   atol=1e-14)
    assert all((paper_form[i] >= mean_form[i] - 1e-15).all() for i in paper_form)


def test_obd_unit_saliency_sums_the_weights_and_the_bias():
    model = tiny_convnet()
    rng = np.random.default_rng(0)
    X, y = rng.random((5, 1, 8, 8)), rng.integers(0, 3, 5)
    hessian = obd_hessian(model, X, y)
    per_weight = obd_saliency(model, hessian=hessian)
    unit = obd_unit_saliency(model, X, y)
    for entry in unit_layers(model):
        b = model.layers[entry.index].params["b"]
        expected = per_weight[(entry.index, "W")].reshape(entry.n_units, -1).sum(axis=1) \
            + 0.5 * hessian[(entry.index, "b")] * b * b
        np.testing.assert_allclose(unit[entry.index], expected, rtol=1e-12)
    mlp = tiny_mlp()
    X, y = rng.random((5, 6)), rng.integers(0, 3, 5)
    hessian = obd_hessian(mlp, X, y)
    np.testing.assert_allclose(obd_unit_saliency(mlp, hessian=hessian)[2],
                               obd_saliency(mlp, hessian=hessian)[(2, "W")].sum(axis=0)
                               + 0.5 * hessian[(2, "b")] * mlp.layers[2].params["b"] ** 2)


def test_layer_normalised_divides_by_the_norm_of_the_kept_units():
    s = {0: np.array([3.0, 4.0, 100.0]), 2: np.zeros(2)}
    normalised = layer_normalised(s, {0: np.array([False, False, True]), 2: np.zeros(2, bool)})
    np.testing.assert_allclose(normalised[0], [0.6, 0.8, 20.0])
    np.testing.assert_array_equal(normalised[2], [0.0, 0.0])


# ---- the methods on the common timetable ------------------------------------------------------------

@pytest.mark.parametrize("name", NEURONS)
def test_every_neuron_method_returns_the_smaller_dense_net_with_exact_counts(name, digits):
    events = []
    model, record = experiment.run(name, digits, arch="lenet300", sparsity=0.7, seed=1, protocol=TINY,
                                   progress=lambda e: events.append(e) if e.get("event") == "prune" else None)
    method = methods.get(name)
    assert_no_masks(model)
    sizes = [layer.params["W"].shape for layer in model.layers if "W" in layer.params]
    if method.default_scope == "layer":
        assert sizes == [(784, kept_count(0.7, 300)), (kept_count(0.7, 300), kept_count(0.7, 100)),
                         (kept_count(0.7, 100), 10)]
    else:
        assert sizes[0][1] + sizes[1][1] == kept_count(0.7, 400)
    n_kept = sizes[0][1] + sizes[1][1]
    assert record["units"]["kept"] == n_kept and record["units"]["total"] == 400
    assert record["achieved_sparsity"] == 1 - n_kept / 400
    assert record["weights_total"] == 266_200 and record["weights_kept"] == model.n_weights
    assert record["weight_sparsity"] == 1 - model.n_weights / 266_200
    assert record["biases"] == model.n_biases == n_kept + 10
    assert record["test_accuracy"] == model.accuracy(digits.X_test, digits.y_test)
    # every step reached its exact count on the schedule
    schedule = method.schedule(0.7, TINY)
    assert [e["target"] for e in events] == schedule and all(e["removes"] == "neurons" for e in events)
    for step, target in zip(record["method_notes"]["steps"], schedule):
        kept = step["units_kept"]
        if method.default_scope == "layer":
            assert kept == {"0": kept_count(target, 300), "2": kept_count(target, 100)}
        else:
            assert kept["0"] + kept["2"] == kept_count(target, 400)
    json.dumps(record)


@pytest.mark.parametrize("name", FILTERS)
def test_every_filter_method_returns_the_smaller_lenet5(name, images):
    protocol = TINY.replace(steps=2, finetune_max=1)
    model, record = experiment.run(name, images, arch="lenet5", sparsity=0.5, seed=0, protocol=protocol)
    assert_no_masks(model)
    F1, F2 = model.layers[0].out_channels, model.layers[2].out_channels
    assert model.layers[2].in_channels == F1 and model.layers[5].n_in == 16 * F2
    if methods.get(name).default_scope == "layer":
        assert (F1, F2) == (10, 25)
    assert F1 + F2 == record["units"]["kept"] == kept_count(0.5, 70)
    assert record["weights_total"] == 430_500 and record["weights_kept"] == model.n_weights
    assert record["test_accuracy"] == model.accuracy(images.X_test, images.y_test)


def test_the_run_saves_the_small_net(digits, tmp_path):
    model, record = experiment.run("neurons-l2", digits, hidden=[16, 8], sparsity=0.5, seed=0, protocol=TINY)
    model_path, _, record = experiment.save_run(tmp_path, model, record)
    loaded = io.load_model(model_path)
    assert [layer.params["W"].shape for layer in loaded.layers if "W" in layer.params] == [(784, 8), (8, 4), (4, 10)]
    assert loaded.accuracy(digits.X_test, digits.y_test) == record["test_accuracy"]


def test_the_scope_option_and_the_pretraining_shared_with_the_l2_methods(digits):
    cache = {}
    experiment.run("magl2", digits, hidden=12, sparsity=0.5, seed=0, protocol=TINY, pretrained=cache)
    _, record = experiment.run("neurons-l1", digits, hidden=[12, 6], sparsity=0.5, seed=0,
                                   protocol=TINY.replace(scope="global"), pretrained=cache)
    assert record["config"]["scope"] == "global" and record["units"]["kept"] == 9
    _, reused = experiment.run("neurons-taylor", digits, hidden=12, sparsity=0.5, seed=0, protocol=TINY,
                               pretrained=cache)
    assert reused["pretraining_reused"] and reused["config"]["scope"] == "global"
    assert reused["method_notes"]["unit_samples"] == digits.X_train.shape[0]


def test_impossible_targets_are_refused_before_any_training(digits):
    trained = []
    with pytest.raises(ValueError, match="would remove all 8 units of layer 0"):
        experiment.run("neurons-l1", digits, hidden=8, sparsity=0.95, protocol=TINY, progress=trained.append)
    with pytest.raises(ValueError, match="fewer than the 2 layers"):
        experiment.run("neurons-taylor", digits, hidden=[4, 4], sparsity=0.95, protocol=TINY, progress=trained.append)
    with pytest.raises(ValueError, match="removes neurons: layer_sparsity"):
        experiment.run("neurons-l1", digits, hidden=8, layer_sparsity={"0.W": 0.5, "2.W": 0.5}, protocol=TINY)
    with pytest.raises(ValueError, match="method 'neurons-l1' removes the hidden neurons of an MLP: use arch 'mlp' "
                                         "or 'lenet300', not 'lenet5'"):
        experiment.run("neurons-l1", digits, arch="lenet5", sparsity=0.5, protocol=TINY)
    with pytest.raises(ValueError, match="method 'filters-taylor' removes LeNet-5's conv filters: use arch 'lenet5', "
                                         "not 'mlp'"):
        experiment.run("filters-taylor", digits, hidden=8, sparsity=0.5, protocol=TINY)
    assert trained == []
    with pytest.raises(ValueError, match="samples must be an integer >= 1, got 0"):
        methods.REGISTRY["neurons-apoz"](samples=0)


# ---- the command line ----------------------------------------------------------------------------------

TINY_CLI = ["--dataset", "synthetic-digits", "--n-train", "200", "--n-test", "80", "--val-size", "50",
            "--pretrain-epochs", "1", "--steps", "2", "--finetune-max", "1", "--patience", "1", "--batch-size", "32"]


@pytest.mark.parametrize("argv, match", [
    (["--method", "neurons-l1", "--arch", "lenet5"], r"method 'neurons-l1' removes the hidden neurons of an MLP: "
                                                     r"use arch 'mlp' or 'lenet300', not 'lenet5' \(a filters-\* method"),
    (["--method", "filters-l1", "--arch", "lenet300"], r"not 'lenet300' \(a neurons-\* method for hidden neurons\)"),
    (["--method", "neurons-apoz", "--hidden", "10", "--sparsity", "0.99"], "would remove all 10 units of layer 0"),
    (["--method", "neurons-l2", "--layer-sparsity", "0.W=0.5,2.W=0.5"], "removes neurons: layer_sparsity"),
])
def test_the_command_line_refuses_clearly(argv, match, tmp_path, capsys, isolated_data):
    assert cli.main(["train", *argv, "--out", str(tmp_path), *TINY_CLI]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pynncomp: error: ") and len(err.strip().splitlines()) == 1
    assert re.search(match, err), err


def test_the_command_line_trains_and_saves_the_small_net(tmp_path, capsys, isolated_data):
    assert cli.main(["train", "--method", "neurons-l1", "--hidden", "20", "--sparsity", "0.5", "--out", str(tmp_path),
                     *TINY_CLI]) == 0
    out = capsys.readouterr().out
    assert "target 50 % of the neurons removed" in out and "% of the neurons removed" in out
    assert "10 of 20 neurons removed (50.00 %), 7,940 of 15,880 weights kept (50.00 % removed)" in out
    (model_file,) = tmp_path.glob("*.npz")
    assert io.load_model(model_file).layers[0].params["W"].shape == (784, 10)
