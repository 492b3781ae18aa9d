"""Model files: exact round trips, CSR with minimal index dtypes, sizes, bad files."""
import zipfile

import numpy as np
import pytest

from pynncomp.compress import magnitude_saliency, matched_hashed_buckets, prune
from pynncomp.io import index_dtype, load_metadata, load_model, save_model, storage_report
from pynncomp.nn import (Conv2D, Dense, Dropout, Flatten, HashedDense, MaxPool2D, ReLU, Sequential,
                         SparseDense)


def mlp(hidden=100, seed=0):
    return Sequential([Dense(784, hidden, seed=seed), ReLU(), Dropout(0.2), Dense(hidden, 10, seed=seed + 1)])


def pruned_mlp(S, hidden=100):
    model = mlp(hidden)
    for layer in (model.layers[0], model.layers[3]):
        layer.params["b"][...] = np.random.default_rng(1).normal(size=layer.params["b"].shape)
    prune(model, magnitude_saliency(model), S)
    return model


def convnet():
    model = Sequential([Conv2D(1, 4, 5, stride=2, padding=1, seed=0), ReLU(), MaxPool2D(2), Flatten(),
                        Dense(4 * 2 * 2, 10, seed=1)])
    prune(model, magnitude_saliency(model), 0.6)
    return model


def hashed_mlp(S=0.9):
    K0, K1 = matched_hashed_buckets([(784, 100), (100, 10)], S)
    return Sequential([HashedDense(784, 100, K=K0, hash_seed=1691, seed=0), ReLU(),
                       HashedDense(100, 10, K=K1, hash_seed=1692, seed=1)])


@pytest.fixture
def images():
    return np.random.default_rng(0).random((32, 784), dtype=np.float32)


def logits(model, x):
    return model.forward(x)[0]


@pytest.mark.parametrize("make, shape", [(lambda: mlp(), (784,)), (lambda: pruned_mlp(0.9), (784,)),
                                         (convnet, (1, 12, 12)), (hashed_mlp, (784,))])
def test_round_trip_predicts_bit_for_bit(tmp_path, make, shape):
    model = make()
    x = np.random.default_rng(2).random((16,) + shape, dtype=np.float32)
    save_model(tmp_path / "m.npz", model, metadata={"method": "test"})
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(logits(loaded, x), logits(model, x))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    for (i, layer, name), (_, twin, _) in zip(model.parameters(), loaded.parameters()):
        np.testing.assert_array_equal(twin.params[name], layer.params[name])
        assert twin.params[name].dtype == layer.params[name].dtype
        if name in layer.masks:
            np.testing.assert_array_equal(twin.masks[name], layer.masks[name])
        else:
            assert name not in twin.masks
    assert load_metadata(tmp_path / "m.npz") == {"method": "test"}


def test_masked_layers_are_csr_with_minimal_index_dtypes(tmp_path):
    save_model(tmp_path / "m.npz", pruned_mlp(0.9))
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        names = set(npz.files)
        assert "layer0.W" not in names and "layer3.W" not in names
        nnz0 = npz["layer0.W.data"].size
        assert npz["layer0.W.indices"].dtype == np.uint8      # columns < 100
        assert npz["layer0.W.indptr"].dtype == index_dtype(nnz0) == np.uint16
        assert npz["layer3.W.indices"].dtype == np.uint8
        assert npz["layer0.W.data"].dtype == np.float32
    assert index_dtype(255) == np.uint8 and index_dtype(256) == np.uint16
    assert index_dtype(65536) == np.uint32


def test_hashed_file_holds_real_weights_and_no_index_arrays(tmp_path):
    model = hashed_mlp()
    save_model(tmp_path / "h.npz", model)
    with np.load(tmp_path / "h.npz", allow_pickle=False) as npz:
        layer_arrays = sorted(name for name in npz.files if name.startswith("layer"))
        assert layer_arrays == ["layer0.b", "layer0.w", "layer2.b", "layer2.w"]
        assert npz["layer0.w"].size + npz["layer2.w"].size == round(0.1 * 79400)
    assert storage_report(tmp_path / "h.npz", model)["ratio"] < 0.12  # 4 bytes per real weight + biases


def test_pruned_file_is_smaller_than_dense_float32(tmp_path):
    save_model(tmp_path / "d.npz", mlp())
    dense_report = storage_report(tmp_path / "d.npz", mlp())
    assert dense_report["ratio"] == pytest.approx(1.0, abs=0.02)
    for S, most in ((0.9, 0.16), (0.99, 0.04)):
        model = pruned_mlp(S)
        save_model(tmp_path / "p.npz", model)
        report = storage_report(tmp_path / "p.npz", model)
        # CSR: 4 bytes data + 1 byte uint8 column per kept weight, plus biases and row pointers
        assert report["ratio"] < most
        assert report["file_bytes"] > 5 * model.n_kept_weights


def test_sparse_load_gives_sparse_layers_with_equal_predictions(tmp_path, images):
    model = pruned_mlp(0.95)
    save_model(tmp_path / "m.npz", model)
    sparse = load_model(tmp_path / "m.npz", sparse=True)
    assert isinstance(sparse.layers[0], SparseDense) and isinstance(sparse.layers[3], SparseDense)
    assert sparse.layers[0].nnz + sparse.layers[3].nnz == model.n_kept_weights
    np.testing.assert_allclose(logits(sparse, images), logits(model, images), rtol=1e-5, atol=1e-5)
    save_model(tmp_path / "s.npz", sparse)
    np.testing.assert_array_equal(logits(load_model(tmp_path / "s.npz"), images), logits(sparse, images))


def test_all_kept_mask_is_stored_dense_and_restored(tmp_path, images):
    model = mlp()
    prune(model, magnitude_saliency(model), 0.0)
    save_model(tmp_path / "m.npz", model)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.layers[0].masks["W"].all()
    np.testing.assert_array_equal(logits(loaded, images), logits(model, images))


def test_bad_files_raise_value_error_naming_them(tmp_path):
    missing = tmp_path / "missing.npz"
    with pytest.raises(ValueError, match="missing.npz"):
        load_model(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="garbage.npz"):
        load_model(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*not a pynncomp"):
        load_model(other)
    truncated = tmp_path / "truncated.npz"
    save_model(truncated, pruned_mlp(0.9))
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(ValueError, match="truncated.npz"):
        load_model(truncated)
    incomplete = tmp_path / "incomplete.npz"
    save_model(incomplete, mlp())
    with zipfile.ZipFile(incomplete) as archive:
        kept = {name: archive.read(name) for name in archive.namelist() if name != "layer3.b.npy"}
    with zipfile.ZipFile(incomplete, "w") as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="incomplete.npz"):
        load_model(incomplete)


def test_unsupported_layer_and_bad_metadata_are_refused(tmp_path):
    class Odd(ReLU):
        pass
    with pytest.raises(TypeError, match="Odd"):
        save_model(tmp_path / "x.npz", Sequential([Dense(2, 2), Odd()]))
    with pytest.raises(ValueError, match="metadata"):
        save_model(tmp_path / "x.npz", mlp(), metadata={"f": object()})
    assert not (tmp_path / "x.npz").exists()
