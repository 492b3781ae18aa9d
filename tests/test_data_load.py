"""Splits, the validation subset and ``pynncomp.data.load``.

The split logic is tested on index arrays; ``load`` on a stand-in for
MNIST's 70 000 images in which image i carries i in its first three pixels,
so every image returned can be traced back to its index.  The generators
of the variants and of synthetic-digits are replaced by fakes that record
what they receive (the real ones are tested in their own files).  One test
loads the real MNIST, when $PYNNCOMP_DATA/mnist exists.
"""
import hashlib
import inspect
import sys
import types

import numpy as np
import pytest

from conftest import mnist_dir
from pynncomp import data
from pynncomp.data import mnist, sources, splits

MNIST_DIR = mnist_dir()


pytestmark = pytest.mark.usefixtures("isolated_data")


def md5_of(indices):
    return hashlib.md5(np.asarray(indices, dtype="<i8").tobytes()).hexdigest()


# -------------------------------------------------------------------- splits


def test_paper_split_sizes_disjoint_and_fixed():
    train, test = splits.paper_split()
    assert train.dtype == np.int64 and train.shape == (50_000,) and test.shape == (12_000,)
    assert len(np.union1d(train, test)) == 62_000
    assert train.min() >= 0 and max(train.max(), test.max()) < 70_000
    # the split draws from both of MNIST's files
    assert 0 < np.count_nonzero(train >= 60_000) < 10_000 and 0 < np.count_nonzero(test < 60_000) < 12_000
    # RandomState(2019).permutation(70000): pinned so the paper split can never drift
    np.testing.assert_array_equal(train[:5], [3915, 34101, 5154, 34036, 26239])
    np.testing.assert_array_equal(test[:5], [65611, 42050, 14191, 55909, 8652])
    assert md5_of(train) == "0854efc1944cde3ad79e78f21bd0a3ed"
    assert md5_of(test) == "c412c93cf4008f5cc4dd4c2cd665b7df"
    again = splits.paper_split()
    np.testing.assert_array_equal(again[0], train)
    np.testing.assert_array_equal(again[1], test)


def test_standard_split_is_mnist_own():
    train, test = splits.split_indices("standard")
    np.testing.assert_array_equal(train, np.arange(60_000))
    np.testing.assert_array_equal(test, np.arange(60_000, 70_000))


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match=r"split must be one of \('paper', 'standard'\), got 'random'"):
        splits.split_indices("random")


@pytest.mark.parametrize("n_train, val_size, seed", [(50_000, 5_000, 0), (10, 3, 7), (10, 0, 0), (1, 0, 3)])
def test_validation_split_partitions_the_training_part(n_train, val_size, seed):
    keep, val = splits.validation_split(n_train, val_size, seed)
    assert keep.dtype == np.int64 and val.dtype == np.int64
    assert len(keep) == n_train - val_size and len(val) == val_size
    np.testing.assert_array_equal(np.sort(np.concatenate([keep, val])), np.arange(n_train))
    assert np.all(np.diff(keep) > 0) and np.all(np.diff(val) > 0)


def test_validation_split_is_seeded_and_pinned():
    keep, val = splits.validation_split(50_000, 5_000, 0)
    np.testing.assert_array_equal(val[:5], [14, 22, 24, 28, 64])
    assert md5_of(val) == "868b2d9f76d0de616cd69f7e37cccec2"
    np.testing.assert_array_equal(splits.validation_split(50_000, 5_000, 0)[1], val)
    other = splits.validation_split(50_000, 5_000, 1)[1]
    assert 300 < len(np.intersect1d(other, val)) < 700  # about 10 % in common, as for independent draws


def test_validation_comes_from_training_never_from_test():
    train, test = splits.paper_split()
    keep, val = splits.validation_split(len(train), 5_000, 0)
    assert len(np.intersect1d(train[val], test)) == 0
    assert len(np.intersect1d(train[keep], train[val])) == 0
    assert len(np.union1d(train[keep], train[val])) == 50_000


@pytest.mark.parametrize("val_size", [-1, 10, 11])
def test_validation_size_out_of_range(val_size):
    with pytest.raises(ValueError, match=rf"val_size must be in \[0, 9\], got {val_size}"):
        splits.validation_split(10, val_size, 0)


def test_validation_arguments_must_be_integers():
    with pytest.raises(TypeError, match="val_size must be an integer"):
        splits.validation_split(10, 2.5, 0)
    with pytest.raises(ValueError, match="seed must be in"):
        splits.validation_split(10, 2, -1)


