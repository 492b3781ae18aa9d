"""Model files: exact round trips, CSR with minimal index dtypes, sizes, bad files, limits.

The catalogue of corrupt and hostile files is tests/test_bad_inputs_model_files.py.
"""
import tracemalloc
import zipfile

import numpy as np
import pytest

from pynncomp.compress import magnitude_saliency, matched_hashed_buckets, prune
from pynncomp.io import (DEFAULT_MAX_MODEL_BYTES, MAX_BYTES_ENV, index_dtype, load_metadata, load_model,
                         save_model, storage_report)
from pynncomp.models import build
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


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    """The tests below set the memory limit themselves; the developer's environment must not."""
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)


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
    with pytest.raises(ValueError, match="missing.npz' does not exist"):
        load_model(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="garbage.npz' is not a pynncomp model file: it is a text file"):
        load_model(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*not a pynncomp"):
        load_model(other)
    truncated = tmp_path / "truncated.npz"
    save_model(truncated, pruned_mlp(0.9))
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(ValueError, match="truncated.npz': it is corrupt or truncated"):
        load_model(truncated)
    incomplete = tmp_path / "incomplete.npz"
    save_model(incomplete, mlp())
    with zipfile.ZipFile(incomplete) as archive:
        kept = {name: archive.read(name) for name in archive.namelist() if name != "layer3.b.npy"}
    with zipfile.ZipFile(incomplete, "w") as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"incomplete.npz': the array layer3\.b of layer 3 \(Dense\) is missing"):
        load_model(incomplete)


def test_unsupported_layer_and_bad_metadata_are_refused(tmp_path):
    class Odd(ReLU):
        pass
    with pytest.raises(TypeError, match="Odd"):
        save_model(tmp_path / "x.npz", Sequential([Dense(2, 2), Odd()]))
    with pytest.raises(ValueError, match="metadata"):
        save_model(tmp_path / "x.npz", mlp(), metadata={"f": object()})
    assert not (tmp_path / "x.npz").exists()


def test_arguments_of_the_loaders_are_type_checked(tmp_path):
    save_model(tmp_path / "m.npz", mlp())
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        load_model(3)
    with pytest.raises(TypeError, match="sparse must be True or False, got str 'yes'"):
        load_model(tmp_path / "m.npz", sparse="yes")
    with pytest.raises(TypeError, match="allow_nonfinite must be True or False, got int 1"):
        load_model(tmp_path / "m.npz", allow_nonfinite=1)
    with pytest.raises(TypeError, match="max_bytes must be None or an integer number of bytes >= 1, got bool"):
        load_model(tmp_path / "m.npz", max_bytes=True)
    with pytest.raises(ValueError, match="max_bytes must be None or an integer number of bytes >= 1, got 0"):
        load_model(tmp_path / "m.npz", max_bytes=0)


