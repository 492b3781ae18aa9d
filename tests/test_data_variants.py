"""The MNIST variants (generated and original), their cache, and the preview grid.

No MNIST file is needed: the digits here are small hand-made images whose
pixels are exactly 0, exactly 1 or in between, so each rule of
:mod:`pynncomp.data.variants` can be checked pixel by pixel.  The original
archives are stood in for by small ``.amat`` files written by the tests.
"""
import io
import json
import os
import pathlib
import zipfile

import matplotlib.image as mpimg
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from pynncomp.data import amat, preview, variants

SIDE = 28
CENTRE = (SIDE - 1) / 2
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# KS tests reject uniformity below this p-value.  With the fixed seeds used
# the p-values are 0.67 (angles drawn) and 0.71 (angles recovered).
KS_MIN_P = 0.01


def digit_like(n, seed=0):
    """``n`` images of 0s with a random 1-valued bar and a 0.5-valued blob, inside the central 20 x 20 box."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, SIDE, SIDE), dtype=np.float32)
    for image in images:
        top, left = rng.integers(4, 14, 2)
        image[top : top + 10, left : left + 3] = 1.0
        image[top + 2 : top + 5, left + 4 : left + 8] = 0.5
    return images.reshape(n, SIDE * SIDE)


def clock_hand():
    """A bar from the centre towards the right: it points at angle 0."""
    image = np.zeros((SIDE, SIDE), dtype=np.float32)
    image[13:15, 14:25] = 1.0
    return image.reshape(1, SIDE * SIDE)


def pointing_angle(images):
    """Direction of each image's centre of mass seen from the centre, counterclockwise as displayed."""
    squares = images.reshape(-1, SIDE, SIDE).astype(np.float64)
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    mass = squares.sum(axis=(1, 2))
    row = (squares * rows).sum(axis=(1, 2)) / mass
    col = (squares * cols).sum(axis=(1, 2)) / mass
    return np.mod(np.arctan2(-(row - CENTRE), col - CENTRE), 2 * np.pi)


@pytest.fixture(scope="module")
def digits():
    return digit_like(40)


@pytest.fixture(scope="module")
def labels():
    return np.arange(40, dtype=np.int64) % 10


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", variants.VARIANTS)
def test_generate_is_deterministic_float32_in_unit_interval(name, digits):
    first, _ = variants.generate(name, digits, seed=7)
    again, _ = variants.generate(name, digits, seed=7)
    other, _ = variants.generate(name, digits, seed=8)
    assert first.dtype == np.float32 and first.shape == digits.shape
    assert first.min() >= 0.0 and first.max() <= 1.0
    assert first.tobytes() == again.tobytes()
    assert not np.array_equal(first, other)


def test_rotate_by_zero_is_identity_and_quarter_turns_are_rot90(digits):
    squares = digits.reshape(-1, SIDE, SIDE)
    n = len(digits)
    np.testing.assert_allclose(variants.rotate(digits, np.zeros(n)), digits, atol=1e-6)
    for quarter_turns in (1, 2, 3):
        rotated = variants.rotate(digits, np.full(n, quarter_turns * np.pi / 2)).reshape(-1, SIDE, SIDE)
        np.testing.assert_allclose(rotated, np.rot90(squares, quarter_turns, axes=(1, 2)), atol=1e-6)


def test_rotate_preserves_mass():
    # a smooth blob well inside the image: the spline is near exact (measured 1e-5)
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    blob = np.exp(-((rows - 13.5) ** 2 + (cols - 11.0) ** 2) / 18.0).astype(np.float32).reshape(1, -1)
    rotated = variants.rotate(np.repeat(blob, 24, axis=0), np.linspace(0.0, 6.2, 24))
    np.testing.assert_allclose(rotated.sum(axis=1), blob.sum(), rtol=1e-4)
    # hard-edged bars: clipping the spline's undershoot below 0 adds mass (measured
    # +1.5 % to +3.2 % here; +0.8 % on average over MNIST's smoother digits)
    digits = digit_like(24, seed=3)
    rotated = variants.rotate(digits, np.linspace(0.1, 6.0, 24))
    np.testing.assert_allclose(rotated.sum(axis=1), digits.sum(axis=1), rtol=0.05)


