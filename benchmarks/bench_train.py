"""Training epochs of the study's nets, dense and pruned: pynncomp against a plain loop and PyTorch.

What it asks: how long an epoch of SGD with momentum 0.9 and an L2 penalty
takes, dense and with 90 % and 99 % of the weights removed (magnitude,
ranked globally), for 784-100-10 and LeNet-300-100 at batch 16 and 128 and
LeNet-5 at batch 64.  Timed here, side by side in one process, each
implementation from the same starting weights, masks and batch order:

* ``masked``: :func:`pynncomp.train.train_epoch` with masked
  :class:`~pynncomp.nn.Dense` layers (the SGD step through the fused
  :func:`pynncomp.kernels.sgd_step`);
* ``sparse``: the same after :func:`pynncomp.train.train_sparse`, which
  makes each layer kept at or below its measured threshold a
  :class:`~pynncomp.nn.SparseDense` — what :func:`pynncomp.experiment.run`
  trains after a pruning step (the same as ``masked`` where no layer
  qualifies: dense nets, and every level of LeNet-5's convolutions);
* ``plain`` (the MLPs): the same arithmetic written inline as one NumPy
  loop, masks as 0/1 factors, no layers and no checks;
* ``torch`` (when PyTorch is importable): ``nn.Linear``/``nn.Conv2d``
  layers trained as PyTorch's users write it, ``SGD(momentum=0.9,
  weight_decay=λ)``, the masks re-applied to the weights after each step,
  ``torch.set_num_threads`` = the BLAS threads of the others.

Every repeat runs each implementation in turn over the same ``--images``
training images (interleaved, so slow phases of the machine hit all
alike; each implementation first runs 4 untimed batches); the time is scaled to one epoch of the net's split (45 000 images
for 784-100-10 on the study's split, 54 000 for the LeNets on the standard
split); medians over repeats, and the ratios torch / sparse (how many
times faster pynncomp's training path is) and masked / sparse are printed.
The data are MNIST when ``PYNNCOMP_DATA`` (or the cache) has it, else
synthetic digits of the same shape.

Freed memory is kept for reuse (:func:`pynncomp._memory.keep_freed_memory`,
which the ``pynncomp`` command calls); ``--glibc-default`` measures without.

Run: ``python benchmarks/bench_train.py [--repeats 5] [--images 8000] [--only 784-100-10]``.
BLAS (and PyTorch) single-threaded unless ``OPENBLAS_NUM_THREADS`` is set.
"""
import argparse
import copy
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402

from pynncomp import data, models  # noqa: E402
from pynncomp.compress import magnitude_saliency, prune  # noqa: E402
from pynncomp.nn import L2, SGD, Conv2D, Dense  # noqa: E402
from pynncomp.train import train_epoch, train_sparse  # noqa: E402

LR, MOMENTUM, LAMBDA = 0.01, 0.9, 3e-4
# (label, arch, hidden, batch sizes, images per epoch)
NETS = [("784-100-10", "mlp", 100, (16, 128), 45_000), ("LeNet-300-100", "lenet300", None, (16, 128), 54_000),
        ("LeNet-5", "lenet5", None, (64,), 54_000)]
LEVELS = (0.0, 0.9, 0.99)


def load(arch, n):
    layout = models.layout_of(arch)
    try:
        d = data.load("mnist", download=False, layout=layout)
        source = "mnist"
    except (OSError, ValueError):
        d = data.load("synthetic-digits", n_train=n + 100, n_test=100, layout=layout)
        source = "synthetic-digits (MNIST not found)"
    return d.X_train[:n], d.y_train[:n], source


def pruned(arch, hidden, level):
    model = models.build(arch, hidden, seed=0)
    if level:
        prune(model, magnitude_saliency(model), level)
    return model


def pynncomp_epoch(model, X, y, batch, order_seed):
    optimizer = SGD(LR, MOMENTUM, L2(LAMBDA))
    train_epoch(model, optimizer, X, y, batch, np.random.default_rng(order_seed))


def plain_epoch(params, X, y, batch, order_seed):
    """An MLP epoch written out: forward, cross-entropy, backward, masked L2 momentum step."""
    Ws, bs, Ms = params
    V = [np.zeros_like(p) for p in Ws + bs]
    order = np.random.default_rng(order_seed).permutation(X.shape[0])
    n = len(Ws)
    for start in range(0, X.shape[0], batch):
        rows = order[start:start + batch]
        x, labels = X[rows], y[rows]
        acts, pre = [x], []
        for i in range(n):
            z = acts[-1] @ Ws[i] + bs[i]
            pre.append(z)
            if i < n - 1:
                acts.append(np.maximum(z, 0))
        z = pre[-1] - pre[-1].max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1
        d = p / len(labels)
        grads = [None] * n
        for i in reversed(range(n)):
            grads[i] = ((acts[i].T @ d) * Ms[i], d.sum(axis=0))
            if i:
                d = (d @ Ws[i].T) * (pre[i - 1] > 0)
        for i in range(n):
            for v, param, grad, mask in ((V[i], Ws[i], grads[i][0] + LAMBDA * Ws[i], Ms[i]),
                                         (V[n + i], bs[i], grads[i][1], None)):
                v *= MOMENTUM
                v -= LR * grad
                if mask is not None:
                    v *= mask
                param += v


