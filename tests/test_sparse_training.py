"""The sparse training path: a pruned layer trains as CSR and follows the masked dense trajectory.

After a pruning step, :func:`pynncomp.experiment.run` swaps each dense layer
kept below its measured threshold for a :class:`~pynncomp.nn.SparseDense`
(:func:`pynncomp.train.train_sparse`) and swaps it back before the next
step (:func:`pynncomp.train.train_masked`), so the methods only ever see
masks.  The two paths do the same arithmetic on the kept weights; they
differ only in the order of the sums inside the products (BLAS against
the sparse C kernels), so they agree to rounding, which these tests bound.
"""
import copy

import numpy as np
import pytest

from pynncomp import data, experiment, io, models
from pynncomp.compress import magnitude_saliency, obd_saliency, prune
from pynncomp.nn import L1, L2, SGD, Dense, SparseDense
from pynncomp.train import (SPARSE_BELOW, Protocol, pruned_fraction, sparse_threshold, train_epoch, train_masked,
                            train_sparse)



def always(n_in, n_out, first, batch):
    return 1.0


@pytest.fixture(scope="module")
def digits():
    return data.load("synthetic-digits", n_train=2000, n_test=300, val_size=200, seed=0)


def pruned_net(arch, hidden, dtype, digits, penalty):
    """A net trained one epoch, pruned to 90 % by magnitude, with its optimiser (velocities nonzero)."""
    model = models.build(arch, hidden, seed=0)
    model.astype(dtype)
    optimizer = SGD(0.01, 0.9, penalty)
    train_epoch(model, optimizer, digits.X_train.astype(dtype), digits.y_train, 16, np.random.default_rng(1))
    prune(model, magnitude_saliency(model), 0.9)
    return model, optimizer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("arch, hidden, penalty", [("mlp", 100, L2(3e-4)), ("lenet300", None, L1(5e-5))])
