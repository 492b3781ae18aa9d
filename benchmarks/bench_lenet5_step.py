"""Time a whole LeNet-5 training step, with and without kept freed memory.

A step is what ``pynncomp.train.train_epoch`` does per minibatch: forward,
backward (no input gradient) and the SGD update with L2, on LeNet-5
(``pynncomp.models.build("lenet5")``), batch 64, float32, random data of
MNIST's shape.  ``pynncomp/_memory.py`` makes glibc keep freed memory
(``mallopt``) so that the MB-sized im2col buffers are not page-faulted in
again at every step; this measures what that buys on a whole step.

``mallopt`` is process-wide and cannot be taken back, so the two settings
run in separate child processes (``PYNNCOMP_KEEP_MEMORY=1`` / ``=0``),
started in turn: each round runs one child of each, and each child times
``--steps`` steps after ``--warmup`` steps and prints its median per step.
The parent prints the medians over rounds and the ratio off / on (> 1:
keeping memory is faster).  BLAS is single-threaded.

Run: ``python benchmarks/bench_lenet5_step.py [--rounds 5] [--steps 60]``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS


def child(steps, warmup, batch):
    from pynncomp import _memory

    kept = _memory.keep_freed_memory()
    import numpy as np

    from pynncomp import models
    from pynncomp.nn import L2, SGD

    rng = np.random.default_rng(0)
    model = models.build("lenet5", seed=0)
    optimizer = SGD(0.02, 0.9, L2(5e-4))
    X = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        model.loss_and_grads(X, y, train=True, input_grad=False)
        optimizer.step(model)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    print(json.dumps({"kept": kept, "median_ms": 1000 * statistics.median(times)}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.steps, args.warmup, args.batch)
    results = {"1": [], "0": []}
    for _ in range(args.rounds):
        for setting in ("1", "0"):
            env = dict(os.environ, PYNNCOMP_KEEP_MEMORY=setting)
            out = subprocess.run([sys.executable, __file__, "--child", "--steps", str(args.steps), "--warmup",
                                  str(args.warmup), "--batch", str(args.batch)],
                                 env=env, capture_output=True, text=True, check=True).stdout
            record = json.loads(out.strip().splitlines()[-1])
            if setting == "1" and not record["kept"]:
                sys.exit("keep_freed_memory() did not take effect here (not glibc?): nothing to compare")
            results[setting].append(record["median_ms"])
    on, off = statistics.median(results["1"]), statistics.median(results["0"])
    print(f"LeNet-5 training step, batch {args.batch}, float32, 1 BLAS thread; "
          f"medians over {args.rounds} rounds of {args.steps} steps")
    print(f"  freed memory kept (pynncomp default): {on:7.1f} ms   per round: "
          + " ".join(f"{t:.1f}" for t in results["1"]))
    print(f"  PYNNCOMP_KEEP_MEMORY=0:               {off:7.1f} ms   per round: "
          + " ".join(f"{t:.1f}" for t in results["0"]))
    print(f"  ratio off / on: {off / on:.2f}")


if __name__ == "__main__":
    main()
