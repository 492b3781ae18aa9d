"""The pruning engine: exact kept counts, tie rule, no revival, Han's threshold, HashedNet budgets."""
import numpy as np
import pytest

from pynncomp.compress import (
    han_prune,
    hashed_buckets,
    kept_count,
    kept_weight_std,
    layer_normalised_magnitude,
    magnitude_saliency,
    matched_hashed_buckets,
    obd_saliency,
    power_schedule,
    prune,
    random_saliency,
    rescaled_dropout,
)
from pynncomp.nn import L1, L2, SGD, Conv2D, Dense, Flatten, HashedDense, ReLU, Sequential, SparseDense


def mlp(sizes, seed=0):
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(Dense(n_in, n_out, seed=seed + index))
        layers.append(ReLU())
    return Sequential(layers[:-1])


def kept_masks(model):
    return {(i, n): layer.masks[n].copy() for i, layer, n in model.parameters(prunable_only=True)}


def mixed_model():
    dense = Dense(7, 5, seed=3)
    sparse = SparseDense.from_weights(dense.params["W"], dense.params["b"],
                                      np.random.default_rng(1).random((7, 5)) < 0.6)
    return Sequential([Conv2D(1, 3, 3, seed=1), ReLU(), Flatten(), Dense(3 * 4 * 4, 7, seed=2), ReLU(),
                       sparse, ReLU(), HashedDense(5, 4, K=9, seed=4)])


@pytest.mark.parametrize("sizes", [(13, 7, 3), (784, 100, 10), (5, 1), (11, 9, 7, 2)])
@pytest.mark.parametrize("S", [0.0, 0.1, 0.5, 0.9, 0.97, 0.999])
@pytest.mark.parametrize("kind", ["magnitude", "random"])
def test_global_prune_keeps_exactly_round_1_minus_S_m(sizes, S, kind):
    model = mlp(sizes)
    saliency = magnitude_saliency(model) if kind == "magnitude" else random_saliency(model, seed=7)
    report = prune(model, saliency, S)
    m = sum(a * b for a, b in zip(sizes, sizes[1:]))
    assert model.n_kept_weights == report["kept"] == round((1 - S) * m)
    assert report["total"] == m
    assert report["achieved_sparsity"] == pytest.approx(1 - round((1 - S) * m) / m)


@pytest.mark.parametrize("S", [0.0, 0.33, 0.9, 0.999])
def test_layer_scope_keeps_exactly_per_layer(S):
    model = mlp((31, 17, 3))
    report = prune(model, magnitude_saliency(model), S, scope="layer")
    for (index, name), entry in report["layers"].items():
        size = model.layers[index].params[name].size
        assert entry["kept"] == int(model.layers[index].masks[name].sum()) == round((1 - S) * size)


def test_global_prunes_lowest_magnitudes_across_layers():
    model = mlp((4, 3, 2))
    model.layers[0].params["W"][...] = np.arange(12, dtype=np.float32).reshape(4, 3) + 1  # 1..12
    model.layers[2].params["W"][...] = np.array([[0.5, 20], [30, 1.5], [2.5, 40]], np.float32)
    prune(model, magnitude_saliency(model), 0.5)  # keep 9 of 18
    assert model.layers[2].masks["W"].tolist() == [[False, True], [True, False], [False, True]]
    assert model.layers[0].masks["W"].ravel().tolist() == [False] * 6 + [True] * 6


def test_mixed_layer_types_and_pruned_values_are_zero():
    model = mixed_model()
    m = model.n_weights
    prune(model, magnitude_saliency(model), 0.7)
    assert model.n_kept_weights == round(0.3 * m)
    for _, layer, name in model.parameters(prunable_only=True):
        assert np.all(layer.params[name][~layer.masks[name]] == 0)


