"""The original variant archives of Larochelle et al. (2007): ``.zip`` of ``.amat`` text.

Larochelle, Erhan, Courville, Bergstra & Bengio (2007), "An empirical
evaluation of deep architectures on problems with many factors of
variation", published each MNIST variant as one zip archive
(:data:`ARCHIVES`, downloadable from :data:`BASE_URL`).  Each archive holds
two ``.amat`` text files: a 12 000-image "train" file (training and
validation) and a 50 000-image "test" file.  An ``.amat`` file has one image
per line: 784 pixel values in [0, 1] then the label (0-9, written as a
float), separated by spaces.

The comparative study swapped the two parts (docs/methods.md#data): it
trains on the 50 000 images and tests on the 12 000.  :func:`read_archive`
applies that swap and returns the 62 000 images in our order, **training
part first**: the rows of the "test" file, then those of the "train" file.

Orientation
-----------
The 784 values of a line are returned as stored, so that
``row.reshape(28, 28)`` is the image if the file is row-major like MNIST.
The variants were generated with MATLAB scripts (column-major), and whether
their images are transposed relative to MNIST is not documented and cannot
be checked here without the archives.  A transposed digit is a mirror
image, which no rotation undoes.  To check a copy, correlate the mean of
its images (reshaped row-major) with MNIST's mean image and with that
image's transpose: the larger correlation tells the layout.  If the
archives turn out to be stored column-major, transpose every image with
``images.reshape(-1, 28, 28).transpose(0, 2, 1).reshape(-1, 784)``.
"""
import hashlib
import io
import pathlib
import urllib.error
import urllib.request
import warnings
import zipfile
from http.client import HTTPException

import numpy as np

from .._files import atomic_write

BASE_URL = "http://www.iro.umontreal.ca/~lisa/icml2007data/"
# variant: (archive, 12 000-image "train" member, 50 000-image "test" member)
ARCHIVES = {
    "mnist-rot": (
        "mnist_rotation_new.zip",
        "mnist_all_rotation_normalized_float_train_valid.amat",
        "mnist_all_rotation_normalized_float_test.amat",
    ),
    "mnist-back-rand": (
        "mnist_background_random.zip",
        "mnist_background_random_train.amat",
        "mnist_background_random_test.amat",
    ),
    "mnist-back-image": (
        "mnist_background_images.zip",
        "mnist_background_images_train.amat",
        "mnist_background_images_test.amat",
    ),
}
SUBDIR = "mnist-variants"
N_PIXELS = 784
# Values this far outside [0, 1] are taken for rounding and clipped; further is an error.
RANGE_TOLERANCE = 1e-6
DEFAULT_TIMEOUT = 60.0


def check_variant(name):
    """``name`` if it is a key of :data:`ARCHIVES`, else a ValueError listing them."""
    if name not in ARCHIVES:
        raise ValueError(f"name must be one of {tuple(ARCHIVES)}, got {name!r}")
    return name


def archive_url(name):
    """The canonical URL of variant ``name``'s archive."""
    return BASE_URL + ARCHIVES[check_variant(name)][0]


def find_archive(name, root_dirs):
    """The first copy of variant ``name``'s archive in ``root_dirs``, or None.

    Each directory ``DIR`` is searched as ``DIR/<archive>`` then
    ``DIR/mnist-variants/<archive>``.

    Parameters
    ----------
    name : str
        One of :data:`ARCHIVES`.
    root_dirs : iterable of str or os.PathLike

    Returns
    -------
    pathlib.Path or None
    """
    archive = ARCHIVES[check_variant(name)][0]
    for directory in root_dirs:
        for path in (pathlib.Path(directory) / archive, pathlib.Path(directory) / SUBDIR / archive):
            if path.is_file():
                return path
    return None


def _first_bad_line(open_text, source):
    """Find the line that made the fast parser fail and say what is wrong with it.

    Only called after :func:`numpy.loadtxt` failed, to name the line: each
    line must hold ``N_PIXELS + 1`` numbers.  Returns None when every line
    is well formed (the failure was elsewhere).
    """
    with open_text() as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != N_PIXELS + 1:
                return (
                    f"{source}, line {number}: {len(fields)} values, expected {N_PIXELS + 1} "
                    "(784 pixels then the label)"
                )
            for column, field in enumerate(fields, start=1):
                try:
                    float(field)
                except ValueError:
                    return f"{source}, line {number}, column {column}: {field[:40]!r} is not a number"
    return None


