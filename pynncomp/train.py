"""The training protocol shared by every method, and the epoch loop.

One :class:`Protocol` holds every hyper-parameter of a run: the optimiser,
the penalties, and the pruning timetable of the comparative study
(docs/methods.md#timetable)::

    epoch:  1 ... P | P+1 ... P+e | ... | ... P+(k-1)e | fine-tuning ...
    prune:          S_1           S_2  ...             S_k

P = ``pretrain_epochs``, e = ``prune_every``, k = ``steps``.  Step i
prunes to S_i at the start of epoch P + (i − 1)·e + 1.  After the fixed
P + (k − 1)·e epochs the net is fine-tuned "until validation accuracy
reaches a local maximum": epochs go on while the validation accuracy
improves, stop after ``patience`` epochs without a new best (or at
``finetune_max``), and the weights of the best validation epoch since the
last pruning step are restored; ``finetune_max = 0`` keeps the net as the
last step leaves it.  Methods that do not prune (``dense``,
``hashednet``) and ``oneshot`` (one step, at epoch P + 1) follow the same
timetable, so every method gets the same training budget.

The defaults are pynncomp's choice (the study does not publish all of
them); docs/protocol.md gives each one's reason and the measurement behind
it (:data:`DEFAULTS_RATIONALE` maps every field to its section).
"""
import dataclasses
import hashlib
import json
import time

import numpy as np

from .compress.prune import SCOPES
from .nn import Dense, SparseDense
from ._checks import check_int, check_positive_int, check_real

SCHEDULES = ("power", "cubic", "oneshot")
PENALTIES = ("l1", "l2", "none")
# Protocol fields added after results were first recorded, with the value
# that trains exactly as before they existed (left out of run keys then).
NEUTRAL_LATER_FIELDS = {"penalty": None, "lr_decay": 1.0}


def canonical_hash(fields):
    """8 hex digits of the SHA-1 of ``json.dumps(fields, sort_keys=True)``.

    A short name for a dict of settings that does not depend on the order
    of its keys: the run keys of ``pynncomp reproduce`` end with it.

    Parameters
    ----------
    fields : dict
        JSON-serialisable.

    Returns
    -------
    str
        8 lowercase hex digits.
    """
    return hashlib.sha1(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:8]


