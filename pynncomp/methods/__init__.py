"""The compression methods, selectable by name.

==============  ==========================================================
name            method
==============  ==========================================================
``dense``       no compression (:mod:`.dense`)
``magl1``       magnitude saliency, L1 penalty, iterative (:mod:`.magnitude`)
``magl2``       magnitude saliency, L2 penalty, iterative (:mod:`.magnitude`)
``obd``         Optimal Brain Damage saliency ½·h·w² (:mod:`.obd`)
``han``         Han et al.'s per-layer q·σ threshold, lr/10 retraining (:mod:`.han`)
``oneshot``     one pruning step to the target, then retraining (:mod:`.controls`)
``random``      random saliency, iterative (:mod:`.controls`)
``hashednet``   HashedNet with as many real weights as pruning keeps (:mod:`.hashednet`)
==============  ==========================================================

:func:`get` returns one; :func:`pynncomp.experiment.run` trains it.
"""
from .base import Method, StepContext
from .controls import OneShot, Random
from .dense import Dense
from .han import Han, layer_normalised_magnitude
from .hashednet import HashedNet
from .magnitude import MagL1, MagL2
from .obd import OBD

REGISTRY = {m.name: m for m in (Dense(), MagL1(), MagL2(), OBD(), Han(), OneShot(), Random(), HashedNet())}
METHODS = tuple(REGISTRY)


def get(name):
    """The method called ``name``; an unknown name lists the valid ones."""
    if isinstance(name, Method):
        return name
    if name not in REGISTRY:
        raise ValueError(f"method must be one of {METHODS}, got {name!r}")
    return REGISTRY[name]


__all__ = ["METHODS", "REGISTRY", "get", "Method", "StepContext", "layer_normalised_magnitude"]
