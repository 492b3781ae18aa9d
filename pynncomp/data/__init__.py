"""MNIST and the variants of Larochelle et al. (2007), offline-first and verified.

``load(name, split)`` returns a :class:`Dataset`: training, validation and
test images as float32 in [0, 1] (flat ``(N, 784)`` or ``(N, 1, 28, 28)``)
with int64 labels, and where they came from.

========================  ==================================================
name                      what
========================  ==================================================
``"mnist"``               MNIST (:mod:`.mnist`), read from a directory or
                          downloaded, MD5-verified
``"mnist-rot"``           digits rotated by an angle uniform in [0, 2 pi)
``"mnist-back-rand"``     background pixels uniform in [0, 1]
``"mnist-back-image"``    background a patch of a natural image
``"synthetic-digits"``    generated stand-ins, no file needed (tests, CI)
========================  ==================================================

The three variants (docs/methods.md#data) are made from the paper split's
62 000 MNIST images by :mod:`.variants`, or read from the original
``.amat`` archives when present.  The splits and the validation subset are
defined in :mod:`.splits`; where files are looked for, in :mod:`.sources`.

Example
-------
>>> from pynncomp import data
>>> mnist = data.load("mnist", root="~/data")          # doctest: +SKIP
>>> mnist.X_train.shape, mnist.X_val.shape, mnist.X_test.shape  # doctest: +SKIP
((45000, 784), (5000, 784), (12000, 784))
"""
import dataclasses

import numpy as np

from .._checks import check_int
from . import splits
from .idx import read_idx, write_idx
from .mnist import load_mnist
from .sources import ChecksumError, DataNotFoundError, search_dirs, user_cache_dir

