"""Optimal Brain Surgeon against OBD and magnitude on MNIST: the OBS reproduction targets.

==================  ========================================================
target              runs
==================  ========================================================
``obs-oneshot``     one pruning step from the pre-trained dense net, no
                    retraining: ``magl2``, ``obd`` and ``lobs`` at 50, 80,
                    90, 95 and 98 % removed, and the dense net itself
                    (``dense``, 0 %), on 784-100-10 (the study's split) and
                    LeNet-300-100 (MNIST's standard split)
``obs-iterative``   the study's iterative protocol (``Protocol()``'s
                    defaults): ``magl2``, ``obd`` and ``lobs`` at 90, 99
                    and 99.8 % on 784-100-10 (the study's split)
==================  ========================================================

3 seeds each by default.  Hassibi & Stork (1993) compare OBS with OBD and
magnitude pruning without retraining, and find OBS's lead growing with
the fraction removed; Dong et al. (2017) prune with L-OBS in one shot and
find little loss before retraining.  ``obs-oneshot`` measures exactly
that: the three methods train the same dense net (the same L2 penalty and
network; one pre-training, shared bit for bit, see ``pretrained`` in
:func:`pynncomp.experiment.run`) and differ only in the one step that
removes the weights.  ``obs-iterative`` measures what is left of the
difference once the study's 20 steps and their retraining follow.  Whole-net
OBS (``obs``) holds the inverse Hessian of every weight and takes nets of
at most 4 096 weights (docs/methods.md#obs-hessian), so the targets run
its layer-wise form, ``lobs``.

The ``magl2`` and ``obd`` runs of ``obs-iterative`` are the study's mnist
runs of MagL2 and OBD with 100 hidden units at the same levels (the same
run keys), trained again in their own results folder.

``--fast`` runs the same grids on small nets (784-16-10, and 784-32-16-10
in LeNet-300-100's place) with a short timetable, on the first 3 000
training images (and 1 000 validation and test images).
"""
import typing

from .. import models
from ..train import Protocol
from .han import FAST_EVAL_SUBSET, FAST_TRAIN_SUBSET

OBS_TARGETS = ("obs-oneshot", "obs-iterative")
METHODS = ("magl2", "obd", "lobs")
# 0 % is the dense net before the step ("dense"), the reference of every column.
ONESHOT_LEVELS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98)
ITERATIVE_LEVELS = (0.9, 0.99, 0.998)
FAST_LEVELS = {"obs-oneshot": (0.0, 0.5, 0.9), "obs-iterative": (0.9, 0.99)}
DEFAULT_RUNS = 3

# The dense nets are pre-trained P = 20 epochs at a learning rate decayed
# x0.95 per epoch (han-lenet300's schedule), then pruned once, so that the
# one step is taken from a net that has settled: over epochs 15-20 the
# validation accuracy of every committed dense net moves within 0.34 points
# (docs/obs.md#protocol).
PRETRAIN_EPOCHS = 20
ONESHOT_PROTOCOL = Protocol(lr_decay=0.95, pretrain_epochs=PRETRAIN_EPOCHS, schedule="oneshot", steps=1,
                            finetune_max=0)


class Network(typing.NamedTuple):
    """One network of a target: what :func:`pynncomp.models.build` makes, on which MNIST split, how trained."""

    arch: str
    hidden: tuple
    split: str
    protocol: Protocol


ONESHOT_NETWORKS = (Network("mlp", (100,), "paper", ONESHOT_PROTOCOL),
                    Network("lenet300", None, "standard", ONESHOT_PROTOCOL))
ITERATIVE_NETWORKS = (Network("mlp", (100,), "paper", Protocol()),)
FAST_ONESHOT = ONESHOT_PROTOCOL.replace(pretrain_epochs=1)
FAST_ITERATIVE = Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=2, patience=1)
FAST_NETWORKS = {
    "obs-oneshot": (Network("mlp", (16,), "paper", FAST_ONESHOT), Network("mlp", (32, 16), "standard", FAST_ONESHOT)),
    "obs-iterative": (Network("mlp", (16,), "paper", FAST_ITERATIVE),),
}


def levels(target, fast=False):
    """The levels of ``target`` (0 is the dense net of ``obs-oneshot``)."""
    if fast:
        return FAST_LEVELS[target]
    return ONESHOT_LEVELS if target == "obs-oneshot" else ITERATIVE_LEVELS


def networks(target, fast=False):
    """The :class:`Network` s of ``target``."""
    if fast:
        return FAST_NETWORKS[target]
    return ONESHOT_NETWORKS if target == "obs-oneshot" else ITERATIVE_NETWORKS


def grid(target, runs, fast, datasets, levels_):
    """The run specs of an OBS target (see the module docstring), network by network, seed by seed.

    Parameters
    ----------
    target : one of :data:`OBS_TARGETS`
    runs : int >= 1
    fast : bool
    datasets : sequence of str
        ``mnist`` and/or ``synthetic-digits`` (which has one split only: its
        runs take the study's).
    levels_ : sequence of float
        A subset of :func:`levels`; at 0 the one run is the dense net.
    """
    subset = {"train_subset": FAST_TRAIN_SUBSET, "eval_subset": FAST_EVAL_SUBSET} if fast else {}
    specs = []
    for dataset in datasets:
        for network in networks(target, fast):
            for seed in range(runs):
                for level in levels_:
                    for method in ("dense",) if level == 0 else METHODS:
                        specs.append(run_spec(method, dataset, network, level, seed, subset))
    return specs


def run_spec(method, dataset, network, level, seed, subset):
    """The spec of one run of ``method`` on ``network`` (its arch, hidden sizes, split and protocol).

    ``network`` has ``arch``, ``hidden``, ``split`` and ``protocol`` (a
    :class:`Network`, or the structured target's); synthetic-digits has one
    split only, so its runs take the study's.  ``subset`` adds the
    ``--fast`` image counts (or nothing).
    """
    spec = {"method": method, "dataset": dataset, "arch": network.arch,
            "hidden": None if network.hidden is None else list(network.hidden),
            "sparsity": level, "seed": seed, "protocol": network.protocol.to_dict(),
            "save_model": False, "split": network.split if dataset == "mnist" else "paper"}
    spec.update(subset)
    return spec


# the LeNets by the names their papers give them; an mlp by its sizes (784-100-10)
NETWORK_NAMES = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}


def network_of(spec):
    """The network of a spec as the tables and panels name it: ``LeNet-300-100, mnist (standard split)``."""
    name = NETWORK_NAMES.get(spec["arch"]) or models.describe(spec["arch"], spec["hidden"])
    if spec["dataset"] != "mnist":
        return f"{name}, {spec['dataset']}"
    return f"{name}, mnist ({spec.get('split', 'paper')} split)"


__all__ = ["OBS_TARGETS", "METHODS", "ONESHOT_LEVELS", "ITERATIVE_LEVELS", "DEFAULT_RUNS", "PRETRAIN_EPOCHS", "ONESHOT_PROTOCOL",
           "Network", "levels", "networks", "grid", "run_spec", "network_of"]
