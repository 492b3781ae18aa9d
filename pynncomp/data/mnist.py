"""MNIST (LeCun, Cortes & Burges): the four IDX files, their checksums, the arrays.

MNIST is 60 000 training and 10 000 test images of handwritten digits,
28 x 28 grey levels 0-255, in four IDX files (:mod:`pynncomp.data.idx`).
:func:`load_mnist` finds them as described in :mod:`pynncomp.data.sources`
(``root``, ``$PYNNCOMP_DATA``, the user cache, then a download from
:data:`MIRRORS` into the cache), verifies the MD5 of each decompressed file
against the values published with MNIST (:data:`MD5`) and returns the 70 000
images and labels, MNIST's training file first.

MNIST is by Yann LeCun and Corinna Cortes, derived from NIST, distributed
under CC BY-SA 3.0; pynncomp does not ship it.
"""
import os
import re

import numpy as np

from . import sources
from .idx import IMAGES_MAGIC, LABELS_MAGIC, decode_idx

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

# MD5 of the decompressed IDX files, as published with MNIST.
MD5 = {
    TRAIN_IMAGES: "6bbc9ace898e44ae57da46a324031adb",
    TRAIN_LABELS: "a25bea736e30d166cdddb491f175f624",
    TEST_IMAGES: "2646ac647ad5339dbf082846283269ea",
    TEST_LABELS: "27ae3e4e09519cfbb04c329615203637",
}
MAGIC = {TRAIN_IMAGES: IMAGES_MAGIC, TRAIN_LABELS: LABELS_MAGIC, TEST_IMAGES: IMAGES_MAGIC, TEST_LABELS: LABELS_MAGIC}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MIRRORS_ENV = "PYNNCOMP_MNIST_MIRRORS"
SUBDIR = "mnist"
N_TRAIN = 60_000
N_TEST = 10_000
IMAGE_SHAPE = (28, 28)


def mirror_list(mirrors=None):
    """The base URLs MNIST is downloaded from, in the order tried.

    Parameters
    ----------
    mirrors : None, str or sequence of str
        Base URLs; a string may hold several, separated by commas or
        whitespace.  None means ``$PYNNCOMP_MNIST_MIRRORS`` when set (same
        syntax), else :data:`MIRRORS`.

    Returns
    -------
    list of str
    """
    if mirrors is None:
        mirrors = os.environ.get(MIRRORS_ENV) or MIRRORS
    if isinstance(mirrors, str):
        mirrors = re.split(r"[,\s]+", mirrors.strip())
    mirrors = [m for m in mirrors if m]
    for mirror in mirrors:
        if not isinstance(mirror, str):
            raise TypeError(f"mirrors must be URLs (str), got {mirror!r}")
    return mirrors


def load_mnist(root=None, *, download=True, mirrors=None, checksums=None, timeout=sources.DEFAULT_TIMEOUT):
    """MNIST's 70 000 images and labels, verified: the training file, then the test file.

    Parameters
    ----------
    root : None, str or os.PathLike
        A directory searched before ``$PYNNCOMP_DATA`` and the user cache,
        holding ``mnist/NAME.gz`` (or ``NAME.gz``, or the un-gzipped
        ``NAME``) for the four names of :data:`MD5`.
    download : bool
        Whether files found in no directory are downloaded into the user cache.
    mirrors : None, str or sequence of str
        Where to download from (see :func:`mirror_list`).
    checksums : None or dict of str to str
        MD5 of each decompressed file, by name; None means :data:`MD5`.
        Other values are for tests on small stand-in files.
    timeout : float
        Seconds before a silent mirror is given up.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (N, 28, 28)
        Rows ``0 .. 59 999`` are MNIST's training images, ``60 000 .. 69 999``
        its test images (``N = 70 000`` for the real files).
    labels : numpy.ndarray of uint8, shape (N,)
        Digits 0-9, in the same order.
    provenance : dict
        ``{"dataset": "mnist", "files": {name: {"path", "origin", "md5"[, "url"]}}}``.

    Raises
    ------
    ValueError
        A copy is corrupt or has another MD5 (naming the file and both
        checksums), or a file's array is not what MNIST holds.
    pynncomp.data.sources.DataNotFoundError
        A file is found nowhere and could not be downloaded; the message
        names the four files, the directories searched, why each mirror
        failed and ``PYNNCOMP_DATA``.
    """
    checksums = MD5 if checksums is None else checksums
    if set(checksums) != set(MD5):
        raise ValueError(f"checksums must have exactly the keys {sorted(MD5)}, got {sorted(checksums)}")
    found = sources.fetch(
        {name: checksums[name] for name in MD5},
        SUBDIR,
        "MNIST",
        root=root,
        download_missing=download,
        mirrors=mirror_list(mirrors) if download else (),
        timeout=timeout,
    )
    arrays = {name: decode_idx(data, info["path"], MAGIC[name]) for name, (data, info) in found.items()}
    for images_name, labels_name in ((TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)):
        images, labels = arrays[images_name], arrays[labels_name]
        if images.shape[1:] != IMAGE_SHAPE or len(images) != len(labels):
            raise ValueError(
                f"{found[images_name][1]['path']} holds images of shape {images.shape} and "
                f"{found[labels_name][1]['path']} labels of shape {labels.shape}: expected (n, 28, 28) and (n,)"
            )
    images = np.concatenate([arrays[TRAIN_IMAGES], arrays[TEST_IMAGES]])
    labels = np.concatenate([arrays[TRAIN_LABELS], arrays[TEST_LABELS]])
    provenance = {"dataset": "mnist", "files": {name: info for name, (_, info) in found.items()}}
    return images, labels, provenance