def test_ties_prune_earlier_layer_then_earlier_entry_first():
    model = mlp((3, 4, 2))
    equal = {key: np.ones_like(s) for key, s in magnitude_saliency(model).items()}
    prune(model, equal, 0.5)  # 20 weights, prune 10: all 12 of layer 0 are first in line
    assert model.layers[0].masks["W"].ravel().tolist() == [False] * 10 + [True] * 2
    assert model.layers[2].masks["W"].all()
    again = mlp((3, 4, 2), seed=5)
    prune(again, {key: np.ones_like(s) for key, s in magnitude_saliency(again).items()}, 0.5)
    for key, mask in kept_masks(model).items():
        np.testing.assert_array_equal(mask, kept_masks(again)[key])


def test_random_saliency_is_deterministic_given_seed():
    model = mlp((9, 6, 3))
    a, b, c = random_saliency(model, 3), random_saliency(model, 3), random_saliency(model, 4)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        assert 0 <= a[key].min() and a[key].max() < 1
    assert any(not np.array_equal(a[key], c[key]) for key in a)


def test_pruned_weights_are_never_revived_by_later_steps():
    model = mlp((20, 10, 4))
    before = None
    for S in power_schedule(0.95, 4, 2):
        # a fresh random saliency each step would revive weights if the engine let it
        prune(model, random_saliency(model, seed=int(S * 1000)), S)
        masks = kept_masks(model)
        if before is not None:
            for key, mask in masks.items():
                assert not np.any(mask & ~before[key])
        before = masks
    assert model.n_kept_weights == round(0.05 * 240)


def test_a_decreasing_target_is_refused_and_changes_nothing():
    model = mlp((10, 5, 2))
    prune(model, magnitude_saliency(model), 0.8)
    masks = kept_masks(model)
    with pytest.raises(ValueError, match=r"sparsity 0\.5 .*current sparsity 0\.8"):
        prune(model, magnitude_saliency(model), 0.5)
    for key, mask in kept_masks(model).items():
        np.testing.assert_array_equal(mask, masks[key])


@pytest.mark.parametrize("bad, error, words", [
    (lambda s: {**s, (0, "W"): np.full_like(s[(0, "W")], np.nan)}, ValueError, "NaN"),
    (lambda s: {(2, "W"): s[(2, "W")]}, ValueError, "no entry for layer 0"),
    (lambda s: {**s, (0, "W"): s[(0, "W")].T}, ValueError, "shape"),
    (lambda s: list(s.values()), TypeError, "dict"),
])
def test_bad_saliency_is_refused(bad, error, words):
    model = mlp((4, 3, 2))
    with pytest.raises(error, match=words):
        prune(model, bad(magnitude_saliency(model)), 0.5)


def test_bad_sparsity_and_scope_are_refused():
    model = mlp((4, 3, 2))
    with pytest.raises(ValueError, match="sparsity"):
        prune(model, magnitude_saliency(model), 1.0)
    with pytest.raises(ValueError, match="scope"):
        prune(model, magnitude_saliency(model), 0.5, scope="row")


@pytest.mark.parametrize("penalty", [None, L1(1e-2), L2(1e-2)])
def test_pruned_weights_stay_zero_through_sgd_and_the_next_step(penalty):
    rng = np.random.default_rng(0)
    model = mlp((8, 6, 3))
    x, y = rng.normal(size=(16, 8)).astype(np.float32), rng.integers(0, 3, 16)
    optimiser = SGD(0.1, momentum=0.9, penalty=penalty)
    for S in (0.5, 0.8):
        prune(model, magnitude_saliency(model), S)
        for _ in range(5):
            model.loss_and_grads(x, y)
            optimiser.step(model)
            for _, layer, name in model.parameters(prunable_only=True):
                assert np.all(layer.params[name][~layer.masks[name]] == 0)
    assert model.n_kept_weights == round(0.2 * 66)


