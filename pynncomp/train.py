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
last pruning step are restored.  Methods that do not prune (``dense``,
``hashednet``) and ``oneshot`` (one step, at epoch P + 1) follow the same
timetable, so every method gets the same training budget.

The defaults are pynncomp's choice (the study does not publish all of
them); :data:`DEFAULTS_RATIONALE` says where each comes from.
"""
import dataclasses
import hashlib
import json
import time

from .kernels._validate import check_int
from .nn._checks import check_positive_int, check_real

SCHEDULES = ("power", "cubic", "oneshot")
SCOPES = ("global", "layer")
PENALTIES = ("l1", "l2", "none")
# Protocol fields added after results were first recorded, with the value
# that trains exactly as before they existed (left out of run keys then).
NEUTRAL_LATER_FIELDS = {"penalty": None, "lr_decay": 1.0}

DEFAULTS_RATIONALE = {
    "batch_size": "16, the comparative study's batch size (docs/methods.md#defaults)",
    "lr": "0.01, the study's learning rate (docs/methods.md#defaults)",
    "momentum": "0.9, the usual heavy-ball value: 784-100-10 passes 97.5 % test accuracy in about 15 epochs",
    "l2": "3e-4 for (lambda/2) sum w^2 on the mean loss: on MNIST 784-100-10 at 99 % removed (seed 0) "
          "validation accuracy 95.4 % against 94.8 % with 1e-4; 1e-5 was worse still",
    "l1": "5e-5 for lambda sum |w| on the mean loss: same test, validation 95.0 % against 94.3 % with 2e-5",
    "pretrain_epochs": "10: the dense net is close to converged (OBD's saliency assumes it)",
    "steps": "k = 20 pruning steps, one epoch apart: at the same cost as k = 10 two epochs apart, "
             "99.8 % removed gave 71.8 % instead of 51.5 +- 6.3 % (5 runs), 99.5 % 90.4 % instead of "
             "88.1 %, 99 % 95.6 % instead of 94.9 %: the last step of S (i/k)^(1/c) divides the kept "
             "weights by 6 at 99.8 % with k = 10, by 3.5 with k = 20",
    "power": "c = 10: S_1 = 0.74 S, then ever smaller steps; at 99 % removed (k = 10) this gave 94.5 % "
             "(c = 3: 92.1 %, c = 6: 93.5 %, c = 1: 90.2 %), the last steps being what hurts",
    "prune_every": "1 epoch of retraining between steps",
    "finetune_max": "30 epochs at most after the last step",
    "patience": "3 epochs without a new best validation accuracy end fine-tuning",
    "obd_samples": "5000 training images for OBD's h (a fixed random subsample)",
    "han_lr_factor": "0.1: Han et al. retrain at 1/10 of the original learning rate",
    "penalty": "None: each method's own (L1 for magl1, L2 for the others)",
    "lr_decay": "1: a constant learning rate, as the comparative study's runs",
}


def protocol_hash(protocol_dict):
    """8 hex digits of the SHA-1 of a protocol's canonical JSON (``Protocol.to_dict()``).

    Fields added to the protocol later are left out at their neutral value
    (:data:`NEUTRAL_LATER_FIELDS`), so a run recorded before they existed
    keeps its key.  The run keys of ``pynncomp reproduce`` and the file
    names of ``pynncomp train`` end with it.
    """
    protocol_dict = {k: v for k, v in protocol_dict.items()
                     if not (k in NEUTRAL_LATER_FIELDS and v == NEUTRAL_LATER_FIELDS[k])}
    text = json.dumps(protocol_dict, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:8]


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
    lr : float > 0
        SGD learning rate η.
    momentum : float in [0, 1)
    l1, l2 : float >= 0
        λ of the L1 penalty λ·Σ|w| and of the L2 penalty (λ/2)·Σw²; a
        method uses the one its name says (docs/methods.md#pruning).
    pretrain_epochs : int >= 0
        P, epochs before the first pruning step.
    steps : int >= 1
        k, the number of pruning steps.
    power : float >= 1
        c of the power schedule.
    prune_every : int >= 1
        e, epochs between pruning steps.
    finetune_max : int >= 1
        The most epochs trained after the fixed part.
    patience : int >= 1
        Fine-tuning stops after this many epochs without a new best
        validation accuracy.
    schedule : {"power", "cubic", "oneshot"}
        The sparsity after each step (:mod:`pynncomp.compress.schedules`).
    scope : None or {"global", "layer"}
        None: the method's own default.
    obd_samples : int >= 1
        Training images h is averaged over for OBD.
    han_lr_factor : float in (0, 1]
        The learning rate of Han et al.'s retraining, as a fraction of lr.
    dropout : float in [0, 1)
        Dropout after the hidden ReLUs (0: none).
    penalty : None or {"l1", "l2", "none"}
        None: the method's own penalty (MagL1 trains with L1, the others
        with L2); otherwise this one for every method (Han et al.'s Fig. 5
        compares L1 and L2 for the same pruning).
    lr_decay : float in (0, 1]
        The learning rate of epoch e (from 0) is lr·lr_decay^e (times
        han_lr_factor once Han et al.'s retraining has begun); 1 keeps it
        constant.

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
        check_positive_int("finetune_max", self.finetune_max)
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


__all__ = ["Protocol", "protocol_hash", "SCHEDULES", "SCOPES", "DEFAULTS_RATIONALE", "train_epoch"]
