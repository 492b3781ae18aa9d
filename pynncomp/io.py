"""Saving and loading models: real compression on disk, not just zeros.

A model file is an uncompressed ``.npz`` (``numpy.savez``) that loads with
``allow_pickle=False`` (the loader also reads members re-packed with zip's
deflate).  It holds

``format``
    the string ``"pynncomp-model"`` (0-d unicode array) and ``version`` (1);
``architecture``
    a JSON string: a list with, per layer, its type and constructor
    arguments (``Dense``: n_in, n_out; ``Conv2D``: in/out channels,
    kernel_size, stride, padding; ``HashedDense``: n_in, n_out, K,
    hash_seed; ``MaxPool2D``: pool_size, stride; ``Dropout``: p; ``ReLU``,
    ``Flatten``: nothing), the parameters' dtype, the storage of its weights
    and any user ``metadata`` (JSON-serialisable);
``layer{i}.{array}``
    the arrays of layer i:

    * ``Dense``/``Conv2D`` without a mask (or with an all-True one): the full
      weight ``W``.  With a mask: the kept weights in CSR over the rows of W
      (Conv2D: W reshaped to (F, C·k_h·k_w)) — ``W.indptr``, ``W.indices``,
      ``W.data`` — each index array in the smallest unsigned dtype holding its
      largest possible value (uint8, uint16, uint32 or uint64); the mask is
      the CSR pattern.
    * ``SparseDense``: its CSR arrays the same way; a mask on ``data`` as
      ``data.keep`` (``numpy.packbits``).
    * ``HashedDense``: the K real weights ``w`` only (Chen et al. 2015): the
      bucket and sign arrays are a pure function of ``hash_seed`` and the
      layer's shape, so they are recomputed rather than stored; a mask on
      ``w`` as ``w.keep`` (packed bits).
    * every bias ``b`` in full.

Dropout's random generator is not stored (a loaded Dropout starts a fresh
one); evaluation never uses it.

Loading untrusted files
-----------------------
A model file may come from anywhere, so :func:`load_model` checks it in an
order that never lets the file choose how much is allocated:

1. The first bytes must be those of a zip archive; anything else is
   refused as "not a pynncomp model file", saying what it looks like (a
   JSON text file, a ``.npy`` array file, unrecognised binary data, ...).
   The archive must hold the ``format`` marker and version 1.
2. The architecture is type-checked field by field (every size an integer
   from 1, or 0 for a padding, to 2**31 - 1; K at most n_in·n_out; dtype
   ``"float32"``/``"float64"``; known storage and layer names; no unknown
   fields) and consecutive layers must fit: a
   Dense, SparseDense or HashedDense takes as many inputs as the layer
   before produced, a Conv2D as many channels; Conv2D and MaxPool2D never
   follow a flat output and fully connected layers never take a 4-D one
   without a Flatten.  The image size is not stored, so after a Flatten of
   F channels the next n_in must only be a multiple of F.
3. Only the members the architecture refers to are read; a member it does
   not refer to makes the file invalid (a version-1 file written by
   :func:`save_model` has none, and data a loader silently skips could be
   part of the model), and it is never decompressed.
4. Each member's ``.npy`` header is read first: plain numbers only (never
   pickled objects), the dtype and shape the architecture implies, and a
   declared size equal to the bytes the archive really holds.
5. The memory the load will allocate is added up from the architecture and
   the headers (:func:`_layer_load_bytes`, plus a fixed allowance for the
   zip directory, read buffers and Python objects) and compared with a limit,
   :data:`DEFAULT_MAX_MODEL_BYTES` (1 GiB) unless ``max_bytes=`` or the
   environment variable ``PYNNCOMP_MAX_MODEL_BYTES`` says otherwise.  The
   models pynncomp trains need a few MB.
6. Only then are the arrays read, and their values checked: canonical CSR
   patterns (indptr from 0 to nnz, never decreasing; column indices in
   range and strictly increasing within a row), packed keep-masks of the
   exact length with zero padding bits, and finite parameters (NaN or inf
   weights make every prediction meaningless; ``allow_nonfinite=True``
   loads them anyway).

Every problem is a ``ValueError`` naming the file and the layer or array.
:func:`save_model` runs steps 2 and 5 on the model it is given, so every
file it writes loads again under the same limit.
"""
import io
import json
import math
import numbers
import os
import struct
import tokenize
import warnings
import zipfile
import zlib

import numpy as np

from ._files import atomic_write
from ._checks import INT32_MAX, UINT32_MAX
from .kernels.reference import HASH_TEMPORARY_BYTES, hash_block_rows
from .nn import Conv2D, Dense, Dropout, Flatten, HashedDense, MaxPool2D, ReLU, Sequential, SparseDense

SUPPORTED = (Dense, SparseDense, HashedDense, Conv2D, MaxPool2D, ReLU, Dropout, Flatten)
FORMAT = "pynncomp-model"
VERSION = 1

DEFAULT_MAX_MODEL_BYTES = 2**30
"""Default limit (1 GiB) on the memory one :func:`load_model` may allocate.

The networks pynncomp trains (LeNet-5, 431K parameters; LeNet-300-100,
266K), dense or pruned, need less than a fiftieth of it
(tests/test_io.py checks this), and a hostile file cannot make a load take
more than a laptop can spare.  Override it per call with ``max_bytes=`` or
for a whole process with :data:`MAX_BYTES_ENV`."""

MAX_BYTES_ENV = "PYNNCOMP_MAX_MODEL_BYTES"
"""Environment variable that replaces :data:`DEFAULT_MAX_MODEL_BYTES` (a whole number of bytes)."""

# The fields each layer type stores, besides "type"; one home for the writer and the reader.
LAYER_FIELDS = {
    "Dense": ("n_in", "n_out", "storage", "dtype"),
    "Conv2D": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "storage", "dtype"),
    "SparseDense": ("n_in", "n_out", "dtype"),
    "HashedDense": ("n_in", "n_out", "K", "hash_seed", "dtype"),
    "MaxPool2D": ("pool_size", "stride"),
    "Dropout": ("p",),
    "ReLU": (),
    "Flatten": (),
}
STORAGES = ("dense", "dense-masked", "csr")
DTYPES = ("float32", "float64")
FULLY_CONNECTED = ("Dense", "SparseDense", "HashedDense")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_NPY_MAGIC = b"\x93NUMPY"
# numpy's own default max_header_size; every header save_model writes is under 200 bytes.
_MAX_NPY_HEADER = 10000
_READ_CHUNK = 1 << 20
_SNIFF_BYTES = 512
# The architecture JSON is counted at 8 times its .npy bytes (4 per character):
# parsed, text can take ~20 bytes per character ("[]," is a 56-byte list).
_ARCHITECTURE_FACTOR = 8
_MARKER_MAX_BYTES = 1024
# What a load allocates besides the arrays: the zip directory, .npy headers
# and Python objects (a generous allowance; tests/test_io.py checks that the
# whole estimate bounds the peak tracemalloc sees), and the read buffers (a
# chunk and zipfile's copy of it).
_BASE_BYTES = 2**16
_MEMBER_BYTES = 2**11


