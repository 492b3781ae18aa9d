"""Model files are untrusted input: a catalogue of bad files, round trips, and a fuzz test.

Every bad file is built here, small on disk, by writing zip members with
``zipfile`` and ``np.lib.format.write_array`` or by editing the members of a
valid saved model.  Each must be refused by :func:`pynncomp.io.load_model`
with a ValueError that names the file and the problem, and no message may
suggest ``allow_pickle``.

Files that used to make the loader allocate gigabytes are loaded in a child
process whose address space is capped (``RLIMIT_AS``) 200 MiB above
what it needs after importing pynncomp: a loader that allocated before
checking fails there with MemoryError instead of slowing the machine.
"""
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from pynncomp.compress import magnitude_saliency, prune
from pynncomp.io import MAX_BYTES_ENV, load_metadata, load_model, save_model
from pynncomp.nn import (Conv2D, Dense, Dropout, Flatten, HashedDense, MaxPool2D, ReLU, Sequential,
                         SparseDense)


@pytest.fixture(autouse=True)
def default_limit(monkeypatch):
    """The messages below quote the default memory limit, whatever the environment says."""
    monkeypatch.delenv(MAX_BYTES_ENV, raising=False)


# ---- building files --------------------------------------------------------


def npy(array, version=None):
    """The bytes numpy.save writes for ``array`` (pickling allowed, to build hostile files)."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), version=version, allow_pickle=True)
    return buffer.getvalue()


def npy_header(descr, shape, fortran_order=False):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": fortran_order, "shape": shape})
    return buffer.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """A zip of ``members`` (name -> bytes, or an array to store as .npy)."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data if isinstance(data, bytes) else npy(data))
    return path


def model_members(layers, arrays, metadata=None):
    """The members of a model file with the architecture ``layers`` and ``arrays`` (name -> array)."""
    members = {"format.npy": np.array("pynncomp-model"), "version.npy": np.array(1),
               "architecture.npy": np.array(json.dumps({"layers": layers, "metadata": metadata or {}}))}
    members.update({name + ".npy": array for name, array in arrays.items()})
    return members


def kept_mask(shape, n_kept, seed=0):
    """A keep-mask with exactly ``n_kept`` True, row 0 all kept (so it holds several columns)."""
    keep = np.zeros(shape, dtype=bool)
    keep[0] = True
    rest = np.flatnonzero(~keep.ravel())
    keep.ravel()[np.random.default_rng(seed).choice(rest, n_kept - shape[1], replace=False)] = True
    return keep


def masked_mlp(dtype=np.float32):
    """Dense 6x5 pruned to 17 kept weights (CSR), ReLU, Dropout, Dense 5x3 unmasked."""
    model = Sequential([Dense(6, 5, seed=0, dtype=dtype), ReLU(), Dropout(0.25), Dense(5, 3, seed=1, dtype=dtype)])
    model.layers[0].params["b"][...] = np.arange(5) / 7
    model.layers[0].set_mask("W", kept_mask((6, 5), 17))
    return model


def sparse_mlp(dtype=np.float32):
    """SparseDense of 17 weights with a mask on 13 of them, ReLU, Dense 5x3."""
    sparse = SparseDense.from_dense(masked_mlp(dtype).layers[0])
    sparse.set_mask("data", np.arange(17) % 4 != 0)
    return Sequential([sparse, ReLU(), Dense(5, 3, seed=1, dtype=dtype)])


def hashed_mlp(dtype=np.float32):
    """HashedDense 6x5 with K = 13 real weights, 10 of them kept, ReLU, Dense 5x3."""
    hashed = HashedDense(6, 5, K=13, hash_seed=77, seed=0, dtype=dtype)
    hashed.set_mask("w", np.arange(13) % 4 != 1)
    return Sequential([hashed, ReLU(), Dense(5, 3, seed=1, dtype=dtype)])


def convnet(dtype=np.float32):
    """Conv2D 1->2 (3x3, stride 1, padding 1) pruned, ReLU, MaxPool, Flatten, Dense 2*3*3 -> 4."""
    model = Sequential([Conv2D(1, 2, 3, padding=1, seed=0, dtype=dtype), ReLU(), MaxPool2D(2), Flatten(),
                        Dense(2 * 3 * 3, 4, seed=1, dtype=dtype)])
    prune(model, magnitude_saliency(model), 0.5)
    return model