def protocol_hash(protocol):
    """8 hex digits that name a protocol: :func:`canonical_hash` of :meth:`Protocol.identity`.

    Fields added to the protocol later are left out at their neutral value
    (:data:`NEUTRAL_LATER_FIELDS`), so a run recorded before they existed
    keeps its key.  The run keys of ``pynncomp reproduce`` and the file
    names of ``pynncomp train`` end with it.

    Parameters
    ----------
    protocol : Protocol or dict
        A dict is a protocol's :meth:`Protocol.to_dict` as records store it,
        which may lack the later fields (they take their neutral value).

    Returns
    -------
    str
        8 lowercase hex digits.
    """
    if isinstance(protocol, dict):
        missing = sorted(set(PROTOCOL_FIELDS) - set(protocol) - set(NEUTRAL_LATER_FIELDS))
        if missing:
            raise ValueError(f"protocol must be a Protocol or its to_dict(); the dict given misses {missing}")
        protocol = Protocol().replace(**protocol)
    if not isinstance(protocol, Protocol):
        raise TypeError(f"protocol must be a Protocol or its to_dict(), got {type(protocol).__name__}")
    return canonical_hash(protocol.identity())


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Protocol:
    """Every hyper-parameter of a training run; validated on creation.

    Attributes
    ----------
    batch_size : int >= 1
        Default 16, the study's (docs/protocol.md#batch-size).
    lr : float > 0
        SGD learning rate η.  Default 0.01, the study's (docs/protocol.md#lr).
    momentum : float in [0, 1)
        Default 0.9 (docs/protocol.md#momentum).
    l1, l2 : float >= 0
        λ of the L1 penalty λ·Σ|w| and of the L2 penalty (λ/2)·Σw²; a
        method uses the one its name says (docs/methods.md#pruning).
        Defaults 5e-5 (docs/protocol.md#l1) and 3e-4 (docs/protocol.md#l2).
    pretrain_epochs : int >= 0
        P, epochs before the first pruning step.  Default 10
        (docs/protocol.md#pretrain-epochs).
    steps : int >= 1
        k, the number of pruning steps.  Default 20 (docs/protocol.md#steps).
    power : float >= 1
        c of the power schedule.  Default 10 (docs/protocol.md#power).
    prune_every : int >= 1
        e, epochs between pruning steps.  Default 1
        (docs/protocol.md#prune-every).
    finetune_max : int >= 0
        The most epochs trained after the fixed part; 0 trains none after
        the last pruning step (with ``schedule="oneshot"`` and ``steps=1``:
        one-shot pruning without retraining).  Default 30
        (docs/protocol.md#finetune-max).
    patience : int >= 1
        Fine-tuning stops after this many epochs without a new best
        validation accuracy.  Default 3 (docs/protocol.md#patience).
    schedule : {"power", "cubic", "oneshot"}
        The sparsity after each step (:mod:`pynncomp.compress.schedules`).
        Default "power", the study's (docs/protocol.md#schedule).
    scope : None or {"global", "layer"}
        None, the default: the method's own (docs/protocol.md#scope).
    obd_samples : int >= 1
        Training images h is averaged over for OBD.  Default 5000
        (docs/protocol.md#obd-samples).
    han_lr_factor : float in (0, 1]
        The learning rate of Han et al.'s retraining, as a fraction of lr.
        Default 0.1, Han et al.'s (docs/protocol.md#han-lr-factor).
    dropout : float in [0, 1)
        Dropout after the hidden ReLUs.  Default 0, none
        (docs/protocol.md#dropout).
    penalty : None or {"l1", "l2", "none"}
        None, the default: the method's own penalty (MagL1 trains with L1,
        the others with L2); otherwise this one for every method (Han et
        al.'s Fig. 5 compares L1 and L2 for the same pruning)
        (docs/protocol.md#penalty).
    lr_decay : float in (0, 1]
        The learning rate of epoch e (from 0) is lr·lr_decay^e (times
        han_lr_factor once Han et al.'s retraining has begun).  Default 1,
        a constant rate (docs/protocol.md#lr-decay).

    Fields added after the first release (``penalty``, ``lr_decay``) are
    listed in :data:`NEUTRAL_LATER_FIELDS` with the value that leaves the
    training as it was, so that results recorded before keep their run keys.
    """

    batch_size: int = 16
    lr: float = 0.01
    momentum: float = 0.9
    l1: float = 5e-5
    l2: float = 3e-4
    pretrain_epochs: int = 10
    steps: int = 20
    power: float = 10.0
    prune_every: int = 1
    finetune_max: int = 30
    patience: int = 3
    schedule: str = "power"
    scope: str = None
    obd_samples: int = 5000
    han_lr_factor: float = 0.1
    dropout: float = 0.0
    penalty: str = None
    lr_decay: float = 1.0

    def __post_init__(self):
        check_positive_int("batch_size", self.batch_size)
        check_real("lr", self.lr, 0.0, None, low_open=True)
        check_real("momentum", self.momentum, 0.0, 1.0, high_open=True)
        check_real("l1", self.l1, 0.0, None)
        check_real("l2", self.l2, 0.0, None)
        check_int("pretrain_epochs", self.pretrain_epochs, 0)
        check_positive_int("steps", self.steps)
        check_real("power", self.power, 1.0, None)
        check_positive_int("prune_every", self.prune_every)
        check_int("finetune_max", self.finetune_max, 0)
        check_positive_int("patience", self.patience)
        _check_choice("schedule", self.schedule, SCHEDULES)
        if self.scope is not None:
            _check_choice("scope", self.scope, SCOPES)
        check_positive_int("obd_samples", self.obd_samples)
        check_real("han_lr_factor", self.han_lr_factor, 0.0, 1.0, low_open=True)
        check_real("dropout", self.dropout, 0.0, 1.0, high_open=True)
        if self.penalty is not None:
            _check_choice("penalty", self.penalty, PENALTIES)
        check_real("lr_decay", self.lr_decay, 0.0, 1.0, low_open=True)

    @property
    def fixed_epochs(self):
        """P + (k − 1)·e: the epochs before fine-tuning, for every method."""
        return self.pretrain_epochs + (self.steps - 1) * self.prune_every

    def prune_epochs(self, n_steps):
        """The epochs (0-based) at whose start steps 1..n_steps prune."""
        return [self.pretrain_epochs + i * self.prune_every for i in range(n_steps)]

    def to_dict(self):
        return dataclasses.asdict(self)

    def identity(self):
        """The fields that identify the training: :meth:`to_dict` less later fields at their neutral value."""
        return {k: v for k, v in self.to_dict().items()
                if not (k in NEUTRAL_LATER_FIELDS and v == NEUTRAL_LATER_FIELDS[k])}

    def lr_at(self, epoch, factor=1.0):
        """The learning rate of epoch ``epoch`` (0-based): lr·lr_decay^epoch·factor."""
        return self.lr * self.lr_decay ** epoch * factor

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown protocol fields {unknown}; known: {[f.name for f in dataclasses.fields(self)]}")
        return dataclasses.replace(self, **changes)


