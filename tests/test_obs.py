"""Optimal Brain Surgeon, whole-net and layer-wise (docs/methods.md#obs).

What is checked, against what:

(a) on a linear least-squares model the loss is exactly quadratic, so OBS's
    predicted increase must equal the actual one and δw the constrained
    least-squares solution (``np.linalg.lstsq`` on the weights kept), to
    rounding: ``EXACT_RTOL`` = 1e-9;
(b) the H⁻¹ recursion from (1/α)·I equals ``np.linalg.inv`` of the same
    damped H;
(c) OBS's order and saliencies equal a brute-force greedy that re-solves
    the least-squares problem for every candidate weight (no shared code),
    and the grouped H⁻¹ updates equal OBS's loop as written;
(d) on a small trained net, one-shot OBS loses no more loss than OBD;
(e) L-OBS: a smaller reconstruction error than magnitude pruning, and every
    unit's (and every conv filter's) weights the brute-force solve;
(f) exact sparsity, masks, pruned weights exactly 0, in both scopes and in
    a run; bad inputs refused by name;
(g) ``finetune_max = 0`` trains no epoch after the last step.
"""
import copy

import numpy as np
import pytest

from pynncomp import data, experiment, methods
from pynncomp.compress import kept_count, lobs_prune, magnitude_saliency, obs_prune, prune
from pynncomp.compress.lobs import refit_kept
from pynncomp.compress.obs import (greedy_order, joint_update, obs_saliency, obs_update, outer_product_inverse,
                                   removal_keys)
from pynncomp.methods.obs import LOBS, OBS
from pynncomp.nn import SGD, Conv2D, Dense, Flatten, HashedDense, ReLU, Sequential, obd_saliency
from pynncomp.train import Protocol

EXACT_RTOL = 1e-9  # the same least-squares minimum by two routes: rounding of condition-10² solves
TINY = Protocol(pretrain_epochs=1, steps=3, prune_every=1, finetune_max=2, patience=1, batch_size=32)


@pytest.fixture(scope="module")
def digits():
    return data.load("synthetic-digits", n_train=600, n_test=200, val_size=100, seed=0)