def saved(tmp_path, model, name="valid.npz"):
    """The members (name -> bytes) of ``model`` as save_model writes it."""
    path = tmp_path / name
    save_model(path, model)
    with zipfile.ZipFile(path) as archive:
        return {member: archive.read(member) for member in archive.namelist()}


def read(members, name):
    return np.load(io.BytesIO(members[name + ".npy"]), allow_pickle=False)


def edited_array(tmp_path, model, name, edit):
    """A saved ``model`` whose member ``name`` is replaced by ``edit(its array)``."""
    members = saved(tmp_path, model)
    members[name + ".npy"] = edit(read(members, name).copy())
    return write_zip(tmp_path / "bad.npz", members)


def edited_architecture(tmp_path, model, edit):
    """A saved ``model`` whose architecture JSON (a dict) is replaced by ``edit(it)``."""
    members = saved(tmp_path, model)
    description = edit(json.loads(str(read(members, "architecture"))))
    text = description if isinstance(description, str) else json.dumps(description)
    members["architecture.npy"] = npy(np.array(text))
    return write_zip(tmp_path / "bad.npz", members)


def edited_layer(tmp_path, model, index, **fields):
    """A saved ``model`` with fields of layer ``index`` changed (None removes one)."""
    def edit(description):
        entry = description["layers"][index]
        for key, value in fields.items():
            if value is None:
                entry.pop(key)
            else:
                entry[key] = value
        return description
    return edited_architecture(tmp_path, model, edit)


# ---- the catalogue ---------------------------------------------------------

CASES = []


def case(match, error=ValueError):
    """Register ``build(tmp_path) -> path`` as a bad file whose refusal message matches ``match``."""
    def register(build):
        CASES.append(pytest.param(build, error, match, id=build.__name__))
        return build
    return register


@case("not a pynncomp model file: it is unrecognised binary data")
def random_bytes(tmp_path):
    path = tmp_path / "random.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    return path


@case("not a pynncomp model file: it is a text file")
def text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("weights: see the other file\n")
    return path


@case("not a pynncomp model file: it is a JSON text file")
def json_record(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"method": "magl2", "test_accuracy": 0.98, "model_file": "run.npz"}, indent=1))
    return path


@case(r"not a pynncomp model file: it is a \.npy array file")
def plain_npy(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros((3, 4), dtype=np.float32))
    return path


@case("not a pynncomp model file: it is a zip archive without the pynncomp format marker")
def npz_without_marker(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, W=np.zeros((3, 4)), b=np.zeros(4))
    return path


@case("not a pynncomp model file: it is a zip archive without the pynncomp format marker")
def npz_with_pickled_objects(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, a=np.array([{"x": 1}, None], dtype=object))
    return path


@case("not a pynncomp model file: it is an empty file")
def empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    return path


@case("does not exist")
def missing_file(tmp_path):
    return tmp_path / "never_saved.npz"


@case("not a pynncomp model file: it is a zip archive whose format marker is 'keras-model'")
def other_format_marker(tmp_path):
    members = saved(tmp_path, masked_mlp())
    members["format.npy"] = npy(np.array("keras-model"))
    return write_zip(tmp_path / "bad.npz", members)


@case("corrupt or truncated")
def truncated_model(tmp_path):
    path = tmp_path / "cut.npz"
    save_model(path, masked_mlp())
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    return path


@case("format version 2; this pynncomp reads version 1")
def future_version(tmp_path):
    members = saved(tmp_path, masked_mlp())
    members["version.npy"] = npy(np.array(2))
    return write_zip(tmp_path / "bad.npz", members)


@case(r"the member layer3\.b holds pickled Python objects")
def pickled_parameter(tmp_path):
    members = saved(tmp_path, masked_mlp())
    members["layer3.b.npy"] = npy(np.array([0.0, 1.0, {"payload": 1}], dtype=object))
    return write_zip(tmp_path / "bad.npz", members)


@case("architecture is not valid JSON")
def architecture_not_json(tmp_path):
    return edited_architecture(tmp_path, masked_mlp(), lambda description: "{'layers': [")


