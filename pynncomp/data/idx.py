"""The IDX file format of MNIST, read and written, raw or gzip-compressed.

An IDX file (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a header
followed by the array, C order, big-endian:

========  ======================================================
bytes     content
========  ======================================================
0-1       two zero bytes
2         the type code (``0x08`` unsigned byte, ``0x09`` signed
          byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32,
          ``0x0E`` float64)
3         the number of dimensions ``d``
4 .. 4d+3 the ``d`` sizes, each a big-endian uint32
then      the ``prod(sizes)`` values
========  ======================================================

so MNIST's label files have the magic number ``0x00000801`` (unsigned
bytes, one dimension) and its image files ``0x00000803`` (unsigned bytes,
three dimensions: count, 28 rows, 28 columns).

A file is taken as gzip-compressed when it starts with the gzip signature
``1f 8b``, whatever its name.  Every defect (a truncated or corrupt gzip
stream, a wrong magic number, a payload that is not exactly
``prod(sizes)`` values) raises ``ValueError`` naming the file.
"""
import gzip
import pathlib
import zlib

import numpy as np

# IDX type code -> big-endian dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
GZIP_SIGNATURE = b"\x1f\x8b"


def decompress(raw, name="<bytes>"):
    """``raw`` decompressed when it is a gzip stream, else ``raw`` itself.

    Parameters
    ----------
    raw : bytes
        The content of a file, gzip or not (told by the signature ``1f 8b``).
    name : str
        Where ``raw`` came from (a path or a URL), for error messages.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        When the gzip stream is truncated or corrupt (bad data, CRC or
        length check), naming ``name``.
    """
    if not raw.startswith(GZIP_SIGNATURE):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(f"{name}: truncated or corrupt gzip data ({err})") from err


def read_idx_bytes(path):
    """The IDX bytes of the file ``path``, decompressed when it is gzip.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    bytes
        The whole IDX content (header and payload).

    Raises
    ------
    ValueError
        When the gzip stream is truncated or corrupt, naming ``path``.
    """
    return decompress(pathlib.Path(path).read_bytes(), str(path))


def decode_idx(data, name="<bytes>", magic=None):
    """The array held by the IDX bytes ``data``.

    Parameters
    ----------
    data : bytes
        A whole IDX file, uncompressed.
    name : str
        What ``data`` came from, for error messages (usually its path).
    magic : int or None
        When given, the magic number the file must have, e.g.
        :data:`LABELS_MAGIC` or :data:`IMAGES_MAGIC`.

    Returns
    -------
    numpy.ndarray
        A new writable array in native byte order, shape ``sizes``.

    Raises
    ------
    ValueError
        Naming ``name``: a header that is not IDX, a magic number other
        than ``magic``, or a payload whose length is not ``prod(sizes)``
        values.
    """
    if len(data) < 4:
        raise ValueError(f"{name}: {len(data)} bytes, too short for an IDX header (4 bytes at least)")
    found_magic = int.from_bytes(data[:4], "big")
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\0\0" or type_code not in IDX_DTYPES:
        raise ValueError(
            f"{name}: magic number 0x{found_magic:08x} is not IDX "
            f"(expected 00 00, a type code in {{{', '.join(f'0x{c:02x}' for c in IDX_DTYPES)}}}, the dimension count)"
        )
    if magic is not None and found_magic != magic:
        raise ValueError(f"{name}: magic number 0x{found_magic:08x}, expected 0x{magic:08x}")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(
            f"{name}: {len(data)} bytes, too short for an IDX header of {ndim} dimensions ({header_size} bytes)"
        )
    sizes = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(sizes, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header_size
    if payload != expected:
        raise ValueError(
            f"{name}: payload of {payload} bytes, but sizes {sizes} of {dtype.newbyteorder('=')} "
            f"need exactly {expected} bytes (truncated or corrupt file)"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header_size)
    return values.astype(dtype.newbyteorder("=")).reshape(sizes)


def read_idx(path, magic=None):
    """The array stored in the IDX file ``path`` (raw or gzip).

    Parameters
    ----------
    path : str or os.PathLike
    magic : int or None
        When given, the magic number the file must have.

    Returns
    -------
    numpy.ndarray
        Native byte order, shape given by the file's header.

    Raises
    ------
    ValueError
        Naming ``path``, for any of the defects listed in this module's
        docstring.
    """
    return decode_idx(read_idx_bytes(path), str(path), magic)


def encode_idx(array):
    """The IDX bytes of ``array``.

    Parameters
    ----------
    array : numpy.ndarray
        dtype uint8, int8, int16, int32, float32 or float64, 1 to 255
        dimensions.

    Returns
    -------
    bytes
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
    native = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
    dtype = array.dtype.newbyteorder("=")
    if dtype not in native:
        accepted = ", ".join(str(d) for d in native)
        raise TypeError(f"array must have a dtype IDX can hold ({accepted}), got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got shape {array.shape}")
    code = native[dtype]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The gzip header carries no time stamp, so equal arrays give equal files.

    Parameters
    ----------
    path : str or os.PathLike
    array : numpy.ndarray
        As accepted by :func:`encode_idx`.
    """
    path = pathlib.Path(path)
    data = encode_idx(array)
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