def test_rotation_angles_are_uniform_and_are_the_ones_applied():
    hands = np.repeat(clock_hand(), 1000, axis=0)
    rotated, draws = variants.generate("mnist-rot", hands, seed=3)
    angles = draws["angle"]
    assert angles.min() >= 0.0 and angles.max() < 2 * np.pi
    assert stats.kstest(angles / (2 * np.pi), "uniform").pvalue > KS_MIN_P
    # the angle read back from each image is the one drawn (measured error <= 0.4 degree)
    recovered = pointing_angle(rotated)
    error = np.angle(np.exp(1j * (recovered - angles)))
    assert np.degrees(np.abs(error)).max() < 1.0
    assert stats.kstest(recovered / (2 * np.pi), "uniform").pvalue > KS_MIN_P


def test_ks_threshold_rejects_a_half_turn_range():
    # the uniformity check above can fail: angles confined to [0, pi) are rejected
    angles = np.random.default_rng(0).uniform(0, np.pi, 1000)
    assert stats.kstest(angles / (2 * np.pi), "uniform").pvalue < KS_MIN_P


def test_rotate_rejects_wrong_angle_count(digits):
    with pytest.raises(ValueError, match=r"angles must have shape \(40,\)"):
        variants.rotate(digits, np.zeros(3))


def test_back_rand_is_max_of_digit_and_uniform_background():
    digits = digit_like(300, seed=1)
    out, draws = variants.generate("mnist-back-rand", digits, seed=0)
    assert draws == {}
    absent, full, half = digits == 0, digits == 1, digits == 0.5
    background = out[absent]
    # 200 000 uniform pixels: mean 1/2 and std 1/sqrt(12) within 5 standard errors (about 0.003)
    assert abs(background.mean() - 0.5) < 0.005
    assert abs(background.std() - 1 / np.sqrt(12)) < 0.005
    assert (out[full] == 1.0).all()
    assert (out[half] >= 0.5).all()
    # where the digit is 0.5 the background shows through when brighter: about half the time
    assert 0.45 < (out[half] > 0.5).mean() < 0.55
    assert (out >= digits).all()


def test_patch_std_matches_numpy_std():
    image = np.random.default_rng(0).random((40, 50)) ** 3
    expected = sliding_window_view(image, (SIDE, SIDE)).std(axis=(-1, -2))
    np.testing.assert_allclose(variants.patch_std(image), expected, atol=1e-9)


def test_default_pool_is_matplotlibs_real_images():
    pool = variants.background_pool()
    assert pool.files == variants.SAMPLE_BACKGROUNDS
    for image, corners, digest in zip(pool.images, pool.accepted, pool.sha256):
        assert image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
        assert 0 < len(corners) < (image.shape[0] - 27) * (image.shape[1] - 27)
        assert len(digest) == 64


def test_back_image_backgrounds_are_textured_pool_patches(digits):
    pool = variants.background_pool()
    out, draws = variants.generate("mnist-back-image", digits, seed=2, pool=pool)
    assert set(np.unique(draws["source"])) <= set(range(len(pool.images)))
    for k in range(len(digits)):
        image = pool.images[draws["source"][k]]
        row, col = draws["row"][k], draws["col"][k]
        patch = image[row : row + SIDE, col : col + SIDE]
        assert patch.std(dtype=np.float64) >= variants.BACKGROUND_MIN_STD - 1e-9
        np.testing.assert_array_equal(out[k], np.maximum(digits[k], patch.ravel()))


def write_png(path, grey):
    mpimg.imsave(path, grey, cmap="gray", vmin=0, vmax=1)


def test_image_dir_pool_rejects_flat_patches(tmp_path):
    # left half flat grey, right half noise: every accepted patch reaches into the noise
    grey = np.full((64, 128), 0.5)
    grey[:, 64:] = np.random.default_rng(0).random((64, 64))
    write_png(tmp_path / "half.png", grey)
    pool = variants.background_pool(tmp_path)
    assert pool.files == ("half.png",)
    _, draws = variants.generate("mnist-back-image", digit_like(200), seed=0, pool=pool)
    assert draws["col"].min() > 64 - SIDE
    assert (variants.patch_std(pool.images[0])[draws["row"], draws["col"]] >= variants.BACKGROUND_MIN_STD).all()