PROTOCOL_FIELDS = tuple(field.name for field in dataclasses.fields(Protocol))
# The section of docs/protocol.md that gives each default's reason and evidence.
DEFAULTS_RATIONALE = {name: f"docs/protocol.md#{name.replace('_', '-')}" for name in PROTOCOL_FIELDS}


def train_epoch(model, optimizer, X, y, batch_size, rng):
    """One pass over (X, y) in a random order, one SGD step per batch.

    Parameters
    ----------
    model : Sequential
    optimizer : SGD
        Its penalty (if any) is added to the gradient, not to the loss.
    X : ndarray (N, ...), y : int64 ndarray (N,)
    batch_size : int >= 1
        The last batch holds the N mod batch_size samples left, if any.
    rng : numpy.random.Generator
        The order of the samples.

    Returns
    -------
    float
        The mean cross-entropy over the epoch's batches (without penalty),
        weighted by batch size.
    """
    order = rng.permutation(X.shape[0])
    total = 0.0
    for start in range(0, X.shape[0], batch_size):
        batch = order[start:start + batch_size]
        loss = model.loss_and_grads(X[batch], y[batch], train=True, input_grad=False)
        optimizer.step(model)
        total += loss * batch.size
    return total / X.shape[0]


class Timer:
    """Wall-clock seconds since creation (``time.perf_counter``)."""

    def __init__(self):
        self.start = time.perf_counter()

    def __call__(self):
        return time.perf_counter() - self.start


__all__ = ["Protocol", "protocol_hash", "canonical_hash", "SCHEDULES", "SCOPES", "DEFAULTS_RATIONALE",
           "PROTOCOL_FIELDS", "train_epoch"]


# ---- the sparse training path ----------------------------------------------------------

# The kept fraction of a layer's weights below which a pruned Dense layer trains
# faster as a SparseDense (CSR values, the sparse C kernels, the SGD step on the
# kept weights only), per (n_in, n_out, first layer of its net) and batch size:
# the largest kept fraction, of 0.5, 0.3, 0.2, 0.15, 0.1, 0.05, 0.02 and 0.01,
# at which that layer's training step (forward, backward, SGD step with
# momentum and L2) was at least 1.1 times faster sparse, measured by
# `python benchmarks/bench_sparse_threshold.py` with one BLAS thread
# (docs/performance.md#sparse-training).  0 means never: the 30x10 layer
# gained at most 9 % at any sparsity.
SPARSE_BELOW = {
    (784, 100, True, 16): 0.2,
    (784, 100, True, 128): 0.1,
    (100, 10, False, 16): 0.1,
    (100, 10, False, 128): 0.05,
    (784, 30, True, 16): 0.2,
    (30, 10, False, 16): 0.0,
    (784, 50, True, 16): 0.2,
    (50, 10, False, 16): 0.05,
    (784, 300, True, 16): 0.2,
    (784, 300, True, 128): 0.1,
    (300, 100, False, 16): 0.2,
    (300, 100, False, 128): 0.1,
    (800, 500, False, 64): 0.15,
    (500, 10, False, 64): 0.1,
}


