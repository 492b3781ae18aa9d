"""What removing whole units buys in time: structured against unstructured pruning, per batch.

For 784-100-10 and LeNet-5, at several fractions of the hidden neurons (of
LeNet-5's conv filters) removed, each net is built four ways, side by side
in one process, and one batch of inference (``forward``) and one training
step (``loss_and_grads`` and the SGD step, momentum 0.9 and L2) are timed
at batch 1 and 256:

* ``structured``: the units of lowest L1 norm removed in each layer
  (:func:`pynncomp.compress.prune_units`, ``neurons-l1`` / ``filters-l1``)
  and cut out (:func:`pynncomp.compress.compact`): the smaller dense net
  the structured methods return, plain BLAS, no mask;
* ``sparse``: the same fraction of the *weights* removed by magnitude,
  ranked globally (:func:`pynncomp.compress.prune`), every dense layer then
  made a :class:`~pynncomp.nn.SparseDense` (:func:`pynncomp.train.train_sparse`
  with a threshold of 1), which computes through the sparse C kernels
  (LeNet-5's convolutions stay masked dense: they have no sparse form);
* ``masked``: the same magnitude-pruned net with masked dense matrices;
* ``dense``: the net before pruning, for reference.

On 784-100-10 removing a fraction f of the neurons removes exactly f of
the weights; on LeNet-5 a filter takes its channel's rows of the next
layer with it, and the unstructured nets are pruned to the fraction of
weights the structured net removed (printed beside).  The nets are freshly
initialised (the arithmetic does not depend on the values); the inputs are
uniform in [0, 1) with 80 % set to 0, about as many zeros as MNIST's
pixels.

Each timing is the mean over the steps of ``--images`` images (at least one
step), the median over ``--repeats``; the four forms alternate within each
repeat so that slow phases of the machine hit them all, after one untimed
step of each.  Printed: ms per batch of each form, and the ratios
sparse / structured, masked / structured and dense / structured (> 1:
the structured net is faster).

Run: ``python benchmarks/bench_structured.py [--repeats 5] [--images 1024] [--only 784-100-10] [--quick]``
(``--quick``: one repeat of one step per batch size).  BLAS is
single-threaded unless ``OPENBLAS_NUM_THREADS`` is set.
"""
import argparse
import copy
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402

from pynncomp import kernels, models  # noqa: E402
from pynncomp.compress import compact, magnitude_saliency, prune, prune_units, unit_norm  # noqa: E402
from pynncomp.nn import L2, SGD  # noqa: E402
from pynncomp.train import train_sparse  # noqa: E402

LR, MOMENTUM, LAMBDA = 0.01, 0.9, 3e-4
# (label, arch, hidden, kind of unit removed)
NETS = [("784-100-10", "mlp", 100, "neuron"), ("LeNet-5", "lenet5", None, "filter")]
UNITS_REMOVED = (0.5, 0.8, 0.9, 0.95)
BATCHES = (1, 256)
FORMS = ("structured", "sparse", "masked", "dense")


def nets(arch, hidden, kind, level):
    """``({form: Sequential}, fraction of weights removed)`` at ``level``, the fraction of units removed."""
    dense = models.build(arch, hidden, seed=0)
    structured = copy.deepcopy(dense)
    removed = prune_units(structured, unit_norm(structured, 1, kind), level, "layer", kind)["weight_sparsity"]
    masked = copy.deepcopy(dense)
    prune(masked, magnitude_saliency(masked), removed)
    sparse = copy.deepcopy(masked)
    train_sparse(sparse, SGD(LR, MOMENTUM), BATCHES[-1], threshold=lambda *shape: 1.0)
    return {"structured": compact(structured, kind), "sparse": sparse, "masked": masked, "dense": dense}, removed


def inputs(arch, batch, rng):
    shape = (batch, 1, 28, 28) if models.layout_of(arch) == "image" else (batch, models.N_PIXELS)
    x = rng.random(shape, dtype=np.float32)
    x[x < 0.8] = 0
    return x, rng.integers(0, models.N_CLASSES, batch)


def inference(model, optimizer, x, y, steps):
    start = time.perf_counter()
    for _ in range(steps):
        model.forward(x)
    return (time.perf_counter() - start) / steps


def training(model, optimizer, x, y, steps):
    start = time.perf_counter()
    for _ in range(steps):
        model.loss_and_grads(x, y, train=True, input_grad=False)
        optimizer.step(model)
    return (time.perf_counter() - start) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--images", type=int, default=1024, help="images timed per form and repeat")
    parser.add_argument("--only", help="one net: 784-100-10 or LeNet-5")
    parser.add_argument("--quick", action="store_true", help="one repeat of one step per batch size")
    args = parser.parse_args(argv)
    repeats, images = (1, 1) if args.quick else (args.repeats, args.images)
    print(f"backend {kernels.ACTIVE_BACKEND}, {os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}, load average {os.getloadavg()[0]:.1f}; medians of {repeats} "
          f"interleaved repeats, each the mean over the batches of {images} images (at least one); ms per batch")
    print(f"{'net':<11} {'units':>5} {'weights':>7} {'batch':>5} {'pass':<9} "
          + " ".join(f"{form:>10}" for form in FORMS)
          + f"  {'sparse/str':>10} {'masked/str':>10} {'dense/str':>10}")
    rng = np.random.default_rng(0)
    for label, arch, hidden, kind in NETS:
        if args.only and args.only != label:
            continue
        for level in UNITS_REMOVED:
            forms, removed = nets(arch, hidden, kind, level)
            optimizers = {form: SGD(LR, MOMENTUM, L2(LAMBDA)) for form in FORMS}
            for batch in BATCHES:
                x, y = inputs(arch, batch, rng)
                steps = max(1, images // batch)
                times = {(form, name): [] for form in FORMS for name in ("inference", "training")}
                for form in FORMS:  # untimed: first calls, caches, the optimiser's velocities
                    training(forms[form], optimizers[form], x, y, 1)
                for _ in range(repeats):
                    for form in FORMS:
                        for name, timed in (("inference", inference), ("training", training)):
                            times[(form, name)].append(timed(forms[form], optimizers[form], x, y, steps))
                for name in ("inference", "training"):
                    ms = {form: 1e3 * statistics.median(times[(form, name)]) for form in FORMS}
                    print(f"{label:<11} {100 * level:>4g}% {100 * removed:>6.1f}% {batch:>5} {name:<9} "
                          + " ".join(f"{ms[form]:10.3f}" for form in FORMS)
                          + "  " + " ".join(f"{ms[form] / ms['structured']:10.2f}"
                                            for form in ("sparse", "masked", "dense")))
    print(f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
