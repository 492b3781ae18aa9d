"""Compression methods: pruning schedules, the pruning engine, HashedNet budgets.

* :mod:`.schedules` — the target sparsity of each pruning step.
* :mod:`.prune` — saliencies and the exact pruning engine (masks).
* :mod:`.hashing` — HashedNet bucket counts matched to a pruned net's size.
* :mod:`.obs` — Optimal Brain Surgeon over the whole net: the pruning
  that also moves the kept weights.
* :mod:`.lobs` — Optimal Brain Surgeon layer by layer.
* :mod:`.sensitivity` — accuracy with one layer at a time pruned (Han et al.).
"""
from .hashing import hashed_buckets, matched_hashed_buckets, virtual_weight_count
from .lobs import lobs_prune
from .obs import OBS_MAX_WEIGHTS, obs_prune
from .prune import (
    SCOPES,
    han_prune,
    kept_count,
    kept_weight_std,
    layer_normalised_magnitude,
    magnitude_saliency,
    obd_saliency,
    prune,
    pruning_report,
    random_saliency,
    rescaled_dropout,
)
from .schedules import cubic_schedule, one_shot_schedule, power_schedule
from .sensitivity import plot_sensitivity, sensitivity, sensitivity_table

__all__ = [
    "power_schedule",
    "cubic_schedule",
    "one_shot_schedule",
    "kept_count",
    "prune",
    "pruning_report",
    "magnitude_saliency",
    "random_saliency",
    "obd_saliency",
    "kept_weight_std",
    "layer_normalised_magnitude",
    "han_prune",
    "rescaled_dropout",
    "hashed_buckets",
    "matched_hashed_buckets",
    "virtual_weight_count",
    "obs_prune",
    "lobs_prune",
    "OBS_MAX_WEIGHTS",
    "sensitivity",
    "sensitivity_table",
    "plot_sensitivity",
    "SCOPES",
]
