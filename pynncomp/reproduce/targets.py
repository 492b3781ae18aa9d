"""What each reproduction target trains: its grid of runs.

The targets carry the numbers of the study's own captions
(docs/methods.md#table-numbering): ``pynncomp reproduce table2`` is the
study's Table 2, ``fig3`` its Figure 3.

==============  ===========================================================
target          runs
==============  ===========================================================
``table1``      MagL2, 784-100-10, the 14 levels of Table 1 × 4 data sets
``table2``      MagL1, 784-30-10, the 8 levels from 90 % to 99 % × 4 data
                sets
``table3``      MagL1, 784-100-10, the 14 levels × 4 data sets
``table4``      MagL2, 784-30-10, the 8 levels × 4 data sets
``table5``      OBD, 784-100-10, the 14 levels × 4 data sets
``table6``      OBD, 784-30-10, the 8 levels × 4 data sets
``fig1``        HashedNet, 784-100-10, at the levels of Table 1 on mnist,
                against the conv baselines
``fig2``…``fig5``  MagL1, MagL2, OBD and HashedNet at the levels of Table 1 on
                mnist (``fig2``), mnist-rot (``fig3``), mnist-back-rand
                (``fig4``) and mnist-back-image (``fig5``), against the conv
                baselines
``fig6``        MagL1 and MagL2, 784-50-10, 96 % removed, on mnist; the
                models are kept for their weight histograms
``convnets``    the conv-baseline sweep (:mod:`.convnets`)
``han-*``       Han et al. (2015) on MNIST (:mod:`.han`)
``obs-oneshot``, ``obs-iterative``  Optimal Brain Surgeon (layer-wise)
                against OBD and magnitude pruning, in one step without
                retraining and on the study's timetable (:mod:`.obs`)
``structured``  whole neurons (784-100-10) and conv filters (LeNet-5)
                removed against MagL2, at 50 to 95 %, compared at the
                fraction of weights removed (:mod:`.structured`)
==============  ===========================================================

The study's other tables use the rows of Table 1: all 14 levels for 100
hidden units, the ones from 90 % to 99 % for 30.  Its published numbers
held here are those of Table 1 (:mod:`.paper`).

A run is identified by its *run key*: method, data set, network, sparsity,
seed and a hash of the full training protocol, never the target that asked
for it, so runs shared by several targets (e.g. MagL2 on mnist in
``table1`` and ``fig2``) are trained once, and a ``--fast`` run never
stands in for a full one.
"""

from .. import models
from ..train import Protocol, canonical_hash, protocol_hash
from . import convnets, han, obs, structured
from .paper import STUDY_DATASETS

LEVELS_100 = (0.0, 0.5, 0.9, 0.95, 0.97, 0.98, 0.985, 0.988, 0.989, 0.99, 0.993, 0.995, 0.997, 0.998)
LEVELS_30 = tuple(s for s in LEVELS_100 if 0.9 <= s <= 0.99)
FAST_LEVELS = (0.0, 0.9, 0.99)
FAST_LEVELS_30 = (0.9, 0.99)

# the study's Tables 1–6: (method, hidden units), as its captions number them
TABLES = {
    "table1": ("magl2", 100), "table2": ("magl1", 30), "table3": ("magl1", 100),
    "table4": ("magl2", 30), "table5": ("obd", 100), "table6": ("obd", 30),
}
# the data set of each of its Figures 1–5: HashedNet against the conv nets (Figure 1), then the pruning
# methods against them (Figures 2–5, where pynncomp draws HashedNet too)
FIGURE_DATASETS = {"fig1": "mnist", "fig2": "mnist", "fig3": "mnist-rot", "fig4": "mnist-back-rand",
                   "fig5": "mnist-back-image"}
FIG6 = {"methods": ("magl1", "magl2"), "hidden": 50, "sparsity": 0.96, "dataset": "mnist"}
TARGETS = (tuple(TABLES) + tuple(FIGURE_DATASETS) + ("fig6", "convnets") + han.HAN_TARGETS
           + obs.OBS_TARGETS + structured.STRUCTURED_TARGETS)
DEFAULT_RUNS = 5  # the OBS and structured targets: obs.DEFAULT_RUNS, structured.DEFAULT_RUNS
FAST_RUNS = 2

# The study's protocol as pynncomp infers it (pynncomp.train.Protocol's
# defaults; DEFAULTS_RATIONALE says why each); --fast shortens the timetable.
PROTOCOL = Protocol()
FAST_PROTOCOL = Protocol(pretrain_epochs=1, steps=2, prune_every=1, finetune_max=2, patience=1)


def check_target(target):
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    return target