def least_squares(n=80, d=8, seed=0):
    """Inputs of unequal scales, two of them correlated, and their least-squares weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.3, 2.0, d)
    X[:, 1] += 0.8 * X[:, 0]
    targets = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    return X, targets, np.linalg.lstsq(X, targets, rcond=None)[0]


def mean_squared(X, targets, w):
    """E(w) = (1/2n)·‖Xw − t‖², whose Hessian is XᵀX/n."""
    return 0.5 * np.mean((X @ w - targets) ** 2)


def refit(X, targets, kept):
    """The least-squares weights when only the inputs ``kept`` may be used (the others 0)."""
    w = np.zeros(X.shape[1])
    if kept.any():
        w[kept] = np.linalg.lstsq(X[:, kept], targets, rcond=None)[0]
    return w


# ---- (a) exact on a quadratic ------------------------------------------------------

def test_on_a_linear_model_the_predicted_increase_is_the_actual_one_and_the_update_the_refit():
    X, targets, w = least_squares()
    hinv = np.linalg.inv(X.T @ X / len(X))
    base = mean_squared(X, targets, w)
    saliency = obs_saliency(w, np.diag(hinv))
    for q in range(len(w)):
        delta = obs_update(w[q], hinv[:, q], hinv[q, q])
        assert delta[q] == pytest.approx(-w[q], rel=1e-12)
        actual = mean_squared(X, targets, w + delta) - base
        assert actual == pytest.approx(saliency[q], rel=EXACT_RTOL)
        kept = np.arange(len(w)) != q
        np.testing.assert_allclose((w + delta)[kept], refit(X, targets, kept)[kept], rtol=EXACT_RTOL, atol=1e-12)


def test_removing_several_weights_ends_at_the_constrained_least_squares_solution():
    X, targets, w = least_squares(d=10, seed=1)
    hinv = np.linalg.inv(X.T @ X / len(X))
    base = mean_squared(X, targets, w)
    order, saliency = greedy_order(hinv[None], w[None])
    for n_removed in range(1, len(w)):
        removed = np.zeros(len(w), dtype=bool)
        removed[order[0, :n_removed]] = True
        delta, predicted = joint_update(hinv, w, removed)
        assert np.all((w + delta)[removed] == 0)
        np.testing.assert_allclose(w + delta, refit(X, targets, ~removed), rtol=EXACT_RTOL, atol=1e-12)
        actual = mean_squared(X, targets, w + delta) - base
        # one at a time, each step's saliency is that step's increase: they add up to the joint one
        assert actual == pytest.approx(predicted, rel=EXACT_RTOL)
        assert saliency[0, :n_removed].sum() == pytest.approx(actual, rel=EXACT_RTOL)
        H = X.T @ X / len(X)
        np.testing.assert_allclose(refit_kept(H, w, ~removed, removed), w + delta, rtol=EXACT_RTOL, atol=1e-12)


# ---- (b) the recursion -------------------------------------------------------------------

@pytest.mark.parametrize("n_rows", [200, 12])
def test_the_recursive_inverse_equals_the_inverse_of_the_damped_hessian(n_rows):
    rng = np.random.default_rng(2)
    rows = rng.standard_normal((n_rows, 30)) * rng.uniform(0.1, 1.0, 30) / np.sqrt(n_rows)
    alpha = 1e-2
    expected = np.linalg.inv(alpha * np.eye(30) + rows.T @ rows)
    for block in (1, 5, 64):  # 1: Hassibi & Stork's rank-one steps as written
        hinv = outer_product_inverse(rows, alpha, block=block)
        assert np.abs(hinv - expected).max() <= 1e-10 * np.abs(expected).max()
        assert np.array_equal(hinv, hinv.T)


# ---- (c) the greedy, by brute force ------------------------------------------------------

def brute_force_greedy(X, w):
    """Remove, one at a time, the weight whose removal costs least after re-solving the rest.

    The cost is E = (1/2n)·‖X ŵ − X w‖², ŵ the least-squares fit of X w with
    the weights left; written with ``np.linalg.lstsq`` only.
    """
    target = X @ w
    kept = np.ones(len(w), dtype=bool)
    error = 0.0
    order, increases = [], []
    while kept.any():
        costs = {}
        for q in np.flatnonzero(kept):
            trial = kept.copy()
            trial[q] = False
            costs[q] = mean_squared(X, target, refit(X, target, trial))
        q = min(costs, key=costs.get)
        order.append(q)
        increases.append(costs[q] - error)
        error = costs[q]
        kept[q] = False
    return np.array(order), np.array(increases)


def test_the_order_and_saliencies_are_those_of_a_brute_force_greedy():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 7)) * rng.uniform(0.3, 2.0, 7)
    X[:, 2] += X[:, 5]
    W = rng.standard_normal((7, 3))
    hinv = np.linalg.inv(X.T @ X / len(X))
    order, saliency = greedy_order(np.broadcast_to(hinv, (3, 7, 7)), W.T, block=2)
    for unit in range(3):
        expected_order, expected_increase = brute_force_greedy(X, W[:, unit])
        assert order[unit].tolist() == expected_order.tolist()
        np.testing.assert_allclose(saliency[unit], expected_increase, rtol=1e-8)
        # the first step ranks every weight as removing it and re-solving does
        first = obs_saliency(W[:, unit], np.diag(hinv))
        kept_all = np.ones(7, dtype=bool)
        by_refit = [mean_squared(X, X @ W[:, unit], refit(X, X @ W[:, unit], kept_all & (np.arange(7) != q)))
                    for q in range(7)]
        assert np.argsort(first).tolist() == np.argsort(by_refit).tolist()


def obs_as_written(hinv, w):
    """OBS one weight at a time, H⁻¹ updated in full after each removal (docs/methods.md#obs-update)."""
    hinv, w = hinv.copy(), w.copy()
    left = np.ones(len(w), dtype=bool)
    order, saliency = [], []
    for _ in range(len(w)):
        L = np.where(left, w**2 / (2 * np.where(left, np.diag(hinv), 1.0)), np.inf)
        q = int(np.argmin(L))
        column = hinv[:, q].copy()
        order.append(q)
        saliency.append(L[q])
        w -= w[q] / column[q] * column
        w[q] = 0.0
        hinv -= np.outer(column, column) / column[q]
        left[q] = False
    return np.array(order), np.array(saliency)


@pytest.mark.parametrize("block", [1, 3, 64])
def test_the_grouped_updates_are_the_loop_as_written(block):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((120, 40)) * rng.uniform(0.2, 2.0, 40)
    hinv = np.linalg.inv(X.T @ X / 120 + 0.01 * np.eye(40))
    W = rng.standard_normal((40, 4))
    order, saliency = greedy_order(np.broadcast_to(hinv, (4, 40, 40)), W.T, block=block)
    for unit in range(4):
        expected_order, expected_saliency = obs_as_written(hinv, W[:, unit])
        assert order[unit].tolist() == expected_order.tolist()
        np.testing.assert_allclose(saliency[unit], expected_saliency, rtol=1e-9)


def test_padding_lets_units_of_different_sizes_share_a_batch():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 6))
    w = rng.standard_normal(6)
    small = np.linalg.inv(X[:, :4].T @ X[:, :4] / 40)
    padded = np.eye(6)
    padded[:4, :4] = small
    eligible = np.array([[True] * 4 + [False] * 2, [True] * 6])
    full = np.linalg.inv(X.T @ X / 40)
    order, saliency = greedy_order(np.stack([padded, full]), np.stack([np.r_[w[:4], 0, 0], w]), eligible, block=3)
    alone, alone_saliency = greedy_order(small[None], w[None, :4])
    assert order[0, :4].tolist() == alone[0].tolist() and set(order[0, 4:]) == {4, 5}
    np.testing.assert_allclose(saliency[0, :4], alone_saliency[0], rtol=1e-12)
    assert np.all(np.isinf(saliency[0, 4:]))
    assert sorted(order[1]) == list(range(6))


