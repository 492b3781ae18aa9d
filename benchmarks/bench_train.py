"""One training epoch of 784-100-10 at batch 16, with masks and L2: pynncomp vs a plain loop.

What it asks: how much an epoch of the comparative study's network
(784-100-10, batch 16, SGD with momentum 0.9, L2 penalty, keep-masks at 90 %
sparsity) costs through pynncomp's layers, against the same arithmetic as
one hand-written NumPy loop (pynncomp's overhead should stay near 1x).
Timed here, side by side in one process:

* ``pynncomp``: :func:`pynncomp.train.train_epoch` with a pruned
  :class:`~pynncomp.nn.Sequential` and :class:`~pynncomp.nn.SGD` — the loop
  every ``pynncomp train`` run uses;
* ``plain``: the same arithmetic written inline in one function (forward,
  softmax cross-entropy and the epoch's mean loss, which ``train_epoch``
  returns, backward, masked L2 momentum step), no layers, no checks;
* ``torch`` (only when PyTorch is importable): the same network as
  ``nn.Linear`` layers with masks applied after each ``SGD`` step,
  ``torch.set_num_threads(1)``.

Every repeat runs each implementation for one epoch in turn (interleaved,
so slow phases of the machine hit all alike), from the same starting
weights and batch order; the medians over repeats and the ratios
implementation / plain are printed.  The data are MNIST's paper split when
``PYNNCOMP_DATA`` (or the cache) has it, else synthetic-digits resized to
45 000 images (the same shapes, hence the same work).

Run: ``python benchmarks/bench_train.py [--repeats 7]``.  BLAS is
single-threaded unless ``OPENBLAS_NUM_THREADS`` is set (see bench_conv.py).
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads OpenBLAS

import numpy as np  # noqa: E402

from pynncomp import data, models  # noqa: E402
from pynncomp.compress import magnitude_saliency, prune  # noqa: E402
from pynncomp.nn import SGD, L2  # noqa: E402
from pynncomp.train import train_epoch  # noqa: E402

BATCH, LR, MOMENTUM, LAMBDA, SPARSITY = 16, 0.01, 0.9, 1e-4, 0.9


def load():
    try:
        d = data.load("mnist", download=False)
        return d.X_train, d.y_train, "mnist (paper split, 45 000 training images)"
    except (OSError, ValueError):
        d = data.load("synthetic-digits", n_train=50_000, n_test=100)
        return d.X_train, d.y_train, "synthetic-digits (45 000 training images; MNIST not found)"


def pruned_model():
    model = models.build("mlp", 100, seed=0)
    prune(model, magnitude_saliency(model), SPARSITY)
    return model


def pynncomp_epoch(model, X, y, order_seed):
    optimizer = SGD(LR, MOMENTUM, L2(LAMBDA))
    train_epoch(model, optimizer, X, y, BATCH, np.random.default_rng(order_seed))


def plain_epoch(params, X, y, order_seed):
    """The same epoch, written out: forward, cross-entropy, backward, masked L2 momentum step."""
    W1, b1, W2, b2, M1, M2 = params
    V = [np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)]
    order = np.random.default_rng(order_seed).permutation(X.shape[0])
    total = 0.0
    for start in range(0, X.shape[0], BATCH):
        batch = order[start:start + BATCH]
        x, labels = X[batch], y[batch]
        W1m, W2m = W1 * M1, W2 * M2
        h = x @ W1m + b1
        a = np.maximum(h, 0)
        z = a @ W2m + b2
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        sum_exp = p.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        total += (np.log(sum_exp[:, 0]) - z[rows, labels]).sum()  # the epoch's mean loss, as train_epoch
        p /= sum_exp
        p[rows, labels] -= 1
        dz = p / len(labels)
        dW2 = (a.T @ dz) * M2
        db2 = dz.sum(axis=0)
        dh = (dz @ W2m.T) * (h > 0)
        dW1 = (x.T @ dh) * M1
        db1 = dh.sum(axis=0)
        for v, param, grad, mask in ((V[0], W1, dW1 + LAMBDA * W1, M1), (V[1], b1, db1, None),
                                     (V[2], W2, dW2 + LAMBDA * W2, M2), (V[3], b2, db2, None)):
            v *= MOMENTUM
            v -= LR * grad
            if mask is not None:
                v *= mask
            param += v
    return total / X.shape[0]


def torch_epoch(state, X, y, order_seed):
    import torch

    model, masks = state
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng(order_seed).permutation(X.shape[0]))
    linears = [model[0], model[2]]
    for start in range(0, X.shape[0], BATCH):
        batch = order[start:start + BATCH]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt[batch]), yt[batch])
        loss = loss + 0.5 * LAMBDA * sum((layer.weight ** 2).sum() for layer in linears)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            for layer, mask in zip(linears, masks):
                layer.weight.mul_(mask)


def torch_state(model):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    net = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    masks = []
    with torch.no_grad():
        for linear, layer in zip((net[0], net[2]), (model.layers[0], model.layers[2])):
            linear.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
            masks.append(torch.from_numpy(layer.masks["W"].T.astype(np.float32)))
    return net, masks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--keep-memory", action="store_true",
                        help="call pynncomp._memory.keep_freed_memory() first, as the pynncomp command does")
    args = parser.parse_args()
    if args.keep_memory:
        from pynncomp._memory import keep_freed_memory

        print(f"keep_freed_memory(): {keep_freed_memory()}")
    X, y, source = load()
    print(f"data: {source}; 784-100-10, batch {BATCH}, momentum {MOMENTUM}, L2 {LAMBDA}, "
          f"masks at {100 * SPARSITY:g} %; {args.repeats} interleaved repeats, one epoch each")
    times = {"pynncomp": [], "plain": []}
    has_torch = torch_state(pruned_model()) is not None
    if has_torch:
        times["torch"] = []
    for repeat in range(args.repeats):
        model = pruned_model()
        dense, out = model.layers[0], model.layers[2]
        params = [dense.params["W"].copy(), dense.params["b"].copy(), out.params["W"].copy(),
                  out.params["b"].copy(), dense.masks["W"].astype(np.float32), out.masks["W"].astype(np.float32)]
        runs = [("pynncomp", pynncomp_epoch, model), ("plain", plain_epoch, params)]
        if has_torch:
            runs.append(("torch", torch_epoch, torch_state(model)))
        for name, epoch, state in runs:
            start = time.perf_counter()
            epoch(state, X, y, repeat)
            times[name].append(time.perf_counter() - start)
    plain = statistics.median(times["plain"])
    print(f"{'implementation':<12} {'median s/epoch':>15} {'min':>7} {'max':>7} {'ratio to plain':>15}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<12} {median:>15.3f} {min(values):>7.3f} {max(values):>7.3f} {median / plain:>15.3f}")
    if not has_torch:
        print("(PyTorch is not installed: no torch row)")


if __name__ == "__main__":
    main()