@case(r"its architecture's 'metadata' must be a JSON object, got list")
def metadata_not_a_dict(tmp_path):
    return edited_architecture(tmp_path, masked_mlp(), lambda description: {**description, "metadata": [1]})


@case(r"'layers' must be a non-empty list")
def no_layers(tmp_path):
    return edited_architecture(tmp_path, masked_mlp(), lambda description: {**description, "layers": []})


@case(r"layer 1 has the unknown type 'Linear'")
def unknown_layer_type(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 1, type="Linear")


@case(r"layer 0 \(Dense\): n_in must be an integer in \[1, 2147483647\], got str '6'")
def size_as_string(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 0, n_in="6")


@case(r"layer 3 \(Dense\): n_out must be an integer in \[1, 2147483647\], got -3")
def negative_size(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 3, n_out=-3)


@case(r"layer 0 \(Dense\) lacks the field 'n_out'")
def missing_field(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 0, n_out=None)


@case(r"layer 0 \(Dense\) has the unknown field 'init_scale'")
def unknown_field(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 0, init_scale=2.0)


@case(r"layer 2 \(Dropout\): p must be a number in \[0, 1\), got 1\.5")
def dropout_out_of_range(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 2, p=1.5)


@case(r"layer 0 \(Dense\): dtype must be one of float32, float64, got 'float16'")
def unsupported_dtype(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 0, dtype="float16")


@case(r"layer 0 \(Dense\): storage must be one of dense, dense-masked, csr, got 'rle'")
def unknown_storage(tmp_path):
    return edited_layer(tmp_path, masked_mlp(), 0, storage="rle")


@case(r"layer 0 \(Conv2D\): kernel_size must be a list of two integers >= 1, got \[3\]")
def kernel_size_not_a_pair(tmp_path):
    return edited_layer(tmp_path, convnet(), 0, kernel_size=[3])


@case(r"layer 2 \(MaxPool2D\): stride\[1\] must be an integer in \[1, 2147483647\], got 0")
def pool_stride_zero(tmp_path):
    return edited_layer(tmp_path, convnet(), 2, stride=[2, 0])


@case(r"layer 3 \(Dense\) has n_in 7 but layer 0 outputs 5 features")
def dense_shapes_do_not_chain(tmp_path):
    model = Sequential([Dense(6, 5, seed=0), ReLU(), Dropout(0.25), Dense(7, 3, seed=1)])
    members = model_members(
        [{"type": "Dense", "n_in": 6, "n_out": 5, "storage": "dense", "dtype": "float32"}, {"type": "ReLU"},
         {"type": "Dropout", "p": 0.25}, {"type": "Dense", "n_in": 7, "n_out": 3, "storage": "dense",
                                          "dtype": "float32"}],
        {f"layer{i}.{name}": model.layers[i].params[name] for i in (0, 3) for name in ("W", "b")})
    return write_zip(tmp_path / "bad.npz", members)


@case(r"layer 4 \(Dense\) takes flat inputs but layer 0 outputs 4-D images: a Flatten must come between")
def dense_after_conv_without_flatten(tmp_path):
    def edit(description):
        description["layers"][3] = {"type": "ReLU"}
        return description
    return edited_architecture(tmp_path, convnet(), edit)


@case(r"layer 4 \(Dense\) has n_in 17, which is not a multiple of the 2 channels layer 0 outputs")
def flattened_channels_do_not_divide(tmp_path):
    model = convnet()
    members = saved(tmp_path, model)
    members["layer4.W.indptr.npy"] = npy(np.zeros(18, dtype=np.uint8))
    members["layer4.W.indices.npy"] = npy(np.zeros(0, dtype=np.uint8))
    members["layer4.W.data.npy"] = npy(np.zeros(0, dtype=np.float32))
    description = json.loads(str(read(members, "architecture")))
    description["layers"][4].update(n_in=17, storage="csr")
    members.pop("layer4.W.npy", None)
    members["architecture.npy"] = npy(np.array(json.dumps(description)))
    return write_zip(tmp_path / "bad.npz", members)


