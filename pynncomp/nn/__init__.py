"""Layers, loss, model, optimiser and OBD curvature, written out by hand.

Every layer follows the contract of :mod:`pynncomp.nn.base`:
``forward(x, train) -> (out, cache)``, ``backward(dout, cache) -> dx`` and
``curvature(d2out, cache) -> d2x`` (OBD's second backward pass).
"""
from .activations import Dropout, Flatten, ReLU
from .base import Layer
from .conv import Conv2D, MaxPool2D
from .dense import Dense, SparseDense
from .hashed import HashedDense
from .loss import SoftmaxCrossEntropy
from .obd import obd_hessian, obd_saliency
from .optim import SGD
from .penalties import L1, L2, Penalty
from .sequential import Sequential

__all__ = [
    "Layer",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "SparseDense",
    "HashedDense",
    "ReLU",
    "Dropout",
    "Flatten",
    "SoftmaxCrossEntropy",
    "Sequential",
    "SGD",
    "L1",
    "L2",
    "Penalty",
    "obd_hessian",
    "obd_saliency",
]