def test_obd_and_magnitude_prune_different_weights_where_curvature_matters():
    # Input 0 is large (high curvature x²), input 1 is ~0: OBD keeps the small
    # weight on input 0 and drops the large one on input 1; magnitude does the opposite.
    rng = np.random.default_rng(0)
    model = Sequential([Dense(2, 2, seed=0, dtype=np.float64)])
    model.layers[0].params["W"][...] = [[0.1, -0.1], [1.0, -1.0]]
    x = np.column_stack([rng.normal(0, 10, 64), rng.normal(0, 1e-3, 64)])
    y = rng.integers(0, 2, 64)
    obd = obd_saliency(model, x, y)
    by_magnitude, by_obd = mlp((2, 2)), model
    by_magnitude.layers[0].params["W"][...] = [[0.1, -0.1], [1.0, -1.0]]
    prune(by_magnitude, magnitude_saliency(by_magnitude), 0.5)
    prune(by_obd, obd, 0.5)
    assert by_magnitude.layers[0].masks["W"].tolist() == [[False, False], [True, True]]
    assert by_obd.layers[0].masks["W"].tolist() == [[True, True], [False, False]]


def test_han_prune_thresholds_each_layer_by_its_own_std():
    model = mlp((50, 40, 30))
    W0, W1 = (model.layers[i].params["W"].astype(np.float64) for i in (0, 2))
    W1 *= 0  # make the second layer's scale very different
    model.layers[2].params["W"][...] = np.linspace(-3, 3, W1.size).reshape(W1.shape)
    W1 = model.layers[2].params["W"].astype(np.float64)
    kept = han_prune(model, 0.7)
    for index, W in ((0, W0), (2, W1)):
        expected = np.abs(W) >= 0.7 * W.std()
        np.testing.assert_array_equal(model.layers[index].masks["W"], expected)
        assert kept[(index, "W")] == pytest.approx(expected.mean())
    # second call: sigma of the kept weights only, so the threshold grows
    mask0 = model.layers[0].masks["W"].copy()
    sigma_kept = W0[mask0].std()
    kept = han_prune(model, 0.7)
    np.testing.assert_array_equal(model.layers[0].masks["W"], mask0 & (np.abs(W0) >= 0.7 * sigma_kept))
    assert sigma_kept > W0.std() and kept[(0, "W")] < mask0.mean()


def test_han_prune_with_quality_zero_prunes_nothing():
    model = mlp((6, 4, 2))
    assert han_prune(model, 0.0) == {(0, "W"): 1.0, (2, "W"): 1.0}
    with pytest.raises(ValueError, match="quality"):
        han_prune(model, -1)


def test_kept_weight_std_is_the_population_std_of_the_kept_weights():
    w = np.array([[1.0, -2.0, 0.0], [4.0, 0.5, -3.0]], dtype=np.float32)
    mask = np.array([[True, True, False], [True, False, True]])
    kept = [1.0, -2.0, 4.0, -3.0]
    mean = sum(kept) / 4
    assert kept_weight_std(w, mask) == pytest.approx((sum((x - mean) ** 2 for x in kept) / 4) ** 0.5, rel=1e-15)
    assert kept_weight_std(w) == pytest.approx(np.std(w.astype(np.float64)), rel=1e-15)
    assert kept_weight_std(w, np.zeros_like(mask)) == 0.0
    assert kept_weight_std(w, w == 4.0) == 0.0


def scaled_mlp(seed=0):
    """Three layers whose weights differ in scale by a factor of 100: plain magnitude would strip layer 0 first."""
    model = mlp((30, 20, 15, 5), seed=seed)
    model.layers[2].params["W"] *= 10.0
    model.layers[4].params["W"] *= 100.0
    return model


@pytest.mark.parametrize("sparsities", [[0.5], [0.3, 0.7], [0.6, 0.8, 0.9]])
def test_one_q_over_normalised_magnitudes_is_hans_threshold_per_layer(sparsities):
    """Ranking |w|/σ_l globally to an exact count prunes what han_prune's q·σ_l prunes, step after step.

    docs/methods.md#han-exact: with q between the largest s pruned and the
    smallest s kept, the literal per-layer rule |w| >= q·σ_l, σ_l of the
    weights kept before the step, keeps exactly what the ranking kept.
    """
    ranked, literal = scaled_mlp(), scaled_mlp()
    for S in sparsities:
        before = {(i, n): (layer.params[n].astype(np.float64), dict(layer.masks).get(n))
                  for i, layer, n in literal.parameters(prunable_only=True)}
        saliency = layer_normalised_magnitude(ranked)
        prune(ranked, saliency, S)
        pruned = np.concatenate([s[~ranked.layers[i].masks[n]] for (i, n), s in saliency.items()])
        kept = np.concatenate([s[ranked.layers[i].masks[n]] for (i, n), s in saliency.items()])
        assert pruned.max() < kept.min()
        q = (pruned.max() + kept.min()) / 2
        han_prune(literal, q)
        for (i, n), keep in kept_masks(ranked).items():
            np.testing.assert_array_equal(literal.layers[i].masks[n], keep)
            w, kept_before = before[(i, n)]
            kept_before = np.ones(w.shape, dtype=bool) if kept_before is None else kept_before
            values = w[kept_before]
            sigma = np.sqrt(np.mean((values - values.mean()) ** 2))
            assert np.abs(w[keep]).min() >= q * sigma > np.abs(w[kept_before & ~keep]).max()
    # each layer lost weights: one q, thresholds of each layer's own scale
    assert all(0 < keep.mean() < 1 for keep in kept_masks(ranked).values())