@case(r"layer 2 \(Conv2D\) has in_channels 3 but layer 0 outputs 2 channels")
def conv_channels_do_not_chain(tmp_path):
    model = Sequential([Conv2D(1, 2, 3, seed=0), ReLU(), Conv2D(3, 2, 3, seed=1)])
    return write_zip(tmp_path / "bad.npz", model_members(
        [{"type": "Conv2D", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3], "stride": [1, 1],
          "padding": [0, 0], "storage": "dense", "dtype": "float32"}, {"type": "ReLU"},
         {"type": "Conv2D", "in_channels": 3, "out_channels": 2, "kernel_size": [3, 3], "stride": [1, 1],
          "padding": [0, 0], "storage": "dense", "dtype": "float32"}],
        {f"layer{i}.{name}": model.layers[i].params[name] for i in (0, 2) for name in ("W", "b")}))


@case(r"layer0\.W\.indices holds the column index -1 at position 0, outside \[0, 5\)")
def negative_column_index(tmp_path):
    def edit(indices):
        signed = indices.astype(np.int8)
        signed[0] = -1
        return npy(signed)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indices", edit)


@case(r"layer0\.W\.indices holds the column index 5 at position 4, outside \[0, 5\)")
def column_index_too_large(tmp_path):
    def edit(indices):
        indices[4] = 5
        return npy(indices)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indices", edit)


@case(r"layer0\.W\.indices must be strictly increasing within each row, but row 0 has column 1 then 1")
def duplicate_column_index(tmp_path):
    def edit(indices):
        assert list(indices[:5]) == [0, 1, 2, 3, 4]  # row 0 is fully kept
        indices[2] = 1
        return npy(indices)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indices", edit)


@case(r"layer0\.W\.indptr must start at 0, got 1")
def indptr_not_from_zero(tmp_path):
    def edit(indptr):
        indptr[0] = 1
        return npy(indptr)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indptr", edit)


@case(r"layer0\.W\.indptr must never decrease, but goes from 9 to 5 at row 1")
def indptr_decreasing(tmp_path):
    def edit(indptr):
        indptr[1], indptr[2] = 9, 5
        return npy(indptr)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indptr", edit)


@case(r"layer0\.W\.indptr must end at the number of stored weights 17, got 16")
def indptr_not_ending_at_nnz(tmp_path):
    def edit(indptr):
        indptr[-1] = 16
        return npy(indptr)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indptr", edit)


@case(r"layer0\.W\.indptr has shape \(6,\); layer 0 \(Dense\) needs \(7,\)")
def indptr_wrong_length(tmp_path):
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indptr", lambda indptr: npy(indptr[:-1]))


@case(r"layer0\.W\.indptr must hold integers, got dtype float64")
def indptr_of_floats(tmp_path):
    return edited_array(tmp_path, masked_mlp(), "layer0.W.indptr", lambda indptr: npy(indptr.astype(np.float64)))


@case(r"layer0\.W\.data has dtype float64, but the architecture of layer 0 \(Dense\) says float32")
def data_dtype_not_the_architecture_dtype(tmp_path):
    return edited_array(tmp_path, masked_mlp(), "layer0.W.data", lambda data: npy(data.astype(np.float64)))


@case(r"layer0\.W\.indices has shape \(17,\); layer 0 \(Dense\) needs \(16,\)")
def data_shorter_than_indices(tmp_path):
    return edited_array(tmp_path, masked_mlp(), "layer0.W.data", lambda data: npy(data[:-1]))


@case(r"layer0\.data\.keep must be a packed keep-mask: uint8 of shape \(3,\) for 17 mask bits, "
      r"got uint8 of shape \(2,\)")
def keep_mask_too_short(tmp_path):
    return edited_array(tmp_path, sparse_mlp(), "layer0.data.keep", lambda keep: npy(keep[:2]))


@case(r"layer0\.data\.keep must be a packed keep-mask: uint8 of shape \(3,\) for 17 mask bits, got int16")
def keep_mask_not_bytes(tmp_path):
    return edited_array(tmp_path, sparse_mlp(), "layer0.data.keep", lambda keep: npy(keep.astype(np.int16)))


@case(r"layer0\.w\.keep has non-zero padding bits after its 13 mask bits")
def keep_mask_padding_set(tmp_path):
    def edit(keep):
        keep[-1] |= 0b00000100
        return npy(keep)
    return edited_array(tmp_path, hashed_mlp(), "layer0.w.keep", edit)