def parse_amat(open_text, source):
    """Images and labels of one ``.amat`` file.

    Parameters
    ----------
    open_text : callable
        Returns a new text stream of the file (a context manager) each time
        it is called; the file is read a second time only to name a bad line.
    source : str
        How the file is named in error messages.

    Returns
    -------
    images : numpy.ndarray of float32, shape (n, 784)
        Pixel values in [0, 1], as stored.
    labels : numpy.ndarray of int64, shape (n,)

    Raises
    ------
    ValueError
        Naming ``source`` and the line (or the image, counted from 1): a
        line without exactly 785 numbers, a label that is not an integer
        0-9, a pixel value outside [0, 1] (beyond :data:`RANGE_TOLERANCE`),
        or no line at all.
    """
    try:
        with open_text() as lines, warnings.catch_warnings():
            # an empty file is reported below, as an error
            warnings.filterwarnings("ignore", message="loadtxt: input contained no data")
            table = np.loadtxt(lines, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ValueError(_first_bad_line(open_text, source) or f"{source}: {err}") from None
    if table.size == 0:
        raise ValueError(f"{source}: no image in the file")
    if table.shape[1] != N_PIXELS + 1:
        raise ValueError(
            f"{source}, image 1: {table.shape[1]} values, expected {N_PIXELS + 1} (784 pixels then the label)"
        )
    pixels, label_values = table[:, :N_PIXELS], table[:, N_PIXELS]
    bad_label = ~np.isin(label_values, np.arange(10))
    if bad_label.any():
        row = int(np.argmax(bad_label))
        raise ValueError(f"{source}, image {row + 1}: label {float(label_values[row])!r} is not an integer 0-9")
    outside = ~((pixels >= -RANGE_TOLERANCE) & (pixels <= 1 + RANGE_TOLERANCE))
    if outside.any():
        row, column = np.unravel_index(int(np.argmax(outside)), outside.shape)
        raise ValueError(
            f"{source}, image {row + 1}, column {column + 1}: pixel value {float(pixels[row, column])!r} "
            "is outside [0, 1]"
        )
    np.clip(pixels, 0.0, 1.0, out=pixels)
    images = pixels.astype(np.float32)
    return images, label_values.astype(np.int64)


def read_member(archive, member_name, path):
    """Parse the member of ``archive`` whose base name is ``member_name``.

    Parameters
    ----------
    archive : zipfile.ZipFile
    member_name : str
        Base name of the ``.amat`` file (it may lie in a folder of the zip).
    path : str or os.PathLike
        The archive's path, for messages.

    Returns
    -------
    images, labels, member : as :func:`parse_amat`, and the member's full name.
    """
    members = [info.filename for info in archive.infolist() if not info.is_dir()]
    matches = [member for member in members if member.rsplit("/", 1)[-1] == member_name]
    if not matches:
        raise ValueError(f"{path}: the archive has no member {member_name!r}; it holds {members}")
    member = matches[0]

    def open_text():
        return io.TextIOWrapper(archive.open(member), encoding="ascii", errors="replace")

    images, labels = parse_amat(open_text, f"{path}:{member}")
    return images, labels, member


def sha256_file(path):
    """SHA-256 of a file's bytes, as 64 hexadecimal digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_archive(name, path):
    """The 62 000 images of variant ``name``'s archive, training part first.

    Parameters
    ----------
    name : str
        One of :data:`ARCHIVES`.
    path : str or os.PathLike
        The zip archive.

    Returns
    -------
    images : numpy.ndarray of float32, shape (n_test_file + n_train_file, 784)
        The archive's "test" file (50 000 images: our training part)
        followed by its "train" file (12 000: our test part), values as
        stored (see the module notes on orientation).
    labels : numpy.ndarray of int64
    provenance : dict
        ``archive``, ``archive_sha256``, ``train_member`` / ``test_member``
        (the files that became our training / test part), ``n_train``,
        ``n_test`` and the ``swap`` applied.

    Raises
    ------
    ValueError
        A file that is not a zip archive, a missing member, a malformed line
        (see :func:`parse_amat`).
    """
    _, train_file, test_file = ARCHIVES[check_variant(name)]
    path = pathlib.Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise ValueError(f"{path}: not a zip archive ({err})") from None
    with archive:
        fit_images, fit_labels, fit_member = read_member(archive, test_file, path)
        test_images, test_labels, test_member = read_member(archive, train_file, path)
    provenance = {
        "archive": str(path),
        "archive_sha256": sha256_file(path),
        "train_member": fit_member,
        "test_member": test_member,
        "n_train": len(fit_labels),
        "n_test": len(test_labels),
        "swap": f"our training part is the archive's {test_file}, our test part its {train_file}",
    }
    return np.concatenate([fit_images, test_images]), np.concatenate([fit_labels, test_labels]), provenance


def download_archive(name, dest_dir, *, url=None, timeout=DEFAULT_TIMEOUT):
    """Download variant ``name``'s archive into ``dest_dir``, atomically.

    The archive is streamed to a temporary file in ``dest_dir``, checked to
    be a zip holding both ``.amat`` members, then renamed to its final name
    (``os.replace``), so ``dest_dir`` never holds a partial archive.

    Parameters
    ----------
    name : str
        One of :data:`ARCHIVES`.
    dest_dir : str or os.PathLike
        Created if needed.
    url : None or str
        Where to fetch it; None is :func:`archive_url` (``file://`` URLs work too).
    timeout : float
        Seconds to wait for the server.

    Returns
    -------
    pathlib.Path
        The archive written.

    Raises
    ------
    ConnectionError
        The URL cannot be reached (e.g. this machine is offline); the
        message says where to put a copy fetched elsewhere.
    ValueError
        What was downloaded is not the expected archive.
    """
    archive, train_file, test_file = ARCHIVES[check_variant(name)]
    url = archive_url(name) if url is None else url
    dest_dir = pathlib.Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    destination = dest_dir / archive
    with atomic_write(destination) as out:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
        except (OSError, HTTPException) as err:
            # urllib.error.URLError and HTTPError are OSErrors
            if isinstance(err, urllib.error.HTTPError):
                reason = f"the server answered HTTP {err.code} {err.reason}"
            else:
                reason = f"{getattr(err, 'reason', err)}; this machine may be offline"
            raise ConnectionError(
                f"cannot download {url} ({reason}). Fetch {archive} elsewhere (from "
                f"{archive_url(name)}) and put it in {dest_dir}, or use the generated variant "
                "(source='generated')"
            ) from None
        out.flush()
        try:
            with zipfile.ZipFile(out.name) as downloaded:
                names = {member.rsplit("/", 1)[-1] for member in downloaded.namelist()}
        except zipfile.BadZipFile:
            raise ValueError(f"{url}: what was downloaded is not a zip archive") from None
        missing = sorted({train_file, test_file} - names)
        if missing:
            raise ValueError(f"{url}: the archive downloaded lacks {missing}")
    return destination
