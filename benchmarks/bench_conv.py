"""Time Conv2D forward + backward on the two LeNet-5 convolutions, batch 64.

LeNet-5 (docs/methods.md#lenet5): conv 20@5x5 on 1x28x28, and conv 50@5x5 on
20x12x12, float32.  pynncomp's Conv2D (im2col + one GEMM per pass) is timed
against three plain references computing the same numbers:

* ``im2col``: the plain im2col version (CS231n ``conv_forward_im2col``):
  the columns gathered by fancy indexing, one GEMM per pass, col2im by
  ``np.add.at``;
* ``loops``: the textbook (CS231n ``conv_forward_naive``) version, a Python
  loop over output positions, vectorised over batch and filters;
* ``einsum``: the same contractions written with ``np.einsum``
  (``optimize=True``) on an NCHW window view, summed back one kernel offset
  at a time.

It then times each part of pynncomp's forward + backward on its own (the
im2col copy, the three GEMMs, turning dout into columns, col2im), to show
where the time goes.

Each repeat times every implementation once, in turn, so that slow phases of
the machine hit all of them alike; the medians over repeats are printed with
the ratios reference / pynncomp (> 1: pynncomp is faster).

Run: ``python benchmarks/bench_conv.py [--repeats 21] [--batch 64]``.

BLAS runs single-threaded unless ``OPENBLAS_NUM_THREADS`` is set: on a
machine shared with other jobs, multithreaded OpenBLAS stalls when the cores
are oversubscribed (we saw ~1 s per forward+backward instead of ~5 ms),
which says nothing about the code timed.

Timings also depend on the allocator: each step allocates a few MB of fresh
arrays, and when glibc has returned the freed ones to the OS every step pays
their page faults again (on our VM, a loop of conv1 steps alone took ~13 ms
per step against ~4.5 ms with ``MALLOC_MMAP_THRESHOLD_=1000000000
MALLOC_TRIM_THRESHOLD_=1000000000``, which make glibc keep freed memory).
"""
import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from pynncomp.nn.conv import Conv2D, _to_chwn, sum_windows, window_view  # noqa: E402

LENET5_CONVS = [
    ("conv1 20@5x5 on 1x28x28", 1, 20, 28),
    ("conv2 50@5x5 on 20x12x12", 20, 50, 12),
]


def pynncomp_step(layer, x, dout):
    _, cache = layer.forward(x)
    dx = layer.backward(dout, cache)
    return dx, layer.grads["W"], layer.grads["b"]