@case(r"layer0\.indices must be strictly increasing within each row")
def sparse_dense_unsorted_row(tmp_path):
    def edit(indices):
        indices[1], indices[2] = indices[2], indices[1]
        return npy(indices)
    return edited_array(tmp_path, sparse_mlp(), "layer0.indices", edit)


@case(r"layer 0 \(HashedDense\): K must be an integer in \[1, 30\], got 31")
def hashed_more_buckets_than_weights(tmp_path):
    return edited_layer(tmp_path, hashed_mlp(), 0, K=31)


@case(r"layer 0 \(HashedDense\): hash_seed must be an integer in \[0, 4294967295\], got -1")
def hashed_negative_seed(tmp_path):
    return edited_layer(tmp_path, hashed_mlp(), 0, hash_seed=-1)


@case(r"layer0\.w has shape \(12,\); layer 0 \(HashedDense\) needs \(13,\)")
def hashed_too_few_weights(tmp_path):
    return edited_array(tmp_path, hashed_mlp(), "layer0.w", lambda w: npy(w[:-1]))


@case(r"the member layer3\.b declares shape \(1000000000000,\) of float32 \(4,000,000,000,000 bytes of data\) "
      r"but holds 12 bytes")
def header_declares_a_terabyte(tmp_path):
    def edit(b):
        return npy_header("<f4", (10**12,)) + b.tobytes()
    return edited_array(tmp_path, masked_mlp(), "layer3.b", edit)


@case(r"the member layer3\.b declares shape \(4,\) of float32 \(16 bytes of data\) but holds 12 bytes")
def header_declares_more_than_the_data(tmp_path):
    return edited_array(tmp_path, masked_mlp(), "layer3.b", lambda b: npy_header("<f4", (4,)) + b.tobytes())


@case(r"the member layer3\.b uses \.npy format version 3\.0")
def npy_format_version_3(tmp_path):
    return edited_array(tmp_path, masked_mlp(), "layer3.b", lambda b: npy(b, version=(3, 0)))


@case(r"the array layer3\.b of layer 3 \(Dense\) is missing")
def missing_array(tmp_path):
    members = saved(tmp_path, masked_mlp())
    del members["layer3.b.npy"]
    return write_zip(tmp_path / "bad.npz", members)


@case(r"it holds the member 'layer3\.W\.keep\.npy', which its architecture does not refer to")
def unknown_member(tmp_path):
    members = saved(tmp_path, masked_mlp())
    members["layer3.W.keep.npy"] = npy(np.packbits(np.ones(15, dtype=bool)))
    return write_zip(tmp_path / "bad.npz", members)


@case(r"corrupt or truncated \(it holds two zip members of one name\)")
def duplicated_member(tmp_path):
    members = saved(tmp_path, masked_mlp())
    path = write_zip(tmp_path / "bad.npz", members)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "a") as archive:
        archive.writestr("layer3.b.npy", npy(np.full(3, 1e30, dtype=np.float32)))
    return path


@case(r"the member layer3\.W uses zip compression method 12")
def bzip2_member(tmp_path):
    members = saved(tmp_path, masked_mlp())
    path = write_zip(tmp_path / "bad.npz", {k: v for k, v in members.items() if k != "layer3.W.npy"})
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_BZIP2) as archive:
        archive.writestr("layer3.W.npy", members["layer3.W.npy"])
    return path


@case(r"the member architecture holds an invalid character \(code point 0x110000\)")
def architecture_with_invalid_character(tmp_path):
    members = saved(tmp_path, masked_mlp())
    text = npy(np.array("x" * 40))
    members["architecture.npy"] = text[:-4] + (0x110000).to_bytes(4, "little")
    return write_zip(tmp_path / "bad.npz", members)


@case(r"layer0\.W\.data of layer 0 \(Dense\) holds 2 non-finite values \(NaN or inf\) among its 17")
def nan_weights(tmp_path):
    def edit(data):
        data[[3, 8]] = [np.nan, -np.inf]
        return npy(data)
    return edited_array(tmp_path, masked_mlp(), "layer0.W.data", edit)


@case(r"layer2\.b of layer 2 \(Dense\) holds 1 non-finite values \(NaN or inf\) among its 3")
def infinite_bias(tmp_path):
    def edit(b):
        b[1] = np.inf
        return npy(b)
    return edited_array(tmp_path, hashed_mlp(), "layer2.b", edit)


