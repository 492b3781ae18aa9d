"""Compression methods: pruning schedules, the pruning engine, HashedNet budgets.

* :mod:`.schedules` — the target sparsity of each pruning step.
* :mod:`.prune` — saliencies and the exact pruning engine (masks).
* :mod:`.hashing` — HashedNet bucket counts matched to a pruned net's size.
* :mod:`.obs` — Optimal Brain Surgeon over the whole net: the pruning
  that also moves the kept weights.
* :mod:`.lobs` — Optimal Brain Surgeon layer by layer.
* :mod:`.sensitivity` — accuracy with one layer at a time pruned (Han et al.).
* :mod:`.structured` — whole neurons and filters: their criteria, their
  removal by masks, and the surgery that leaves a smaller dense net.
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
from .structured import (
    apoz,
    check_unit_target,
    compact,
    layer_normalised,
    mask_units,
    masked_units,
    mean_activation,
    obd_unit_saliency,
    prune_units,
    remove_units,
    taylor_saliency,
    unit_layers,
    unit_norm,
    unit_report,
)

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
    "unit_layers",
    "masked_units",
    "unit_report",
    "mask_units",
    "prune_units",
    "check_unit_target",
    "remove_units",
    "compact",
    "unit_norm",
    "mean_activation",
    "apoz",
    "taylor_saliency",
    "obd_unit_saliency",
    "layer_normalised",
]