# ----------------------------------------------------------- load: arguments


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "cifar10"},
         r"name must be one of \('mnist', 'mnist-rot', 'mnist-back-rand', 'mnist-back-image', 'synthetic-digits'\), "
         r"got 'cifar10'"),
        ({"name": "mnist", "split": "random"}, r"split must be one of \('paper', 'standard'\), got 'random'"),
        ({"name": "mnist-rot", "split": "standard"},
         r"split='standard' is defined for 'mnist' only; 'mnist-rot' exists in the paper split only"),
        ({"name": "synthetic-digits", "split": "standard"}, r"split='standard' is defined for 'mnist' only"),
        ({"name": "mnist", "layout": "nchw"}, r"layout must be one of \('flat', 'image'\), got 'nchw'"),
        ({"name": "mnist", "seed": -2}, r"seed must be in \[0, 4294967295\], got -2"),
        ({"name": "mnist", "n_train": 100}, r"n_train and n_test are for 'synthetic-digits' only"),
        ({"name": "mnist", "val_size": -1}, r"val_size must be >= 0, got -1"),
    ],
)
def test_load_refuses_bad_arguments_before_reading_anything(kwargs, message, monkeypatch):
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: pytest.fail("MNIST was read"))
    with pytest.raises(ValueError, match=message):
        data.load(**kwargs)


def test_load_without_data_raises_data_not_found(tmp_path):
    with pytest.raises(data.DataNotFoundError, match="MNIST not found") as info:
        data.load("mnist", download=False)
    assert isinstance(info.value, FileNotFoundError)


# ------------------------------------------------- load: on a stand-in MNIST


@pytest.fixture(scope="module")
def traceable_mnist():
    """70 000 uint8 images whose first three pixels spell their index; label = index mod 10."""
    index = np.arange(70_000)
    images = np.zeros((70_000, 28, 28), dtype=np.uint8)
    images[:, 0, 0], images[:, 0, 1], images[:, 0, 2] = index % 256, index // 256 % 256, index // 65536
    images[:, 27, 27] = 255
    return images, (index % 10).astype(np.uint8)


def index_of(X):
    """The index spelled by flat float images (inverse of ``traceable_mnist``)."""
    levels = np.rint(X.reshape(len(X), -1)[:, :3] * 255).astype(np.int64)
    return levels[:, 0] + 256 * levels[:, 1] + 65536 * levels[:, 2]


@pytest.fixture
def fake_mnist(monkeypatch, traceable_mnist):
    calls = []

    def load_mnist(root=None, **kwargs):
        calls.append(dict(kwargs, root=root))
        return traceable_mnist[0], traceable_mnist[1], {"dataset": "mnist", "files": {}}

    monkeypatch.setattr(data, "load_mnist", load_mnist)
    return calls


def test_load_mnist_paper_split(fake_mnist, tmp_path):
    ds = data.load("mnist", root=tmp_path, mirrors=["file:///x/"], download=False)
    assert fake_mnist == [{"root": tmp_path, "download": False, "mirrors": ["file:///x/"]}]
    train, test = splits.paper_split()
    keep, val = splits.validation_split(50_000, 5_000, 0)
    parts = ((ds.X_train, ds.y_train, train[keep]), (ds.X_val, ds.y_val, train[val]), (ds.X_test, ds.y_test, test))
    for X, y, expected in parts:
        assert X.dtype == np.float32 and X.shape == (len(expected), 784)
        assert y.dtype == np.int64
        np.testing.assert_array_equal(index_of(X), expected)
        np.testing.assert_array_equal(y, expected % 10)
        assert X.min() == 0.0 and X.max() == 1.0
    assert ds.name == "mnist" and ds.split == "paper" and ds.synthetic is False
    assert ds.provenance["split"] == {"name": "paper", "paper_split_seed": 2019, "n_train": 50_000, "n_test": 12_000}
    assert ds.provenance["validation"] == {"val_size": 5_000, "seed": 0}
    assert repr(ds) == ("Dataset('mnist', split='paper', train=(45000, 784), val=(5000, 784), test=(12000, 784), "
                        "synthetic=False)")
    with pytest.raises(AttributeError):
        ds.X_train = None