def test_image_dir_errors(tmp_path):
    with pytest.raises(ValueError, match="holds no image"):
        variants.background_pool(tmp_path)
    with pytest.raises(ValueError, match="existing folder"):
        variants.background_pool(tmp_path / "absent")
    write_png(tmp_path / "flat.png", np.full((40, 40), 0.3))
    with pytest.raises(ValueError, match=r"flat.png: no 28 x 28 patch.*too little texture"):
        variants.background_pool(tmp_path)
    (tmp_path / "flat.png").unlink()
    write_png(tmp_path / "small.png", np.random.default_rng(0).random((20, 40)))
    with pytest.raises(ValueError, match=r"small.png: background images must be at least 28 x 28"):
        variants.background_pool(tmp_path)


def test_grey_levels_of_colour_and_integer_images():
    rgb = np.zeros((2, 2, 4), dtype=np.uint8)
    rgb[..., 0], rgb[..., 3] = 255, 255
    np.testing.assert_allclose(variants.grey_levels(rgb, "x"), 0.299, rtol=1e-6)
    assert variants.grey_levels(np.full((2, 2), 65535, dtype=np.uint16), "x").max() == 1.0
    with pytest.raises(ValueError, match="x: expected a grey or colour image"):
        variants.grey_levels(np.zeros((2, 2, 2, 2)), "x")


# ---------------------------------------------------------------------------
# load_variant: arguments, sources, cache
# ---------------------------------------------------------------------------


def test_load_variant_argument_errors(digits, labels):
    with pytest.raises(ValueError, match=r"name must be one of \('mnist-rot', 'mnist-back-rand', 'mnist-back-image'\)"):
        variants.load_variant("mnist-rotated", digits, labels)
    with pytest.raises(ValueError, match=r"source must be one of \('auto', 'original', 'generated'\), got 'web'"):
        variants.load_variant("mnist-rot", digits, labels, source="web")
    with pytest.raises(ValueError, match=r"mnist_images must have shape \(N, 784\)"):
        variants.load_variant("mnist-rot", digits.reshape(-1, 28, 28), labels)
    with pytest.raises(TypeError, match="mnist_images must be a numpy.ndarray of floats"):
        variants.load_variant("mnist-rot", (digits * 255).astype(np.uint8), labels)
    with pytest.raises(ValueError, match=r"mnist_images must hold values in \[0, 1\]"):
        variants.load_variant("mnist-rot", digits * 2, labels)
    with pytest.raises(ValueError, match=r"mnist_labels must have shape \(40,\)"):
        variants.load_variant("mnist-rot", digits, labels[:5])
    with pytest.raises(ValueError, match="seed must be in"):
        variants.load_variant("mnist-rot", digits, labels, seed=-1)
    with pytest.raises(TypeError, match="root_dirs must be a sequence of folders"):
        variants.load_variant("mnist-rot", digits, labels, root_dirs="/data")


def test_load_variant_generated_without_cache(digits, labels):
    images, out_labels, provenance = variants.load_variant("mnist-back-rand", digits, labels, seed=4)
    np.testing.assert_array_equal(images, variants.generate("mnist-back-rand", digits, seed=4)[0])
    np.testing.assert_array_equal(out_labels, labels)
    assert provenance["source"] == "generated" and provenance["cache"] is None
    assert provenance["seed"] == 4 and provenance["generator_version"] == variants.GENERATOR_VERSION
    assert "max(digit, background)" in provenance["recipe"]
    json.dumps(provenance)  # plain JSON, fit for a run log


def test_cache_hit_and_invalidation(tmp_path, digits, labels, monkeypatch):
    def load(images=digits, seed=0):
        return variants.load_variant("mnist-rot", images, labels, seed=seed, cache_dir=tmp_path)

    first, _, provenance = load()
    assert provenance["cache"]["hit"] is False
    npz = pathlib.Path(provenance["cache"]["path"])
    assert npz == tmp_path / "variants" / "mnist-rot-seed0.npz" and npz.with_suffix(".json").is_file()

    again, _, provenance = load()
    assert provenance["cache"]["hit"] is True
    assert again.tobytes() == first.tobytes()

    # another seed is another file
    assert load(seed=1)[2]["cache"]["hit"] is False
    assert load(seed=1)[2]["cache"]["hit"] is True

    # different MNIST bytes: regenerated (and the file replaced)
    changed = digits.copy()
    changed[0, 300] = 0.25
    assert load(images=changed)[2]["cache"]["hit"] is False
    assert load(images=changed)[2]["cache"]["hit"] is True
    assert load()[2]["cache"]["hit"] is False

    # another generator version: regenerated
    monkeypatch.setattr(variants, "GENERATOR_VERSION", variants.GENERATOR_VERSION + 1)
    assert load()[2]["cache"]["hit"] is False
    assert load()[2]["cache"]["hit"] is True
    assert not list(tmp_path.rglob("*.part"))