def loops_step(W, b, x, dout):
    """Forward and backward with a Python loop over the output positions."""
    B, C, H, Wd = x.shape
    F, _, k_h, k_w = W.shape
    H_out, W_out = H - k_h + 1, Wd - k_w + 1
    W_mat = W.reshape(F, -1)
    out = np.empty((B, F, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i:i + k_h, j:j + k_w].reshape(B, -1) @ W_mat.T + b
    dx, dW = np.zeros_like(x), np.zeros_like(W_mat)
    for i in range(H_out):
        for j in range(W_out):
            dW += dout[:, :, i, j].T @ x[:, :, i:i + k_h, j:j + k_w].reshape(B, -1)
            dx[:, :, i:i + k_h, j:j + k_w] += (dout[:, :, i, j] @ W_mat).reshape(B, C, k_h, k_w)
    return dx, dW.reshape(W.shape), dout.sum(axis=(0, 2, 3))


def im2col_indices(C, H, W, k_h, k_w):
    """CS231n's ``get_im2col_indices``: row, column and channel of every (c, u, v) × (i, j) entry."""
    H_out, W_out = H - k_h + 1, W - k_w + 1
    i0 = np.tile(np.repeat(np.arange(k_h), k_w), C)
    j0 = np.tile(np.arange(k_w), k_h * C)
    i1 = np.repeat(np.arange(H_out), W_out)
    j1 = np.tile(np.arange(W_out), H_out)
    rows = i0[:, None] + i1[None, :]
    cols = j0[:, None] + j1[None, :]
    channels = np.repeat(np.arange(C), k_h * k_w)[:, None]
    return channels, rows, cols


def im2col_step(W, b, x, dout, indices):
    """The plain im2col version (CS231n ``conv_forward_im2col``): fancy-index gather, one GEMM
    per pass, ``np.add.at`` scatter for col2im."""
    F = W.shape[0]
    B = x.shape[0]
    channels, rows, cols = indices
    X_col = x[:, channels, rows, cols]                    # (B, C·k·k, H_out·W_out)
    X_col = X_col.transpose(1, 2, 0).reshape(X_col.shape[1], -1)  # (C·k·k, H_out·W_out·B)
    W_mat = W.reshape(F, -1)
    out = (W_mat @ X_col + b[:, None]).reshape(F, *dout.shape[2:], B).transpose(3, 0, 1, 2)
    delta = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dW = (delta @ X_col.T).reshape(W.shape)
    dX_col = (W_mat.T @ delta).reshape(W_mat.shape[1], -1, B).transpose(2, 0, 1)
    dx = np.zeros_like(x)
    np.add.at(dx, (slice(None), channels, rows, cols), dX_col)
    return dx, dW, dout.sum(axis=(0, 2, 3)), out


def einsum_step(W, b, x, dout):
    """Forward and backward as einsum contractions over an NCHW window view."""
    k_h, k_w = W.shape[2:]
    windows = sliding_window_view(x, (k_h, k_w), axis=(2, 3))  # (B, C, H_out, W_out, k_h, k_w)
    H_out, W_out = windows.shape[2:4]
    out = np.einsum("fcuv,ncijuv->nfij", W, windows, optimize=True) + b[:, None, None]
    dW = np.einsum("nfij,ncijuv->fcuv", dout, windows, optimize=True)
    window_grad = np.einsum("fcuv,nfij->ncijuv", W, dout, optimize=True)
    dx = np.zeros_like(x)
    for u in range(k_h):
        for v in range(k_w):
            dx[:, :, u:u + H_out, v:v + W_out] += window_grad[..., u, v]
    return dx, dW, dout.sum(axis=(0, 2, 3)), out


def breakdown(layer, x, dout, repeats):
    """Median ms of each part of pynncomp's forward + backward: where the time goes."""
    k_h, k_w = layer.kernel_size
    F = layer.out_channels
    W_mat = layer.params["W"].reshape(F, -1)

    def im2col():
        windows = window_view(_to_chwn(x), layer.kernel_size, layer.stride)
        C, H_out, W_out, B = windows.shape[2:]
        return windows.transpose(2, 0, 1, 3, 4, 5).reshape(C * k_h * k_w, H_out * W_out * B)

    X_col = im2col()
    delta = layer._as_columns(dout)
    dX_col = W_mat.T @ delta
    B, C, H, W = x.shape
    H_out, W_out = layer.output_shape(x.shape)[2:]
    window_grad = dX_col.reshape(C, k_h, k_w, H_out, W_out, B).transpose(1, 2, 0, 3, 4, 5)
    parts = {
        "im2col copy": im2col,
        "forward GEMM W·X_col": lambda: W_mat @ X_col,
        "dout to columns": lambda: layer._as_columns(dout),
        "weight-gradient GEMM δ·X_colᵀ": lambda: delta @ X_col.T,
        "input-gradient GEMM Wᵀ·δ": lambda: W_mat.T @ delta,
        "col2im (sum_windows)": lambda: sum_windows(window_grad, (C, H, W, B), layer.stride),
    }
    times = {name: [] for name in parts}
    for _ in range(repeats):
        for name, part in parts.items():
            start = time.perf_counter()
            part()
            times[name].append(time.perf_counter() - start)
    return {name: 1e3 * float(np.median(t)) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--keep-memory", action="store_true",
                        help="call pynncomp._memory.keep_freed_memory() first, as the pynncomp command does")
    args = parser.parse_args(argv)
    if args.keep_memory:
        from pynncomp._memory import keep_freed_memory

        print(f"keep_freed_memory(): {keep_freed_memory()}")
    rng = np.random.default_rng(0)
    threads = os.environ["OPENBLAS_NUM_THREADS"]
    print(f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={threads}, float32, batch {args.batch}, "
          f"{args.repeats} interleaved repeats; median ms per forward+backward")
    for name, C, F, size in LENET5_CONVS:
        layer = Conv2D(C, F, 5, seed=0)
        layer.params["b"][:] = rng.standard_normal(F)
        W, b = layer.params["W"], layer.params["b"]
        x = rng.standard_normal((args.batch, C, size, size)).astype(np.float32)
        dout = rng.standard_normal(layer.output_shape(x.shape)).astype(np.float32)
        indices = im2col_indices(C, size, size, 5, 5)
        steps = {
            "pynncomp": lambda: pynncomp_step(layer, x, dout),
            "im2col": lambda: im2col_step(W, b, x, dout, indices),
            "loops": lambda: loops_step(W, b, x, dout),
            "einsum": lambda: einsum_step(W, b, x, dout),
        }
        results = {key: step() for key, step in steps.items()}  # warm-up, and the check below
        for key in ("im2col", "loops", "einsum"):
            for got, want in zip(results[key][:3], results["pynncomp"]):
                scale = np.abs(want).max()
                assert np.abs(got - want).max() <= 1e-4 * scale, f"{key} disagrees with pynncomp on {name}"
        del results  # arrays kept alive at the top of the heap would spare later steps their page faults
        times = {key: [] for key in steps}
        for _ in range(args.repeats):
            for key, step in steps.items():
                start = time.perf_counter()
                step()
                times[key].append(time.perf_counter() - start)
        medians = {key: 1e3 * float(np.median(t)) for key, t in times.items()}
        ratios = ", ".join(f"{key}/pynncomp = {medians[key] / medians['pynncomp']:.1f}x"
                           for key in ("im2col", "loops", "einsum"))
        print(f"{name}: " + ", ".join(f"{key} {ms:.2f} ms" for key, ms in medians.items()) + f"; {ratios}")
        parts = breakdown(layer, x, dout, args.repeats)
        total = sum(parts.values())
        print("  where pynncomp's time goes: " + ", ".join(
            f"{part} {ms:.2f} ms ({100 * ms / total:.0f} %)" for part, ms in parts.items()))


if __name__ == "__main__":
    main()
