#!/usr/bin/env python
"""Side-by-side timings of pynncomp's C kernels, their NumPy twins and the
NumPy / SciPy ways of computing the same things.

    python benchmarks/bench_kernels.py            # full run, 1 to 2 minutes
    python benchmarks/bench_kernels.py --quick    # fewer cases, about 10 s
    python benchmarks/bench_kernels.py --repeat 15
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_kernels.py   # BLAS on one core, like C

How the numbers are made
------------------------
All implementations of one case are timed in the same process, interleaved:
each of ``--repeat`` rounds takes one sample of every implementation, in an
order rotated from round to round so none always runs first.  A sample is
``loops`` back-to-back calls timed with ``time.perf_counter`` (``loops``
calibrated so a sample lasts a few milliseconds, garbage collector off),
divided by ``loops``.  Tables give the MEDIAN over the rounds in
microseconds per call, and RATIOS of medians (``x / C`` > 1 means C is
faster).  Outputs are allocated inside every call, as the layers do.

The C kernels are called through the unchecked wrappers of
``pynncomp/kernels/_c.py`` (``kernels._impl("c")``), which is how the layers
call them every step; one column shows the validated public API for
comparison.  The C core is single-threaded; NumPy's BLAS may use several
threads (the header says how many the environment allows).  Other programs
running at the same time disturb the numbers: the header and the footer give
the load average, and a warning when the machine was busy.

Inputs of the masked matmul
---------------------------
The C forward and weight gradient skip exact zeros of X, so the input
matters.  Two kinds are timed and reported separately:

* ``mnist-like``: synthetic stand-ins for MNIST digits (no data download):
  28 x 28 images whose ink is a thresholded smooth random field inside the
  central 20 x 20 box, so about 81 % of the pixels are exact zeros, in
  contiguous regions, as in MNIST's input layer;
* ``dense``: standard normal, no zeros at all, the worst case for C's
  zero-skipping (hidden layers after a ReLU are about 50 % zeros, so they
  lie between the two).
"""
import argparse
import gc
import math
import os
import platform
import sys
import time

import numpy as np
import scipy
import scipy.ndimage
import scipy.sparse

from pynncomp import kernels
from pynncomp.kernels import reference

LAYERS = ((784, 100), (784, 300))
DTYPE = np.float32


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


class Timer:
    """Interleaved medians of several implementations of one computation."""

    def __init__(self, repeat, sample_seconds):
        self.repeat = repeat
        self.sample_seconds = sample_seconds

    def _loops(self, fn):
        """Calls per sample so that a sample lasts about ``sample_seconds``."""
        loops = 1
        while True:
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= self.sample_seconds / 5 or loops >= 1 << 20:
                return max(1, math.ceil(loops * self.sample_seconds / max(elapsed, 1e-9)))
            loops *= 5

    def compare(self, candidates):
        """``{name: median seconds per call}`` for ``{name: zero-argument callable}``."""
        names = [name for name, fn in candidates.items() if fn is not None]
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            loops = {}
            for name in names:
                candidates[name]()  # warm-up: first-call allocations, caches
                loops[name] = self._loops(candidates[name])
            samples = {name: [] for name in names}
            for round_index in range(self.repeat):
                shift = round_index % len(names)
                for name in names[shift:] + names[:shift]:
                    fn, n = candidates[name], loops[name]
                    start = time.perf_counter()
                    for _ in range(n):
                        fn()
                    samples[name].append((time.perf_counter() - start) / n)
        finally:
            if gc_was_enabled:
                gc.enable()
        medians = {name: float(np.median(samples[name])) for name in names}
        return {name: medians.get(name) for name in candidates}


def fmt_us(seconds):
    if seconds is None:
        return "-"
    us = seconds * 1e6
    return f"{us:.1f}" if us < 1000 else f"{us:.0f}"


def fmt_ratio(numerator, denominator):
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator / denominator:.1f}x"