def test_cache_rejects_a_damaged_file(tmp_path, digits, labels):
    _, _, provenance = variants.load_variant("mnist-back-rand", digits, labels, cache_dir=tmp_path)
    npz = pathlib.Path(provenance["cache"]["path"])
    arrays = dict(np.load(npz))
    arrays["images"][0, 0] = 0.123
    np.savez(npz, **arrays)
    (entry,) = variants.cached_variants(tmp_path)
    assert entry["manifest_ok"] is False and "checksum" in entry["problem"]
    images, _, provenance = variants.load_variant("mnist-back-rand", digits, labels, cache_dir=tmp_path)
    assert provenance["cache"]["hit"] is False
    np.testing.assert_array_equal(images, variants.generate("mnist-back-rand", digits)[0])
    assert variants.cached_variants(tmp_path)[0]["manifest_ok"] is True


def test_cache_follows_the_background_folder(tmp_path, digits, labels):
    folder = tmp_path / "backgrounds"
    folder.mkdir()
    write_png(folder / "noise.png", np.random.default_rng(0).random((40, 40)))

    def load():
        return variants.load_variant("mnist-back-image", digits, labels, cache_dir=tmp_path, image_dir=folder)

    _, _, provenance = load()
    assert provenance["backgrounds"][0]["file"] == "noise.png" and provenance["cache"]["hit"] is False
    assert load()[2]["cache"]["hit"] is True
    write_png(folder / "noise.png", np.random.default_rng(1).random((40, 40)))
    assert load()[2]["cache"]["hit"] is False


def test_cached_variants_lists_files(tmp_path, digits, labels, monkeypatch):
    assert variants.cached_variants(tmp_path) == []
    for name in ("mnist-rot", "mnist-back-rand"):
        variants.load_variant(name, digits, labels, seed=3, cache_dir=tmp_path)
    entries = variants.cached_variants(tmp_path)
    assert [(e["name"], e["seed"], e["source"], e["n_images"], e["manifest_ok"]) for e in entries] == [
        ("mnist-back-rand", 3, "generated", 40, True),
        ("mnist-rot", 3, "generated", 40, True),
    ]
    (tmp_path / "variants" / "junk.json").write_text("{not json")
    monkeypatch.setattr(variants, "GENERATOR_VERSION", variants.GENERATOR_VERSION + 1)
    junk, back_rand, rot = variants.cached_variants(tmp_path)
    assert not any(entry["manifest_ok"] for entry in (junk, back_rand, rot))
    assert "unreadable manifest" in junk["problem"] and junk["name"] is None
    assert rot["name"] == "mnist-rot" and "generator version" in rot["problem"]


# ---------------------------------------------------------------------------
# Original archives (.amat in .zip)
# ---------------------------------------------------------------------------


def amat_lines(images, labels):
    return "".join(" ".join(f"{v:.8e}" for v in row) + f" {float(label):.8e}\n" for row, label in zip(images, labels))


def write_archive(folder, name, train_text, test_text, prefix=""):
    """An archive like the originals: ``train_text`` is their 12 000 part, ``test_text`` their 50 000."""
    archive, train_member, test_member = amat.ARCHIVES[name]
    path = pathlib.Path(folder) / archive
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(prefix + train_member, train_text)
        zf.writestr(prefix + test_member, test_text)
    return path


@pytest.fixture
def small_parts():
    rng = np.random.default_rng(5)
    their_train = (rng.random((3, 784)).astype(np.float32), np.array([1, 2, 3]))
    their_test = (rng.random((5, 784)).astype(np.float32), np.array([9, 8, 7, 6, 5]))
    return their_train, their_test


def test_read_archive_swaps_parts(tmp_path, small_parts):
    (train_x, train_y), (test_x, test_y) = small_parts
    path = write_archive(tmp_path, "mnist-back-rand", amat_lines(train_x, train_y), amat_lines(test_x, test_y),
                         prefix="folder/")
    images, labels, info = amat.read_archive("mnist-back-rand", path)
    assert images.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_allclose(images, np.concatenate([test_x, train_x]), atol=1e-7)
    np.testing.assert_array_equal(labels, [9, 8, 7, 6, 5, 1, 2, 3])
    assert info["n_train"] == 5 and info["n_test"] == 3
    assert info["train_member"] == "folder/mnist_background_random_test.amat"
    assert info["archive_sha256"] == amat.sha256_file(path)


