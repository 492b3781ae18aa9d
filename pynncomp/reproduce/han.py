"""Han, Pool, Tran & Dally (2015) on MNIST: the LeNet reproduction targets.

==================  ========================================================
target              runs
==================  ========================================================
``han-lenet300``    LeNet-300-100: the dense net, and Han et al.'s train →
                    prune → retrain to their per-layer kept fractions
                    (8 %, 9 %, 26 %); both models kept
``han-lenet5``      LeNet-5 the same way (66 %, 12 %, 8 %, 19 % kept)
``han-l1l2``        LeNet-300-100 trained with L1 or with L2, pruned once
                    by Han's per-layer thresholds to each level and
                    measured without retraining (the dense runs carry that
                    curve) and after retraining at lr/10 (``han`` runs
                    with a one-step schedule): Han et al.'s Fig. 5
``han-iterative``   LeNet-300-100, Han's per-layer thresholds reached in
                    k steps against one step, at the same final levels
``han-sensitivity`` the dense LeNets pruned one layer at a time, no
                    retraining (Han et al.'s Fig. 6); the dense runs carry
                    the curves, measured on the saved dense nets of
                    ``han-lenet300`` / ``han-lenet5`` when those have run
                    in the same results folder (else trained)
==================  ========================================================

All use MNIST's standard split (60 000 / 10 000; 5 000 of the 60 000 held
out for validation, which stops fine-tuning) and the protocols of
:data:`PROTOCOLS`.  Han et al. choose each layer's quality parameter q by
sensitivity analysis and report the resulting kept fractions
(docs/methods.md#han-numbers); the q themselves are not published, so we take the
fractions as per-layer targets: each layer is pruned by its own threshold
q_l·σ_l, reached exactly in k steps (:mod:`pynncomp.methods.han`), and the
implied q_l are reported.
"""
import copy

from .. import models
from ..compress import kept_count, prune
from ..compress.sensitivity import sensitivity
from ..methods.han import layer_normalised_magnitude
from ..train import Protocol

HAN_TARGETS = ("han-lenet300", "han-lenet5", "han-l1l2", "han-iterative", "han-sensitivity")

# Kept fraction per weight layer, in order (Han et al. 2015, Tables 2 and 3).
# LeNet-5's fc1 is 7.8 % rather than the paper's rounded 8 %: with 8 % the
# whole net keeps 36 280 of 430 500 weights, 11.9x, short of the 12x of the
# paper's headline (431K -> 36K, itself rounded); 7.8 % keeps 35 480, 12.1x.
KEPT = {"lenet300": (0.08, 0.09, 0.26), "lenet5": (0.66, 0.12, 0.078, 0.19)}
# The kept fractions as Han et al. print them.
PAPER_KEPT = {"lenet300": (0.08, 0.09, 0.26), "lenet5": (0.66, 0.12, 0.08, 0.19)}
# Han et al.'s MNIST results: top-1 error in %, weights before and after.
PAPER = {
    "lenet300": {"error_dense": 1.64, "error_pruned": 1.59, "weights": 267_000, "weights_pruned": 22_000},
    "lenet5": {"error_dense": 0.80, "error_pruned": 0.77, "weights": 431_000, "weights_pruned": 36_000},
}
L1L2_LEVELS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98)
ITERATIVE_LEVELS = (0.9, 0.95, 0.97, 0.98)
SENSITIVITY_LEVELS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99)
FAST_LEVELS = (0.5, 0.9)

# The LeNets' protocols (docs/reproduction-han.md, 3 seeds each): LeNet-300-100
# dense 1.64 +- 0.04 % error, pruned 1.72 +- 0.03 %; LeNet-5 dense
# 0.81 +- 0.06 %, pruned 0.85 +- 0.04 %.
PROTOCOLS = {
    "lenet300": Protocol(lr_decay=0.95, l2=3e-4, pretrain_epochs=15, steps=10, power=3.0, prune_every=2,
                         han_lr_factor=1.0, finetune_max=40, patience=5),
    "lenet5": Protocol(batch_size=64, lr=0.02, lr_decay=0.9, l2=5e-4, pretrain_epochs=15, steps=10, power=3.0,
                       prune_every=2, han_lr_factor=0.5, finetune_max=40, patience=5),
}
FAST_PROTOCOL = Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=1, patience=1, batch_size=64)
FAST_TRAIN_SUBSET = 3000  # --fast trains on the first 3 000 training images
FAST_EVAL_SUBSET = 1000  # and measures on the first 1 000 validation and test images