def print_table(title, header, rows, note=None):
    print()
    print(title)
    if note:
        print(note)
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = "  ".join(f"{h:>{w}}" for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(f"{cell:>{w}}" for cell, w in zip(row, widths)))
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def mnist_like(rng, B, ink_fraction=0.19):
    """(B, 784) float32 stand-ins for MNIST digits, about 81 % exact zeros.

    The ink is where a smooth random field (Gaussian-filtered noise, sigma 2
    pixels) is in its top ``ink_fraction`` inside the central 20 x 20 box;
    intensities rise from 0 at the stroke edge to 1, as MNIST's grey levels.
    """
    field = scipy.ndimage.gaussian_filter(rng.standard_normal((B, 28, 28)), sigma=(0, 2, 2))
    box = np.zeros((28, 28), dtype=bool)
    box[4:24, 4:24] = True
    field[:, ~box] = -np.inf
    threshold = np.quantile(field.reshape(B, -1), 1 - ink_fraction, axis=1)[:, None, None]
    spread = field[:, box].std(axis=1)[:, None, None]
    image = np.clip((field - threshold) / spread, 0.0, 1.0)
    return image.reshape(B, 784).astype(DTYPE)


def make_input(kind, rng, B, n_in):
    if kind == "mnist-like":
        assert n_in == 784
        return mnist_like(rng, B)
    return rng.standard_normal((B, n_in)).astype(DTYPE)


def masked_weights(rng, n_in, n_out, sparsity):
    """W, the keep-mask M (a fraction 1 - sparsity of ones) and the CSR pieces."""
    W = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(DTYPE)
    M = rng.random((n_in, n_out)) >= sparsity
    csr = scipy.sparse.csr_matrix(W * M)
    csr.sort_indices()
    return W, M, csr


# ---------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------


def bench_hashed_lookup(timer, c, layers, fractions, rng):
    rows, results = [], {}
    for n_in, n_out in layers:
        for fraction in fractions:
            K = max(1, round(n_in * n_out * fraction))
            bucket, sign = kernels.hash_buckets(n_in, n_out, K, 1691)
            w = rng.standard_normal(K).astype(DTYPE)
            t = timer.compare(
                {
                    "C": lambda: c.hashed_lookup(w, bucket, sign),
                    "twin": lambda: reference.hashed_lookup(w, bucket, sign),
                    "sign*w[bucket]": lambda: sign * w[bucket],
                }
            )
            results[(n_in, n_out, fraction)] = t
            rows.append(
                [f"{n_in}x{n_out}", f"1/{round(1 / fraction)}", K]
                + [fmt_us(t[k]) for k in ("C", "twin", "sign*w[bucket]")]
                + [fmt_ratio(t["twin"], t["C"]), fmt_ratio(t["sign*w[bucket]"], t["C"])]
            )
    print_table(
        "Hashed lookup V = sign * w[bucket], float32 (median us per call)",
        ["layer", "K/(n_in n_out)", "K", "C", "twin", "sign*w[bucket]", "twin/C", "plain/C"],
        rows,
    )
    return results


def bench_bucket_accumulate(timer, c, layers, fractions, rng):
    rows, results = [], {}
    for n_in, n_out in layers:
        for fraction in fractions:
            K = max(1, round(n_in * n_out * fraction))
            bucket, sign = kernels.hash_buckets(n_in, n_out, K, 1691)
            dV = rng.standard_normal((n_in, n_out)).astype(DTYPE)
            flat_bucket = bucket.ravel()

            def add_at():
                dw = np.zeros(K, dtype=DTYPE)
                np.add.at(dw, flat_bucket, (sign * dV).ravel())
                return dw

            t = timer.compare(
                {
                    "C": lambda: c.bucket_accumulate(dV, bucket, sign, K),
                    "twin": lambda: reference.bucket_accumulate(dV, bucket, sign, K),
                    "np.add.at": add_at,
                    "np.bincount": lambda: np.bincount(flat_bucket, weights=(sign * dV).ravel(), minlength=K),
                }
            )
            results[(n_in, n_out, fraction)] = t
            rows.append(
                [f"{n_in}x{n_out}", f"1/{round(1 / fraction)}", K]
                + [fmt_us(t[k]) for k in ("C", "twin", "np.add.at", "np.bincount")]
                + [fmt_ratio(t["np.bincount"], t["C"]), fmt_ratio(t["np.add.at"], t["C"])]
            )
    print_table(
        "Bucket accumulation dw[k] = sum_{h(i,j)=k} sign * dV, float32 (median us per call)",
        ["layer", "K/(n_in n_out)", "K", "C", "twin", "np.add.at", "np.bincount", "bincount/C", "add.at/C"],
        rows,
        note="np.bincount: np.bincount(bucket.ravel(), weights=(sign*dV).ravel(), minlength=K) (float64 out)",
    )
    return results


