"""Saving and loading models: real compression on disk, not just zeros.

A model file is an uncompressed ``.npz`` (``numpy.savez``) that loads with
``allow_pickle=False``.  It holds

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
    * ``HashedDense``: the K real weights ``w`` only (Chen et al. 2015;
      METHODS.md section 4: the bucket and sign arrays are recomputed from
      ``hash_seed``); a mask on ``w`` as ``w.keep`` (packed bits).
    * every bias ``b`` in full.

Dropout's random generator is not stored (a loaded Dropout starts a fresh
one); evaluation never uses it.
"""
import json
import os
import pathlib
import zipfile

import numpy as np

from ._files import atomic_write
from .nn import Conv2D, Dense, Dropout, Flatten, HashedDense, MaxPool2D, ReLU, Sequential, SparseDense

SUPPORTED = (Dense, SparseDense, HashedDense, Conv2D, MaxPool2D, ReLU, Dropout, Flatten)
FORMAT = "pynncomp-model"
VERSION = 1


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


def _dense_from_csr(indptr, indices, data, shape):
    W = np.zeros(shape, dtype=data.dtype)
    keep_mask = np.zeros(shape, dtype=bool)
    rows = np.repeat(np.arange(shape[0]), np.diff(indptr.astype(np.int64)))
    W[rows, indices] = data
    keep_mask[rows, indices] = True
    return W, keep_mask


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
    arrays["format"] = np.array(FORMAT)
    arrays["version"] = np.array(VERSION)
    arrays["architecture"] = np.array(description)
    with atomic_write(path) as stream:
        np.savez(stream, **arrays)
    return os.path.getsize(path)


def _build(index, entry, arrays, sparse):
    prefix = f"layer{index}."
    kind = entry["type"]
    if kind in ("ReLU", "Flatten"):
        return ReLU() if kind == "ReLU" else Flatten()
    if kind == "Dropout":
        return Dropout(entry["p"])
    if kind == "MaxPool2D":
        return MaxPool2D(tuple(entry["pool_size"]), tuple(entry["stride"]))
    b = arrays[prefix + "b"]
    dtype = np.dtype(entry["dtype"])
    if kind == "HashedDense":
        state = {key: entry[key] for key in ("n_in", "n_out", "K", "hash_seed")}
        state.update(w=arrays[prefix + "w"], b=b)
        if prefix + "w.keep" in arrays:
            state["w_mask"] = np.unpackbits(arrays[prefix + "w.keep"], count=entry["K"]).astype(bool)
        return HashedDense.from_state(state)
    if kind == "SparseDense":
        layer = SparseDense(arrays[prefix + "indptr"].astype(np.int64), arrays[prefix + "indices"].astype(np.int32),
                            arrays[prefix + "data"], b, entry["n_out"])
        if prefix + "data.keep" in arrays:
            layer.set_mask("data", np.unpackbits(arrays[prefix + "data.keep"], count=layer.nnz).astype(bool))
        return layer
    if kind == "Dense":
        layer = Dense(entry["n_in"], entry["n_out"], seed=0, dtype=dtype)
    elif kind == "Conv2D":
        layer = Conv2D(entry["in_channels"], entry["out_channels"], tuple(entry["kernel_size"]),
                       stride=tuple(entry["stride"]), padding=tuple(entry["padding"]), seed=0, dtype=dtype)
    else:
        raise ValueError(f"unknown layer type {kind!r}")
    shape = layer.params["W"].shape
    storage = entry["storage"]
    if storage == "csr":
        W2d, keep_mask = _dense_from_csr(arrays[prefix + "W.indptr"], arrays[prefix + "W.indices"],
                                         arrays[prefix + "W.data"], (shape[0], int(np.prod(shape[1:]))))
        W, keep_mask = W2d.reshape(shape), keep_mask.reshape(shape)
    elif storage in ("dense", "dense-masked"):
        W = arrays[prefix + "W"]
        keep_mask = np.ones(shape, dtype=bool) if storage == "dense-masked" else None
    else:
        raise ValueError(f"unknown weight storage {storage!r}")
    if W.shape != shape or W.dtype != dtype or b.shape != layer.params["b"].shape or b.dtype != dtype:
        raise ValueError(f"the arrays of layer {index} do not match its architecture entry")
    layer.params["W"] = W.copy()
    layer.params["b"] = b.copy()
    if keep_mask is not None:
        if sparse and kind == "Dense":
            return SparseDense.from_weights(layer.params["W"], layer.params["b"], keep_mask)
        layer.set_mask("W", keep_mask)
    return layer


def _read(path):
    """The arrays and the parsed architecture of a model file; ValueError naming it otherwise."""
    path = pathlib.Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("not an .npz archive")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
        if str(arrays.get("format")) != FORMAT:
            raise ValueError("not a pynncomp model file (no format marker)")
        if int(arrays["version"]) != VERSION:
            raise ValueError(f"format version {int(arrays['version'])} is not the supported {VERSION}")
        description = json.loads(str(arrays["architecture"]))
        return arrays, description
    except (OSError, ValueError, KeyError, EOFError, TypeError, AttributeError, zipfile.BadZipFile) as error:
        raise ValueError(f"cannot read the pynncomp model file {str(path)!r}: {error}") from None


def load_model(path, sparse=False):
    """Rebuild the Sequential saved by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
    sparse : bool
        False (default): the very layers saved, masks included, so the model
        predicts bit for bit as before.  True: each masked Dense comes back
        as a :class:`~pynncomp.nn.SparseDense` of its kept weights, computing
        through the sparse kernels (equal outputs up to float rounding).

    Raises
    ------
    ValueError
        The file is missing, corrupt or not a pynncomp model file (the
        message names it).
    """
    arrays, description = _read(path)
    try:
        layers = [_build(index, entry, arrays, sparse) for index, entry in enumerate(description["layers"])]
        return Sequential(layers)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ValueError(f"cannot rebuild the model of {str(path)!r}: {type(error).__name__}: {error}") from None


def load_metadata(path):
    """The ``metadata`` dict given to :func:`save_model`."""
    return _read(path)[1]["metadata"]


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


__all__ = ["save_model", "load_model", "load_metadata", "index_dtype", "dense_float32_nbytes", "storage_report"]