@pytest.mark.parametrize("make, index, name, member", [
    (mlp, 0, "W", r"layer0\.W of layer 0 \(Dense\)"),                           # stored in full
    (lambda: pruned_mlp(0.9), 3, "W", r"layer3\.W\.data of layer 3 \(Dense\)"),  # CSR
    (hashed_mlp, 2, "w", r"layer2\.w of layer 2 \(HashedDense\)"),
])
def test_nonfinite_parameters_are_refused_unless_allowed(tmp_path, make, index, name, member):
    model = make()
    values = model.layers[index].params[name]
    kept = np.flatnonzero(model.layers[index].masks.get(name, np.ones(values.shape, dtype=bool)))
    for flat, bad in zip(kept[[0, 1, -1]], (np.nan, np.inf, -np.inf)):
        values[np.unravel_index(flat, values.shape)] = bad
    save_model(tmp_path / "m.npz", model, metadata={"run": "diverged"})
    # the file stores the kept weights only, so they are the ones counted
    with pytest.raises(ValueError, match=rf"m.npz': {member} holds 3 non-finite values \(NaN or inf\) among its "
                                         rf"{kept.size:,}\b.*allow_nonfinite=True"):
        load_model(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz", allow_nonfinite=True)
    assert np.count_nonzero(~np.isfinite(loaded.layers[index].params[name])) == 3
    np.testing.assert_array_equal(loaded.layers[index].params[name], values)
    assert load_metadata(tmp_path / "m.npz") == {"run": "diverged"}


def test_memory_limit_comes_from_max_bytes_then_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(path, pruned_mlp(0.9))
    with pytest.raises(ValueError, match=r"m.npz': layer 0 \(Dense\) 784x100 needs about [\d,]+ bytes .* over the "
                                         r"limit of 100,000 bytes \(97\.7 KiB\) set by max_bytes; if you trust the "
                                         r"file, pass load_model\(\.\.\., max_bytes=N\) or set the environment "
                                         r"variable PYNNCOMP_MAX_MODEL_BYTES"):
        load_model(path, max_bytes=100_000)
    monkeypatch.setenv(MAX_BYTES_ENV, "100000")
    with pytest.raises(ValueError, match=r"limit of 100,000 bytes \(97\.7 KiB\) set by the environment variable "
                                         "PYNNCOMP_MAX_MODEL_BYTES"):
        load_model(path)
    assert load_model(path, max_bytes=DEFAULT_MAX_MODEL_BYTES).layers[0].n_in == 784  # the argument wins
    monkeypatch.setenv(MAX_BYTES_ENV, "4G")
    with pytest.raises(ValueError, match="PYNNCOMP_MAX_MODEL_BYTES must be a whole number of bytes >= 1 .* got '4G'"):
        load_model(path)
    monkeypatch.setenv(MAX_BYTES_ENV, str(2**40))
    assert isinstance(load_model(path), Sequential)


def smallest_loading_limit(path, sparse):
    """The least max_bytes under which ``path`` loads (the load's own estimate), by bisection."""
    low, high = 1, DEFAULT_MAX_MODEL_BYTES
    while low < high:
        middle = (low + high) // 2
        try:
            load_model(path, sparse=sparse, max_bytes=middle)
            high = middle
        except ValueError:
            low = middle + 1
    return low


@pytest.mark.parametrize("make", [mlp, lambda: pruned_mlp(0.9), convnet, hashed_mlp,
                                  lambda: Sequential([ReLU()])], ids=["mlp", "pruned", "conv", "hashed", "relu"])
@pytest.mark.parametrize("sparse", [False, True])
def test_memory_estimate_bounds_what_a_load_really_allocates(tmp_path, make, sparse):
    path = tmp_path / "m.npz"
    save_model(path, make())
    estimate = smallest_loading_limit(path, sparse)
    tracemalloc.start()
    try:
        load_model(path, sparse=sparse)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= estimate


def test_the_papers_networks_load_under_the_default_limit(tmp_path):
    for arch in ("lenet300", "lenet5"):
        model = build(arch)
        prune(model, magnitude_saliency(model), 0.9)
        for name, saved in (("dense", build(arch)), ("pruned", model)):
            path = tmp_path / f"{arch}-{name}.npz"
            save_model(path, saved)
            for sparse in (False, True):
                assert smallest_loading_limit(path, sparse) < DEFAULT_MAX_MODEL_BYTES // 50
                load_model(path, sparse=sparse)


def test_save_model_refuses_a_model_its_loader_would_refuse(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"layer 1 \(Dense\) has n_in 50 but layer 0 outputs 100 features"):
        save_model(tmp_path / "x.npz", Sequential([Dense(784, 100), Dense(50, 10)]))
    with pytest.raises(ValueError, match=r"layer 1 \(Dense\) takes flat inputs but layer 0 outputs 4-D images"):
        save_model(tmp_path / "x.npz", Sequential([Conv2D(1, 2, 3), Dense(8, 2)]))
    monkeypatch.setenv(MAX_BYTES_ENV, "100000")
    with pytest.raises(ValueError, match=r"layer 0 \(Dense\) 784x100 needs about .* set by the environment variable "
                                         r"PYNNCOMP_MAX_MODEL_BYTES; to save it, set the environment variable"):
        save_model(tmp_path / "x.npz", mlp())
    assert not (tmp_path / "x.npz").exists()


def test_save_model_and_load_model_estimate_the_same_memory(tmp_path, monkeypatch):
    # the guarantee "what save_model writes loads under the same limit" is exact
    model = pruned_mlp(0.7, hidden=20)
    metadata = {"note": "é" * 10}

    def save_under(limit):
        monkeypatch.setenv(MAX_BYTES_ENV, str(limit))
        save_model(tmp_path / "m.npz", model, metadata=metadata)

    low, high = 1, DEFAULT_MAX_MODEL_BYTES
    while low < high:
        middle = (low + high) // 2
        try:
            save_under(middle)
            high = middle
        except ValueError:
            low = middle + 1
    monkeypatch.delenv(MAX_BYTES_ENV)
    save_model(tmp_path / "m.npz", model, metadata=metadata)
    assert smallest_loading_limit(tmp_path / "m.npz", sparse=True) == low
