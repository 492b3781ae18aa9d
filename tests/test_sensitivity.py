"""Sensitivity analysis: one layer pruned at a time, the model left as it was."""
import numpy as np
import pytest

from pynncomp import models
from pynncomp.compress import kept_count, magnitude_saliency, prune
from pynncomp.compress.sensitivity import sensitivity, sensitivity_table


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 784)).astype(np.float32)
    model = models.build("mlp", 20, seed=0)
    y = model.predict(X)  # the unpruned model is exactly right
    return model, X, y


def _state(model):
    return [({k: v.copy() for k, v in layer.params.items()}, {k: v.copy() for k, v in layer.masks.items()})
            for layer in model.layers]


def test_each_cell_is_the_accuracy_with_that_layer_alone_pruned(problem):
    model, X, y = problem
    before = _state(model)
    result = sensitivity(model, X, y, [0.0, 0.5, 0.95])
    assert result["baseline"] == 1.0
    labels = list(result["layers"])
    assert labels == ["0.W (Dense 784x20)", "2.W (Dense 20x10)"]
    for label, (index, n) in zip(labels, [(0, 784 * 20), (2, 200)]):
        assert result["layers"][label]["accuracy"][0] == 1.0
        for sparsity, measured in zip([0.5, 0.95], result["layers"][label]["accuracy"][1:]):
            twin = models.build("mlp", 20, seed=0)
            layer = twin.layers[index]
            saliency = np.abs(layer.params["W"])
            order = np.lexsort((np.arange(saliency.size), saliency.ravel()))
            keep = np.ones(saliency.size, dtype=bool)
            keep[order[:n - kept_count(sparsity, n)]] = False
            layer.set_mask("W", keep.reshape(saliency.shape))
            assert measured == twin.accuracy(X, y)
        assert result["layers"][label]["accuracy"][2] < 1.0
    after = _state(model)
    for (p0, m0), (p1, m1) in zip(before, after):
        for k in p0:
            np.testing.assert_array_equal(p0[k], p1[k])
        assert m0.keys() == m1.keys()


def test_an_already_pruned_layer_gives_none_below_its_sparsity(problem):
    model, X, y = problem
    prune(model, magnitude_saliency(model), 0.6, scope="layer")
    masks = [layer.masks["W"].copy() for layer in model.layers if "W" in layer.params]
    result = sensitivity(model, X, y, [0.3, 0.6, 0.9])
    for entry in result["layers"].values():
        assert entry["accuracy"][0] is None and entry["accuracy"][1] == result["baseline"]
    for layer, mask in zip([l for l in model.layers if "W" in l.params], masks):
        np.testing.assert_array_equal(layer.masks["W"], mask)
    assert "| 30 % | — | — |" in sensitivity_table(result)


@pytest.mark.parametrize("sparsities, match", [
    ([], "at least one"),
    ([0.5, 0.3], "strictly increasing"),
    ([0.5, 0.5], "strictly increasing"),
    ([0.2, 1.0], r"in \[0, 1\)"),
])
def test_bad_sparsities_are_refused(problem, sparsities, match):
    model, X, y = problem
    with pytest.raises(ValueError, match=match):
        sensitivity(model, X, y, sparsities)
