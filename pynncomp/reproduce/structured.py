"""Structured against unstructured pruning on MNIST: the ``structured`` reproduction target.

==============  ============================================================
target          runs
==============  ============================================================
``structured``  784-100-10 (the study's split): ``magl2`` against
                ``neurons-l1``, ``neurons-l2``, ``neurons-apoz`` and
                ``neurons-taylor``; LeNet-5 (MNIST's standard split):
                ``magl2`` against ``filters-l1``, ``filters-l2`` and
                ``filters-taylor``; each at 50, 80, 90 and 95 %, and the
                dense net (``dense``, 0 %)
==============  ============================================================

3 seeds each by default.  The level S is what ``--sparsity`` counts: the
fraction of the *weights* for ``magl2``, of the hidden *neurons* or the
conv *filters* for the structured criteria (docs/methods.md#structured),
which return the smaller dense net.  What the two kinds are compared on is
the fraction of the architecture's weights removed, read from each run's
record (:func:`weights_removed`): ``achieved_sparsity`` for ``magl2``,
``weight_sparsity`` for a structured run.

* On 784-100-10 a hidden neuron is its 784 incoming and 10 outgoing
  weights, so removing a fraction f of the 100 neurons removes exactly f
  of the 79 400 weights: the two kinds meet at the same levels.
* On LeNet-5 a filter is its own weights and what reads its channel (the
  next conv's input channel, or its 16 rows of the 800 × 500 dense layer);
  the dense layers' neurons and the output layer are left as they are.
  Ranked in each layer (``filters-l1``, ``filters-l2``), 50, 80, 90 and
  95 % of the filters remove 50.9, 80.0, 89.5 and 93.2 % of the 430 500
  weights; ``filters-taylor`` ranks the two layers together, so its
  fraction depends on which layer its filters come from.  ``magl2`` runs
  at the same levels, and the tables and the figure place every run at
  its own fraction of weights removed.

Every method trains with the L2 penalty and builds the same net, so on one
network and seed the dense net, ``magl2`` and the criteria share their
pre-training (trained once per seed and worker, bit for bit; ``pretrained``
in :func:`pynncomp.experiment.run`).  The ``magl2`` runs of 784-100-10 at
50, 90 and 95 % are the study's mnist runs of MagL2 with 100 hidden units
at those levels (``table1``, the same run keys), trained again in their own
results folder.

**Protocols and cost.**  784-100-10 trains on the study's protocol
(``Protocol()``, :data:`pynncomp.reproduce.targets.PROTOCOL`), about 30 s a
run: 3 seeds × (1 dense + 4 levels × 5 methods) = 63 runs, about 32 min on
one worker.  On LeNet-5 an epoch of MNIST's 55 000 training images costs
20–30 s at batch 64, and ``Protocol()``'s timetable (10 epochs, 20 steps
one epoch apart, up to 30 more, at batch 16) would cost up to 59 epochs a
run, more than 15 h for the 51 LeNet-5 runs even with the shared
pre-training.  LeNet-5 takes instead :data:`LENET5_PROTOCOL`: Han et al.'s
LeNet-5 optimiser (:data:`pynncomp.reproduce.han.PROTOCOLS`: batch 64, lr
0.02 decayed ×0.9 per epoch, λ = 5e-4), 6 epochs of pre-training, 5
pruning steps an epoch apart (power schedule, c = 3) and at most 5 epochs
of fine-tuning: at most 15 epochs a run, of which the first 6 are shared.  3 seeds ×
(1 + 4 × 4) = 51 runs × at most 9 epochs of their own, plus 6 epochs of
pre-training per seed and worker, are about 160 epochs per seed: 480
epochs, 2.7–4 h on one worker.  The whole target is about 3–4.5 h on one
worker, 1.5–2.5 h at ``--jobs 2`` on 2 cores (less where fine-tuning
stops before its 5 epochs).

``--fast`` runs the same grid on a small MLP (784-16-10; LeNet-5 has no
smaller twin and keeps its size) with a short timetable, at 0, 50 and 90 %,
2 seeds, on the first 3 000 training images (and 1 000 validation and test
images).  Its ``magl2`` runs of 784-16-10 at 90 % are those of
``obs-iterative --fast``.
"""
import typing

