"""synthetic-digits: format, balance, determinism, glyphs, and that the classes are learnable."""
import numpy as np
import pytest

from pynncomp.data import synthetic

# Nearest-class-mean accuracy on 1 000 training / 500 test images, seed 0:
# measured 0.872.  Over seeds 1-5 with 500 / 500 images it ranged over
# 0.810-0.824, so 0.70 leaves room for sampling noise while staying seven
# times chance (0.10); a generator whose labels did not match its glyphs
# would score about 0.10.
NEAREST_MEAN_MIN_ACCURACY = 0.70


@pytest.fixture(scope="module")
def small_sets():
    return synthetic.synthetic_digits(1000, 500, seed=0)


def test_shapes_dtypes_range_and_balanced_labels(small_sets):
    X_train, y_train, X_test, y_test = small_sets
    assert X_train.shape == (1000, 784) and X_test.shape == (500, 784)
    assert X_train.dtype == X_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 50))
    assert np.bincount(synthetic.synthetic_digits(13, 1)[1]).tolist() == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1]


def test_same_seed_same_bytes_other_seed_other_images(small_sets):
    again = synthetic.synthetic_digits(1000, 500, seed=0)
    for first, second in zip(small_sets, again):
        assert first.tobytes() == second.tobytes()
    other = synthetic.synthetic_digits(1000, 500, seed=1)
    assert not np.array_equal(small_sets[0], other[0])
    # the training set does not depend on the size of the test set
    fewer_test = synthetic.synthetic_digits(1000, 7, seed=0)
    assert fewer_test[0].tobytes() == small_sets[0].tobytes()


def test_nearest_class_mean_is_well_above_chance(small_sets):
    X_train, y_train, X_test, y_test = small_sets
    means = np.stack([X_train[y_train == digit].mean(axis=0) for digit in range(10)])
    distances = ((X_test[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    accuracy = (distances.argmin(axis=1) == y_test).mean()
    print(f"\n[synthetic-digits] nearest-class-mean accuracy {accuracy:.3f}")
    assert accuracy > NEAREST_MEAN_MIN_ACCURACY


def test_digits_are_centred_by_centre_of_mass(small_sets):
    X_train = small_sets[0].reshape(-1, 28, 28).astype(np.float64)
    rows = np.arange(28)
    mass = X_train.sum(axis=(1, 2))
    row = (X_train.sum(axis=2) * rows).sum(axis=1) / mass
    col = (X_train.sum(axis=1) * rows).sum(axis=1) / mass
    # the shift jitter is at most 1 pixel per axis; noise pulls the centre towards 13.5
    assert np.abs(row - 13.5).max() < 1.5 and np.abs(col - 13.5).max() < 1.5


def test_glyph_counters_stay_open():
    templates, _ = synthetic.glyph_templates()
    middle = templates.shape[-1] // 2
    # DejaVu Sans '0' at its original stroke width: empty in the middle, ink left and right of it
    zero = templates[0, synthetic.FONTS.index("DejaVuSans.ttf") * len(synthetic.STROKE_CHANGES)]
    assert zero[middle, middle] == 0.0
    assert zero[middle, :middle].max() > 0.99 and zero[middle, middle:].max() > 0.99


def test_argument_errors():
    with pytest.raises(ValueError, match="n_train must be >= 1, got 0"):
        synthetic.synthetic_digits(0, 10)
    with pytest.raises(TypeError, match="n_test must be an integer"):
        synthetic.synthetic_digits(10, 2.5)
    with pytest.raises(ValueError, match="seed must be in"):
        synthetic.synthetic_digits(10, 10, seed=-3)
