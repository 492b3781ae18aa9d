#!/usr/bin/env python
"""Timings of the MNIST-variant generators and of synthetic-digits, with preview grids.

    python benchmarks/bench_variants.py                 # 62 000 images, median of 3 runs
    python benchmarks/bench_variants.py --repeat 1      # one run each (about 20 s)
    python benchmarks/bench_variants.py --quick         # 6 200 images, for a smoke test

MNIST is read from ``$PYNNCOMP_DATA/mnist/*.gz``, else from
``../shared/data/mnist`` beside the repository (the four IDX files, read
here with gzip and NumPy).  The 62 000 images timed are MNIST's first
62 000 (training file, then test file): the same count as the comparative
study's split, which is what the time depends on.

How the numbers are made
------------------------
Each generator (:func:`pynncomp.data.variants.generate`) runs ``--repeat``
times on the same images, timed with ``time.perf_counter``; the table gives
the median and the spread (min-max) in seconds.  The target is < 60 s per
variant for 62 000 images on 2 cores.  ``load_variant`` is timed twice with
a fresh cache folder: cold (generate, write the ``.npz`` and manifest) and
warm (read and verify the checksums).  synthetic-digits is timed on 10 000
images with its glyph templates already built (building them, once per
process, is timed separately).

Each variant's pixel mean and std are printed next to those of the
original archives, as quoted by users of the archives (normalisation
constants; not measured here).

Preview grids (the first 32 images of each variant, and 32 synthetic
digits) are written as PNG to ``--preview-dir`` (default: a new temporary
folder); look at them.
"""
import argparse
import gzip
import os
import pathlib
import platform
import statistics
import tempfile
import time

import numpy as np
import scipy

from pynncomp.data import preview, synthetic, variants

REPO = pathlib.Path(__file__).resolve().parent.parent
N_STUDY = 62_000
N_SYNTHETIC = 10_000
# (mean, std) of the original archives' pixels, as quoted by their users.
ORIGINAL_STATS = {"mnist-rot": (0.1300, 0.2970), "mnist-back-rand": (0.5560, 0.3036),
                  "mnist-back-image": (0.5455, 0.2735)}


def mnist_folder():
    """``$PYNNCOMP_DATA/mnist``, else ``../shared/data/mnist`` beside the repository."""
    root = os.environ.get("PYNNCOMP_DATA")
    folder = pathlib.Path(root) / "mnist" if root else REPO.parent / "shared" / "data" / "mnist"
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        raise SystemExit(f"MNIST not found in {folder}: set PYNNCOMP_DATA to a folder holding mnist/*.gz")
    return folder


def read_idx(path, offset):
    with gzip.open(path) as stream:
        return np.frombuffer(stream.read(), dtype=np.uint8, offset=offset)


def mnist_62k(folder):
    """MNIST's first 62 000 images as float32 rows in [0, 1], and their labels."""
    images = np.concatenate([read_idx(folder / f"{part}-images-idx3-ubyte.gz", 16) for part in ("train", "t10k")])
    labels = np.concatenate([read_idx(folder / f"{part}-labels-idx1-ubyte.gz", 8) for part in ("train", "t10k")])
    images = images.reshape(-1, 784)[:N_STUDY].astype(np.float32) / 255
    return images, labels[:N_STUDY].astype(np.int64)


def timed(function, repeat):
    """Median, min and max seconds of ``repeat`` calls, and the last result."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), min(seconds), max(seconds), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per generator (median reported)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the images")
    parser.add_argument("--preview-dir", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)

    images, labels = mnist_62k(mnist_folder())
    n = N_STUDY // 10 if args.quick else N_STUDY
    images, labels = images[:n], labels[:n]
    preview_dir = args.preview_dir or pathlib.Path(tempfile.mkdtemp(prefix="pynncomp-previews-"))
    preview_dir.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"{cores} cores available, load average {os.getloadavg()[0]:.2f}")
    print(f"{n} MNIST images, {args.repeat} run(s) each; seconds (median, min-max)\n")

    print(f"{'variant':<18} {'median s':>9} {'min-max s':>13} {'mean':>7} {'std':>7}   originals' mean, std")
    for name in variants.VARIANTS:
        median, low, high, (out, _) = timed(lambda: variants.generate(name, images, seed=0), args.repeat)
        mean, std = ORIGINAL_STATS[name]
        print(f"{name:<18} {median:9.2f} {low:6.2f}-{high:<6.2f} {out.mean():7.4f} {out.std():7.4f}   "
              f"{mean:.4f}, {std:.4f}")
        preview.save_grid(out[:32], labels[:32], preview_dir / f"{name}.png", f"{name} (generated, seed 0)")

    with tempfile.TemporaryDirectory() as cache:
        for state in ("cold", "warm"):
            seconds, _, _, _ = timed(
                lambda: variants.load_variant("mnist-back-rand", images, labels, cache_dir=cache), 1
            )
            print(f"load_variant('mnist-back-rand', cache {state}): {seconds:.2f} s")

    synthetic.glyph_templates.cache_clear()
    templates_seconds, _, _, _ = timed(synthetic.glyph_templates, 1)
    median, low, high, (X, y, _, _) = timed(lambda: synthetic.synthetic_digits(N_SYNTHETIC, 1, seed=0), args.repeat)
    print(f"\nsynthetic-digits, {N_SYNTHETIC} images: {median:.2f} s ({low:.2f}-{high:.2f}); "
          f"glyph templates built once per process in {templates_seconds:.2f} s")
    preview.save_grid(X[:32], y[:32], preview_dir / "synthetic-digits.png", "synthetic-digits (seed 0)")
    print(f"\npreviews: {preview_dir}")


if __name__ == "__main__":
    main()