from ..train import Protocol
from . import obs
from .han import FAST_EVAL_SUBSET, FAST_TRAIN_SUBSET

STRUCTURED_TARGETS = ("structured",)
NEURON_CRITERIA = ("neurons-l1", "neurons-l2", "neurons-apoz", "neurons-taylor")
FILTER_CRITERIA = ("filters-l1", "filters-l2", "filters-taylor")
# the order of the tables' rows and the figure's legend
METHODS = ("magl2",) + NEURON_CRITERIA + FILTER_CRITERIA
# 0 % is the dense net ("dense"), the reference of every method.
LEVELS = (0.0, 0.5, 0.8, 0.9, 0.95)
FAST_LEVELS = (0.0, 0.5, 0.9)
DEFAULT_RUNS = 3

LENET5_PROTOCOL = Protocol(batch_size=64, lr=0.02, lr_decay=0.9, l2=5e-4, pretrain_epochs=6, steps=5, power=3.0,
                           prune_every=1, finetune_max=5)


class Network(typing.NamedTuple):
    """One network of the target: what :func:`pynncomp.models.build` makes, its split, protocol and criteria.

    Attributes
    ----------
    arch : str
    hidden : tuple of int or None
    split : {"paper", "standard"}
        The MNIST split (synthetic-digits has one split only: its runs take the study's).
    protocol : Protocol
    criteria : tuple of str
        The structured methods run beside ``magl2``.
    """

    arch: str
    hidden: tuple
    split: str
    protocol: Protocol
    criteria: tuple


NETWORKS = (Network("mlp", (100,), "paper", Protocol(), NEURON_CRITERIA),
            Network("lenet5", None, "standard", LENET5_PROTOCOL, FILTER_CRITERIA))
FAST_MLP_PROTOCOL = Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=2, patience=1)
FAST_LENET5_PROTOCOL = LENET5_PROTOCOL.replace(pretrain_epochs=1, steps=2, finetune_max=1, patience=1)
FAST_NETWORKS = (Network("mlp", (16,), "paper", FAST_MLP_PROTOCOL, NEURON_CRITERIA),
                 Network("lenet5", None, "standard", FAST_LENET5_PROTOCOL, FILTER_CRITERIA))


def levels(fast=False):
    """The levels of the target (0 is the dense net)."""
    return FAST_LEVELS if fast else LEVELS


def networks(fast=False):
    """The :class:`Network` s of the target."""
    return FAST_NETWORKS if fast else NETWORKS


def grid(runs, fast, datasets, levels_):
    """The run specs of the target (see the module docstring), network by network, seed by seed.

    Parameters
    ----------
    runs : int >= 1
    fast : bool
    datasets : sequence of str
        ``mnist`` and/or ``synthetic-digits``.
    levels_ : sequence of float
        A subset of :func:`levels`; at 0 the one run is the dense net.

    Returns
    -------
    list of dict
        As :func:`pynncomp.reproduce.targets.grid` returns them, with ``split``.
    """
    subset = {"train_subset": FAST_TRAIN_SUBSET, "eval_subset": FAST_EVAL_SUBSET} if fast else {}
    specs = []
    for dataset in datasets:
        for network in networks(fast):
            for seed in range(runs):
                for level in levels_:
                    for method in ("dense",) if level == 0 else ("magl2",) + network.criteria:
                        specs.append(obs.run_spec(method, dataset, network, level, seed, subset))
    return specs


def weights_removed(record):
    """The fraction of the architecture's weights a run removed, from its record.

    A structured run's ``achieved_sparsity`` counts units; its
    ``weight_sparsity`` counts the weights of the smaller net against the
    architecture's (docs/methods.md#structured-record).  Every other run's
    ``achieved_sparsity`` counts weights.

    Parameters
    ----------
    record : dict
        A record of :func:`pynncomp.experiment.run`.

    Returns
    -------
    float in [0, 1]
    """
    return record["weight_sparsity"] if "units" in record else record["achieved_sparsity"]


network_of = obs.network_of

__all__ = ["STRUCTURED_TARGETS", "NEURON_CRITERIA", "FILTER_CRITERIA", "METHODS", "LEVELS", "DEFAULT_RUNS",
           "LENET5_PROTOCOL", "Network", "levels", "networks", "grid", "weights_removed", "network_of"]