def _overhead(layer_member_bytes):
    """Bytes of a load that are not arrays, for layer arrays of ``layer_member_bytes`` bytes each."""
    largest = max(layer_member_bytes, default=0)
    return _BASE_BYTES + _MEMBER_BYTES * (len(layer_member_bytes) + 3) + 2 * min(largest, _READ_CHUNK)


class _BadFile(Exception):
    """A problem with a model file's content; the loaders turn it into a ValueError naming the file."""


class _NotAModel(_BadFile):
    """A zip archive whose format marker is not pynncomp's: the message says what it is."""


# ---- saving --------------------------------------------------------------


def index_dtype(largest):
    """The smallest unsigned integer dtype that holds every value in [0, largest]."""
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        if largest <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    raise ValueError(f"largest must fit in 64 bits, got {largest}")


def _csr(W2d, keep_mask):
    """CSR arrays (indptr, indices, data) of the kept entries of a 2-D W, minimal index dtypes."""
    rows, cols = np.nonzero(keep_mask)  # row-major: canonical CSR order
    indptr = np.zeros(W2d.shape[0] + 1, dtype=np.int64)
    np.cumsum(keep_mask.sum(axis=1), out=indptr[1:])
    return (indptr.astype(index_dtype(rows.size)),
            cols.astype(index_dtype(W2d.shape[1] - 1)),
            W2d[rows, cols])


def _save_weight(arrays, prefix, W, keep_mask):
    """Store a Dense/Conv2D weight, full or CSR; returns its storage name."""
    if keep_mask is None or keep_mask.all():
        arrays[prefix] = W
        return "dense" if keep_mask is None else "dense-masked"
    W2d = W.reshape(W.shape[0], -1)
    (arrays[prefix + ".indptr"], arrays[prefix + ".indices"],
     arrays[prefix + ".data"]) = _csr(W2d, keep_mask.reshape(W2d.shape))
    return "csr"


def _describe(index, layer, arrays):
    """The architecture entry of one layer; its arrays go into ``arrays``."""
    prefix = f"layer{index}."
    if type(layer) not in SUPPORTED:
        # exact types: a subclass could hold state this format does not know
        raise TypeError(
            f"model.layers[{index}] is a {type(layer).__name__}, which save_model cannot store; supported: "
            + ", ".join(kind.__name__ for kind in SUPPORTED)
        )
    if isinstance(layer, (Dense, Conv2D)):
        if isinstance(layer, Dense):
            entry = {"type": "Dense", "n_in": layer.n_in, "n_out": layer.n_out}
        else:
            entry = {"type": "Conv2D", "in_channels": layer.in_channels, "out_channels": layer.out_channels,
                     "kernel_size": list(layer.kernel_size), "stride": list(layer.stride),
                     "padding": list(layer.padding)}
        entry["storage"] = _save_weight(arrays, prefix + "W", layer.params["W"], layer.masks.get("W"))
    elif isinstance(layer, SparseDense):
        entry = {"type": "SparseDense", "n_in": layer.n_in, "n_out": layer.n_out}
        arrays[prefix + "indptr"] = layer.indptr.astype(index_dtype(layer.nnz))
        arrays[prefix + "indices"] = layer.indices.astype(index_dtype(layer.n_out - 1))
        arrays[prefix + "data"] = layer.params["data"]
        if "data" in layer.masks:
            arrays[prefix + "data.keep"] = np.packbits(layer.masks["data"])
    elif isinstance(layer, HashedDense):
        entry = {"type": "HashedDense", "n_in": layer.n_in, "n_out": layer.n_out, "K": layer.K,
                 "hash_seed": layer.hash_seed}
        arrays[prefix + "w"] = layer.params["w"]
        if "w" in layer.masks:
            arrays[prefix + "w.keep"] = np.packbits(layer.masks["w"])
    elif isinstance(layer, MaxPool2D):
        entry = {"type": "MaxPool2D", "pool_size": list(layer.pool_size), "stride": list(layer.stride)}
    elif isinstance(layer, Dropout):
        entry = {"type": "Dropout", "p": layer.p}
    else:
        entry = {"type": type(layer).__name__}
    if "b" in layer.params:
        arrays[prefix + "b"] = layer.params["b"]
        entry["dtype"] = str(layer.params["b"].dtype)
    return entry


def save_model(path, model, metadata=None):
    """Write ``model`` (a Sequential) to ``path`` as a pynncomp ``.npz`` model file.

    Parameters
    ----------
    path : str or path-like
        Written atomically (:func:`pynncomp._files.atomic_write`).
    model : Sequential
    metadata : None or JSON-serialisable dict
        Stored with the architecture; :func:`load_metadata` reads it back.

    Returns
    -------
    int
        The file's size in bytes.

    Raises
    ------
    TypeError
        ``model`` is not a Sequential of the supported layers, or
        ``metadata`` not a dict.
    ValueError
        ``metadata`` is not JSON-serialisable; consecutive layers do not
        fit (the file could not be loaded); or loading the file would need
        more memory than :func:`load_model` allows without ``max_bytes``
        (:data:`DEFAULT_MAX_MODEL_BYTES`, or ``PYNNCOMP_MAX_MODEL_BYTES``
        when set).  Nothing is written then.  Non-finite weights are
        written as they are (:func:`load_model` refuses them unless
        ``allow_nonfinite=True``).
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a pynncomp Sequential, got {type(model).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be None or a dict, got {type(metadata).__name__}")
    arrays = {}
    layers = [_describe(index, layer, arrays) for index, layer in enumerate(model.layers)]
    try:
        description = json.dumps({"layers": layers, "metadata": metadata or {}})
    except (TypeError, ValueError) as error:
        raise ValueError(f"metadata must be JSON-serialisable: {error}") from None
    try:
        _check_loadable(layers, arrays, description)
    except _BadFile as problem:
        raise ValueError(f"save_model cannot write a loadable file for this model: {problem}") from None
    arrays["format"] = np.array(FORMAT)
    arrays["version"] = np.array(VERSION)
    arrays["architecture"] = np.array(description)
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)
    return os.path.getsize(path)


def _check_loadable(layers, arrays, description):
    """The loader's checks of the architecture and the memory, on what save_model is about to write."""
    entries = [_check_entry(index, entry) for index, entry in enumerate(layers)]
    _check_chain(entries)
    members = {name: _Member(name, array.shape, array.dtype, False, 0, array.nbytes, None)
               for name, array in arrays.items()}
    layer_members = [_layer_members(index, entry, members) for index, entry in enumerate(entries)]
    # counted as the loader counts them; the architecture is UTF-32, 4 bytes per character
    markers = np.array(FORMAT).nbytes + np.array(VERSION).nbytes
    used = (_overhead([array.nbytes for array in arrays.values()]) + markers
            + _ARCHITECTURE_FACTOR * 4 * len(description))
    # sparse=True costs the most: the file must load either way
    _check_budget(entries, layer_members, used, _byte_limit(None), sparse=True, saving=True)