def sparse_threshold(n_in, n_out, first, batch_size):
    """The kept fraction below which a Dense layer of this shape trains as SparseDense (0: never).

    From :data:`SPARSE_BELOW`: the measured threshold of the same shape at
    the nearest measured batch size; 0 for a shape that was not measured
    (it keeps training masked dense, which is never wrong, only slower).
    """
    measured = {batch: kept for (i, o, f, batch), kept in SPARSE_BELOW.items() if (i, o, f) == (n_in, n_out, first)}
    if not measured:
        return 0.0
    nearest = min(measured, key=lambda batch: (abs(batch - batch_size), batch))
    return measured[nearest]


def train_sparse(model, optimizer, batch_size, *, threshold=sparse_threshold):
    """Swap each masked Dense layer kept at or below its threshold for its SparseDense twin, in place.

    The layer's kept weights, its bias and their velocities in ``optimizer``
    move to the sparse layer (a pruned weight has velocity 0 and is not
    stored), so the next steps compute the same numbers up to the rounding
    of the sparse kernels' sums.  The masks stay the source of truth:
    :func:`train_masked` turns the layers back before anything reads masks
    (a pruning step, a saved model, a record).

    Parameters
    ----------
    model : Sequential
    optimizer : SGD
    batch_size : int
    threshold : callable ``(n_in, n_out, first, batch_size) -> float``
        The kept fraction below which to swap (default :func:`sparse_threshold`).

    Returns
    -------
    list of int
        The indices of the layers now sparse.
    """
    swapped = []
    for index, layer in enumerate(model.layers):
        if type(layer) is not Dense or "W" not in layer.masks:
            continue
        keep = layer.masks["W"]
        below = threshold(layer.n_in, layer.n_out, index == 0, batch_size)
        if below <= 0 or keep.mean() > below:
            continue
        sparse = SparseDense.from_dense(layer)
        velocity = optimizer.velocity
        v_W = velocity.pop((layer, "W"), None)
        if v_W is not None:
            velocity[(sparse, "data")] = v_W[keep]  # row-major, the order of the CSR
        v_b = velocity.pop((layer, "b"), None)
        if v_b is not None:
            velocity[(sparse, "b")] = v_b
        model.layers[index] = sparse
        swapped.append(index)
    return swapped


def train_masked(model, optimizer=None):
    """Turn every SparseDense layer back into a masked Dense layer, velocities included, in place."""
    for index, layer in enumerate(model.layers):
        if type(layer) is not SparseDense:
            continue
        dense = layer.to_dense()
        if optimizer is not None:
            velocity = optimizer.velocity
            v_data = velocity.pop((layer, "data"), None)
            if v_data is not None:
                v_W = np.zeros_like(dense.params["W"])
                v_W[np.repeat(np.arange(layer.n_in), np.diff(layer.indptr)), layer.indices] = v_data
                velocity[(dense, "W")] = v_W
            v_b = velocity.pop((layer, "b"), None)
            if v_b is not None:
                velocity[(dense, "b")] = v_b
        model.layers[index] = dense


def pruned_fraction(model):
    """The fraction of the model's weights pruned, whichever form its layers take."""
    total = kept = 0
    for _, layer, name in model.parameters(prunable_only=True):
        mask = layer.masks.get(name)
        kept += layer.params[name].size if mask is None else int(mask.sum())
        total += layer.n_in * layer.n_out if type(layer) is SparseDense else layer.params[name].size
    return 1.0 - kept / total