def layer_targets(arch, model=None):
    """``{"index.name": S_l}`` of Han et al.'s kept fractions for the prunable layers of ``arch``."""
    model = models.build(arch) if model is None else model
    keys = [f"{index}.{name}" for index, _, name in model.parameters(prunable_only=True)]
    return {key: round(1.0 - kept, 6) for key, kept in zip(keys, KEPT[arch])}


def _spec(method, arch, seed, protocol, **extra):
    spec = {"method": method, "dataset": "mnist", "arch": arch, "hidden": None, "sparsity": 0.0, "seed": seed,
            "protocol": protocol.to_dict(), "save_model": False, "split": "standard"}
    spec.update(extra)
    return spec


def grid(target, runs, fast):
    """The run specs of a Han et al. target (see the module docstring)."""
    def protocol_for(arch):
        return FAST_PROTOCOL if fast else PROTOCOLS[arch]

    seeds = range(runs)
    subset = {"train_subset": FAST_TRAIN_SUBSET, "eval_subset": FAST_EVAL_SUBSET} if fast else {}
    specs = _grid(target, seeds, fast, protocol_for)
    for spec in specs:
        spec.update(subset)
    return specs


def _grid(target, seeds, fast, protocol_for):
    if target in ("han-lenet300", "han-lenet5"):
        arch = target.split("-")[1]
        protocol = protocol_for(arch)
        specs = []
        for seed in seeds:
            specs.append(_spec("dense", arch, seed, protocol, save_model=True))
            specs.append(_spec("han", arch, seed, protocol, save_model=True, layer_sparsity=layer_targets(arch)))
        return specs
    levels_l1l2 = FAST_LEVELS if fast else L1L2_LEVELS
    if target == "han-l1l2":
        protocol = protocol_for("lenet300")
        specs = []
        for seed in seeds:
            for penalty in ("l1", "l2"):
                with_penalty = protocol.replace(penalty=penalty)
                specs.append(_spec("dense", "lenet300", seed, with_penalty, evaluate_pruned=list(levels_l1l2)))
                retrained = with_penalty.replace(schedule="oneshot")
                specs += [_spec("han", "lenet300", seed, retrained, sparsity=level) for level in levels_l1l2]
        return specs
    if target == "han-iterative":
        protocol = protocol_for("lenet300")
        levels = FAST_LEVELS if fast else ITERATIVE_LEVELS
        return [_spec("han", "lenet300", seed, protocol.replace(schedule=schedule), sparsity=level)
                for level in levels for schedule in ("power", "oneshot") for seed in seeds]
    if target == "han-sensitivity":
        levels = FAST_LEVELS if fast else SENSITIVITY_LEVELS
        return [_spec("dense", arch, seed, protocol_for(arch), sensitivity=[0.0, *[s for s in levels if s > 0]])
                for arch in ("lenet300", "lenet5") for seed in seeds]
    raise ValueError(f"target must be one of {HAN_TARGETS}, got {target!r}")


def analyses(spec, model, dataset, record):
    """The measurements a Han spec asks for on its trained model, added to ``record``."""
    if spec.get("evaluate_pruned"):
        # Han et al. Fig. 5 "without retraining": prune the trained net once, measure
        curve = {}
        for level in spec["evaluate_pruned"]:
            twin = _copy(model)
            prune(twin, layer_normalised_magnitude(twin), level)
            curve[f"{level:g}"] = twin.accuracy(dataset.X_test, dataset.y_test)
        record["pruned_without_retraining"] = curve
    if spec.get("sensitivity"):
        record["sensitivity"] = sensitivity(model, dataset.X_val, dataset.y_val, spec["sensitivity"])


def _copy(model):
    """A deep copy of a Sequential (weights, masks; a Dropout keeps its own stream)."""
    return copy.deepcopy(model)


def kept_weights(arch):
    """Weights kept at Han et al.'s fractions, rounded per layer as pynncomp prunes."""
    model = models.build(arch)
    sizes = [layer.params[name].size for _, layer, name in model.parameters(prunable_only=True)]
    return sum(kept_count(1.0 - kept, size) for kept, size in zip(KEPT[arch], sizes)), sum(sizes)


__all__ = ["HAN_TARGETS", "KEPT", "PAPER", "PAPER_KEPT", "PROTOCOLS", "grid", "analyses", "layer_targets", "kept_weights"]
