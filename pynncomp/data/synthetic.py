"""synthetic-digits: SYNTHETIC 28 x 28 ten-class digits drawn from fonts, made offline.

**These are not handwritten digits.**  They are a small stand-in data set
with MNIST's format (28 x 28 grey levels in [0, 1], labels 0-9), generated
from the fonts matplotlib ships, for tests, tutorials and CI where MNIST is
not available; results on them say nothing about MNIST.  The loader marks
them ``synthetic=True``.

Recipe
------
Templates (made once per process, :func:`glyph_templates`): each digit
glyph of each font in :data:`FONTS` is taken as an outline
(``matplotlib.textpath.TextPath``), scaled so that its bounding box's
longer side is 20 pixels, as MNIST's digits were fitted into a 20 x 20 box,
and filled (nonzero winding rule) on a canvas :data:`SUPERSAMPLE` times
finer than the 28 x 28 grid, at the fine pixel centres.  Each filled
glyph gets every stroke-width increase of :data:`STROKE_CHANGES` (pixels
of the 28 x 28 grid): its outline moved out by half the increase (a
dilation by a disc: the fine pixels within that Euclidean distance of the
glyph).  A Gaussian blur of :data:`ANTIALIAS_SIGMA` pixels smooths the
edges, as MNIST's anti-aliased digits are.

Samples (:func:`render`): a template drawn uniformly (digit given, font
and stroke width uniform), then the affine map ``A = R(theta) H(k)
diag(s, s * a)`` with rotation ``theta ~ U[-15, 15]`` degrees, shear ``k ~
U[-0.3, 0.3]``, scale ``s ~ U[0.8, 1.1]`` and aspect ``a ~ U[0.8, 1.2]``,
placed so that the glyph's centre of mass lands on the image centre (13.5,
13.5), as MNIST centres by centre of mass, plus a shift ``t ~ U[-1, 1]``
pixel on each axis.  Bilinear sampling of the template (``order=1``, 0
outside).  Then contrast ``c ~ U[0.75, 1]`` and Gaussian pixel noise of
standard deviation :data:`NOISE_STD`: ``out = clip(c * glyph + noise, 0, 1)``.

Labels are balanced: ``i % 10`` for ``i = 0..n-1``, shuffled.  The
training and test images come from the independent generators
``default_rng([seed, 0])`` and ``default_rng([seed, 1])``, so the training
set does not depend on ``n_test``.
"""
import functools
import os

import matplotlib
import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D
from scipy import ndimage

from .._checks import check_int

SIDE = 28
CENTRE = (SIDE - 1) / 2
BOX = 20
SUPERSAMPLE = 3
# Canvas side in 28-grid pixels: room for the 20-pixel glyph, thickened and blurred.
CANVAS = 36
# Fonts in matplotlib's mpl-data/fonts/ttf.
FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
)
# Thickening only: the thin fonts have hairlines under a pixel wide, which erosion would break.
STROKE_CHANGES = (0.0, 0.75, 1.5, 2.25)
ANTIALIAS_SIGMA = 0.5
MAX_ROTATION_DEGREES = 15.0
MAX_SHEAR = 0.3
SCALE_RANGE = (0.8, 1.1)
ASPECT_RANGE = (0.8, 1.2)
MAX_SHIFT = 1.0
CONTRAST_RANGE = (0.75, 1.0)
NOISE_STD = 0.05