VARIANTS = ("mnist-rot", "mnist-back-rand", "mnist-back-image")
DATASETS = ("mnist",) + VARIANTS + ("synthetic-digits",)
LAYOUTS = ("flat", "image")
# synthetic-digits defaults to a tenth of the paper split's sizes.
SYNTHETIC_SIZES = (splits.PAPER_TRAIN // 10, splits.PAPER_TEST // 10)

__all__ = [
    "DATASETS",
    "LAYOUTS",
    "VARIANTS",
    "ChecksumError",
    "DataNotFoundError",
    "Dataset",
    "load",
    "load_mnist",
    "mnist_indices",
    "read_idx",
    "user_cache_dir",
    "write_idx",
]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """One data set, split into training, validation and test images.

    Attributes
    ----------
    name : str
        One of :data:`DATASETS`.
    split : str
        ``"paper"`` or ``"standard"`` (see :mod:`pynncomp.data.splits`).
    X_train, X_val, X_test : numpy.ndarray of float32
        Images in [0, 1], shape ``(N, 784)`` or ``(N, 1, 28, 28)``.
    y_train, y_val, y_test : numpy.ndarray of int64, shape (N,)
        Digits 0-9.
    synthetic : bool
        True for generated stand-ins (``synthetic-digits``).
    provenance : dict
        Source files and their MD5s, or the generator's description, and
        the split and validation rules applied.
    """

    name: str
    split: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    synthetic: bool
    provenance: dict

    def __repr__(self):
        return (
            f"Dataset({self.name!r}, split={self.split!r}, train={self.X_train.shape}, "
            f"val={self.X_val.shape}, test={self.X_test.shape}, synthetic={self.synthetic})"
        )


def load(
    name,
    split="paper",
    *,
    root=None,
    layout="flat",
    val_size=None,
    download=True,
    seed=0,
    mirrors=None,
    n_train=None,
    n_test=None,
    variant_source="auto",
    image_dir=None,
):
    """Load a data set of the comparative study, split and verified.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    split : {"paper", "standard"}
        ``"paper"``: 50 000 training / 12 000 test images drawn once and
        for all from MNIST's 70 000 (:func:`pynncomp.data.splits.paper_split`);
        ``"standard"``: MNIST's own 60 000 / 10 000, for ``"mnist"`` only.
        ``"synthetic-digits"`` accepts only ``"paper"`` (its sizes are
        ``n_train`` and ``n_test``).
    root : None, str or os.PathLike
        A directory holding ``mnist/*.gz``, searched before
        ``$PYNNCOMP_DATA`` and the user cache (:mod:`pynncomp.data.sources`).
        Variants also look there for the original ``.amat`` archives.
    layout : {"flat", "image"}
        Images as rows ``(N, 784)`` or as ``(N, 1, 28, 28)``.
    val_size : None or int >= 0
        Training images moved to the validation subset (chosen by
        :func:`pynncomp.data.splits.validation_split`, never from the test
        images); None means a tenth of the training part: 5 000 for the
        paper split, 6 000 for the standard one.  0 gives an empty
        validation subset and the whole training part in ``X_train``.
    download : bool
        Whether MNIST files found in no directory are downloaded.
    seed : int in [0, 2**32 - 1]
        Chooses the validation subset, and seeds the variant or synthetic
        generator.  It never changes the paper split.
    mirrors : None, str or sequence of str
        MNIST download mirrors (see :func:`pynncomp.data.mnist.mirror_list`).
    n_train, n_test : None or int >= 1
        Sizes for ``"synthetic-digits"`` only (default 5 000 and 1 200, a
        tenth of the paper split).
    variant_source : {"auto", "original", "generated"}
        For the variants: the original Larochelle et al. archives (found
        in ``root`` or the directories searched for MNIST), images generated
        from MNIST, or the archives when present and generated otherwise
        (:func:`pynncomp.data.variants.load_variant`).
    image_dir : None, str or os.PathLike
        For ``"mnist-back-image"`` generated: a folder of .png/.jpg images
        to cut backgrounds from, instead of matplotlib's sample photographs.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        An unknown ``name``, ``split`` or ``layout``, a ``val_size`` out of
        range, a corrupt or mismatching file.
    pynncomp.data.DataNotFoundError
        MNIST is found nowhere and could not be downloaded.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    if split not in splits.SPLITS:
        raise ValueError(f"split must be one of {splits.SPLITS}, got {split!r}")
    if split != "paper" and name != "mnist":
        raise ValueError(
            f"split={split!r} is defined for 'mnist' only; {name!r} exists in the paper split only (split='paper')"
        )
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    seed = check_int("seed", seed, 0, 2**32 - 1)
    if val_size is not None:
        check_int("val_size", val_size, 0)  # its upper bound is checked once the training part is known
    if name not in VARIANTS and (variant_source != "auto" or image_dir is not None):
        raise ValueError(f"variant_source and image_dir are for the variants {VARIANTS} only, got {name!r}")
    if name != "synthetic-digits" and (n_train is not None or n_test is not None):
        raise ValueError(f"n_train and n_test are for 'synthetic-digits' only, got them for {name!r}")

    if name == "synthetic-digits":
        X_fit, y_fit, X_test, y_test, provenance = _synthetic(n_train, n_test, seed)
    else:
        images, labels, mnist_provenance = load_mnist(root, download=download, mirrors=mirrors)
        train, test = splits.split_indices(split)
        if name == "mnist":
            X_fit, y_fit, X_test, y_test = images[train], labels[train], images[test], labels[test]
            provenance = mnist_provenance
        else:
            X_fit, y_fit, X_test, y_test, provenance = _variant(
                name, images, labels, train, test, seed, root, variant_source, image_dir
            )
            provenance["mnist"] = mnist_provenance

    n_fit = len(X_fit)
    val_size = splits.default_val_size(n_fit) if val_size is None else val_size
    keep, val = splits.validation_split(n_fit, val_size, seed)
    provenance["split"] = {
        "name": split, "paper_split_seed": splits.PAPER_SPLIT_SEED, "n_train": n_fit, "n_test": len(X_test)
    }
    provenance["validation"] = {"val_size": val_size, "seed": seed}
    return Dataset(
        name=name,
        split=split,
        X_train=_as_images(X_fit[keep], layout),
        y_train=y_fit[keep].astype(np.int64),
        X_val=_as_images(X_fit[val], layout),
        y_val=y_fit[val].astype(np.int64),
        X_test=_as_images(X_test, layout),
        y_test=y_test.astype(np.int64),
        synthetic=name == "synthetic-digits",
        provenance=provenance,
    )


def mnist_indices(name, split="paper", val_size=None, seed=0):
    """Which of MNIST's 70 000 images stand behind a data set's three parts.

    ``load`` draws the training, validation and test images of ``"mnist"``
    and of the variants from MNIST's 70 000 images (training file first,
    :mod:`.splits`); a variant's image ``i`` is made from MNIST image
    ``paper_split()`` order ``i``.  These indices tell which images two
    loads share: a model measured on images it was trained on reports a
    training accuracy, not a test accuracy (see :mod:`pynncomp.evaluation`).

    Parameters
    ----------
    name, split, val_size, seed
        As for :func:`load`.

    Returns
    -------
    dict or None
        ``{"train": ..., "val": ..., "test": ...}``, int64 arrays of indices
        into the 70 000, each in the order ``load`` returns its images; None
        for ``"synthetic-digits"``, which is generated, not drawn from MNIST.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    if name == "synthetic-digits":
        return None
    if split != "paper" and name != "mnist":
        raise ValueError(f"split={split!r} is defined for 'mnist' only, got it for {name!r}")
    train, test = splits.split_indices(split)
    val_size = splits.default_val_size(len(train)) if val_size is None else val_size
    keep, val = splits.validation_split(len(train), val_size, seed)
    return {"train": train[keep], "val": train[val], "test": test}