def test_load_mnist_standard_split_image_layout(fake_mnist):
    ds = data.load("mnist", "standard", layout="image", val_size=100, seed=5)
    assert ds.X_train.shape == (59_900, 1, 28, 28) and ds.X_val.shape == (100, 1, 28, 28)
    assert ds.X_test.shape == (10_000, 1, 28, 28)
    keep, val = splits.validation_split(60_000, 100, 5)
    np.testing.assert_array_equal(index_of(ds.X_val), val)
    np.testing.assert_array_equal(index_of(ds.X_train), keep)
    np.testing.assert_array_equal(index_of(ds.X_test), np.arange(60_000, 70_000))
    assert ds.X_train[0, 0, 27, 27] == 1.0  # image rows and columns are not transposed


def test_val_size_zero_keeps_the_whole_training_part(fake_mnist):
    ds = data.load("mnist", val_size=0)
    assert ds.X_train.shape == (50_000, 784) and ds.X_val.shape == (0, 784) and ds.y_val.shape == (0,)
    np.testing.assert_array_equal(index_of(ds.X_train), splits.paper_split()[0])


def test_val_size_out_of_range_in_load(fake_mnist):
    with pytest.raises(ValueError, match=r"val_size must be in \[0, 49999\], got 50000"):
        data.load("mnist", val_size=50_000)


@pytest.fixture
def fake_variants(monkeypatch):
    """A stand-in for pynncomp.data.variants that inverts the images it receives."""
    calls = []

    def load_variant(name, images, labels, *, seed, cache_dir, root_dirs, source, image_dir):
        calls.append({"name": name, "images": images, "labels": labels, "seed": seed,
                      "cache_dir": cache_dir, "root_dirs": root_dirs, "source": source,
                      "image_dir": image_dir})
        return 1 - images, labels.copy(), {"generator": "fake", "name": name}

    module = types.ModuleType("pynncomp.data.variants")
    module.load_variant = load_variant
    monkeypatch.setitem(sys.modules, "pynncomp.data.variants", module)
    monkeypatch.setattr(data, "variants", module, raising=False)
    return calls


@pytest.mark.parametrize("name", ["mnist-rot", "mnist-back-rand", "mnist-back-image"])
def test_variants_get_the_paper_split_images_in_order(name, fake_mnist, fake_variants, tmp_path, monkeypatch):
    monkeypatch.setenv("PYNNCOMP_DATA", str(tmp_path / "env"))
    ds = data.load(name, root=tmp_path, seed=3, val_size=1_000)
    (call,) = fake_variants
    train, test = splits.paper_split()
    order = np.concatenate([train, test])
    assert call["name"] == name and call["seed"] == 3
    assert call["source"] == "auto" and call["image_dir"] is None
    assert call["images"].dtype == np.float32 and call["images"].shape == (62_000, 784)
    assert call["labels"].dtype == np.int64
    np.testing.assert_array_equal(index_of(call["images"]), order)
    np.testing.assert_array_equal(call["labels"], order % 10)
    assert call["cache_dir"] == sources.user_cache_dir()
    assert call["root_dirs"] == [tmp_path, tmp_path / "env", sources.user_cache_dir()]
    # the variant's first 50 000 images are its training part, validation carved from them
    keep, val = splits.validation_split(50_000, 1_000, 3)
    np.testing.assert_array_equal(index_of(1 - ds.X_train), train[keep])
    np.testing.assert_array_equal(index_of(1 - ds.X_val), train[val])
    np.testing.assert_array_equal(index_of(1 - ds.X_test), test)
    assert ds.y_test.dtype == np.int64 and ds.synthetic is False
    assert ds.provenance["variant"] == {"generator": "fake", "name": name}
    assert ds.provenance["mnist"]["dataset"] == "mnist"


def test_a_variant_of_the_wrong_shape_is_reported(fake_mnist, monkeypatch):
    module = types.ModuleType("pynncomp.data.variants")
    module.load_variant = lambda name, images, labels, **kw: (images[:10], labels[:10], {})
    monkeypatch.setitem(sys.modules, "pynncomp.data.variants", module)
    monkeypatch.setattr(data, "variants", module, raising=False)
    with pytest.raises(ValueError, match=r"returned images \(10, 784\) and labels \(10,\), expected \(62000, 784\)"):
        data.load("mnist-rot")


@pytest.fixture
def fake_synthetic(monkeypatch):
    calls = []

    def synthetic_digits(n_train, n_test, seed):
        calls.append((n_train, n_test, seed))
        rng = np.random.default_rng(seed)
        return (rng.random((n_train, 784), dtype=np.float32), np.arange(n_train) % 10,
                rng.random((n_test, 784), dtype=np.float32), np.arange(n_test) % 10)

    module = types.ModuleType("pynncomp.data.synthetic")
    module.synthetic_digits = synthetic_digits
    monkeypatch.setitem(sys.modules, "pynncomp.data.synthetic", module)
    monkeypatch.setattr(data, "synthetic", module, raising=False)
    return calls