# The NumPy twin of the weight gradient gathers a (B, nnz) array twice; past
# this many elements it costs seconds and memory, and is left out.
TWIN_GATHER_LIMIT = 20_000_000


def matmul_candidates(c, X, dY, W, M, csr):
    """Every implementation of forward, dX, weight gradient and all three."""
    n_in, n_out = W.shape
    indptr = csr.indptr.astype(np.int64)
    indices = csr.indices.astype(np.int32)
    data = csr.data
    rows = np.repeat(np.arange(n_in), np.diff(indptr))
    csr_T = csr.T.tocsr()  # CSR of (W*M)^T, built once like csr itself
    nnz = indices.shape[0]
    B = X.shape[0]
    twin_gather_ok = B * nnz <= TWIN_GATHER_LIMIT

    def dense_masked_forward():
        return X @ (W * M)

    def dense_masked_total():
        WM = W * M
        Y = X @ WM
        dW = (X.T @ dY) * M
        dX = dY @ WM.T
        return Y, dW, dX

    def dense_total():
        return X @ W, X.T @ dY, dY @ W.T

    def dense_gather_grad():
        return (X.T @ dY)[rows, indices]

    def c_total():
        Y = c.sparse_matmul(X, indptr, indices, data, n_out)
        ddata = c.sparse_weight_grad(X, dY, indptr, indices)
        dX = c.sparse_matmul_t(dY, indptr, indices, data, n_in)
        return Y, ddata, dX

    def twin_total():
        Y = reference.sparse_matmul(X, indptr, indices, data, n_out)
        ddata = reference.sparse_weight_grad(X, dY, indptr, indices)
        dX = reference.sparse_matmul_t(dY, indptr, indices, data, n_in)
        return Y, ddata, dX

    forward = {
        "C": lambda: c.sparse_matmul(X, indptr, indices, data, n_out),
        "C public": lambda: kernels.sparse_matmul(X, indptr, indices, data, n_out, backend="c"),
        "dense X@(W*M)": dense_masked_forward,
        "dense X@W": lambda: X @ W,
        "scipy X@csr": lambda: X @ csr,
        "scipy (csrT@X.T).T": lambda: (csr_T @ X.T).T,
        "twin": lambda: reference.sparse_matmul(X, indptr, indices, data, n_out),
    }
    backward = {
        "C": lambda: c.sparse_matmul_t(dY, indptr, indices, data, n_in),
        "dense dY@(W*M).T": lambda: dY @ (W * M).T,
        "dense dY@W.T": lambda: dY @ W.T,
        "scipy dY@csr.T": lambda: dY @ csr.T,
        "scipy (csr@dY.T).T": lambda: (csr @ dY.T).T,
        "twin": lambda: reference.sparse_matmul_t(dY, indptr, indices, data, n_in),
    }
    weight_grad = {
        "C": lambda: c.sparse_weight_grad(X, dY, indptr, indices),
        "dense (X.T@dY)*M": lambda: (X.T @ dY) * M,
        "dense X.T@dY": lambda: X.T @ dY,
        "gather (X.T@dY)[M]": dense_gather_grad,
        "twin": (lambda: reference.sparse_weight_grad(X, dY, indptr, indices)) if twin_gather_ok else None,
    }
    totals = dict(
        c_total=c_total,
        dense_masked_total=dense_masked_total,
        dense_total=dense_total,
        twin_total=twin_total if twin_gather_ok else None,
    )
    return forward, backward, weight_grad, totals