def text_with(small_parts, line_index, edit):
    (train_x, train_y), _ = small_parts
    lines = amat_lines(train_x, train_y).splitlines(keepends=True)
    lines[line_index] = edit(lines[line_index])
    return "".join(lines)


def replace_field(index, value):
    def edit(line):
        fields = line.split()
        fields[index] = value
        return " ".join(fields) + "\n"

    return edit


@pytest.mark.parametrize(
    "line_index, edit, message",
    [
        (1, replace_field(-1, ""), r"float_train_valid.amat, line 2: 784 values, expected 785"),
        (2, lambda line: line.rstrip("\n") + " 0.5\n", r"line 3: 786 values, expected 785"),
        (0, replace_field(4, "abc"), r"line 1, column 5: 'abc' is not a number"),
        (1, replace_field(-1, "3.5"), r"image 2: label 3.5 is not an integer 0-9"),
        (2, replace_field(-1, "10"), r"image 3: label 10.0 is not an integer 0-9"),
        (0, replace_field(7, "1.5"), r"image 1, column 8: pixel value 1.5 is outside \[0, 1\]"),
        (1, replace_field(0, "-0.01"), r"image 2, column 1: pixel value -0.01 is outside \[0, 1\]"),
        (0, replace_field(3, "nan"), r"image 1, column 4: pixel value nan is outside \[0, 1\]"),
    ],
)
def test_malformed_amat_lines_are_named(tmp_path, small_parts, line_index, edit, message):
    _, (test_x, test_y) = small_parts
    bad = text_with(small_parts, line_index, edit)
    path = write_archive(tmp_path, "mnist-rot", bad, amat_lines(test_x, test_y))
    with pytest.raises(ValueError, match=message):
        amat.read_archive("mnist-rot", path)


def test_all_lines_of_the_wrong_width_are_an_error(tmp_path, small_parts):
    (train_x, train_y), (test_x, test_y) = small_parts
    path = write_archive(tmp_path, "mnist-rot", amat_lines(train_x[:, :-1], train_y), amat_lines(test_x, test_y))
    with pytest.raises(ValueError, match="image 1: 784 values, expected 785"):
        amat.read_archive("mnist-rot", path)


def test_rounding_outside_unit_interval_is_clipped(tmp_path, small_parts):
    _, (test_x, test_y) = small_parts
    path = write_archive(tmp_path, "mnist-rot", text_with(small_parts, 0, replace_field(0, "-1e-9")),
                         amat_lines(test_x, test_y))
    images, _, _ = amat.read_archive("mnist-rot", path)
    assert images[5, 0] == 0.0


def test_archive_structure_errors(tmp_path, small_parts):
    (train_x, train_y), _ = small_parts
    path = tmp_path / "mnist_rotation_new.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist_all_rotation_normalized_float_train_valid.amat", amat_lines(train_x, train_y))
    with pytest.raises(ValueError, match=r"no member 'mnist_all_rotation_normalized_float_test.amat'"):
        amat.read_archive("mnist-rot", path)
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a zip archive"):
        amat.read_archive("mnist-rot", path)
    empty = write_archive(tmp_path / "e", "mnist-rot", amat_lines(train_x, train_y), "")
    with pytest.raises(ValueError, match="no image in the file"):
        amat.read_archive("mnist-rot", empty)


def test_find_archive_and_load_original(tmp_path, small_parts, digits, labels):
    (train_x, train_y), (test_x, test_y) = small_parts
    assert amat.find_archive("mnist-back-image", [tmp_path]) is None
    path = write_archive(tmp_path / "mnist-variants", "mnist-back-image", amat_lines(train_x, train_y),
                         amat_lines(test_x, test_y))
    assert amat.find_archive("mnist-back-image", [tmp_path / "elsewhere", tmp_path]) == path

    for source in ("auto", "original"):
        images, out_labels, provenance = variants.load_variant(
            "mnist-back-image", digits, labels, root_dirs=[tmp_path], source=source, cache_dir=tmp_path / "cache"
        )
        assert provenance["source"] == "original" and provenance["archive"] == str(path)
        np.testing.assert_array_equal(out_labels, [9, 8, 7, 6, 5, 1, 2, 3])
        np.testing.assert_allclose(images, np.concatenate([test_x, train_x]), atol=1e-7)
    assert provenance["cache"]["hit"] is True and provenance["n_train"] == 5

    generated = variants.load_variant("mnist-back-image", digits, labels, root_dirs=[tmp_path], source="generated")
    assert generated[2]["source"] == "generated" and generated[0].shape == digits.shape