def test_keys_keep_obs_order_where_a_later_removal_is_cheaper():
    """OBS removes weight 2 (L = 5), then 0 (L = 1), then 1 (L = 7): weight 0 must not go first."""
    keys = removal_keys(np.array([[2, 0, 1]]), np.array([[5.0, 1.0, 7.0]]))
    assert keys[0, 2] == 5.0 and keys[0, 0] == np.nextafter(5.0, np.inf) and keys[0, 1] == 7.0
    model = Sequential([Dense(3, 1, dtype=np.float64)])
    prune(model, {(0, "W"): keys.reshape(3, 1)}, 1 / 3)
    # the engine's tie rule (flat index) would take weight 0 first at an equal key
    assert model[0].masks["W"].ravel().tolist() == [True, True, False]


# ---- (d) whole-net OBS against OBD ------------------------------------------------------------

def trained_net(seed):
    """A 6-10-4 net (100 weights) trained on 200 noisy samples, to a loss of 0.08-0.32."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 6))
    y = (X[:, :3] @ rng.standard_normal((3, 4)) + 0.5 * rng.standard_normal((200, 4))).argmax(axis=1)
    model = Sequential([Dense(6, 10, seed=seed, dtype=np.float64), ReLU(),
                        Dense(10, 4, seed=seed + 1, dtype=np.float64)])
    optimizer = SGD(0.1, momentum=0.9)
    for _ in range(300):
        model.loss_and_grads(X, y)
        optimizer.step(model)
    return model, X, y


@pytest.mark.parametrize("sparsity", [0.3, 0.5, 0.7])
def test_obs_loses_no_more_than_obd_on_the_data_it_was_fitted_on(sparsity):
    """One-shot, no retraining, six nets.

    Measured gaps (OBD's loss − OBS's, default damping 0.1): at least 0.018,
    0.068 and 0.100 at S = 0.3, 0.5, 0.7.  With damping 0.01, printed for
    comparison, OBS loses more than OBD on some nets from S = 0.5 on, and
    at S = 0.9 (90 of 100 weights in one step, far outside the quadratic)
    it does on some nets even at 0.1: docs/methods.md#obs-hessian.
    """
    gaps = {0.1: [], 0.01: []}
    for seed in range(6):
        model, X, y = trained_net(seed)
        obd_model = copy.deepcopy(model)
        prune(obd_model, obd_saliency(obd_model, X, y), sparsity)
        for damping, found in gaps.items():
            obs_model = copy.deepcopy(model)
            obs_prune(obs_model, X, sparsity, damping=damping)
            assert obs_model.n_kept_weights == obd_model.n_kept_weights == kept_count(sparsity, 100)
            found.append(obd_model.loss(X, y)[0] - obs_model.loss(X, y)[0])
    print(f"\n[obs] S = {sparsity}: OBD's loss − OBS's over six nets: " + "; ".join(
        f"damping {damping}: min {min(found):.4f}, max {max(found):.4f}" for damping, found in gaps.items()))
    assert min(gaps[0.1]) >= 0


# ---- (e) L-OBS ----------------------------------------------------------------------------------

def one_layer(d=12, n_units=5, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, d)) * rng.uniform(0.2, 2.0, d)
    X[:, 3] += 0.9 * X[:, 0]
    layer = Dense(d, n_units, seed=seed, dtype=np.float64)
    return Sequential([layer]), X


def reconstruction_error(X, W, W_hat):
    return float(np.sum((X @ W - X @ W_hat) ** 2))


def test_lobs_reconstructs_better_than_magnitude_and_each_unit_is_the_exact_refit():
    model, X = one_layer()
    W = model[0].params["W"].copy()
    magnitude = copy.deepcopy(model)
    prune(magnitude, magnitude_saliency(magnitude), 0.6)
    lobs_prune(model, X, 0.6, damping=None)
    keep, keep_mag = model[0].masks["W"], magnitude[0].masks["W"]
    assert keep.sum() == keep_mag.sum() == kept_count(0.6, W.size)
    refitted_mag = np.stack([refit(X, X @ W[:, j], keep_mag[:, j]) for j in range(W.shape[1])], axis=1)
    errors = {"lobs": reconstruction_error(X, W, model[0].params["W"]),
              "magnitude": reconstruction_error(X, W, magnitude[0].params["W"]),
              "magnitude + refit": reconstruction_error(X, W, refitted_mag)}
    print("\n[lobs] ‖XW − XŴ‖² at S = 0.6: " + ", ".join(f"{k} {v:.1f}" for k, v in errors.items()))
    assert errors["lobs"] <= errors["magnitude + refit"] <= errors["magnitude"]
    for j in range(W.shape[1]):
        np.testing.assert_allclose(model[0].params["W"][:, j], refit(X, X @ W[:, j], keep[:, j]),
                                   rtol=EXACT_RTOL, atol=1e-12)


def test_lobs_on_a_conv_layer_refits_every_filter_on_its_patches():
    rng = np.random.default_rng(6)
    conv = Conv2D(2, 3, 3, seed=0, dtype=np.float64)
    model = Sequential([conv, ReLU(), Flatten(), Dense(27, 4, seed=1, dtype=np.float64)])
    x = rng.standard_normal((60, 2, 5, 5))
    W = conv.params["W"].copy()
    lobs_prune(model, x, {(0, "W"): 0.5, (3, "W"): 0.25}, scope="layer", damping=None)
    # every 3 × 3 window of every image, (c, u, v) order: what a filter multiplies
    patches = np.array([x[n, :, i:i + 3, j:j + 3].ravel() for n in range(60) for i in range(3) for j in range(3)])
    keep = conv.masks["W"].reshape(3, -1)
    assert keep.sum() == kept_count(0.5, W.size) and model[3].masks["W"].sum() == kept_count(0.25, 108)
    for f in range(3):
        expected = refit(patches, patches @ W[f].ravel(), keep[f])
        np.testing.assert_allclose(conv.params["W"][f].ravel(), expected, rtol=EXACT_RTOL, atol=1e-12)


# ---- (f) the engine's rules, and bad inputs -------------------------------------------------------

def mlp(seed=0):
    return Sequential([Dense(8, 6, seed=seed, dtype=np.float64), ReLU(), Dense(6, 3, seed=seed + 1,
                                                                              dtype=np.float64)])


@pytest.mark.parametrize("prune_with", ["obs", "lobs"])
@pytest.mark.parametrize("scope", ["global", "layer"])
def test_exact_counts_masks_and_zeros_step_after_step(prune_with, scope):
    model = mlp()
    X = np.random.default_rng(7).standard_normal((40, 8))
    pruner = obs_prune if prune_with == "obs" else lobs_prune
    masks_before = None
    for sparsity in (0.4, 0.7, 0.9):
        report = pruner(model, X, sparsity, scope)
        if scope == "global":
            assert model.n_kept_weights == report["kept"] == kept_count(sparsity, 66)
        else:
            assert [int(model[i].masks["W"].sum()) for i in (0, 2)] == [kept_count(sparsity, 48),
                                                                        kept_count(sparsity, 18)]
        masks = [model[i].masks["W"] for i in (0, 2)]
        for i, mask in zip((0, 2), masks):
            assert not model[i].params["W"][~mask].any()
        if masks_before is not None:
            assert not any((mask & ~before).any() for mask, before in zip(masks, masks_before))
        masks_before = masks
    with pytest.raises(ValueError, match="never revived"):
        pruner(model, X, 0.5, scope)


@pytest.mark.parametrize("prune_with", [obs_prune, lobs_prune])
def test_the_kept_weights_move_and_only_they(prune_with):
    model = mlp()
    X = np.random.default_rng(8).standard_normal((40, 8))
    before = [model[i].params["W"].copy() for i in (0, 2)]
    prune_with(model, X, {(0, "W"): 0.5, (2, "W"): 0.0}, scope="layer")
    keep = model[0].masks["W"]
    assert keep.sum() == 24 and np.all(model[0].params["W"][~keep] == 0)
    moved = (model[0].params["W"] != before[0]) & keep
    lost = (~keep).any(axis=0)
    if prune_with is lobs_prune:
        # a unit that lost weights moves all it keeps; one that lost none stays as it was
        assert np.all(moved[:, lost] == keep[:, lost]) and not moved[:, ~lost].any()
        np.testing.assert_array_equal(model[2].params["W"], before[1])
    else:
        # one H over the whole net: the kept weights of both layers move
        assert moved.sum() == keep.sum() and (model[2].params["W"] != before[1]).all()
    assert model[2].masks["W"].all()


def test_bad_inputs_are_refused_by_name():
    model = mlp()
    X = np.random.default_rng(9).standard_normal((40, 8))
    for pruner in (obs_prune, lobs_prune):
        with pytest.raises(ValueError, match=r"damping must be in \(0, inf\), got 0.0"):
            pruner(model, X, 0.5, damping=0.0)
        with pytest.raises(ValueError, match=r"damping must be in \(0, inf\), got -0.1"):
            pruner(model, X, 0.5, damping=-0.1)
        with pytest.raises(ValueError, match="X must hold at least one sample"):
            pruner(model, X[:0], 0.5)
    with pytest.raises(ValueError, match="damping must be a real number > 0 for whole-net OBS, got None"):
        obs_prune(model, X, 0.5, damping=None)
    X_dead = X.copy()
    X_dead[:, 4] = 0.0  # an input that is 0 on every sample: XᵀX is singular
    with pytest.raises(ValueError, match=r"with damping None, layer 0's reconstruction Hessian .* singular: give "
                                         r"damping > 0"):
        lobs_prune(model, X_dead, 0.5, damping=None)
    assert model.n_kept_weights == 66  # nothing pruned by a refused step
    lobs_prune(model, X_dead, 0.5)  # damped, the dead input's weights are simply the cheapest
    assert not model[0].masks["W"][4].any()
    too_big = Sequential([Dense(784, 10, seed=0)])
    with pytest.raises(ValueError, match=r"7840 kept prunable weights, more than whole-net OBS holds .* lobs"):
        obs_prune(too_big, np.zeros((2, 784), dtype=np.float32), 0.5)
    hashed = Sequential([HashedDense(8, 3, K=6, hash_seed=1, seed=0, dtype=np.float64)])
    with pytest.raises(ValueError, match="only Dense and Conv2D prunable layers .* layer 0 is HashedDense"):
        lobs_prune(hashed, X, 0.5)
    with pytest.raises(ValueError, match=r"samples must be an integer >= 1, got 0"):
        LOBS(samples=0)
    with pytest.raises(ValueError, match=r"damping must be in \(0, inf\)"):
        OBS(damping=0)


def test_obs_is_refused_for_a_net_too_big_and_points_to_lobs(digits):
    with pytest.raises(ValueError, match=r"arch 'mlp' \(784-24-10\) has 19056; use method 'lobs'"):
        experiment.run("obs", digits, hidden=24, sparsity=0.9, protocol=TINY)


@pytest.mark.parametrize("sparsity", [0.5, 0.97])
def test_obs_runs_the_common_protocol_to_the_exact_sparsity(sparsity, digits):
    model, record = experiment.run(OBS(samples=60), digits, hidden=2, sparsity=sparsity, seed=1, protocol=TINY)
    m = 784 * 2 + 2 * 10
    assert model.n_kept_weights == record["weights_kept"] == kept_count(sparsity, m)
    for _, layer, name in model.parameters(prunable_only=True):
        assert not layer.params[name][~layer.masks[name]].any()
    notes = record["method_notes"]
    assert notes["obs_subsample"] == 60 and [s["step"] for s in notes["steps"]] == [1, 2, 3]
    assert all(s["predicted_loss_increase"] >= 0 for s in notes["steps"])


def test_lobs_reports_each_layers_reconstruction_increase(digits):
    _, record = experiment.run(LOBS(samples=100), digits, hidden=8, sparsity=0.8, seed=0, protocol=TINY)
    steps = record["method_notes"]["steps"]
    assert record["method_notes"]["lobs_subsample"] == 100
    assert [sorted(s["reconstruction_increase"]) for s in steps] == [["0.W", "2.W"]] * 3


# ---- (g) no retraining ---------------------------------------------------------------------------------

class LastStepWeights(methods.MagL2):
    """MagL2 that keeps a copy of the weights its last pruning step left."""

    def prune_step(self, model, sparsity, scope, context):
        report = super().prune_step(model, sparsity, scope, context)
        self.weights = [layer.params["W"].copy() for layer in model.layers if "W" in layer.params]
        return report


@pytest.mark.parametrize("protocol", [TINY.replace(finetune_max=0),
                                      TINY.replace(finetune_max=0, schedule="oneshot", steps=1)])
def test_finetune_max_0_trains_no_epoch_after_the_last_step(protocol, digits):
    events = []
    method = LastStepWeights()
    model, record = experiment.run(method, digits, hidden=16, sparsity=0.9, protocol=protocol,
                                   progress=events.append)
    assert events[-1]["event"] == "prune" and events[-1]["epoch"] == protocol.fixed_epochs + 1
    assert record["epochs"] == protocol.fixed_epochs
    assert all(entry["phase"] != "finetune" for entry in record["history"])
    assert record["val_accuracy"] == model.accuracy(digits.X_val, digits.y_val)
    for kept, layer in zip(method.weights, [layer for layer in model.layers if "W" in layer.params]):
        np.testing.assert_array_equal(layer.params["W"], kept)
    assert model.n_kept_weights == kept_count(0.9, 784 * 16 + 16 * 10)


def test_obs_update_takes_plain_python_numbers():
    from pynncomp.compress.obs import obs_update

    np.testing.assert_allclose(obs_update(0.3, np.array([0.5, 0.1]), 0.5), [-0.3, -0.06])
