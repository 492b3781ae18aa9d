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
``obs``         Optimal Brain Surgeon over the whole net, small nets only (:mod:`.obs`)
``lobs``        Optimal Brain Surgeon layer by layer (L-OBS, OBC) (:mod:`.obs`)
``neurons-*``   whole hidden neurons removed (``l1``, ``l2``, ``mean``,
                ``apoz``, ``taylor``); the smaller dense net (:mod:`.structured`)
``filters-*``   whole conv filters of LeNet-5 removed (``l1``, ``l2``,
                ``taylor``); the smaller net (:mod:`.structured`)
==============  ==========================================================

:func:`get` returns a new one for a run; :func:`pynncomp.experiment.run`
trains it.
"""
from .base import Method, StepContext
from .controls import OneShot, Random
from .dense import Uncompressed
from .han import Han, layer_normalised_magnitude
from .hashednet import HashedNet
from .magnitude import MagL1, MagL2
from .obd import OBD
from .obs import LOBS, OBS
from .structured import STRUCTURED

REGISTRY = {cls.name: cls for cls in (Uncompressed, MagL1, MagL2, OBD, Han, OneShot, Random, HashedNet, OBS,
                                     LOBS, *STRUCTURED)}
METHODS = tuple(REGISTRY)


def get(name):
    """A new method object for one run.

    Parameters
    ----------
    name : str or Method
        One of :data:`METHODS`; a :class:`Method` object is returned as it
        is.  A method object keeps the state of its run (OBD's subsample,
        Han et al.'s original dropout rates), so give each run its own.

    Returns
    -------
    Method
    """
    if isinstance(name, Method):
        return name
    if not isinstance(name, str):
        raise TypeError(f"method must be a name, one of {METHODS}, or a Method; got {type(name).__name__} {name!r}")
    if name not in REGISTRY:
        raise ValueError(f"method must be one of {METHODS}, got {name!r}")
    return REGISTRY[name]()


__all__ = ["METHODS", "REGISTRY", "get", "Method", "StepContext", "layer_normalised_magnitude"]