# ---- the memory limit ----------------------------------------------------


def _byte_limit(max_bytes):
    """``(limit in bytes, where it comes from)``: ``max_bytes``, else the environment, else the default."""
    if max_bytes is not None:
        if isinstance(max_bytes, (bool, np.bool_)) or not isinstance(max_bytes, numbers.Integral):
            raise TypeError(f"max_bytes must be None or an integer number of bytes >= 1, "
                            f"got {type(max_bytes).__name__} {max_bytes!r}")
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be None or an integer number of bytes >= 1, got {max_bytes}")
        return int(max_bytes), "max_bytes"
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_MODEL_BYTES, "the default limit"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"the environment variable {MAX_BYTES_ENV} must be a whole number of bytes >= 1 "
                         f"(e.g. 4294967296 for 4 GiB), got {text!r}")
    return value, f"the environment variable {MAX_BYTES_ENV}"


def _bytes_text(n):
    """``12,800,000,000 bytes (11.9 GiB)``."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n:,} bytes ({n / size:.1f} {unit})"
    return f"{n:,} bytes"


# ---- what a file is, when it is not a model -------------------------------


def _looks_like_text(head):
    """``head`` decoded as UTF-8 text, or None if it is binary."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        # a multi-byte character cut by the sniffing window is still text
        if len(head) < _SNIFF_BYTES or error.start < len(head) - 3:
            return None
        text = head[:error.start].decode("utf-8")
    if any(ord(char) < 32 and char not in "\t\n\r\f" for char in text):
        return None
    return text


def _what_is(head):
    """What the first bytes of a file say it is, for "not a pynncomp model file" messages."""
    if not head:
        return "an empty file"
    if head.startswith(_NPY_MAGIC):
        return "a .npy array file (a single NumPy array)"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "an HDF5 file"
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed data"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle"
    text = _looks_like_text(head)
    if text is None:
        return "unrecognised binary data"
    return "a JSON text file" if text.lstrip()[:1] in ("{", "[") else "a text file"


def _shown(path):
    """The path as messages quote it; TypeError for what is not a path."""
    try:
        return repr(os.fsdecode(os.fspath(path)))
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__} {path!r}"[:200]) from None


def _not_a_model(shown, what):
    return ValueError(f"{shown} is not a pynncomp model file: it is {what}; a model file is the .npz "
                      f"archive written by pynncomp.io.save_model")


# ---- reading members -----------------------------------------------------

class _Member:
    """One ``.npy`` member as its header declares it (``info`` is None for arrays about to be saved)."""

    __slots__ = ("name", "shape", "dtype", "fortran_order", "data_offset", "nbytes", "info")

    def __init__(self, name, shape, dtype, fortran_order, data_offset, nbytes, info):
        self.name, self.shape, self.dtype = name, tuple(shape), np.dtype(dtype)
        self.fortran_order, self.data_offset, self.nbytes, self.info = fortran_order, data_offset, nbytes, info


def _member_header(archive, name, max_bytes):
    """The :class:`_Member` of ``name`` (without ".npy"), its header checked and nothing else read.

    ``max_bytes`` bounds the declared data size, before any of it is read.
    """
    try:
        info = archive.getinfo(name + ".npy")
    except KeyError:
        raise _BadFile(f"the member {name} is missing") from None
    if info.flag_bits & 0x1:
        raise _BadFile(f"the member {name} is encrypted; model files are plain numpy.savez archives")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _BadFile(f"the member {name} uses zip compression method {info.compress_type}; "
                       f"model files are stored (method 0) or deflated (method 8)")
    with archive.open(info) as stream:
        head = stream.read(min(info.file_size, 12 + _MAX_NPY_HEADER))
    if not head.startswith(_NPY_MAGIC) or len(head) < 10:
        raise _BadFile(f"the member {name} is not a .npy array (no .npy magic string)")
    version = (head[6], head[7])
    if version not in ((1, 0), (2, 0)):
        raise _BadFile(f"the member {name} uses .npy format version {version[0]}.{version[1]}; "
                       f"model files use 1.0 or 2.0")
    length_bytes = 2 if version == (1, 0) else 4
    if len(head) < 8 + length_bytes:
        raise _BadFile(f"the .npy header of the member {name} is cut short")
    header_length = int.from_bytes(head[8:8 + length_bytes], "little")
    if header_length > _MAX_NPY_HEADER:
        raise _BadFile(f"the .npy header of the member {name} declares {header_length:,} bytes, "
                       f"more than the {_MAX_NPY_HEADER:,} any array needs")
    buffer = io.BytesIO(head)
    try:
        with warnings.catch_warnings():
            # numpy.savez never writes a header that needs numpy's Python 2 repair or
            # a deprecated dtype code: their warnings mean a damaged header
            warnings.simplefilter("error")
            np.lib.format.read_magic(buffer)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran_order, dtype = read_header(buffer)
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError, RecursionError, Warning) as error:
        raise _BadFile(f"the .npy header of the member {name} is malformed ({error})"[:400]) from None
    if dtype.hasobject:
        raise _BadFile(f"the member {name} holds pickled Python objects (dtype {dtype}); model files hold "
                       f"only numbers and text, and pynncomp never unpickles a model file")
    if (dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufU"
            or dtype.itemsize == 0):
        raise _BadFile(f"the member {name} has dtype {dtype}; model files hold plain numbers and text only")
    if any(type(size) is not int or size < 0 for size in shape):
        raise _BadFile(f"the .npy header of the member {name} declares the invalid shape {shape!r}")
    nbytes = math.prod(shape) * dtype.itemsize
    data_offset = buffer.tell()
    if data_offset + nbytes != info.file_size:
        raise _BadFile(f"the member {name} declares shape {shape} of {dtype} ({nbytes:,} bytes of data) "
                       f"but holds {max(info.file_size - data_offset, 0):,} bytes: it is corrupt or truncated")
    if nbytes > max_bytes:
        raise _BadFile(f"the member {name} declares {_bytes_text(nbytes)} of data, more than the "
                       f"{_bytes_text(max_bytes)} it may take (load_model's max_bytes, or {MAX_BYTES_ENV})")
    return _Member(name, shape, dtype, fortran_order, data_offset, nbytes, info)