def best_of(t, names):
    """(name, time) of the fastest of ``names`` in ``t``."""
    name = min((n for n in names if t.get(n) is not None), key=lambda n: t[n])
    return name, t[name]


def bench_masked_matmul(timer, c, layers, sparsities, batches, input_kinds, rng):
    """Forward, backward dX, weight gradient and the three together."""
    results = {}
    tables = {op: [] for op in ("forward", "backward", "weight_grad", "total")}
    for n_in, n_out in layers:
        for sparsity in sparsities:
            W, M, csr = masked_weights(rng, n_in, n_out, sparsity)
            for B in batches:
                dY = rng.standard_normal((B, n_out)).astype(DTYPE)
                for kind in input_kinds:
                    X = make_input(kind, rng, B, n_in)
                    forward, backward, weight_grad, totals = matmul_candidates(c, X, dY, W, M, csr)
                    t_fwd = timer.compare(forward)
                    # dX does not involve X: time it once per (layer, sparsity, batch).
                    t_bwd = timer.compare(backward) if kind == input_kinds[0] else t_bwd
                    t_grad = timer.compare(weight_grad)

                    # The fastest honest SciPy layer: best forward form, best
                    # dX form, and for the weight gradient (SciPy has no
                    # sampled dense-dense product) the faster of the dense
                    # product gathered at the kept positions and the twin's
                    # row/column gather.
                    scipy_fwd_name, _ = best_of(t_fwd, ["scipy X@csr", "scipy (csrT@X.T).T"])
                    scipy_bwd_name, _ = best_of(t_bwd, ["scipy dY@csr.T", "scipy (csr@dY.T).T"])
                    grad_name, _ = best_of(t_grad, ["gather (X.T@dY)[M]", "twin"])
                    scipy_fwd, scipy_bwd, scipy_grad = forward[scipy_fwd_name], backward[scipy_bwd_name], weight_grad[grad_name]

                    def scipy_total():
                        return scipy_fwd(), scipy_grad(), scipy_bwd()

                    t_total = timer.compare(
                        {
                            "C": totals["c_total"],
                            "dense masked": totals["dense_masked_total"],
                            "dense": totals["dense_total"],
                            "scipy": scipy_total,
                            "twin": totals["twin_total"],
                        }
                    )
                    key = (n_in, n_out, sparsity, B, kind)
                    results[key] = dict(forward=t_fwd, backward=t_bwd, weight_grad=t_grad, total=t_total)
                    label = [f"{n_in}x{n_out}", f"{100 * sparsity:g} %", B, kind]
                    s_fwd = min(t_fwd["scipy X@csr"], t_fwd["scipy (csrT@X.T).T"])
                    tables["forward"].append(
                        label
                        + [fmt_us(t_fwd[k]) for k in forward]
                        + [fmt_ratio(t_fwd["dense X@(W*M)"], t_fwd["C"]), fmt_ratio(s_fwd, t_fwd["C"])]
                    )
                    if kind == input_kinds[0]:
                        s_bwd = min(t_bwd["scipy dY@csr.T"], t_bwd["scipy (csr@dY.T).T"])
                        tables["backward"].append(
                            label[:3]
                            + [fmt_us(t_bwd[k]) for k in backward]
                            + [fmt_ratio(t_bwd["dense dY@(W*M).T"], t_bwd["C"]), fmt_ratio(s_bwd, t_bwd["C"])]
                        )
                    s_grad = t_grad[grad_name]
                    tables["weight_grad"].append(
                        label
                        + [fmt_us(t_grad[k]) for k in weight_grad]
                        + [fmt_ratio(t_grad["dense (X.T@dY)*M"], t_grad["C"]), fmt_ratio(s_grad, t_grad["C"])]
                    )
                    tables["total"].append(
                        label
                        + [fmt_us(t_total[k]) for k in ("C", "dense masked", "dense", "scipy", "twin")]
                        + [fmt_ratio(t_total["dense masked"], t_total["C"]), fmt_ratio(t_total["scipy"], t_total["C"])]
                    )
    head = ["layer", "sparsity", "batch", "input"]
    print_table(
        "Masked matmul, forward Y = X (W*M), float32 (median us per call)",
        head + list(forward) + ["dense(W*M)/C", "scipy/C"],
        tables["forward"],
        note="scipy/C uses the faster of the two SciPy forms; 'C public' is the validated kernels.sparse_matmul",
    )
    print_table(
        "Masked matmul, backward dX = dY (W*M)^T, float32, dY dense (median us per call)",
        head[:3] + list(backward) + ["dense(W*M)/C", "scipy/C"],
        tables["backward"],
    )
    print_table(
        "Masked matmul, weight gradient (X^T dY) at the kept positions, float32 (median us per call)",
        head + list(weight_grad) + ["dense*M/C", "best gather/C"],
        tables["weight_grad"],
        note="SciPy has no sampled dense-dense product; 'best gather' is the faster of (X.T@dY)[M] and the twin. "
        f"twin '-' where B*nnz > {TWIN_GATHER_LIMIT:,}",
    )
    print_table(
        "Masked matmul, forward + weight gradient + dX, float32 (median us per call)",
        head + ["C", "dense masked", "dense", "scipy", "twin", "dense masked/C", "scipy/C"],
        tables["total"],
        note="dense masked: X@(W*M), (X.T@dY)*M, dY@(W*M).T; dense: the same without the mask; "
        "scipy: fastest SciPy forward and dX forms + best gather for the weight gradient",
    )
    return results