def _as_unit_float(images):
    """uint8 grey levels 0-255 as float32 in [0, 1], same shape."""
    scaled = images.astype(np.float32)
    scaled /= 255
    return scaled


def _as_images(images, layout):
    """float32 images in [0, 1], shaped for ``layout``.

    MNIST's uint8 grey levels are scaled here, after the split, so that only
    the images kept are converted; generated images are float32 already.
    """
    if images.dtype == np.uint8:
        images = _as_unit_float(images)
    return images.reshape((-1, 784) if layout == "flat" else (-1, 1, 28, 28))


def _variant(name, images, labels, train, test, seed, root, source, image_dir):
    """A variant's training part and test part (made by :mod:`.variants`)."""
    from . import variants  # on demand: loading MNIST needs none of the generators

    order = np.concatenate([train, test])
    images_62k, labels_62k, provenance = variants.load_variant(
        name,
        _as_unit_float(images[order]).reshape(len(order), 784),
        labels[order].astype(np.int64),
        seed=seed,
        cache_dir=user_cache_dir(),
        root_dirs=[directory for _, directory in search_dirs(root)],
        source=source,
        image_dir=image_dir,
    )
    if images_62k.shape != (len(order), 784) or labels_62k.shape != (len(order),):
        raise ValueError(
            f"variants.load_variant({name!r}) returned images {images_62k.shape} and labels "
            f"{labels_62k.shape}, expected ({len(order)}, 784) and ({len(order)},)"
        )
    n = len(train)
    provenance = {"variant": provenance}
    return images_62k[:n], labels_62k[:n], images_62k[n:], labels_62k[n:], provenance


def _synthetic(n_train, n_test, seed):
    """Generated stand-in digits (made by :mod:`.synthetic`)."""
    from . import synthetic  # on demand, like the variants

    n_train = check_int("n_train", SYNTHETIC_SIZES[0] if n_train is None else n_train, 1)
    n_test = check_int("n_test", SYNTHETIC_SIZES[1] if n_test is None else n_test, 1)
    X_fit, y_fit, X_test, y_test = synthetic.synthetic_digits(n_train, n_test, seed)
    provenance = {
        "generator": "pynncomp.data.synthetic.synthetic_digits", "n_train": n_train, "n_test": n_test, "seed": seed
    }
    return X_fit, y_fit, X_test, y_test, provenance