def _read_member(archive, member):
    """The array of a checked :class:`_Member`, read in chunks into its own buffer."""
    array = np.empty(math.prod(member.shape), dtype=member.dtype)
    flat_bytes = array.view(np.uint8)
    with archive.open(member.info) as stream:
        stream.read(member.data_offset)
        filled = 0
        while filled < member.nbytes:
            chunk = stream.read(min(_READ_CHUNK, member.nbytes - filled))
            if not chunk:
                raise _BadFile(f"the member {member.name} ends after {filled:,} of its {member.nbytes:,} "
                               f"bytes of data: it is corrupt or truncated")
            flat_bytes[filled:filled + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            filled += len(chunk)
        # reaching the end makes zipfile compare the member's CRC-32
        stream.read(1)
    if member.fortran_order:
        return np.ascontiguousarray(array.reshape(member.shape[::-1]).T)
    return array.reshape(member.shape)


def _read_marker(archive, name, kind, limit):
    """A 0-d string or integer member (``format``/``version``/``architecture``)."""
    member = _member_header(archive, name, limit)
    if member.shape != () or member.dtype.kind not in kind:
        what = "a string" if kind == "U" else "an integer"
        raise _BadFile(f"the member {name} must be {what} (a 0-d array), got shape {member.shape} "
                       f"of dtype {member.dtype}")
    array = _read_member(archive, member)
    if kind == "U":
        # numpy stores text as UTF-32 code points; one past U+10FFFF cannot become a str
        code_points = array.reshape(-1).view(member.dtype.str[0] + "u4")
        if code_points.size and code_points.max() > 0x10FFFF:
            raise _BadFile(f"the member {name} holds an invalid character (code point {int(code_points.max()):#x})")
    return member, array[()]


# ---- the architecture ----------------------------------------------------


def _where(index, entry):
    kind = entry.get("type") if isinstance(entry, dict) else None
    return f"layer {index} ({kind})" if isinstance(kind, str) and kind in LAYER_FIELDS else f"layer {index}"


def _int_field(where, field, value, low, high=INT32_MAX):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadFile(f"{where}: {field} must be an integer in [{low}, {high}], "
                       f"got {type(value).__name__} {value!r}"[:300])
    if not low <= value <= high:
        raise _BadFile(f"{where}: {field} must be an integer in [{low}, {high}], got {value}"[:300])
    return value


def _pair_field(where, field, value, low):
    if not isinstance(value, list) or len(value) != 2:
        raise _BadFile(f"{where}: {field} must be a list of two integers >= {low}, got {value!r}"[:300])
    return tuple(_int_field(where, f"{field}[{k}]", item, low) for k, item in enumerate(value))


def _check_entry(index, entry):
    """One architecture entry, every field type-checked; returned with tuples for pairs."""
    if not isinstance(entry, dict):
        raise _BadFile(f"layer {index} must be a JSON object, got {type(entry).__name__}")
    kind = entry.get("type")
    if not isinstance(kind, str) or kind not in LAYER_FIELDS:
        raise _BadFile(f"layer {index} has the unknown type {kind!r}"[:200]
                       + f"; known: {', '.join(LAYER_FIELDS)}")
    where = _where(index, entry)
    fields = LAYER_FIELDS[kind]
    for field in fields:
        if field not in entry:
            raise _BadFile(f"{where} lacks the field {field!r}")
    unknown = sorted(set(entry) - set(fields) - {"type"})
    if unknown:
        raise _BadFile(f"{where} has the unknown field {unknown[0]!r}"[:200]
                       + f"; a {kind} entry has exactly: {', '.join(('type',) + fields)}")
    checked = {"type": kind}
    for field in ("n_in", "n_out", "in_channels", "out_channels"):
        if field in fields:
            checked[field] = _int_field(where, field, entry[field], 1)
    for field, low in (("kernel_size", 1), ("pool_size", 1), ("stride", 1), ("padding", 0)):
        if field in fields:
            checked[field] = _pair_field(where, field, entry[field], low)
    if kind == "HashedDense":
        checked["K"] = _int_field(where, "K", entry["K"], 1, min(checked["n_in"] * checked["n_out"], INT32_MAX))
        checked["hash_seed"] = _int_field(where, "hash_seed", entry["hash_seed"], 0, UINT32_MAX)
    if kind == "Dropout":
        p = entry["p"]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise _BadFile(f"{where}: p must be a number in [0, 1), got {p!r}"[:300])
        checked["p"] = float(p)
    if "dtype" in fields:
        if entry["dtype"] not in DTYPES:
            raise _BadFile(f"{where}: dtype must be one of {', '.join(DTYPES)}, got {entry['dtype']!r}"[:300])
        checked["dtype"] = np.dtype(entry["dtype"])
    if "storage" in fields:
        if entry["storage"] not in STORAGES:
            raise _BadFile(f"{where}: storage must be one of {', '.join(STORAGES)}, got {entry['storage']!r}"[:300])
        checked["storage"] = entry["storage"]
    return checked


def _check_chain(entries):
    """Consecutive layers must fit together (see the module docstring, step 2).

    ``shape`` is what the layers so far output: ``("unknown",)`` before a
    layer fixes it, ``("image", C)`` (C None if unknown), or ``("flat", n,
    exact)``: exactly n features, or a multiple of n when a Flatten of n
    channels of unknown size made them.
    """
    shape, source = ("unknown",), None
    for index, entry in enumerate(entries):
        kind = entry["type"]
        where = _where(index, entry)
        if kind in FULLY_CONNECTED:
            if shape[0] == "image":
                raise _BadFile(f"{where} takes flat inputs but layer {source} outputs 4-D images: "
                               f"a Flatten must come between them")
            if shape[0] == "flat" and shape[1] is not None:
                n, exact = shape[1], shape[2]
                if exact and entry["n_in"] != n:
                    raise _BadFile(f"{where} has n_in {entry['n_in']} but layer {source} outputs {n} features")
                if not exact and entry["n_in"] % n:
                    raise _BadFile(f"{where} has n_in {entry['n_in']}, which is not a multiple of the "
                                   f"{n} channels layer {source} outputs (flattened)")
            shape, source = ("flat", entry["n_out"], True), index
        elif kind in ("Conv2D", "MaxPool2D"):
            if shape[0] == "flat":
                raise _BadFile(f"{where} takes 4-D images but layer {source} outputs flat features")
            channels = shape[1] if shape[0] == "image" else None
            if kind == "Conv2D":
                if channels is not None and entry["in_channels"] != channels:
                    raise _BadFile(f"{where} has in_channels {entry['in_channels']} but layer {source} "
                                   f"outputs {channels} channels")
                shape, source = ("image", entry["out_channels"]), index
            elif shape[0] != "image":
                shape, source = ("image", None), index
        elif kind == "Flatten" and shape[0] != "flat":
            shape = ("flat", shape[1] if shape[0] == "image" else None, False)
            source = index if shape[1] is None else source


def _read_description(archive, limit):
    """``(architecture dict, bytes allocated so far)``, the format marker and version checked."""
    used = 0
    for name, kind in (("format", "U"), ("version", "iu")):
        member, value = _read_marker(archive, name, kind, _MARKER_MAX_BYTES)
        used += member.nbytes
        if name == "format" and value != FORMAT:
            raise _NotAModel(f"a zip archive whose format marker is {str(value)[:80]!r}, not {FORMAT!r}")
        if name == "version" and value != VERSION:
            raise _BadFile(f"it has format version {value}; this pynncomp reads version {VERSION}")
    member, text = _read_marker(archive, "architecture", "U", limit // _ARCHITECTURE_FACTOR)
    used += _ARCHITECTURE_FACTOR * member.nbytes
    try:
        description = json.loads(str(text))
    except (ValueError, RecursionError) as error:
        raise _BadFile(f"its architecture is not valid JSON ({error})"[:300]) from None
    if not isinstance(description, dict) or set(description) != {"layers", "metadata"}:
        raise _BadFile("its architecture must be a JSON object with exactly the keys 'layers' and 'metadata'")
    if not isinstance(description["layers"], list) or not description["layers"]:
        raise _BadFile("its architecture's 'layers' must be a non-empty list")
    if not isinstance(description["metadata"], dict):
        raise _BadFile(f"its architecture's 'metadata' must be a JSON object, "
                       f"got {type(description['metadata']).__name__}")
    return description, used


# ---- the arrays of each layer --------------------------------------------


def _weight_shape(entry):
    """Shape of a Dense/Conv2D weight W."""
    if entry["type"] == "Dense":
        return (entry["n_in"], entry["n_out"])
    return (entry["out_channels"], entry["in_channels"]) + entry["kernel_size"]


def _layer_members(index, entry, members):
    """The checked :class:`_Member` headers of layer ``index``, by array name (``W``, ``b``, ...).

    ``members`` maps every member name of the file to its header.  Each is
    checked against the architecture: float arrays have the layer's dtype
    and shape, index arrays an integer dtype and their CSR length, packed
    masks uint8 and exactly ceil(n / 8) bytes.
    """
    kind = entry["type"]
    if kind not in ("Dense", "Conv2D", "SparseDense", "HashedDense"):
        return {}
    where, prefix, dtype = _where(index, entry), f"layer{index}.", entry["dtype"]

    def get(suffix, optional=False):
        member = members.get(prefix + suffix)
        if member is None and not optional:
            raise _BadFile(f"the array {prefix + suffix} of {where} is missing")
        return member

    def floats(member, shape):
        if member.dtype != dtype:
            raise _BadFile(f"{member.name} has dtype {member.dtype}, but the architecture of {where} says {dtype}")
        if shape is not None and member.shape != shape:
            raise _BadFile(f"{member.name} has shape {member.shape}; {where} needs {shape}")
        if shape is None and len(member.shape) != 1:
            raise _BadFile(f"{member.name} must be 1-D, got shape {member.shape}")
        return member

    def integers(member, length):
        if member.dtype.kind not in "iu":
            raise _BadFile(f"{member.name} must hold integers, got dtype {member.dtype}")
        if member.shape != (length,):
            raise _BadFile(f"{member.name} has shape {member.shape}; {where} needs ({length},)")
        return member

    def packed(member, count):
        if member is None:
            return None
        if member.dtype != np.uint8 or member.shape != (-(-count // 8),):
            raise _BadFile(f"{member.name} must be a packed keep-mask: uint8 of shape ({-(-count // 8)},) "
                           f"for {count} mask bits, got {member.dtype} of shape {member.shape}")
        return member

    n_out = entry["out_channels"] if kind == "Conv2D" else entry["n_out"]
    chosen = {"b": floats(get("b"), (n_out,))}
    if kind in ("Dense", "Conv2D"):
        shape = _weight_shape(entry)
        if entry["storage"] != "csr":
            chosen["W"] = floats(get("W"), shape)
        else:
            rows, cols = shape[0], math.prod(shape[1:])
            data = floats(get("W.data"), None)
            if data.shape[0] > rows * cols:
                raise _BadFile(f"{data.name} holds {data.shape[0]:,} weights, more than the "
                               f"{rows:,} x {cols:,} of {where}")
            chosen["W.indptr"] = integers(get("W.indptr"), rows + 1)
            chosen["W.indices"] = integers(get("W.indices"), data.shape[0])
            chosen["W.data"] = data
    elif kind == "SparseDense":
        data = floats(get("data"), None)
        if data.shape[0] > entry["n_in"] * entry["n_out"]:
            raise _BadFile(f"{data.name} holds {data.shape[0]:,} weights, more than the "
                           f"{entry['n_in']:,} x {entry['n_out']:,} of {where}")
        chosen["indptr"] = integers(get("indptr"), entry["n_in"] + 1)
        chosen["indices"] = integers(get("indices"), data.shape[0])
        chosen["data"] = data
        chosen["data.keep"] = packed(get("data.keep", optional=True), data.shape[0])
    else:
        chosen["w"] = floats(get("w"), (entry["K"],))
        chosen["w.keep"] = packed(get("w.keep", optional=True), entry["K"])
    return {name: member for name, member in chosen.items() if member is not None}


def _layer_load_bytes(entry, members, sparse):
    """Upper estimate of the bytes loading one layer allocates.

    Parameters
    ----------
    entry : dict
        The layer's checked architecture entry.
    members : dict
        Its arrays in the file (``.nbytes`` and ``.shape`` of each).
    sparse : bool
        As for :func:`load_model`.

    Returns
    -------
    int
        The arrays read from the file, plus what the layer rebuilds from
        them, with s the dtype's size:

        * Dense/Conv2D with n weights: (8 + s)·n for the constructor's
          initial weights (drawn in float64, then cast), s·n for the W
          rebuilt from CSR, 2·n for a keep-mask and the copy the layer
          keeps, 8 bytes per kept weight and 16 per row to expand CSR; a
          masked Dense loaded ``sparse`` adds (60 + 2s) per kept weight and
          24 per row for its SparseDense twin.
        * SparseDense with nnz weights: 16 per row and (40 + s) per weight
          for its validated index arrays and data, 2 per weight for a mask.
        * HashedDense: 5 per virtual weight (int32 bucket and int8 sign of
          the hash), the NumPy hash's temporaries for one block of rows
          (:func:`pynncomp.kernels.reference.hash_buckets`), (8 + 2s) per
          real weight (initial and stored), 2 per real weight for a mask.
    """
    from_file = sum(member.nbytes for member in members.values())
    kind = entry["type"]
    if kind not in ("Dense", "Conv2D", "SparseDense", "HashedDense"):
        return from_file
    s = entry["dtype"].itemsize
    if kind == "HashedDense":
        K = entry["K"]
        n_in, n_out = entry["n_in"], entry["n_out"]
        block = min(n_in, hash_block_rows(n_out)) * n_out  # the NumPy hash's temporaries
        return (from_file + 5 * n_in * n_out + HASH_TEMPORARY_BYTES * block + (8 + 2 * s) * K
                + 2 * K * ("w.keep" in members))
    if kind == "SparseDense":
        nnz = members["data"].shape[0]
        return from_file + 16 * (entry["n_in"] + 1) + (40 + s) * nnz + 2 * nnz * ("data.keep" in members)
    shape = _weight_shape(entry)
    n, rows = math.prod(shape), shape[0] + 1
    needed = from_file + (8 + s) * n
    if entry["storage"] == "dense":
        return needed
    kept = members["W.data"].shape[0] if entry["storage"] == "csr" else n
    needed += 2 * n
    if entry["storage"] == "csr":
        needed += s * n + 8 * kept + 16 * rows
    if sparse and kind == "Dense":
        needed += (60 + 2 * s) * kept + 24 * rows
    return needed


def _check_budget(entries, layer_members, used, limit, sparse, saving=False):
    """Add up :func:`_layer_load_bytes` layer by layer; refuse the first layer that passes the limit."""
    limit_bytes, limit_source = limit
    for index, (entry, members) in enumerate(zip(entries, layer_members)):
        needed = _layer_load_bytes(entry, members, sparse)
        used += needed
        if used > limit_bytes:
            size = ""
            if entry["type"] in ("Dense", "Conv2D"):
                size = " " + "x".join(str(n) for n in _weight_shape(entry))
            elif entry["type"] in ("SparseDense", "HashedDense"):
                size = f" {entry['n_in']}x{entry['n_out']}"
            how = (f"to save it, set the environment variable {MAX_BYTES_ENV} to a larger number of bytes "
                   f"(loading the file will need the same)" if saving else
                   f"if you trust the file, pass load_model(..., max_bytes=N) or set the environment "
                   f"variable {MAX_BYTES_ENV} to a larger number of bytes")
            raise _BadFile(
                f"{_where(index, entry)}{size} needs about {_bytes_text(needed)} to load, bringing the "
                f"load to {_bytes_text(used)}, over the limit of {_bytes_text(limit_bytes)} set by "
                f"{limit_source}; {how}"
            )
    return used


def _check_csr(indptr, indices, n_rows, n_cols, names):
    """Canonical CSR over the rows of an n_rows x n_cols weight; returns int64 copies.

    The rules of :func:`pynncomp._checks.check_csr`, with messages
    that name the file's arrays: ``names`` = (indptr's, indices').
    """
    indptr_name, indices_name = names
    nnz = indices.shape[0]
    # compared in the stored dtype: a uint64 value past 2**63 must not wrap before it is judged
    if indptr[0] != 0:
        raise _BadFile(f"{indptr_name} must start at 0, got {int(indptr[0])}")
    drops = np.flatnonzero(indptr[1:] < indptr[:-1])
    if drops.size:
        row = int(drops[0])
        raise _BadFile(f"{indptr_name} must never decrease, but goes from {int(indptr[row])} to "
                       f"{int(indptr[row + 1])} at row {row}")
    if indptr[-1] != nnz:
        raise _BadFile(f"{indptr_name} must end at the number of stored weights {nnz}, got {int(indptr[-1])}")
    indptr = indptr.astype(np.int64)
    if nnz == 0:
        return indptr, np.zeros(0, dtype=np.int64)
    outside = np.flatnonzero((indices < 0) | (indices >= n_cols))
    if outside.size:
        at = int(outside[0])
        raise _BadFile(f"{indices_name} holds the column index {int(indices[at])} at position {at}, "
                       f"outside [0, {n_cols})")
    indices = indices.astype(np.int64)
    row_start = np.zeros(nnz, dtype=bool)
    row_start[indptr[:-1][indptr[:-1] < indptr[1:]]] = True
    unordered = np.flatnonzero((np.diff(indices) <= 0) & ~row_start[1:])
    if unordered.size:
        at = int(unordered[0]) + 1
        row = int(np.searchsorted(indptr, at, side="right")) - 1
        raise _BadFile(f"{indices_name} must be strictly increasing within each row, but row {row} has "
                       f"column {int(indices[at - 1])} then {int(indices[at])} (position {at}; a duplicate "
                       f"would lose a weight)")
    return indptr, indices


def _unpack_keep(name, packed, count):
    """The bool keep-mask of ``count`` entries from the numpy.packbits bytes of member ``name``."""
    # numpy.packbits writes zeros after the last mask bit; anything else was not written by it
    if count % 8 and packed[-1] & (0xFF >> (count % 8)):
        raise _BadFile(f"{name} has non-zero padding bits after its {count} mask bits "
                       f"(numpy.packbits writes zeros there)")
    return np.unpackbits(packed, count=count).astype(bool)


def _checked_arrays(index, entry, arrays):
    """Value checks of one layer's arrays: int64 CSR index arrays and bool keep-masks come back."""
    prefix = f"layer{index}."
    checked = dict(arrays)
    kind = entry["type"]
    if kind in ("Dense", "Conv2D") and entry["storage"] == "csr":
        shape = _weight_shape(entry)
        checked["W.indptr"], checked["W.indices"] = _check_csr(
            arrays["W.indptr"], arrays["W.indices"], shape[0], math.prod(shape[1:]),
            (prefix + "W.indptr", prefix + "W.indices"))
    elif kind == "SparseDense":
        checked["indptr"], checked["indices"] = _check_csr(
            arrays["indptr"], arrays["indices"], entry["n_in"], entry["n_out"],
            (prefix + "indptr", prefix + "indices"))
    for name, count_of in (("data.keep", "data"), ("w.keep", "w")):
        if name in arrays:
            checked[name] = _unpack_keep(prefix + name, arrays[name], arrays[count_of].shape[0])
    return checked


def _check_finite(index, entry, arrays):
    """Refuse NaN and inf parameters (they make every prediction meaningless)."""
    for name in ("W", "W.data", "data", "w", "b"):
        array = arrays.get(name)
        if array is None:
            continue
        bad = array.size - int(np.count_nonzero(np.isfinite(array)))
        if bad:
            raise _BadFile(
                f"layer{index}.{name} of {_where(index, entry)} holds {bad:,} non-finite values (NaN or inf) "
                f"among its {array.size:,}, which would make every prediction meaningless (load_model(..., "
                f"allow_nonfinite=True) loads it anyway)"
            )


# ---- rebuilding the layers -----------------------------------------------


def _dense_from_csr(indptr, indices, data, shape):
    """W (n_rows, n_cols) and its keep-mask from a checked CSR pattern."""
    W = np.zeros(shape, dtype=data.dtype)
    keep_mask = np.zeros(shape, dtype=bool)
    rows = np.repeat(np.arange(shape[0]), np.diff(indptr))
    W[rows, indices] = data
    keep_mask[rows, indices] = True
    return W, keep_mask


def _build(index, entry, arrays, sparse):
    """The layer of a checked entry from its checked arrays."""
    kind = entry["type"]
    if kind in ("ReLU", "Flatten"):
        return ReLU() if kind == "ReLU" else Flatten()
    if kind == "Dropout":
        return Dropout(entry["p"])
    if kind == "MaxPool2D":
        return MaxPool2D(entry["pool_size"], entry["stride"])
    b = arrays["b"]
    if kind == "HashedDense":
        return HashedDense.from_state({"n_in": entry["n_in"], "n_out": entry["n_out"], "K": entry["K"],
                                       "hash_seed": entry["hash_seed"], "w": arrays["w"], "b": b,
                                       "w_mask": arrays.get("w.keep")})
    if kind == "SparseDense":
        layer = SparseDense(arrays["indptr"], arrays["indices"], arrays["data"], b, entry["n_out"])
        if "data.keep" in arrays:
            layer.set_mask("data", arrays["data.keep"])
        return layer
    if kind == "Dense":
        layer = Dense(entry["n_in"], entry["n_out"], seed=0, dtype=entry["dtype"])
    else:
        layer = Conv2D(entry["in_channels"], entry["out_channels"], entry["kernel_size"],
                       stride=entry["stride"], padding=entry["padding"], seed=0, dtype=entry["dtype"])
    shape = _weight_shape(entry)
    if entry["storage"] == "csr":
        W2d, keep_mask = _dense_from_csr(arrays["W.indptr"], arrays["W.indices"], arrays["W.data"],
                                         (shape[0], math.prod(shape[1:])))
        W, keep_mask = W2d.reshape(shape), keep_mask.reshape(shape)
    else:
        W = arrays["W"]
        keep_mask = np.ones(shape, dtype=bool) if entry["storage"] == "dense-masked" else None
    layer.params["W"] = W
    layer.params["b"] = b
    if keep_mask is not None:
        if sparse and kind == "Dense":
            return SparseDense.from_weights(W, b, keep_mask)
        layer.set_mask("W", keep_mask)
    return layer


# ---- loading -------------------------------------------------------------

# What a damaged zip archive makes zipfile, zlib or struct raise.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, struct.error, NotImplementedError)


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}"[:200])
    return bool(value)


class _ModelArchive:
    """The model file open as a zip archive, or ValueError saying what it is instead."""

    def __init__(self, path, shown):
        self.shown = shown
        try:
            self.stream = open(path, "rb")
        except FileNotFoundError:
            raise ValueError(f"the model file {shown} does not exist") from None
        except IsADirectoryError:
            raise ValueError(f"{shown} is a directory, not a pynncomp model file") from None
        except OSError as error:
            raise ValueError(f"cannot open the model file {shown}: {error.strerror or error}") from None
        try:
            self.archive = self._open_archive()
        except BaseException:
            self.stream.close()
            raise

    def _open_archive(self):
        try:
            head = self.stream.read(_SNIFF_BYTES)
            self.stream.seek(0)
        except OSError as error:
            raise ValueError(f"cannot read the model file {self.shown}: {error.strerror or error}") from None
        if len(head) < 4 and head and _ZIP_MAGIC.startswith(head):
            raise self.corrupt("it ends after its first bytes")
        if not head.startswith((_ZIP_MAGIC, _EMPTY_ZIP_MAGIC)):
            raise _not_a_model(self.shown, _what_is(head))
        try:
            archive = zipfile.ZipFile(self.stream)
        except (*_ZIP_ERRORS, ValueError, OSError) as error:
            raise self.corrupt(f"its zip directory cannot be read: {error}") from None
        names = archive.namelist()
        if len(set(names)) != len(names):
            archive.close()
            raise self.corrupt("it holds two zip members of one name")
        if "format.npy" not in names:
            archive.close()
            shown_names = ", ".join(repr(name) for name in names[:5]) + (", ..." if len(names) > 5 else "")
            raise _not_a_model(self.shown, f"a zip archive without the pynncomp format marker "
                                           f"(its members: {shown_names or 'none'})")
        return archive

    def corrupt(self, detail):
        return ValueError(f"cannot read the pynncomp model file {self.shown}: it is corrupt or truncated ({detail})")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.archive.close()
        self.stream.close()

    def run(self, steps):
        """``steps(archive)``, every content problem a ValueError naming the file."""
        try:
            return steps(self.archive)
        except _NotAModel as problem:
            raise _not_a_model(self.shown, str(problem)) from None
        except _BadFile as problem:
            raise ValueError(f"cannot load the pynncomp model file {self.shown}: {problem}") from None
        except (*_ZIP_ERRORS, ValueError) as error:
            # zipfile and numpy's own complaints about damaged bytes; every check of
            # this module raises _BadFile
            raise self.corrupt(f"{type(error).__name__}: {error}"[:400]) from None
        except OSError as error:
            raise ValueError(f"cannot read the model file {self.shown}: {error}") from None


def load_model(path, sparse=False, *, allow_nonfinite=False, max_bytes=None):
    """Rebuild the Sequential saved by :func:`save_model`.

    The file is treated as untrusted: see "Loading untrusted files" in the
    module docstring for every check and its order.

    Parameters
    ----------
    path : str or path-like
    sparse : bool
        False (default): the very layers saved, masks included, so the model
        predicts bit for bit as before.  True: each masked Dense comes back
        as a :class:`~pynncomp.nn.SparseDense` of its kept weights, computing
        through the sparse kernels (equal outputs up to float rounding).
    allow_nonfinite : bool
        False (default): a NaN or infinite weight or bias is refused.  True
        loads it as stored (to inspect a diverged run).
    max_bytes : None or int >= 1
        Most bytes the load may allocate, estimated before anything is
        allocated.  None: the environment variable
        ``PYNNCOMP_MAX_MODEL_BYTES`` if set, else
        :data:`DEFAULT_MAX_MODEL_BYTES` (1 GiB).

    Returns
    -------
    Sequential

    Raises
    ------
    TypeError
        ``path`` is not a path, a flag not a bool, ``max_bytes`` not an int.
    ValueError
        Naming the file: it does not exist, is not a pynncomp model file
        (saying what it is), is corrupt or truncated, holds an invalid
        architecture or array (naming the layer and array), needs more
        memory than the limit (saying how much and how to raise it), or
        holds non-finite parameters (saying how many).
    """
    shown = _shown(path)
    sparse = _check_flag("sparse", sparse)
    allow_nonfinite = _check_flag("allow_nonfinite", allow_nonfinite)
    limit = _byte_limit(max_bytes)
    with _ModelArchive(path, shown) as opened:
        return opened.run(lambda archive: _load(archive, sparse, allow_nonfinite, limit))


def _load(archive, sparse, allow_nonfinite, limit):
    """The model in an open archive: architecture, headers, budget, then the arrays, layer by layer."""
    description, used = _read_description(archive, limit[0])
    entries = [_check_entry(index, entry) for index, entry in enumerate(description["layers"])]
    _check_chain(entries)
    headers = _read_headers(archive, entries, limit[0])
    layer_members = [_layer_members(index, entry, headers) for index, entry in enumerate(entries)]
    used += _overhead([member.nbytes for member in headers.values()])
    _check_budget(entries, layer_members, used, limit, sparse)
    return Sequential([_load_layer(archive, index, entry, members, sparse, allow_nonfinite)
                       for index, (entry, members) in enumerate(zip(entries, layer_members))])


def _read_headers(archive, entries, max_bytes):
    """The .npy headers of every member the layers use; a member none uses is refused unread."""
    present = set(archive.namelist())
    headers = {}
    for index, entry in enumerate(entries):
        for name in _referenced(index, entry, present):
            headers[name] = _member_header(archive, name, max_bytes)
    unknown = sorted(present - {"format.npy", "version.npy", "architecture.npy"}
                     - {name + ".npy" for name in headers})
    if unknown:
        others = " and others" if len(unknown) > 1 else ""
        raise _BadFile(f"it holds the member {unknown[0][:100]!r}{others}, which its architecture does not "
                       f"refer to (a version-1 model file has no other members; it was not read)")
    return headers


def _load_layer(archive, index, entry, members, sparse, allow_nonfinite):
    """Read, check and rebuild one layer."""
    arrays = _checked_arrays(index, entry, {name: _read_member(archive, member) for name, member in members.items()})
    if not allow_nonfinite:
        _check_finite(index, entry, arrays)
    try:
        return _build(index, entry, arrays, sparse)
    except (TypeError, ValueError) as error:
        # every value was checked above; this is the layers' own last line of defence
        raise _BadFile(f"{_where(index, entry)} cannot be rebuilt: {error}") from None


def _referenced(index, entry, present):
    """Names (without ".npy") of the members layer ``index`` uses; optional masks only if ``present``."""
    prefix = f"layer{index}."
    kind = entry["type"]
    if kind in ("Dense", "Conv2D"):
        names = ["W"] if entry["storage"] != "csr" else ["W.indptr", "W.indices", "W.data"]
    elif kind == "SparseDense":
        names = ["indptr", "indices", "data", "data.keep"]
    elif kind == "HashedDense":
        names = ["w", "w.keep"]
    else:
        return []
    optional = {"data.keep", "w.keep"}
    names = [name for name in names + ["b"] if name not in optional or prefix + name + ".npy" in present]
    for name in names:
        if prefix + name + ".npy" not in present:
            raise _BadFile(f"the array {prefix + name} of {_where(index, entry)} is missing")
    return [prefix + name for name in names]


def load_metadata(path, *, max_bytes=None):
    """The ``metadata`` dict given to :func:`save_model`.

    Reads only the format marker, the version and the architecture (no
    weights, so non-finite values do not matter here); ``max_bytes`` as
    for :func:`load_model` bounds the architecture text.
    """
    shown = _shown(path)
    limit = _byte_limit(max_bytes)
    with _ModelArchive(path, shown) as opened:
        return opened.run(lambda archive: _read_description(archive, limit[0])[0]["metadata"])


def dense_float32_nbytes(model):
    """Bytes of the uncompressed float32 model: 4 per virtual weight and bias.

    Pruned weights count (a dense matrix stores them); a HashedDense or
    SparseDense counts its full n_in·n_out virtual matrix.
    """
    n_params = 0
    for layer in model.layers:
        if isinstance(layer, (HashedDense, SparseDense)):
            n_params += layer.n_in * layer.n_out + layer.n_out
        else:
            n_params += sum(p.size for p in layer.params.values())
    return 4 * n_params


def storage_report(path, model):
    """Bytes on disk of the file at ``path`` against the dense float32 ``model``.

    Returns
    -------
    dict
        ``file_bytes``, ``dense_float32_bytes`` and ``ratio`` = file / dense.
    """
    file_bytes = os.path.getsize(path)
    dense = dense_float32_nbytes(model)
    return {"file_bytes": file_bytes, "dense_float32_bytes": dense, "ratio": file_bytes / dense}


__all__ = ["save_model", "load_model", "load_metadata", "index_dtype", "dense_float32_nbytes",
           "storage_report", "DEFAULT_MAX_MODEL_BYTES", "MAX_BYTES_ENV"]
