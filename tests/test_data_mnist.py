"""IDX files, where MNIST is looked for, downloads and checksums.

Everything here runs on small stand-in IDX files written into tmp_path (a
few images each) with their own checksums; the network is never used
(mirrors are file:// URLs or a closed local port).
"""
import gzip
import hashlib
import os
import socket

import numpy as np
import pytest

from pynncomp.data import idx, mnist, sources
from pynncomp.data.sources import ChecksumError, DataNotFoundError

NAMES = tuple(mnist.MD5)


pytestmark = pytest.mark.usefixtures("isolated_data")


def tiny_mnist(n_train=6, n_test=4, seed=0):
    """Arrays of four stand-in MNIST files, by name."""
    rng = np.random.default_rng(seed)
    return {
        mnist.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        mnist.TRAIN_LABELS: rng.integers(0, 10, n_train, dtype=np.uint8),
        mnist.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        mnist.TEST_LABELS: rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_tiny_mnist(directory, arrays, gz=True):
    """Write the four files into ``directory``; return their checksums."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        idx.write_idx(directory / (f"{name}.gz" if gz else name), array)
    return {name: hashlib.md5(idx.encode_idx(array)).hexdigest() for name, array in arrays.items()}


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


# ---------------------------------------------------------------- IDX format


def test_idx_bytes_of_a_small_label_file():
    data = idx.encode_idx(np.array([7, 0, 255], dtype=np.uint8))
    assert data == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 0, 255])
    assert int.from_bytes(data[:4], "big") == idx.LABELS_MAGIC


def test_idx_header_of_images_is_big_endian():
    data = idx.encode_idx(np.zeros((300, 28, 28), dtype=np.uint8))
    assert data[:16] == bytes([0, 0, 8, 3, 0, 0, 0x01, 0x2C, 0, 0, 0, 28, 0, 0, 0, 28])
    assert len(data) == 16 + 300 * 784


@pytest.mark.parametrize("dtype", ["u1", "i1", "<i2", ">i4", "f4", "f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(60).reshape(3, 4, 5) * 3 - 50).astype(np.uint8 if dtype == "u1" else dtype)
    path = tmp_path / f"a.idx{suffix}"
    idx.write_idx(path, array)
    back = idx.read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=") and back.dtype.isnative
    assert back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if suffix else b"\0\0")


def test_gzip_is_told_by_content_not_by_name(tmp_path):
    raw_named_gz = tmp_path / "labels.gz"
    raw_named_gz.write_bytes(idx.encode_idx(np.arange(5, dtype=np.uint8)))
    gz_named_raw = tmp_path / "labels"
    gz_named_raw.write_bytes(gzip.compress(idx.encode_idx(np.arange(5, dtype=np.uint8))))
    for path in (raw_named_gz, gz_named_raw):
        np.testing.assert_array_equal(idx.read_idx(path, magic=idx.LABELS_MAGIC), np.arange(5))


def test_gzip_output_is_reproducible(tmp_path):
    array = np.arange(100, dtype=np.uint8)
    idx.write_idx(tmp_path / "a.gz", array)
    idx.write_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    idx.write_idx(path, np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(ValueError, match="truncated or corrupt gzip") as info:
        idx.read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_bytes_name_the_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    idx.write_idx(path, np.arange(200, dtype=np.uint8) % 10)
    raw = bytearray(path.read_bytes())
    raw[-6] ^= 0xFF  # inside the CRC32 of the trailer
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="truncated or corrupt gzip") as info:
        idx.read_idx(path)
    assert str(path) in str(info.value)


def test_wrong_magic_names_the_file_and_both_numbers(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    idx.write_idx(path, np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(ValueError) as info:
        idx.read_idx(path, magic=idx.LABELS_MAGIC)
    assert str(path) in str(info.value)
    assert "0x00000803" in str(info.value) and "0x00000801" in str(info.value)


@pytest.mark.parametrize("header", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_non_idx_header_names_the_file(tmp_path, header):
    path = tmp_path / "x.idx"
    path.write_bytes(header + b"\0\0\0\1" + b"\5")
    with pytest.raises(ValueError, match="is not IDX") as info:
        idx.read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("cut, extra", [(1, b""), (0, b"\0"), (784, b"")])
def test_payload_size_must_match_the_dimensions(tmp_path, cut, extra):
    data = idx.encode_idx(np.zeros((3, 28, 28), dtype=np.uint8))
    path = tmp_path / "images.idx"
    path.write_bytes(data[: len(data) - cut] + extra)
    with pytest.raises(ValueError, match=r"need exactly 2352 bytes") as info:
        idx.read_idx(path, magic=idx.IMAGES_MAGIC)
    assert str(path) in str(info.value)
    assert f"payload of {2352 - cut + len(extra)} bytes" in str(info.value)


@pytest.mark.parametrize("data", [b"", b"\0\0\x08", b"\0\0\x08\x03\0\0\0\x05"])
def test_short_header_names_the_file(data):
    with pytest.raises(ValueError, match="too short") as info:
        idx.decode_idx(data, "some/file")
    assert "some/file" in str(info.value)


def test_encode_refuses_what_idx_cannot_hold():
    with pytest.raises(TypeError, match="dtype IDX can hold"):
        idx.encode_idx(np.zeros(3, dtype=bool))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        idx.encode_idx([1, 2])
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        idx.encode_idx(np.array(3, dtype=np.uint8))


# ---------------------------------------------------------- local directories


def test_loads_the_four_files_training_file_first(tmp_path):
    arrays = tiny_mnist()
    checksums = write_tiny_mnist(tmp_path / "data" / "mnist", arrays)
    images, labels, provenance = mnist.load_mnist(tmp_path / "data", checksums=checksums, download=False)
    assert images.dtype == np.uint8 and images.shape == (10, 28, 28)
    np.testing.assert_array_equal(images, np.concatenate([arrays[mnist.TRAIN_IMAGES], arrays[mnist.TEST_IMAGES]]))
    np.testing.assert_array_equal(labels, np.concatenate([arrays[mnist.TRAIN_LABELS], arrays[mnist.TEST_LABELS]]))
    assert set(provenance["files"]) == set(NAMES)
    for name, info in provenance["files"].items():
        path = tmp_path / "data" / "mnist" / f"{name}.gz"
        assert info == {"path": str(path), "origin": "root", "md5": checksums[name]}


@pytest.mark.parametrize("layout", ["mnist/NAME", "NAME.gz", "NAME"])
def test_other_layouts_of_a_directory(tmp_path, layout):
    arrays = tiny_mnist()
    directory = tmp_path / "mnist" if layout == "mnist/NAME" else tmp_path
    checksums = write_tiny_mnist(directory, arrays, gz=layout == "NAME.gz")
    images, _, provenance = mnist.load_mnist(tmp_path, checksums=checksums, download=False)
    assert len(images) == 10
    suffix = ".gz" if layout == "NAME.gz" else ""
    assert provenance["files"][mnist.TEST_LABELS]["path"] == str(directory / f"{mnist.TEST_LABELS}{suffix}")


def test_search_order_root_then_env_then_cache(tmp_path, monkeypatch):
    arrays = tiny_mnist()
    cache = sources.user_cache_dir()
    dirs = {"root": tmp_path / "root", "PYNNCOMP_DATA": tmp_path / "env", "user cache": cache}
    for directory in dirs.values():
        checksums = write_tiny_mnist(directory / "mnist", arrays)
    monkeypatch.setenv("PYNNCOMP_DATA", str(dirs["PYNNCOMP_DATA"]))

    def origins(root):
        _, _, provenance = mnist.load_mnist(root, checksums=checksums, download=False)
        files = provenance["files"].values()
        return {(info["origin"], os.path.dirname(os.path.dirname(info["path"]))) for info in files}

    assert origins(dirs["root"]) == {("root", str(dirs["root"]))}
    assert origins(None) == {("PYNNCOMP_DATA", str(dirs["PYNNCOMP_DATA"]))}
    monkeypatch.delenv("PYNNCOMP_DATA")
    assert origins(None) == {("user cache", str(cache))}


def test_files_may_come_from_different_directories(tmp_path, monkeypatch):
    arrays = tiny_mnist()
    checksums = write_tiny_mnist(tmp_path / "env" / "mnist", arrays)
    (tmp_path / "env" / "mnist" / f"{mnist.TEST_IMAGES}.gz").unlink()
    write_tiny_mnist(tmp_path / "root", {mnist.TEST_IMAGES: arrays[mnist.TEST_IMAGES]})
    monkeypatch.setenv("PYNNCOMP_DATA", str(tmp_path / "env"))
    _, _, provenance = mnist.load_mnist(tmp_path / "root", checksums=checksums, download=False)
    origins = {name: info["origin"] for name, info in provenance["files"].items()}
    assert origins == {mnist.TRAIN_IMAGES: "PYNNCOMP_DATA", mnist.TRAIN_LABELS: "PYNNCOMP_DATA",
                       mnist.TEST_IMAGES: "root", mnist.TEST_LABELS: "PYNNCOMP_DATA"}


def test_checksum_mismatch_names_the_file_and_both_checksums(tmp_path, monkeypatch):
    checksums = write_tiny_mnist(tmp_path / "mnist", tiny_mnist())
    # a good copy in the cache must not be used in place of the bad one
    write_tiny_mnist(sources.user_cache_dir() / "mnist", tiny_mnist())
    wrong = dict(checksums, **{mnist.TRAIN_LABELS: "0" * 32})
    with pytest.raises(ChecksumError) as info:
        mnist.load_mnist(tmp_path, checksums=wrong, download=False)
    message = str(info.value)
    assert str(tmp_path / "mnist" / f"{mnist.TRAIN_LABELS}.gz") in message
    assert checksums[mnist.TRAIN_LABELS] in message and "0" * 32 in message


def test_the_real_checksums_refuse_stand_in_files(tmp_path):
    write_tiny_mnist(tmp_path / "mnist", tiny_mnist())
    with pytest.raises(ChecksumError, match=mnist.MD5[mnist.TRAIN_IMAGES]):
        mnist.load_mnist(tmp_path, download=False)


def test_corrupt_copy_is_an_error_not_skipped(tmp_path):
    checksums = write_tiny_mnist(tmp_path / "mnist", tiny_mnist())
    path = tmp_path / "mnist" / f"{mnist.TEST_IMAGES}.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="truncated or corrupt gzip") as info:
        mnist.load_mnist(tmp_path, checksums=checksums, download=False)
    assert str(path) in str(info.value)


def test_images_and_labels_must_agree(tmp_path):
    arrays = tiny_mnist()
    arrays[mnist.TEST_LABELS] = arrays[mnist.TEST_LABELS][:3]
    checksums = write_tiny_mnist(tmp_path / "mnist", arrays)
    with pytest.raises(ValueError, match=r"expected \(n, 28, 28\) and \(n,\)"):
        mnist.load_mnist(tmp_path, checksums=checksums, download=False)


def test_labels_in_place_of_images_is_a_wrong_magic(tmp_path):
    arrays = tiny_mnist()
    arrays[mnist.TRAIN_IMAGES] = arrays[mnist.TRAIN_LABELS]
    checksums = write_tiny_mnist(tmp_path / "mnist", arrays)
    with pytest.raises(ValueError, match="0x00000801, expected 0x00000803") as info:
        mnist.load_mnist(tmp_path, checksums=checksums, download=False)
    assert mnist.TRAIN_IMAGES in str(info.value)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="root must be an existing directory"):
        mnist.load_mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="checksums must have exactly the keys"):
        mnist.load_mnist(tmp_path, checksums={mnist.TRAIN_IMAGES: "0" * 32})
    with pytest.raises(TypeError, match="mirrors must be URLs"):
        mnist.mirror_list(["https://example.org/", 3])


def test_user_cache_location(monkeypatch, tmp_path):
    assert sources.user_cache_dir() == tmp_path / "xdg" / "pynncomp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sources.user_cache_dir() == tmp_path / "home" / ".cache" / "pynncomp"


def test_mirror_list_from_argument_environment_or_defaults(monkeypatch):
    assert mnist.mirror_list("file:///a/, http://b/\nhttps://c/") == ["file:///a/", "http://b/", "https://c/"]
    assert mnist.mirror_list(["http://x/"]) == ["http://x/"]
    monkeypatch.setenv("PYNNCOMP_MNIST_MIRRORS", "http://env-1/ http://env-2/")
    assert mnist.mirror_list() == ["http://env-1/", "http://env-2/"]
    monkeypatch.delenv("PYNNCOMP_MNIST_MIRRORS")
    assert mnist.mirror_list() == list(mnist.MIRRORS)


# ------------------------------------------------------- offline and downloads


def test_offline_error_names_files_directories_mirrors_and_variable(tmp_path):
    missing_mirror = (tmp_path / "no-such-mirror").as_uri() + "/"
    mirrors = [missing_mirror, closed_port_url()]
    with pytest.raises(DataNotFoundError) as info:
        mnist.load_mnist(tmp_path, mirrors=mirrors, timeout=2)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for name in NAMES:
        assert f"{name}.gz" in message
    assert f"root: {tmp_path}" in message
    assert f"user cache: {sources.user_cache_dir()}" in message
    assert "PYNNCOMP_DATA" in message and "(PYNNCOMP_DATA is not set)" in message
    # the file:// mirror misses each file; the closed port is tried once, then skipped
    for name in NAMES:
        assert f"{missing_mirror}{name}.gz: [Errno 2] No such file or directory" in message
    assert message.count(mirrors[1]) == 1 and "refused" in message.lower()
    assert message.splitlines()[0].startswith("MNIST not found:")
    assert not sources.user_cache_dir().exists() or not any(sources.user_cache_dir().rglob("*"))


def test_download_false_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PYNNCOMP_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as info:
        mnist.load_mnist(download=False)
    message = str(info.value)
    assert "downloads: disabled (download=False)" in message
    assert f"PYNNCOMP_DATA: {tmp_path / 'env'}" in message and "not set" not in message


def test_download_from_a_file_mirror_into_the_cache(tmp_path):
    arrays = tiny_mnist()
    checksums = write_tiny_mnist(tmp_path / "mirror", arrays)
    mirror = (tmp_path / "mirror").as_uri()
    images, labels, provenance = mnist.load_mnist(mirrors=[mirror], checksums=checksums)
    cache = sources.user_cache_dir() / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{name}.gz" for name in NAMES)
    for name in NAMES:
        info = provenance["files"][name]
        assert info["origin"] == "download" and info["url"] == f"{mirror}/{name}.gz"
        assert (cache / f"{name}.gz").read_bytes() == (tmp_path / "mirror" / f"{name}.gz").read_bytes()
    np.testing.assert_array_equal(labels[:6], arrays[mnist.TRAIN_LABELS])
    # the second load reads the cache, the mirror being gone
    _, _, again = mnist.load_mnist(mirrors=[], checksums=checksums)
    assert {info["origin"] for info in again["files"].values()} == {"user cache"}


def test_truncated_download_leaves_nothing_and_the_next_mirror_is_used(tmp_path):
    checksums = write_tiny_mnist(tmp_path / "good", tiny_mnist())
    write_tiny_mnist(tmp_path / "bad", tiny_mnist())
    bad_file = tmp_path / "bad" / f"{mnist.TRAIN_IMAGES}.gz"
    bad_file.write_bytes(bad_file.read_bytes()[:500])
    cache = sources.user_cache_dir() / "mnist"

    with pytest.raises(DataNotFoundError) as info:
        mnist.load_mnist(mirrors=[(tmp_path / "bad").as_uri()], checksums=checksums)
    assert f"{(tmp_path / 'bad').as_uri()}/{mnist.TRAIN_IMAGES}.gz: truncated or corrupt gzip" in str(info.value)
    assert not (cache / f"{mnist.TRAIN_IMAGES}.gz").exists()
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in NAMES if n != mnist.TRAIN_IMAGES)

    mirrors = [(tmp_path / "bad").as_uri(), (tmp_path / "good").as_uri()]
    _, _, provenance = mnist.load_mnist(mirrors=mirrors, checksums=checksums)
    assert provenance["files"][mnist.TRAIN_IMAGES]["url"].startswith(mirrors[1])
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in NAMES)


def test_download_with_a_wrong_checksum_is_not_kept(tmp_path):
    checksums = write_tiny_mnist(tmp_path / "mirror", tiny_mnist())
    wrong = dict(checksums, **{mnist.TEST_LABELS: "f" * 32})
    with pytest.raises(DataNotFoundError) as info:
        mnist.load_mnist(mirrors=[(tmp_path / "mirror").as_uri()], checksums=wrong)
    expected = f"is {checksums[mnist.TEST_LABELS]}, expected {'f' * 32}"
    assert f"{mnist.TEST_LABELS}.gz: MD5 of the decompressed content {expected}" in str(info.value)
    assert not (sources.user_cache_dir() / "mnist" / f"{mnist.TEST_LABELS}.gz").exists()


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    checksums = write_tiny_mnist(tmp_path / "mirror", tiny_mnist())

    def no_rename(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(DataNotFoundError, match="downloaded and verified, but cannot be written"):
        mnist.load_mnist(mirrors=[(tmp_path / "mirror").as_uri()], checksums=checksums)
    assert list((sources.user_cache_dir() / "mnist").iterdir()) == []


# ------------------------------------------------------------------ survey


def test_survey_reports_each_directory_and_file(tmp_path, monkeypatch):
    checksums = write_tiny_mnist(tmp_path / "root" / "mnist", tiny_mnist())
    (tmp_path / "root" / "mnist" / f"{mnist.TEST_LABELS}.gz").unlink()
    monkeypatch.setenv("PYNNCOMP_DATA", str(tmp_path / "env"))
    report = sources.survey(dict(checksums, **{mnist.TRAIN_LABELS: "0" * 32}), "mnist", tmp_path / "root")
    assert [(origin, directory) for origin, directory, _ in report] == [
        ("root", tmp_path / "root"), ("PYNNCOMP_DATA", tmp_path / "env"), ("user cache", sources.user_cache_dir())]
    states = {name: state for name, _, state in report[0][2]}
    assert states[mnist.TRAIN_IMAGES] == "ok" and states[mnist.TEST_LABELS] == "missing"
    assert states[mnist.TRAIN_LABELS] == (
        f"MD5 of the decompressed content is {checksums[mnist.TRAIN_LABELS]}, expected {'0' * 32} "
        "(a damaged or different file: delete it and fetch it again)"
    )
    assert all(state == "missing" for _, _, state in report[1][2])


def test_a_directory_named_twice_is_searched_once(tmp_path, monkeypatch):
    monkeypatch.setenv("PYNNCOMP_DATA", str(tmp_path))
    assert [origin for origin, _ in sources.search_dirs(tmp_path)] == ["root", "user cache"]


def test_tilde_is_the_home_directory(tmp_path, monkeypatch):
    (tmp_path / "home" / "data").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYNNCOMP_DATA", "~/env")
    dirs = sources.search_dirs("~/data")
    assert dirs[:2] == [("root", tmp_path / "home" / "data"), ("PYNNCOMP_DATA", tmp_path / "home" / "env")]
