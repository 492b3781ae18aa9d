"""The small conv baselines of the comparative study and their sweep.

docs/methods.md#conv-baselines: conv (k×k, C channels, stride s) → ReLU → max-pool p
→ (dropout) → dense 10, trained with batch 16, lr 0.01, L2 weight decay
1e-3, for 30 epochs, on inputs standardised with the training set's mean
and standard deviation (one scalar each, over all pixels); 5 runs each; only
the Pareto-optimal settings (no other setting has at most as many
parameters and a higher accuracy) are kept.

The full grid k ∈ 5..10, C ∈ 4..12, s ∈ 1..3, p ∈ 2..4, dropout ∈ {0, 0.1,
0.2} has 1 458 settings, too many to train 5 times each on 2 cores.  We
sample :data:`N_SETTINGS` of them uniformly without replacement with
``numpy.random.RandomState(2019)`` (a fixed, documented draw; the sample
is listed by :func:`settings`), which spreads over the whole range of
parameter counts, and keep the Pareto front of their mean accuracies.  The
optimiser is pynncomp's SGD with the same momentum (0.9) as every other run.
"""
import itertools

import numpy as np

from .. import models
from ..nn import L2, SGD, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU, Sequential
from ..nn.conv import output_size
from ..train import Timer, train_epoch

GRID = {
    "kernel": tuple(range(5, 11)),
    "channels": tuple(range(4, 13)),
    "stride": (1, 2, 3),
    "pool": (2, 3, 4),
    "dropout": (0.0, 0.1, 0.2),
}
N_SETTINGS = 24
N_FAST = 3
EPOCHS, FAST_EPOCHS = 30, 2
BATCH, LR, MOMENTUM, WEIGHT_DECAY = 16, 0.01, 0.9, 1e-3


def settings(fast=False):
    """The sampled settings, as dicts with kernel, channels, stride, pool, dropout."""
    names = list(GRID)
    full = list(itertools.product(*GRID.values()))
    chosen = np.random.RandomState(2019).choice(len(full), size=N_SETTINGS, replace=False)
    picked = [dict(zip(names, full[i])) for i in sorted(chosen)]
    return picked[:: N_SETTINGS // N_FAST][:N_FAST] if fast else picked


def build(setting, seed=0, dtype=np.float32):
    """The conv baseline of one setting (input (B, 1, 28, 28))."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    k, C, s, p = setting["kernel"], setting["channels"], setting["stride"], setting["pool"]
    side = output_size(output_size(28, k, s), p, p)
    layers = [Conv2D(1, C, k, stride=s, seed=rng, dtype=dtype), ReLU(), MaxPool2D(p), Flatten()]
    if setting["dropout"] > 0:
        layers.append(Dropout(setting["dropout"], seed=rng))
    layers.append(Dense(C * side * side, models.N_CLASSES, seed=rng, dtype=dtype))
    return Sequential(layers)


def label(setting):
    return (f"conv{setting['kernel']}x{setting['kernel']}c{setting['channels']}s{setting['stride']}"
            f"p{setting['pool']}d{setting['dropout']:g}")


def run_key(spec):
    epochs = spec["epochs"]
    return f"conv/{spec['dataset']}/{label(spec['setting'])}/e{epochs}/seed{spec['seed']}"


def grid(runs, fast, datasets):
    return [{"method": "conv", "dataset": dataset, "setting": setting, "seed": seed,
             "epochs": FAST_EPOCHS if fast else EPOCHS, "save_model": False}
            for dataset in datasets for setting in settings(fast) for seed in range(runs)]


def execute(spec, dataset):
    """Train one conv baseline; returns its record (the train record's fields where they apply)."""
    from .. import __version__

    timer = Timer()
    mean, std = float(dataset.X_train.mean()), float(dataset.X_train.std())

    def standardise(X):
        return ((X - mean) / std).astype(np.float32)

    X_train, X_val, X_test = (standardise(X) for X in (dataset.X_train, dataset.X_val, dataset.X_test))
    init_seed, order_seed = np.random.SeedSequence(spec["seed"]).spawn(2)
    model = build(spec["setting"], int(init_seed.generate_state(1)[0]))
    optimizer = SGD(LR, MOMENTUM, L2(WEIGHT_DECAY))
    order = np.random.default_rng(order_seed)
    curve = []
    for _ in range(spec["epochs"]):
        train_epoch(model, optimizer, X_train, dataset.y_train, BATCH, order)
        curve.append(model.accuracy(X_val, dataset.y_val) if len(X_val) else None)
    weights, biases = model.n_weights, model.n_biases
    return {
        "method": "conv", "dataset": dataset.name, "arch": label(spec["setting"]), "hidden": [],
        "setting": spec["setting"], "target_sparsity": 0.0, "achieved_sparsity": 0.0,
        "weights_total": weights, "weights_kept": weights, "biases": biases, "parameters": weights + biases,
        "test_accuracy": model.accuracy(X_test, dataset.y_test), "val_accuracy": curve[-1],
        "epochs": spec["epochs"], "seed": spec["seed"], "wall_s": timer(),
        "config": {"batch_size": BATCH, "lr": LR, "momentum": MOMENTUM, "l2": WEIGHT_DECAY,
                   "epochs": spec["epochs"], "standardise": {"mean": mean, "std": std}},
        "version": __version__, "val_curve": curve,
    }


def pareto_front(points):
    """The Pareto-optimal (parameters, accuracy) points: no other has ≤ parameters and > accuracy.

    ``points`` is a list of (parameters, accuracy, payload); returns the kept
    ones sorted by parameters.
    """
    front = []
    best = -np.inf
    for params, acc, payload in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            front.append((params, acc, payload))
            best = acc
    return front
