"""A PNG grid of labelled digit images, to look at a data set.

Drawn with matplotlib's Agg canvas on a :class:`matplotlib.figure.Figure`
(never ``pyplot``), so it needs no display and leaves the global backend
alone.  The file is written to a temporary name beside ``out_path`` and
renamed (``os.replace``): a reader never sees a half-written PNG.
"""
import math
import pathlib

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .._files import atomic_write
from .._checks import check_int

SIDE = 28
# Inches per image cell: 28 pixels at 100 dots per inch, plus room for the label.
CELL_WIDTH = 0.9
CELL_HEIGHT = 1.05
DPI = 100


def save_grid(images, labels, out_path, title, ncols=8):
    """Write ``images`` as a grid, each with its label above it, to the PNG ``out_path``.

    Parameters
    ----------
    images : numpy.ndarray of float, shape (N, 784) or (N, 1, 28, 28)
        Grey levels in [0, 1] (drawn black = 0 to white = 1), N >= 1.
    labels : array_like of int, shape (N,)
    out_path : str or os.PathLike
        The PNG written; its folder must exist.
    title : str
        Printed above the grid.
    ncols : int >= 1
        Images per row (fewer when N is smaller).

    Returns
    -------
    pathlib.Path
        ``out_path``.
    """
    if not isinstance(images, np.ndarray) or images.dtype.kind not in "fiu":
        raise TypeError(f"images must be a numpy.ndarray of numbers, got {type(images).__name__}")
    if (images.ndim == 2 and images.shape[1] == SIDE * SIDE) or images.shape[1:] == (1, SIDE, SIDE):
        squares = images.reshape(-1, SIDE, SIDE)
    else:
        raise ValueError(f"images must have shape (N, 784) or (N, 1, 28, 28), got {images.shape}")
    if len(squares) == 0:
        raise ValueError("images must hold at least one image, got 0")
    labels = np.asarray(labels)
    if labels.shape != (len(squares),):
        raise ValueError(f"labels must have shape ({len(squares)},), one per image, got {labels.shape}")
    ncols = min(check_int("ncols", ncols, 1), len(squares))
    nrows = math.ceil(len(squares) / ncols)
    out_path = pathlib.Path(out_path)

    figure = Figure(figsize=(CELL_WIDTH * ncols, CELL_HEIGHT * nrows + 0.4), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=10)
    for index, (square, label) in enumerate(zip(squares, labels)):
        axes = figure.add_subplot(nrows, ncols, index + 1)
        axes.imshow(square, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        axes.set_title(str(label), fontsize=9, pad=2)
        axes.set_axis_off()

    with atomic_write(out_path) as stream:
        figure.savefig(stream, format="png")
    return out_path