def run_key(spec):
    """``magl2/mnist/784-100-10/S0.99/seed3/p1a2b3c4d``: what identifies a run's result.

    A spec with non-default data options (``spec["data"]``) gets their hash
    appended (``/d…``).
    """
    if spec["method"] == "conv":
        key = convnets.run_key(spec)
    else:
        arch = models.describe(spec["arch"], spec["hidden"])
        dataset = spec["dataset"] + ("" if spec.get("split", "paper") == "paper" else f"@{spec['split']}")
        if spec.get("layer_sparsity"):
            level = "L" + ",".join(f"{k}={v:g}" for k, v in spec["layer_sparsity"].items())
        else:
            level = f"S{spec['sparsity']:g}"
        key = f"{spec['method']}/{dataset}/{arch}/{level}/seed{spec['seed']}/p{protocol_hash(spec['protocol'])}"
        # measurements made on the trained model are part of what the record holds
        for analysis in ("evaluate_pruned", "sensitivity"):
            if spec.get(analysis):
                key += f"/+{analysis}"
        if spec.get("train_subset"):
            key += f"/n{spec['train_subset']}"
        if spec.get("eval_subset"):
            key += f"/e{spec['eval_subset']}"
    if spec.get("data"):
        # non-default data options (validation size, synthetic sizes) change the result
        key += "/d" + canonical_hash(spec["data"])
    return key


def _spec(method, dataset, hidden, sparsity, seed, protocol, save_model=False):
    return {"method": method, "dataset": dataset, "arch": "mlp", "hidden": [hidden], "sparsity": sparsity,
            "seed": seed, "protocol": protocol.to_dict(), "save_model": save_model}


def _check_subset(name, given, allowed):
    if given is None:
        return tuple(allowed)
    unknown = [g for g in given if g not in allowed]
    if unknown:
        raise ValueError(f"{name} must be among {tuple(allowed)} for this target, got {unknown}")
    return tuple(given)


def datasets_of(target):
    """The data sets a target covers by default."""
    check_target(target)
    if target in FIGURE_DATASETS:
        return (FIGURE_DATASETS[target],)
    if target == "fig6" or target in han.HAN_TARGETS:
        return (FIG6["dataset"],)
    if target in obs.OBS_TARGETS or target in structured.STRUCTURED_TARGETS:
        return ("mnist",)
    return STUDY_DATASETS


def levels_of(target, fast=False):
    """The sparsity levels a target covers by default (None for fig6 and convnets)."""
    check_target(target)
    if target in ("fig6", "convnets") or target in han.HAN_TARGETS:
        return None
    if target in obs.OBS_TARGETS:
        return obs.levels(target, fast)
    if target in structured.STRUCTURED_TARGETS:
        return structured.levels(fast)
    if target in TABLES and TABLES[target][1] == 30:
        return FAST_LEVELS_30 if fast else LEVELS_30
    return FAST_LEVELS if fast else LEVELS_100


def _default_runs(target):
    if target in obs.OBS_TARGETS:
        return obs.DEFAULT_RUNS
    if target in structured.STRUCTURED_TARGETS:
        return structured.DEFAULT_RUNS
    return DEFAULT_RUNS


def grid(target, runs=None, fast=False, datasets=None, levels=None, extra_datasets=()):
    """The run specs of ``target``, in the order they are run.

    Parameters
    ----------
    target : one of :data:`TARGETS`
    runs : int >= 1 or None
        Independent runs (seeds 0..runs−1) per cell; default 5, 3 for the
        OBS and structured targets (2 with fast).
    fast : bool
        Fewer levels, fewer runs, a short timetable (:data:`FAST_PROTOCOL`).
    datasets : sequence of str or None
        A subset of the target's data sets (default all of them).
        ``synthetic-digits`` is accepted too (for tests and machines
        without MNIST).
    levels : sequence of float or None
        A subset of the target's levels (default all of them).

    Returns
    -------
    list of dict
        Each with ``method, dataset, arch, hidden, sparsity, seed, protocol``
        (a dict) and ``save_model``; ``run_key(spec)`` names it.
    """
    check_target(target)
    if runs is None:
        runs = FAST_RUNS if fast else _default_runs(target)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise ValueError(f"runs must be an integer >= 1, got {runs!r}")
    allowed_datasets = datasets_of(target) + ("synthetic-digits",)
    datasets = datasets_of(target) if datasets is None else _check_subset("datasets", datasets, allowed_datasets)
    protocol = FAST_PROTOCOL if fast else PROTOCOL
    if target == "convnets":
        return convnets.grid(runs, fast, datasets)
    if target in han.HAN_TARGETS:
        if levels is not None or datasets != datasets_of(target):
            raise ValueError(f"{target} runs on mnist (standard split) at its own levels: "
                             "leave --datasets and --levels unset")
        return han.grid(target, runs, fast)
    if target == "fig6":
        return [_spec(method, dataset, FIG6["hidden"], FIG6["sparsity"], seed, protocol, save_model=True)
                for dataset in datasets for method in FIG6["methods"] for seed in range(runs)]
    default_levels = levels_of(target, fast)
    if levels is None:
        levels = default_levels
    else:
        full = levels_of(target, False)
        levels = _check_subset("levels", [float(level) for level in levels], sorted(set(full) | set(default_levels)))
    if target in obs.OBS_TARGETS:
        return obs.grid(target, runs, fast, datasets, levels)
    if target in structured.STRUCTURED_TARGETS:
        return structured.grid(runs, fast, datasets, levels)
    if target in TABLES:
        method, hidden = TABLES[target]
        methods_ = (method,)
    elif target == "fig1":
        methods_, hidden = ("hashednet",), 100
    else:
        methods_, hidden = ("magl1", "magl2", "obd", "hashednet"), 100
    return [_spec(method, dataset, hidden, level, seed, protocol)
            for dataset in datasets for level in levels for method in methods_ for seed in range(runs)]