def test_original_missing_says_where_to_get_it(tmp_path, digits, labels):
    with pytest.raises(FileNotFoundError) as info:
        variants.load_variant("mnist-rot", digits, labels, root_dirs=[tmp_path], source="original")
    message = str(info.value)
    assert str(tmp_path) in message and "mnist_rotation_new.zip" in message
    assert "http://www.iro.umontreal.ca/~lisa/icml2007data/mnist_rotation_new.zip" in message
    assert "source='generated'" in message
    # auto falls back to generating
    assert variants.load_variant("mnist-rot", digits, labels, root_dirs=[tmp_path])[2]["source"] == "generated"


def test_download_archive_from_file_url(tmp_path, small_parts):
    (train_x, train_y), (test_x, test_y) = small_parts
    served = write_archive(tmp_path / "server", "mnist-back-rand", amat_lines(train_x, train_y),
                           amat_lines(test_x, test_y))
    written = amat.download_archive("mnist-back-rand", tmp_path / "dest", url=served.as_uri())
    assert written == tmp_path / "dest" / "mnist_background_random.zip"
    assert written.read_bytes() == served.read_bytes()
    assert os.listdir(tmp_path / "dest") == ["mnist_background_random.zip"]


def test_download_archive_offline_and_bad_content(tmp_path):
    dest = tmp_path / "dest"
    with pytest.raises(ConnectionError) as info:
        amat.download_archive("mnist-rot", dest, url=(tmp_path / "absent.zip").as_uri())
    message = str(info.value)
    assert "offline" in message and str(dest) in message and amat.archive_url("mnist-rot") in message
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"<html>moved</html>")
    with pytest.raises(ValueError, match="not a zip archive"):
        amat.download_archive("mnist-rot", dest, url=junk.as_uri())
    assert os.listdir(dest) == []
    assert amat.archive_url("mnist-rot") == "http://www.iro.umontreal.ca/~lisa/icml2007data/mnist_rotation_new.zip"


# ---------------------------------------------------------------------------
# Preview grid
# ---------------------------------------------------------------------------


def test_save_grid_writes_a_png(tmp_path, digits, labels):
    out = tmp_path / "grid.png"
    assert preview.save_grid(digits[:10], labels[:10], out, "ten digits", ncols=4) == out
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000
    assert mpimg.imread(io.BytesIO(data), format="png").ndim == 3
    preview.save_grid(digits[:3].reshape(3, 1, 28, 28), labels[:3], out, "replaced")
    assert out.read_bytes() != data
    assert os.listdir(tmp_path) == ["grid.png"]


def test_save_grid_failure_keeps_the_old_file(tmp_path, digits, labels, monkeypatch):
    out = tmp_path / "grid.png"
    out.write_bytes(b"old")

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(preview.Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        preview.save_grid(digits[:2], labels[:2], out, "x")
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["grid.png"]


def test_save_grid_argument_errors(tmp_path, digits, labels):
    with pytest.raises(ValueError, match=r"images must have shape \(N, 784\) or \(N, 1, 28, 28\)"):
        preview.save_grid(digits.reshape(-1, 28, 28), labels, tmp_path / "x.png", "x")
    with pytest.raises(ValueError, match=r"labels must have shape \(40,\)"):
        preview.save_grid(digits, labels[:3], tmp_path / "x.png", "x")
    with pytest.raises(ValueError, match="ncols must be >= 1"):
        preview.save_grid(digits, labels, tmp_path / "x.png", "x", ncols=0)


def test_unwritable_cache_warns_and_still_returns_the_variant(tmp_path, digits, labels):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match="cannot write the variant cache"):
        images, _, provenance = variants.load_variant("mnist-back-rand", digits, labels, cache_dir=not_a_folder)
    np.testing.assert_array_equal(images, variants.generate("mnist-back-rand", digits)[0])
    assert provenance["cache"]["hit"] is False