def test_synthetic_digits_defaults_and_sizes(fake_synthetic, monkeypatch):
    monkeypatch.setattr(data, "load_mnist", lambda *a, **k: pytest.fail("MNIST was read"))
    ds = data.load("synthetic-digits")
    assert fake_synthetic == [(5_000, 1_200, 0)]
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (4_500, 500, 1_200)
    assert ds.synthetic is True and ds.y_train.dtype == np.int64
    assert ds.provenance["generator"] == "pynncomp.data.synthetic.synthetic_digits"
    ds = data.load("synthetic-digits", n_train=30, n_test=7, val_size=5, seed=9, layout="image")
    assert fake_synthetic[-1] == (30, 7, 9)
    assert (ds.X_train.shape, ds.X_val.shape, ds.X_test.shape) == ((25, 1, 28, 28), (5, 1, 28, 28), (7, 1, 28, 28))
    with pytest.raises(ValueError, match="n_test must be >= 1, got 0"):
        data.load("synthetic-digits", n_test=0)


# ------------------------------------------- the generator modules, through load()


def test_real_synthetic_digits_through_load():
    ds = data.load("synthetic-digits", n_train=40, n_test=10, val_size=4)
    assert ds.X_train.shape == (36, 784) and ds.X_val.shape == (4, 784) and ds.X_test.shape == (10, 784)
    assert ds.X_train.dtype == np.float32 and 0 <= ds.X_train.min() and ds.X_train.max() <= 1
    assert set(np.unique(ds.y_train)) <= set(range(10))


def test_real_variants_module_has_the_interface_load_calls():
    from pynncomp.data import variants

    parameters = inspect.signature(variants.load_variant).parameters
    positional = [p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) >= 3  # name, MNIST images, MNIST labels
    for keyword in ("seed", "cache_dir", "root_dirs", "source", "image_dir"):
        assert keyword in parameters


# ------------------------------------------------------------- the real MNIST


@pytest.fixture(scope="module")
def real_mnist():
    return mnist.load_mnist(MNIST_DIR, download=False)


@pytest.mark.skipif(MNIST_DIR is None, reason="no MNIST under $PYNNCOMP_DATA/mnist")
def test_real_mnist_files(real_mnist):
    images, labels, provenance = real_mnist
    assert images.dtype == np.uint8 and images.shape == (70_000, 28, 28)
    assert labels.dtype == np.uint8 and labels.shape == (70_000,)
    assert images.min() == 0 and images.max() == 255
    np.testing.assert_array_equal(np.bincount(labels[:60_000]),
                                  [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    np.testing.assert_array_equal(np.bincount(labels[60_000:]), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert {name: info["md5"] for name, info in provenance["files"].items()} == mnist.MD5
    assert {info["origin"] for info in provenance["files"].values()} == {"root"}


@pytest.mark.skipif(MNIST_DIR is None, reason="no MNIST under $PYNNCOMP_DATA/mnist")
def test_real_mnist_through_load(real_mnist):
    ds = data.load("mnist", root=MNIST_DIR, download=False)
    assert (ds.X_train.shape, ds.X_val.shape, ds.X_test.shape) == ((45_000, 784), (5_000, 784), (12_000, 784))
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    assert {name: info["md5"] for name, info in ds.provenance["files"].items()} == mnist.MD5
    # label counts of the paper split (RandomState(2019).permutation(70000))
    paper_train = np.bincount(np.concatenate([ds.y_train, ds.y_val]))
    np.testing.assert_array_equal(paper_train, [4950, 5559, 4982, 5094, 4900, 4565, 4905, 5191, 4852, 5002])
    np.testing.assert_array_equal(np.bincount(ds.y_test), [1159, 1383, 1193, 1261, 1161, 1018, 1206, 1273, 1190, 1156])
    images, _, _ = real_mnist
    test_index = splits.paper_split()[1]
    np.testing.assert_array_equal(ds.X_test[0], images[test_index[0]].reshape(784) / np.float32(255))


def test_variant_options_are_refused_for_other_data_sets():
    with pytest.raises(ValueError, match="variant_source and image_dir"):
        data.load("mnist", variant_source="generated")
    with pytest.raises(ValueError, match="variant_source and image_dir"):
        data.load("synthetic-digits", image_dir=".")