def plain_state(model):
    dense = [layer for layer in model.layers if isinstance(layer, Dense)]
    masks = [layer.masks["W"].astype(np.float32) if "W" in layer.masks else np.ones_like(layer.params["W"])
             for layer in dense]
    return ([layer.params["W"].copy() for layer in dense], [layer.params["b"].copy() for layer in dense], masks)


def torch_state(model, threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    layers, masked = [], []
    with torch.no_grad():
        for layer in model.layers:
            name = type(layer).__name__
            if isinstance(layer, (Dense, Conv2D)):
                W = layer.params["W"]
                if isinstance(layer, Dense):
                    module = torch.nn.Linear(W.shape[0], W.shape[1])
                    module.weight.copy_(torch.from_numpy(W.T.copy()))
                    mask = layer.masks["W"].T if "W" in layer.masks else None
                else:
                    module = torch.nn.Conv2d(W.shape[1], W.shape[0], W.shape[2])
                    module.weight.copy_(torch.from_numpy(W.copy()))
                    mask = layer.masks.get("W")
                module.bias.copy_(torch.from_numpy(layer.params["b"].copy()))
                if mask is not None:
                    masked.append((module, torch.from_numpy(np.ascontiguousarray(mask).astype(np.float32))))
                layers.append(module)
            elif name == "ReLU":
                layers.append(torch.nn.ReLU())
            elif name == "MaxPool2D":
                layers.append(torch.nn.MaxPool2d(2))
            elif name == "Flatten":
                layers.append(torch.nn.Flatten())
            else:
                raise ValueError(f"no PyTorch twin for {name}")
    return torch.nn.Sequential(*layers), masked


def torch_epoch(state, X, y, batch, order_seed):
    import torch

    net, masked = state
    optimizer = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=LAMBDA)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng(order_seed).permutation(X.shape[0]))
    for start in range(0, X.shape[0], batch):
        rows = order[start:start + batch]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt[rows]), yt[rows]).backward()
        optimizer.step()
        with torch.no_grad():
            for module, mask in masked:
                module.weight.mul_(mask)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--images", type=int, default=8000, help="training images timed per repeat")
    parser.add_argument("--only", help="one net: 784-100-10, LeNet-300-100 or LeNet-5")
    parser.add_argument("--glibc-default", action="store_true",
                        help="leave glibc's malloc as it is instead of keep_freed_memory(), which every "
                             "pynncomp command and reproduce worker calls")
    args = parser.parse_args()
    if not args.glibc_default:
        from pynncomp._memory import keep_freed_memory

        print(f"keep_freed_memory(): {keep_freed_memory()} (as the pynncomp command)")
    threads = int(os.environ["OPENBLAS_NUM_THREADS"])
    print(f"{os.cpu_count()} CPUs, {threads} BLAS thread(s), load average {os.getloadavg()[0]:.1f}; "
          f"SGD lr {LR}, momentum {MOMENTUM}, L2 {LAMBDA}; {args.repeats} interleaved repeats of "
          f"{args.images} images, scaled to s per epoch")
    header = (f"{'net':<14} {'batch':>5} {'removed':>7} {'sparse layers':>13}  {'masked':>7} {'sparse':>7} "
              f"{'plain':>7} {'torch':>7}  {'torch/sparse':>12} {'masked/sparse':>13}")
    print(header)
    for label, arch, hidden, batches, epoch_images in NETS:
        if args.only and args.only != label:
            continue
        X, y, source = load(arch, args.images)
        for batch in batches:
            for level in LEVELS:
                times = {"masked": [], "sparse": [], "plain": [], "torch": []}
                swapped = None
                for repeat in range(args.repeats):
                    runs = [("masked", pynncomp_epoch, pruned(arch, hidden, level))]
                    sparse = pruned(arch, hidden, level)
                    swapped = train_sparse(sparse, SGD(LR, MOMENTUM), batch)
                    runs.append(("sparse", pynncomp_epoch, sparse))
                    if arch != "lenet5":
                        runs.append(("plain", plain_epoch, plain_state(pruned(arch, hidden, level))))
                    state = torch_state(pruned(arch, hidden, level), threads)
                    if state is not None:
                        runs.append(("torch", torch_epoch, state))
                    for name, epoch, state in runs:
                        if repeat == 0:  # warm up (PyTorch's first calls, caches), untimed
                            epoch(copy.deepcopy(state), X[:4 * batch], y[:4 * batch], batch, 0)
                        start = time.perf_counter()
                        epoch(state, X, y, batch, repeat)
                        times[name].append((time.perf_counter() - start) * epoch_images / X.shape[0])
                med = {name: statistics.median(values) if values else None for name, values in times.items()}

                def show(value):
                    return f"{value:7.3f}" if value is not None else f"{'-':>7}"

                ratio = f"{med['torch'] / med['sparse']:12.2f}" if med["torch"] else f"{'-':>12}"
                print(f"{label:<14} {batch:>5} {100 * level:>6g}% {str(swapped):>13}  {show(med['masked'])} "
                      f"{show(med['sparse'])} {show(med['plain'])} {show(med['torch'])}  {ratio} "
                      f"{med['masked'] / med['sparse']:13.2f}")
    print(f"data: {source}; load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