def test_a_layer_of_zero_sigma_is_below_no_threshold():
    """σ_l = 0 (here all kept weights exactly 0.25): no |w| < q·0, so s = +inf and han_prune keeps the layer."""
    model = mlp((8, 6, 4))
    model.layers[2].params["W"][...] = 0.25
    saliency = layer_normalised_magnitude(model)
    assert np.isposinf(saliency[(2, "W")]).all() and np.isfinite(saliency[(0, "W")]).all()
    kept = han_prune(model, 5.0)
    assert kept[(2, "W")] == 1.0 and kept[(0, "W")] < 1.0
    fresh = mlp((8, 6, 4))
    fresh.layers[2].params["W"][...] = 0.25
    prune(fresh, layer_normalised_magnitude(fresh), 0.6)  # 0.6·72 < 48 weights of layer 0
    assert fresh.layers[2].masks["W"].all()


def test_rescaled_dropout():
    assert rescaled_dropout(0.5, 784 * 300, 784 * 300) == 0.5
    assert rescaled_dropout(0.5, 100, 25) == pytest.approx(0.25)
    assert rescaled_dropout(0.4, 100, 0) == 0.0
    with pytest.raises(ValueError, match="connections_now"):
        rescaled_dropout(0.5, 100, 101)
    with pytest.raises(ValueError, match="p_original"):
        rescaled_dropout(1.0, 100, 10)
    with pytest.raises(TypeError, match="connections_initial"):
        rescaled_dropout(0.5, 100.0, 10)


@pytest.mark.parametrize("shapes", [[(784, 100), (100, 10)], [(784, 30), (30, 10)],
                                    [(784, 300), (300, 100), (100, 10)], [(7, 3), (3, 1), (5, 5)]])
@pytest.mark.parametrize("S", [0.0, 0.5, 0.9, 0.97, 0.99, 0.998])
def test_hashed_buckets_total_equals_the_pruned_kept_count(shapes, S):
    m = sum(a * b for a, b in shapes)
    if kept_count(S, m) < len(shapes):
        pytest.skip("fewer weights than layers")
    buckets = matched_hashed_buckets(shapes, S)
    assert sum(buckets) == kept_count(S, m)
    for K, (a, b) in zip(buckets, shapes):
        assert 1 <= K <= a * b
        assert abs(K - kept_count(S, m) * a * b / m) < 1 + 1e-9  # proportional up to rounding
    net = [HashedDense(a, b, K=K) for K, (a, b) in zip(buckets, shapes)]
    assert Sequential(net).n_weights == kept_count(S, m)


def test_hashed_buckets_largest_remainder_and_minimum_one():
    assert hashed_buckets([(1, 1), (1, 1), (1, 1)], 3) == [1, 1, 1]
    assert hashed_buckets([(10, 10), (1, 1)], 3) == [2, 1]   # quota 2.97 / 0.03 -> 3 / 0, then 1 from the largest
    assert hashed_buckets([(1, 3), (1, 3)], 3) == [2, 1]    # equal remainders: earlier layer first
    with pytest.raises(ValueError, match="n_real"):
        hashed_buckets([(2, 2), (2, 2)], 1)
