"""The named networks: layer shapes, parameter counts, seeds, refusals."""
import numpy as np
import pytest

from pynncomp import models
from pynncomp.nn import Conv2D, Dense, Dropout, HashedDense


def test_mlp_shapes_and_counts():
    model = models.build("mlp", 100, seed=0)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "ReLU", "Dense"]
    assert model.n_weights == 784 * 100 + 100 * 10
    assert model.n_biases == 110
    assert models.describe("mlp", 100) == "784-100-10"


def test_lenet300_is_han_et_al_size():
    model = models.build("lenet300")
    assert model.n_weights + model.n_biases == 266_610  # Han et al.: "267K"
    assert models.describe("lenet300") == "784-300-100-10"


def test_lenet5_is_han_et_al_size_and_reads_images():
    model = models.build("lenet5", seed=0)
    assert model.n_weights + model.n_biases == 431_080  # Han et al.: "431K"
    assert isinstance(model.layers[0], Conv2D)
    assert models.layout_of("lenet5") == "image"
    x = np.zeros((2, 1, 28, 28), dtype=np.float32)
    assert model.forward(x)[0].shape == (2, 10)


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = models.build("mlp", [20, 10], seed=3), models.build("mlp", [20, 10], seed=3), models.build("mlp", [20, 10], seed=4)
    for la, lb, lc in zip(a.layers, b.layers, c.layers):
        for name in la.params:
            np.testing.assert_array_equal(la.params[name], lb.params[name])
            if name == "W":
                assert not np.array_equal(la.params[name], lc.params[name])


def test_dropout_after_every_hidden_relu():
    model = models.build("mlp", [30, 20], dropout=0.5)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense"]
    assert all(layer.p == 0.5 for layer in model.layers if isinstance(layer, Dropout))


def test_hashed_mlp_has_the_buckets_asked_and_a_hash_per_layer():
    model = models.hashed_mlp(50, [1000, 30])
    hashed = [layer for layer in model.layers if isinstance(layer, HashedDense)]
    assert [layer.K for layer in hashed] == [1000, 30]
    assert hashed[0].hash_seed != hashed[1].hash_seed
    assert model.n_kept_weights == 1030


@pytest.mark.parametrize("call, match", [
    (lambda: models.build("resnet"), "arch must be one of"),
    (lambda: models.build("mlp"), "needs hidden"),
    (lambda: models.build("mlp", 0), "hidden must be an integer >= 1"),
    (lambda: models.build("mlp", []), "at least one layer size"),
    (lambda: models.build("lenet300", 100), "leave hidden unset"),
    (lambda: models.build("mlp", 10, dropout=1.0), r"dropout must be in \[0, 1\)"),
    (lambda: models.hashed_mlp(10, [5]), "one K per dense layer"),
])
def test_bad_arguments_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dense_shapes():
    assert models.dense_shapes("mlp", 100) == [(784, 100), (100, 10)]
    assert models.dense_shapes("lenet5") == [(800, 500), (500, 10)]
    assert all(isinstance(layer, Dense) for layer in models.build("lenet300").layers[::2])