def _filled_glyph(digit, font_file):
    """Boolean fine-grid mask of ``digit`` in ``font_file``, fitted into the 20-pixel box.

    Fonts fill outlines by the nonzero winding rule: a point is ink when
    the contours around it, counted +1 or -1 by their orientation (the
    sign of their area), do not cancel, so the counter of a 0 (an inner
    contour turning the other way) stays empty.  ``Path.contains_points``
    on the whole glyph would fill it (it ORs the contours), hence one call
    per contour.
    """
    path = TextPath((0, 0), str(digit), size=1, prop=FontProperties(fname=font_file))
    extents = path.get_extents()
    fine = CANVAS * SUPERSAMPLE
    zoom = BOX * SUPERSAMPLE / max(extents.width, extents.height)
    # glyph y points up, rows point down: flip y, and centre the bounding box on the canvas
    to_pixels = (
        Affine2D()
        .translate(-(extents.x0 + extents.x1) / 2, -(extents.y0 + extents.y1) / 2)
        .scale(zoom, -zoom)
        .translate(fine / 2, fine / 2)
    )
    centres = np.arange(fine) + 0.5
    cols, rows = np.meshgrid(centres, centres)
    points = np.column_stack([cols.ravel(), rows.ravel()])
    winding = np.zeros(len(points), dtype=np.int64)
    # curves are flattened into segments at the scale of fine pixels
    for contour in path.transformed(to_pixels).to_polygons(closed_only=True):
        x, y = contour[:, 0], contour[:, 1]
        orientation = np.sign(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        winding += int(orientation) * Path(contour).contains_points(points)
    return (winding != 0).reshape(fine, fine)


@functools.lru_cache(maxsize=1)
def glyph_templates():
    """Every (digit, font, stroke width) template, on the fine canvas.

    Returns
    -------
    templates : numpy.ndarray of float32, shape (10, F * W, CANVAS * SUPERSAMPLE, CANVAS * SUPERSAMPLE)
        ``templates[d]`` are digit ``d``'s F = len(FONTS) fonts times W =
        len(STROKE_CHANGES) stroke widths, values in [0, 1]; read-only
        (one copy is shared by every call).
    centres_of_mass : numpy.ndarray of float64, shape (10, F * W, 2)
        (row, col) of each template's centre of mass, in fine pixels.
    """
    font_dir = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    fine_side = CANVAS * SUPERSAMPLE
    templates = np.empty((10, len(FONTS) * len(STROKE_CHANGES), fine_side, fine_side), dtype=np.float32)
    for digit in range(10):
        widened = []
        for font in FONTS:
            inside = _filled_glyph(digit, os.path.join(font_dir, font))
            distance = ndimage.distance_transform_edt(~inside)
            # moving the outline out by r fine pixels widens the stroke by 2 r
            widened += [distance <= change * SUPERSAMPLE / 2 for change in STROKE_CHANGES]
        blur = ANTIALIAS_SIGMA * SUPERSAMPLE
        templates[digit] = ndimage.gaussian_filter(np.array(widened, dtype=np.float32), (0, blur, blur))
    fine = np.arange(fine_side)
    mass = templates.sum(axis=(2, 3))
    centres_of_mass = np.stack(
        [(templates.sum(axis=3) * fine).sum(axis=2) / mass, (templates.sum(axis=2) * fine).sum(axis=2) / mass],
        axis=-1,
    )
    # shared by every caller through the cache: read-only
    templates.flags.writeable = False
    centres_of_mass.flags.writeable = False
    return templates, centres_of_mass


def render(labels, rng):
    """Draw one image of each digit in ``labels`` (module docstring: the recipe).

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (n,)
        Digits 0-9.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of float32, shape (n, 784)
        Values in [0, 1].
    """
    templates, centres_of_mass = glyph_templates()
    n = len(labels)
    choice = rng.integers(0, templates.shape[1], n)
    theta = np.deg2rad(rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES, n))
    shear = rng.uniform(-MAX_SHEAR, MAX_SHEAR, n)
    scale = rng.uniform(*SCALE_RANGE, n)
    aspect = rng.uniform(*ASPECT_RANGE, n)
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, (n, 2))
    contrast = rng.uniform(*CONTRAST_RANGE, n)
    noise = rng.normal(0.0, NOISE_STD, (n, SIDE, SIDE))

    images = np.empty((n, SIDE, SIDE), dtype=np.float32)
    centre = np.array([CENTRE, CENTRE])
    for i in range(n):
        cos, sin = np.cos(theta[i]), np.sin(theta[i])
        # forward map, template (row, col) offsets from the centre of mass -> image offsets
        forward = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, 0.0], [shear[i], 1.0]]) @ np.diag(
            [scale[i], scale[i] * aspect[i]]
        )
        # affine_transform maps output pixels back to template pixels: p = S A^-1 (o - centre - t) + com
        matrix = SUPERSAMPLE * np.linalg.inv(forward)
        com = centres_of_mass[labels[i], choice[i]]
        ndimage.affine_transform(
            templates[labels[i], choice[i]],
            matrix,
            offset=com - matrix @ (centre + shift[i]),
            output_shape=(SIDE, SIDE),
            order=1,
            mode="constant",
            cval=0.0,
            output=images[i],
        )
    images = contrast[:, None, None] * images + noise
    np.clip(images, 0.0, 1.0, out=images)
    return images.reshape(n, SIDE * SIDE).astype(np.float32)


def _balanced_labels(n, rng):
    """``i % 10`` for ``i < n``, shuffled: every digit ``n // 10`` or ``n // 10 + 1`` times."""
    return rng.permutation(np.arange(n) % 10).astype(np.int64)


def synthetic_digits(n_train, n_test, seed=0):
    """SYNTHETIC digits: a training and a test set drawn from fonts (not handwriting).

    Parameters
    ----------
    n_train, n_test : int >= 1
    seed : int in [0, 2**32 - 1]
        Same seed, same bytes.

    Returns
    -------
    X_train : numpy.ndarray of float32, shape (n_train, 784)
    y_train : numpy.ndarray of int64, shape (n_train,)
    X_test : numpy.ndarray of float32, shape (n_test, 784)
    y_test : numpy.ndarray of int64, shape (n_test,)
        Images in [0, 1]; labels 0-9, balanced within each set.
    """
    n_train = check_int("n_train", n_train, 1)
    n_test = check_int("n_test", n_test, 1)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    sets = []
    for part, n in enumerate((n_train, n_test)):
        rng = np.random.default_rng([seed, part])
        labels = _balanced_labels(n, rng)
        sets += [render(labels, rng), labels]
    return tuple(sets)
