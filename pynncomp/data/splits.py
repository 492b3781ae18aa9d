"""Train / test splits of MNIST's 70 000 images, and the validation subset.

The 70 000 images are indexed as :func:`pynncomp.data.mnist.load_mnist`
returns them: MNIST's training file (indices 0 .. 59 999), then its test
file (60 000 .. 69 999).

``"paper"`` -- the comparative study's sizes (docs/methods.md#splits:
50 000 training and 12 000 test images, the variants' original
12 000 / 50 000 split swapped).  A permutation of the 70 000 indices,

    ``order = numpy.random.RandomState(2019).permutation(70000)``

gives the training images ``order[:50000]`` and the test images
``order[50000:62000]``; the last 8 000 are not used.  The legacy
``RandomState`` is used on purpose: NumPy freezes its streams (NEP 19),
whereas ``default_rng`` streams may change between releases, and the split
must never change.  The variants (``mnist-rot``, ...) are made from the
MNIST images in this order: their image ``i`` comes from MNIST image
``order[i]``.

``"standard"`` -- MNIST's own 60 000 training and 10 000 test images.

Validation -- ``val_size`` images of the training part (never of the test
part): with ``perm = numpy.random.RandomState(seed).permutation(n_train)``,
the positions ``perm[:val_size]`` (within the training part) are the
validation subset and the others the training images kept; both are
returned sorted, so kept images stay in their split order.  The default
``val_size`` is a tenth of the training part (5 000 for the paper split,
6 000 for the standard split).
"""
import numpy as np

from .._checks import check_int

N_MNIST = 70_000
PAPER_SPLIT_SEED = 2019
PAPER_TRAIN = 50_000
PAPER_TEST = 12_000
STANDARD_TRAIN = 60_000
STANDARD_TEST = 10_000
SPLITS = ("paper", "standard")


def paper_split():
    """The comparative study's split of MNIST's 70 000 images.

    Returns
    -------
    train : numpy.ndarray of int64, shape (50000,)
    test : numpy.ndarray of int64, shape (12000,)
        Indices into the 70 000 images (training file first), disjoint,
        in the order the images are used.
    """
    order = np.random.RandomState(PAPER_SPLIT_SEED).permutation(N_MNIST).astype(np.int64)
    return order[:PAPER_TRAIN], order[PAPER_TRAIN:PAPER_TRAIN + PAPER_TEST]


def standard_split():
    """MNIST's own split: indices ``0 .. 59 999`` for training, ``60 000 .. 69 999`` for test.

    Returns
    -------
    train : numpy.ndarray of int64, shape (60000,)
    test : numpy.ndarray of int64, shape (10000,)
    """
    return np.arange(STANDARD_TRAIN, dtype=np.int64), np.arange(STANDARD_TRAIN, N_MNIST, dtype=np.int64)


def split_indices(split):
    """Training and test indices of ``split`` (``"paper"`` or ``"standard"``)."""
    if split == "paper":
        return paper_split()
    if split == "standard":
        return standard_split()
    raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def default_val_size(n_train):
    """The default validation size: a tenth of the ``n_train`` training images."""
    return n_train // 10


def validation_split(n_train, val_size, seed):
    """Carve a validation subset out of a training part of ``n_train`` images.

    Parameters
    ----------
    n_train : int >= 1
        Size of the training part.
    val_size : int in [0, n_train - 1]
        Images moved to the validation subset (at least one training image
        is kept).
    seed : int in [0, 2**32 - 1]
        Seed of the permutation choosing them.

    Returns
    -------
    keep : numpy.ndarray of int64, shape (n_train - val_size,)
    val : numpy.ndarray of int64, shape (val_size,)
        Sorted, disjoint positions in ``[0, n_train)`` whose union is all of them.
    """
    n_train = check_int("n_train", n_train, 1)
    val_size = check_int("val_size", val_size, 0, n_train - 1)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    perm = np.random.RandomState(seed).permutation(n_train).astype(np.int64)
    return np.sort(perm[val_size:]), np.sort(perm[:val_size])
