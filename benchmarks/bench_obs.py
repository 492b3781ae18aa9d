"""What a step of Optimal Brain Surgeon costs: layer-wise on LeNet-300-100, whole-net on 784-5-10.

Timed, each with 1 and with 2 BLAS threads (``--threads``), medians over
``--repeats``:

* ``lobs, layer 784x300``: one L-OBS step on LeNet-300-100's first layer
  alone, from dense to ``--sparsity``
  (:func:`pynncomp.compress.lobs_prune` on a net of that one layer): its
  reconstruction Hessian on 1 000 training images, every one of its 300
  units pruned to the end by OBS (:func:`~pynncomp.compress.lobs.unit_keys`,
  the bulk of the time, also timed alone), the engine, the refit;
* ``lobs, LeNet-300-100``: the same step on all three layers, scope global;
* ``lobs, LeNet-5``: the same on LeNet-5, its two convolutions (units:
  the filters) and its two dense layers (800x500 the largest);
* ``obs, 784-5-10``: one whole-net OBS step on the largest mlp it accepts
  (3 970 weights, :data:`pynncomp.compress.OBS_MAX_WEIGHTS` = 4 096), on
  500 images, with its parts: the 5 000 Gauss–Newton rows
  (:func:`~pynncomp.compress.obs.gauss_newton_factors`), the H⁻¹ recursion
  (:func:`~pynncomp.compress.obs.outer_product_inverse`) and OBS to the end
  (:func:`~pynncomp.compress.obs.greedy_order`).

The nets are freshly initialised (the arithmetic does not depend on the
values); the images are MNIST's when ``PYNNCOMP_DATA`` (or the cache) has
them, else synthetic digits of the same shape.  The load average is printed
before and after: other processes on the cores slow both thread counts,
two threads most.

Run: ``python benchmarks/bench_obs.py [--repeats 3] [--threads 1 2] [--sparsity 0.9] [--quick]``
(``--quick``: the first layer only, one repeat).
"""
import argparse
import copy
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from pynncomp import data, models
from pynncomp.compress import lobs_prune, obs_prune
from pynncomp.compress.lobs import LOBS_DAMPING, damped, reconstruction_hessians, unit_keys
from pynncomp.compress.obs import OBS_DAMPING, gauss_newton_factors, greedy_order, outer_product_inverse
from pynncomp.nn import Sequential


def images(n):
    try:
        return data.load("mnist", download=False).X_train[:n], "MNIST"
    except (OSError, ValueError):
        return data.load("synthetic-digits", n_train=n + 200, n_test=100).X_train[:n], "synthetic digits"


def lobs_cases(X, sparsity):
    lenet = models.build("lenet300", seed=0)
    first = Sequential([copy.deepcopy(lenet[0])])
    H = damped(reconstruction_hessians(first, X)[0], LOBS_DAMPING)
    W = first[0].params["W"].astype(np.float64)
    keep = np.ones(W.shape, dtype=bool)
    lenet5 = models.build("lenet5", seed=0)
    return {
        "lobs, layer 784x300: the step": lambda: lobs_prune(copy.deepcopy(first), X, sparsity),
        "lobs, layer 784x300: OBS on its 300 units": lambda: unit_keys(H, W, keep),
        "lobs, LeNet-300-100: the step": lambda: lobs_prune(copy.deepcopy(lenet), X, sparsity),
        "lobs, LeNet-5: the step": lambda: lobs_prune(copy.deepcopy(lenet5), X.reshape(-1, 1, 28, 28), sparsity),
    }


def obs_cases(X, sparsity):
    net = models.build("mlp", 5, seed=0)
    positions = [np.arange(layer.params[name].size) for _, layer, name in net.parameters(prunable_only=True)]
    factors = gauss_newton_factors(net, X, positions)
    alpha = OBS_DAMPING * float(np.mean(np.einsum("rm,rm->m", factors, factors)))
    hinv = outer_product_inverse(factors, alpha)
    w = np.concatenate([layer.params[name].ravel() for _, layer, name in net.parameters(prunable_only=True)])
    return {
        "obs, 784-5-10: the step": lambda: obs_prune(copy.deepcopy(net), X, sparsity),
        "obs, 784-5-10: Gauss-Newton rows": lambda: gauss_newton_factors(net, X, positions),
        "obs, 784-5-10: H⁻¹ recursion": lambda: outer_product_inverse(factors, alpha),
        "obs, 784-5-10: OBS to the end": lambda: greedy_order(hinv[None], w[None].astype(np.float64)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    X, source = images(1000)
    cases = lobs_cases(X, args.sparsity)
    if args.quick:
        cases = {name: run for name, run in cases.items() if "layer 784x300" in name}
    else:
        cases.update(obs_cases(X[:500], args.sparsity))
    print(f"{source}, sparsity {args.sparsity}, {os.cpu_count()} CPUs, load average before "
          f"{os.getloadavg()[0]:.1f}; medians of {repeats}")
    times = {(name, threads): [] for name in cases for threads in args.threads}
    for _ in range(repeats):
        for threads in args.threads:  # interleaved, so slow phases of the machine hit every setting
            with threadpool_limits(threads, user_api="blas"):
                for name, run in cases.items():
                    start = time.perf_counter()
                    run()
                    times[(name, threads)].append(time.perf_counter() - start)
    width = max(len(name) for name in cases)
    print(f"  {'':{width}}  " + "  ".join(f"{t} BLAS thread{'s' if t > 1 else ''}" for t in args.threads))
    for name in cases:
        print(f"  {name:{width}}  " + "  ".join(f"{statistics.median(times[(name, t)]):13.2f} s"
                                                for t in args.threads))
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
