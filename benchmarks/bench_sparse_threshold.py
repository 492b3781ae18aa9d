"""From what kept fraction a pruned dense layer trains faster as CSR than as a masked dense matrix.

For each layer shape of the nets pynncomp trains (the dense layers of
784-100-10, 784-30-10, 784-50-10, LeNet-300-100 and LeNet-5), each batch size
and each kept fraction, one training step of that layer alone is timed in
both forms, side by side in one process:

* ``masked``: :class:`pynncomp.nn.Dense` with its keep-mask: forward,
  backward (``backward_params`` for a first layer, which needs no dX), and
  the SGD step (momentum 0.9, L2) on the whole matrix;
* ``sparse``: :class:`pynncomp.nn.SparseDense` holding the kept weights:
  the same through the sparse C kernels, the SGD step on the kept ones.

Each timing is the median over ``--repeats`` of the mean over ``--steps``
steps; the forms alternate so that slow phases of the machine hit both.  It
prints the ratio masked / sparse per kept fraction and the largest measured
kept fraction at which the sparse form is at least ``--margin`` times
faster: the threshold :data:`pynncomp.train.SPARSE_BELOW` holds for that
shape and batch.

Run: ``python benchmarks/bench_sparse_threshold.py [--repeats 5] [--steps 200]``.
BLAS is single-threaded unless ``OPENBLAS_NUM_THREADS`` is set (the runner
gives each worker one thread on 2 cores).
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402

from pynncomp import kernels  # noqa: E402
from pynncomp.nn import L2, SGD, Dense, Sequential, SparseDense  # noqa: E402

# (n_in, n_out, first layer of its net, batch sizes it trains with)
SHAPES = [(784, 100, True, (16, 128)), (100, 10, False, (16, 128)), (784, 30, True, (16,)),
          (30, 10, False, (16,)), (784, 50, True, (16,)), (50, 10, False, (16,)),
          (784, 300, True, (16, 128)), (300, 100, False, (16, 128)), (800, 500, False, (64,)),
          (500, 10, False, (64,))]
KEPT = (0.5, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02, 0.01)


def one_layer(n_in, n_out, kept, rng):
    dense = Dense(n_in, n_out, seed=rng)
    keep = rng.random((n_in, n_out)) < kept
    dense.set_mask("W", keep)
    return dense, SparseDense.from_dense(dense)


def step_time(layer, first, x, dout, steps):
    model = Sequential([layer])
    optimizer = SGD(0.01, 0.9, L2(3e-4))
    start = time.perf_counter()
    for _ in range(steps):
        out, cache = layer.forward(x, train=True)
        if first:
            layer.backward_params(dout, cache)
        else:
            layer.backward(dout, cache)
        optimizer.step(model)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--margin", type=float, default=1.1)
    args = parser.parse_args()
    print(f"backend {kernels.ACTIVE_BACKEND}, {os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}, load average {os.getloadavg()[0]:.1f}")
    print("masked / sparse time of one training step of the layer (> 1: sparse faster)")
    print(f"{'layer':>10} {'batch':>5}  " + "  ".join(f"{k:>6g}" for k in KEPT) + "   threshold")
    rng = np.random.default_rng(0)
    for n_in, n_out, first, batches in SHAPES:
        for batch in batches:
            x = rng.random((batch, n_in)).astype(np.float32)
            x[x < 0.5] = 0  # images and ReLU outputs are about half zeros
            dout = rng.standard_normal((batch, n_out)).astype(np.float32)
            ratios = []
            for kept in KEPT:
                dense, sparse = one_layer(n_in, n_out, kept, rng)
                times = {"masked": [], "sparse": []}
                for _ in range(args.repeats):
                    times["masked"].append(step_time(dense, first, x, dout, args.steps))
                    times["sparse"].append(step_time(sparse, first, x, dout, args.steps))
                ratios.append(statistics.median(times["masked"]) / statistics.median(times["sparse"]))
            faster = [k for k, r in zip(KEPT, ratios) if r >= args.margin]
            threshold = max(faster) if faster else 0.0
            print(f"{n_in:>4}x{n_out:<5} {batch:>5}  " + "  ".join(f"{r:6.2f}" for r in ratios)
                  + f"   {threshold:g}")
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