@pytest.mark.parametrize("build, error, match", CASES)
def test_bad_file_is_refused_with_a_message_naming_the_problem(tmp_path, build, error, match):
    path = build(tmp_path)
    with pytest.raises(error, match=match) as raised:
        load_model(path)
    message = str(raised.value)
    assert repr(str(path)) in message  # the file is named
    assert "allow_pickle" not in message


def test_non_model_files_are_refused_by_load_metadata_too(tmp_path):
    for build in (json_record, plain_npy, npz_with_pickled_objects, missing_file):
        path = build(tmp_path)
        with pytest.raises(ValueError, match="not a pynncomp model file|does not exist"):
            load_metadata(path)


# ---- files that cost gigabytes before they were checked ---------------------


def zeros_member(archive, name, header, n_bytes):
    """Write ``header`` then ``n_bytes`` zero bytes as a deflated member (about 1 KB per MB on disk)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as stream:
        stream.write(header)
        chunk = bytes(1 << 24)
        for start in range(0, n_bytes, len(chunk)):
            stream.write(chunk[:n_bytes - start])


def huge_dense(path, b_size):
    """Dense 40000x40000 in CSR with no kept weight (deflated: under 2 KB on disk)."""
    write_zip(path, model_members(
        [{"type": "Dense", "n_in": 40000, "n_out": 40000, "storage": "csr", "dtype": "float32"}],
        {"layer0.W.indptr": np.zeros(40001, np.uint8), "layer0.W.indices": np.zeros(0, np.uint8),
         "layer0.W.data": np.zeros(0, np.float32), "layer0.b": np.zeros(b_size, np.float32)}),
        compression=zipfile.ZIP_DEFLATED)


def huge_hashed(path, w_size):
    """HashedDense 39000x39000 with K = 1000 (under 2 KB on disk; its hash alone: 7.6 GB)."""
    write_zip(path, model_members(
        [{"type": "HashedDense", "n_in": 39000, "n_out": 39000, "K": 1000, "hash_seed": 1, "dtype": "float32"}],
        {"layer0.w": np.zeros(w_size, np.float32), "layer0.b": np.zeros(39000, np.float32)}),
        compression=zipfile.ZIP_DEFLATED)


def unused_member(path):
    """A valid model plus an unused member of 256 MiB of zeros (deflated: 256 KB)."""
    save_model(path, masked_mlp())
    with zipfile.ZipFile(path, "a") as archive:
        zeros_member(archive, "padding.npy", npy_header("|u1", (2**28,)), 2**28)


HEAVY = {
    # name: (build(path), refusal message pattern or "loaded")
    "dense_40000_squared": (lambda path: huge_dense(path, 40000),
                            r"layer 0 \(Dense\) 40000x40000 needs about [\d,]+ bytes \([\d.]+ GiB\) to load, "
                            r"bringing the load to .* over the limit of 1,073,741,824 bytes \(1\.0 GiB\) set by "
                            r"the default limit; if you trust the file, pass load_model\(\.\.\., max_bytes=N\) or "
                            r"set the environment variable PYNNCOMP_MAX_MODEL_BYTES"),
    "dense_40000_squared_wrong_bias": (lambda path: huge_dense(path, 3),
                                       r"layer0\.b has shape \(3,\); layer 0 \(Dense\) needs \(40000,\)"),
    "hashed_39000_squared": (lambda path: huge_hashed(path, 1000),
                             r"layer 0 \(HashedDense\) 39000x39000 needs about 7,60[\d,]+ bytes .* over the limit"),
    "hashed_39000_squared_wrong_w": (lambda path: huge_hashed(path, 5),
                                     r"layer0\.w has shape \(5,\); layer 0 \(HashedDense\) needs \(1000,\)"),
    "unused_256_MiB_member": (unused_member, r"it holds the member 'padding\.npy', which its architecture "
                                             r"does not refer to"),
    "control_valid_model": (lambda path: save_model(path, masked_mlp()), "loaded"),
}

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from pynncomp.io import load_model
    from pynncomp.nn import HashedDense

    def vm_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm_bytes() + 200 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    results = {}
    def attempt(name, call):
        start = time.perf_counter()
        try:
            call()
            outcome = ("loaded", "")
        except Exception as error:
            outcome = (type(error).__name__, str(error))
        results[name] = outcome + (time.perf_counter() - start,)

    for name, path in json.loads(sys.argv[1]).items():
        attempt(name, lambda: load_model(path))
    state = {"n_in": 40000, "n_out": 40000, "K": 1000, "hash_seed": 1, "w": np.zeros(5, np.float32),
             "b": np.zeros(40000, np.float32)}
    attempt("from_state_wrong_w", lambda: HashedDense.from_state(state))
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def heavy_results(tmp_path_factory):
    """Load every HEAVY file in one child process whose address space is capped."""
    pytest.importorskip("resource")
    if not os.path.exists("/proc/self/status"):
        pytest.skip("reading the address-space size needs /proc (Linux)")
    folder = tmp_path_factory.mktemp("heavy")
    paths = {}
    for name, (build, _) in HEAVY.items():
        paths[name] = str(folder / f"{name}.npz")
        build(folder / f"{name}.npz")
    environment = {key: value for key, value in os.environ.items() if key != MAX_BYTES_ENV}
    environment.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(paths)], capture_output=True, text=True,
                          env=environment, timeout=300)
    assert done.returncode == 0, done.stderr
    return paths, json.loads(done.stdout)


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_heavy_file_is_refused_before_allocating(heavy_results, name):
    paths, results = heavy_results
    outcome, message, seconds = results[name]
    expected = HEAVY[name][1]
    if expected == "loaded":
        assert outcome == "loaded", message
    else:
        assert outcome == "ValueError", f"{outcome}: {message}"
        assert re.search(expected, message), message
        assert repr(paths[name]) in message
    assert seconds < 5.0


def test_hashed_from_state_checks_shapes_before_hashing(heavy_results):
    outcome, message, seconds = heavy_results[1]["from_state_wrong_w"]
    assert (outcome, message) == ("ValueError", "state['w'] must have shape (1000,) (K,), got (5,)")
    assert seconds < 5.0


# ---- every legitimate file loads bit for bit --------------------------------


def dense_all_kept(dtype=np.float32):
    model = Sequential([Dense(6, 5, seed=0, dtype=dtype), ReLU(), Dense(5, 3, seed=1, dtype=dtype)])
    model.layers[0].set_mask("W", np.ones((6, 5), dtype=bool))
    return model


def everything(dtype=np.float32):
    """Conv2D masked, MaxPool2D, Flatten, Dropout, SparseDense masked and HashedDense masked in one model."""
    conv = convnet(dtype)
    sparse = SparseDense.from_weights(np.linspace(-1, 1, 18 * 6).reshape(18, 6).astype(dtype),
                                      np.zeros(6, dtype), kept_mask((18, 6), 40))
    sparse.set_mask("data", np.arange(40) % 3 != 0)
    hashed = HashedDense(6, 4, K=9, hash_seed=5, seed=2, dtype=dtype)
    hashed.set_mask("w", np.arange(9) != 4)
    return Sequential(conv.layers[:4] + [Dropout(0.3), sparse, ReLU(), hashed])


MODELS = {"masked_mlp": masked_mlp, "sparse_mlp": sparse_mlp, "hashed_mlp": hashed_mlp, "convnet": convnet,
          "dense_all_kept": dense_all_kept, "everything": everything,
          "plain_dense": lambda dtype=np.float32: Sequential([Dense(6, 3, seed=4, dtype=dtype)])}
INPUTS = {"convnet": (1, 6, 6), "everything": (1, 6, 6)}


def same_bits(layer, twin, key):
    """Parameter ``key`` equal bit for bit where kept, and equal (zero) where pruned.

    A pruned weight is stored nowhere, so it loads as +0.0 where the pruned
    layer held -0.0 (a negative weight times a False mask); the two compare
    equal and give equal predictions.
    """
    kept = layer.masks.get(key, np.ones(layer.params[key].shape, dtype=bool))
    return (twin.params[key].dtype == layer.params[key].dtype
            and np.array_equal(twin.params[key], layer.params[key])
            and twin.params[key][kept].tobytes() == layer.params[key][kept].tobytes())


def layer_state(layer):
    """Everything a layer is made of besides its arrays (sizes, strides, p, hash seed, ...)."""
    names = ("n_in", "n_out", "in_channels", "out_channels", "kernel_size", "stride", "padding", "pool_size",
             "p", "K", "hash_seed", "nnz")
    return type(layer), {name: getattr(layer, name) for name in names if hasattr(layer, name)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_saved_model_loads_bit_for_bit(tmp_path, name, dtype):
    model = MODELS[name](dtype)
    path = tmp_path / "m.npz"
    save_model(path, model, metadata={"name": name})
    loaded = load_model(path)
    assert [layer_state(layer) for layer in loaded.layers] == [layer_state(layer) for layer in model.layers]
    for layer, twin in zip(model.layers, loaded.layers):
        assert twin.params.keys() == layer.params.keys() and twin.masks.keys() == layer.masks.keys()
        for key in layer.params:
            assert same_bits(layer, twin, key), key
        for key in layer.masks:
            np.testing.assert_array_equal(twin.masks[key], layer.masks[key])
        if isinstance(layer, SparseDense):
            np.testing.assert_array_equal(twin.indptr, layer.indptr)
            np.testing.assert_array_equal(twin.indices, layer.indices)
    x = np.random.default_rng(3).random((4,) + INPUTS.get(name, (6,))).astype(dtype)
    assert loaded.forward(x)[0].tobytes() == model.forward(x)[0].tobytes()
    assert load_metadata(path) == {"name": name}
    load_model(path, sparse=True)  # the other mode loads under the default limit too


# ---- fuzzing ---------------------------------------------------------------


def same_model(a, b):
    if [layer_state(layer) for layer in a.layers] != [layer_state(layer) for layer in b.layers]:
        return False
    for layer, twin in zip(a.layers, b.layers):
        if twin.masks.keys() != layer.masks.keys() or twin.params.keys() != layer.params.keys():
            return False
        if not all(same_bits(layer, twin, k) for k in layer.params):
            return False
        if any(not np.array_equal(twin.masks[k], layer.masks[k]) for k in layer.masks):
            return False
    return True


@pytest.mark.parametrize("name", ["masked_mlp", "sparse_mlp", "hashed_mlp", "convnet"])
def test_truncated_and_bit_flipped_files_load_exactly_or_raise_value_error(tmp_path, name):
    model = MODELS[name]()
    good_path = tmp_path / "good.npz"
    save_model(good_path, model)
    good = good_path.read_bytes()
    rng = np.random.default_rng(sum(map(ord, name)))
    variants = [good[:cut] for cut in rng.integers(0, len(good), 100)]
    for position, bit in zip(rng.integers(0, len(good), 150), rng.integers(0, 8, 150)):
        flipped = bytearray(good)
        flipped[position] ^= 1 << int(bit)
        variants.append(bytes(flipped))
    path = tmp_path / "variant.npz"
    outcomes = {"loaded": 0, "ValueError": 0}
    for variant in variants:
        path.write_bytes(variant)
        try:
            loaded = load_model(path)
        except ValueError:
            outcomes["ValueError"] += 1
            continue
        # a flip the zip format ignores (a timestamp, say) must leave the model exactly as saved
        assert same_model(loaded, model)
        outcomes["loaded"] += 1
    assert outcomes["ValueError"] >= 100  # every truncation at least


@pytest.mark.parametrize("name", ["masked_mlp", "sparse_mlp", "hashed_mlp", "convnet"])
def test_bit_flipped_members_with_valid_checksums_load_or_raise_value_error(tmp_path, name):
    # Rewriting the zip gives every damaged member a correct CRC-32, so the
    # damage reaches the .npy headers, the architecture and the arrays.
    members = saved(tmp_path, MODELS[name]())
    names = sorted(members)
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    path = tmp_path / "variant.npz"
    x = np.random.default_rng(3).random((2,) + INPUTS.get(name, (6,))).astype(np.float32)
    refused = 0
    for _ in range(100):
        member = names[int(rng.integers(len(names)))]
        data = bytearray(members[member])
        data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
        write_zip(path, {**members, member: bytes(data)})
        try:
            loaded = load_model(path)
        except ValueError:
            refused += 1
            continue
        # a flipped weight or flag can still be a valid model: it must then work
        assert loaded.forward(x)[0].shape[0] == 2
    assert refused > 0