def bench_layers(timer, batches, compressions, rng):
    """HashedDense forward+backward against Dense of the same virtual size.

    Needs pynncomp.nn (HashedDense, Dense); skipped with a message when
    that package cannot be imported.
    """
    try:
        from pynncomp.nn import Dense, HashedDense
    except ImportError as exc:
        print()
        print(f"Layers: HashedDense vs Dense section skipped (pynncomp.nn not importable: {exc})")
        return {}
    rows, results = [], {}
    for n_in, n_out in LAYERS:
        dense = Dense(n_in, n_out, seed=0)
        hashed = {c: HashedDense(n_in, n_out, compression=c, seed=0) for c in compressions}
        for B in batches:
            x = mnist_like(rng, B)
            dout = rng.standard_normal((B, n_out)).astype(DTYPE)

            def step(layer):
                out, cache = layer.forward(x, train=True)
                return layer.backward(dout, cache)

            candidates = {"Dense": lambda: step(dense)}
            for c, layer in hashed.items():
                candidates[f"Hashed 1/{round(1 / c)}"] = lambda layer=layer: step(layer)
            t = timer.compare(candidates)
            results[(n_in, n_out, B)] = t
            rows.append(
                [f"{n_in}x{n_out}", B]
                + [fmt_us(t[k]) for k in candidates]
                + [fmt_ratio(t[k], t["Dense"]) for k in candidates if k != "Dense"]
            )
    names = ["Dense"] + [f"Hashed 1/{round(1 / c)}" for c in compressions]
    print_table(
        "Layers: forward + backward (train=True), float32, mnist-like input (median us per call)",
        ["layer", "batch"] + names + [f"{n}/Dense" for n in names[1:]],
        rows,
        note="HashedDense recomputes V = sign * w[bucket] every forward and bucket-sums dV = X^T dY every backward",
    )
    return results


# ---------------------------------------------------------------------------
# Targets and report
# ---------------------------------------------------------------------------


def print_environment(args):
    print("pynncomp kernel benchmark")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"{platform.machine()}, os.cpu_count() = {os.cpu_count()}")
    blas = "unknown"
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        blas = f"{info.get('name')} {info.get('version')}"
        if "openblas configuration" in info:
            blas += f" ({info['openblas configuration']})"
    except Exception as exc:  # show_config's layout is not a stable API
        blas = f"unknown ({exc.__class__.__name__})"
    print(f"  NumPy BLAS: {blas}")
    thread_vars = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    settings = ", ".join(f"{v}={os.environ.get(v, '(unset)')}" for v in thread_vars)
    print(f"  BLAS threads: {settings}; unset means OpenBLAS uses up to os.cpu_count() threads")
    print("  C core: single-threaded; backend " + kernels.ACTIVE_BACKEND)
    print(f"  timing: {args.repeat} interleaved rounds, samples of ~{1e3 * args.sample_seconds:.0f} ms, "
          "medians in microseconds per call")
    print_load("at start")