def test_two_epochs_sparse_equal_two_epochs_masked_to_rounding(arch, hidden, penalty, dtype, digits):
    """Every weight after 2 epochs from the same state, and the test accuracy.

    Tolerance: each of the n steps rounds each weight's update once more or
    less differently (its gradient is a sum taken in another order), an
    error of a few units in the last place of the weight; these add up at
    most linearly, so |masked − sparse| <= n · 4u · max|w| with u the unit
    roundoff of the dtype.  Measured: about 100 times below this bound in
    float32 and 1 000 times in float64.
    """
    model, optimizer = pruned_net(arch, hidden, dtype, digits, penalty)
    masked, masked_opt = copy.deepcopy((model, optimizer))
    sparse, sparse_opt = copy.deepcopy((model, optimizer))
    swapped = train_sparse(sparse, sparse_opt, 16, threshold=always)
    assert swapped == [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
    assert all(type(sparse.layers[i]) is SparseDense for i in swapped)
    X = digits.X_train.astype(dtype)
    for epoch in range(2):
        loss_masked = train_epoch(masked, masked_opt, X, digits.y_train, 16, np.random.default_rng(10 + epoch))
        loss_sparse = train_epoch(sparse, sparse_opt, X, digits.y_train, 16, np.random.default_rng(10 + epoch))
        assert loss_sparse == pytest.approx(loss_masked, rel=1e-5 if dtype == np.float32 else 1e-12)
    train_masked(sparse, sparse_opt)
    steps = 2 * -(-X.shape[0] // 16)
    u = np.finfo(dtype).eps / 2
    for a, b in zip(masked.layers, sparse.layers):
        assert type(a) is type(b)
        for name in a.params:
            bound = steps * 4 * u * float(np.abs(a.params[name]).max())
            assert np.max(np.abs(a.params[name] - b.params[name])) <= bound, name
        for name, mask in a.masks.items():
            np.testing.assert_array_equal(mask, b.masks[name])
            assert not np.any(b.params[name][~mask])  # pruned weights stayed exactly 0
    X_test = digits.X_test.astype(dtype)
    assert masked.accuracy(X_test, digits.y_test) == sparse.accuracy(X_test, digits.y_test)


def test_swapping_there_and_back_keeps_every_weight_and_velocity_bit_for_bit(digits):
    """Weights and biases exactly; velocities exactly at the kept weights, 0 at the pruned ones.

    The masked path zeroes a pruned weight's velocity at its next step
    (v ← (μv − t) ⊙ M), so dropping it when the layer goes sparse changes
    nothing that is computed.
    """
    model, optimizer = pruned_net("lenet300", None, np.float32, digits, L2(3e-4))
    before = copy.deepcopy((model, optimizer))
    train_sparse(model, optimizer, 16, threshold=always)
    sparse_layer = model.layers[0]
    assert np.array_equal(optimizer.velocity[(sparse_layer, "data")],
                          before[1].velocity[(before[0].layers[0], "W")][before[0].layers[0].masks["W"]])
    train_masked(model, optimizer)
    for (old, new) in zip(before[0].layers, model.layers):
        for name in old.params:
            np.testing.assert_array_equal(old.params[name], new.params[name])
            if (old, name) in before[1].velocity:
                keep = old.masks.get(name, True)
                np.testing.assert_array_equal(before[1].velocity[(old, name)] * keep, optimizer.velocity[(new, name)])
    assert len(optimizer.velocity) == len(before[1].velocity)


def test_only_layers_kept_at_or_below_their_measured_threshold_go_sparse():
    model = models.build("mlp", 100, seed=0)  # 784x100 then 100x10
    prune(model, magnitude_saliency(model), 0.85, scope="layer")  # both layers keep 15 %
    assert sparse_threshold(784, 100, True, 16) == SPARSE_BELOW[(784, 100, True, 16)]
    swapped = train_sparse(model, SGD(0.01, 0.9), 16)
    expected = [i for i, (n_in, n_out) in ((0, (784, 100)), (2, (100, 10)))
                if 0.15 <= SPARSE_BELOW[(n_in, n_out, i == 0, 16)]]
    assert swapped == expected
    # a shape that was never measured stays dense, and so does every layer with threshold 0
    assert sparse_threshold(123, 45, False, 16) == 0.0
    other = models.build("mlp", 123, seed=0)
    prune(other, magnitude_saliency(other), 0.99)
    assert train_sparse(other, SGD(0.01, 0.9), 16) == []
    # the nearest measured batch size is used
    assert sparse_threshold(784, 100, True, 100) == SPARSE_BELOW[(784, 100, True, 128)]


def test_pruned_fraction_is_the_same_in_either_form(digits):
    model, optimizer = pruned_net("lenet300", None, np.float32, digits, L2(3e-4))
    masked = pruned_fraction(model)
    train_sparse(model, optimizer, 16, threshold=always)
    assert pruned_fraction(model) == masked == pytest.approx(0.9, abs=1e-6)


def test_obds_curvature_pass_is_the_same_in_either_form(digits):
    """OBD's h at the kept weights, from the masked layers and from the sparse ones (float64)."""
    model, optimizer = pruned_net("lenet300", None, np.float64, digits, L2(3e-4))
    sparse = copy.deepcopy(model)
    train_sparse(sparse, copy.deepcopy(optimizer), 16, threshold=always)
    X, y = digits.X_train[:300].astype(np.float64), digits.y_train[:300]
    h_masked, h_sparse = obd_saliency(model, X, y), obd_saliency(sparse, X, y)
    for index in (0, 2, 4):
        mask = model.layers[index].masks["W"]
        np.testing.assert_allclose(h_sparse[(index, "data")], h_masked[(index, "W")][mask], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("method", ["magl2", "magl1", "obd", "han"])
def test_a_run_on_the_sparse_path_equals_the_masked_run_to_rounding(method, digits, tmp_path):
    """Same numbers of kept weights at every step (re-pruning keeps exact sparsity), same accuracy."""
    protocol = Protocol(pretrain_epochs=1, steps=3, prune_every=1, finetune_max=2, patience=1, obd_samples=100)
    args = dict(arch="lenet300", sparsity=0.97, seed=3, protocol=protocol)
    masked_model, masked = experiment.run(method, digits, sparse_training=False, **args)
    sparse_model, sparse = experiment.run(method, digits, **args)
    assert masked["sparse_layers"] == [[], [], []]
    assert sparse["sparse_layers"][-1], "at 97 % removed the first layer trains sparse"
    assert sparse["weights_kept"] == masked["weights_kept"]
    assert sparse["achieved_sparsity"] == masked["achieved_sparsity"]
    assert sparse["layers"] == masked["layers"]
    assert [h["sparsity"] for h in sparse["history"]] == [h["sparsity"] for h in masked["history"]]
    assert sparse["test_accuracy"] == masked["test_accuracy"]
    # what the run returns and saves is masked dense, as on the masked path
    assert [type(layer) for layer in sparse_model.layers] == [type(layer) for layer in masked_model.layers]
    path = tmp_path / "model.npz"
    io.save_model(path, sparse_model)
    loaded = io.load_model(path)
    assert loaded.n_kept_weights == sparse["weights_kept"]


def test_a_method_that_does_not_prune_never_goes_sparse(digits):
    protocol = Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=1, patience=1)
    _, record = experiment.run("dense", digits, hidden=20, protocol=protocol)
    assert record["sparse_layers"] == []