def print_load(when):
    """The 1-minute load average; at the start, a warning when other work competes.

    At the end the average includes this benchmark itself (and its BLAS
    threads), so it only says how the run went.
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return
    note = ""
    if when == "at start" and load > 0.5 * (os.cpu_count() or 1):
        note = "  WARNING: the machine is busy, timings will be noisy"
    elif when == "at end":
        note = "  (this benchmark included)"
    print(f"  load average (1 min) {when}: {load:.2f} on {os.cpu_count()} CPUs{note}")


def check(description, achieved, target):
    if achieved is None:
        print(f"  [ -- ] {description}: not measured in this run")
        return None
    ok = achieved >= target
    print(f"  [{'met ' if ok else 'MISS'}] {description}: {achieved:.2f}x (target >= {target:g}x)")
    return ok


def report_targets(accumulate, matmul, batches, input_kinds):
    print()
    print("Targets (ratios of medians; > 1 means C is faster).  A 784-wide layer is an input layer,")
    print("so mnist-like is the input it sees; dense is the worst case for C's zero skipping.")
    for (n_in, n_out, fraction), t in sorted(accumulate.items()):
        check(f"bucket accumulate {n_in}x{n_out} K=1/{round(1 / fraction)}: np.bincount / C",
              t["np.bincount"] / t["C"], 1.5)
    for B in batches:
        if B > 16:
            continue
        for kind in input_kinds:
            r = matmul.get((784, 300, 0.99, B, kind))
            if r is None:
                continue
            fwd, total = r["forward"], r["total"]
            scipy_fwd = min(fwd["scipy X@csr"], fwd["scipy (csrT@X.T).T"])
            where = f"784x300 99 % batch {B} {kind}"
            check(f"{where} forward: scipy / C", scipy_fwd / fwd["C"], 2)
            check(f"{where} forward: dense X@(W*M) / C", fwd["dense X@(W*M)"] / fwd["C"], 4)
            check(f"{where} fwd+bwd: scipy / C", total["scipy"] / total["C"], 2)
            check(f"{where} fwd+bwd: dense masked / C", total["dense masked"] / total["C"], 4)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=None,
                        help="interleaved rounds per case (default 9, or 7 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer cases and rounds (about 10 s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 7 if args.quick else 9
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    args.sample_seconds = 0.004 if args.quick else 0.006

    if not kernels.c_available():
        print("The C core is not built: nothing to compare the NumPy kernels with. " + kernels.BUILD_HINT)
        return 1
    c = kernels._impl("c")
    rng = np.random.default_rng(args.seed)
    timer = Timer(args.repeat, args.sample_seconds)
    print_environment(args)

    if args.quick:
        layers, fractions = ((784, 300),), (1 / 8, 1 / 64)
        sparsities, batches = (0.9, 0.99), (1, 16)
        layer_batches = (16,)
    else:
        layers, fractions = LAYERS, (1 / 8, 1 / 64)
        sparsities, batches = (0.5, 0.9, 0.99, 0.998), (1, 16, 256)
        layer_batches = (16, 128)
    input_kinds = ("mnist-like", "dense")

    start = time.perf_counter()
    bench_hashed_lookup(timer, c, layers, fractions, rng)
    accumulate = bench_bucket_accumulate(timer, c, layers, fractions, rng)
    matmul = bench_masked_matmul(timer, c, layers, sparsities, batches, input_kinds, rng)
    # ---- Layers: HashedDense vs Dense of the same virtual size ----------
    bench_layers(timer, layer_batches, fractions, rng)
    report_targets(accumulate, matmul, batches, input_kinds)
    print()
    print_load("at end")
    print(f"  total benchmark time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
