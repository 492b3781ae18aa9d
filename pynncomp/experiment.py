"""One training run of one method: the common timetable, the result record.

:func:`run` trains ``method`` on a :class:`~pynncomp.data.Dataset` with the
timetable of :mod:`pynncomp.train` (pre-training, k pruning steps every e
epochs, fine-tuning to the best validation accuracy) and returns the
trained model with a JSON-ready record of what happened.  :func:`save_run`
writes the model (compressed, :mod:`pynncomp.io`) and the record, each
atomically, so an interrupted run leaves no half-written file.

:func:`run` is the protocol of docs/methods.md#timetable, one function per
step: :func:`_start` (the network, its optimiser, the random streams),
:func:`_targets` (the sparsity after each pruning step), :func:`_pretrain`
(epochs 1 … P, or their state from a cache), :func:`_prune_and_retrain`
(the fixed epochs that open with a pruning step), :func:`_fine_tune` (the
last step, then on to the best validation epoch) and :func:`_record`.

Randomness: ``numpy.random.SeedSequence(seed)`` spawns independent streams
for the initial weights (and dropout), the batch order and the method's own
draws (random saliency, OBD's subsample), so the same seed gives the same
numbers and changing one use of randomness does not shift the others.
"""
import copy
import dataclasses
import hashlib
import json
import math
import os
import pathlib
import platform
import time
import typing

import numpy as np

from . import __version__, kernels, methods, models
from ._files import atomic_write
from .compress import kept_count, pruning_report, virtual_weight_count
from .io import dense_float32_nbytes, save_model
from ._checks import check_int, check_real
from .nn import SGD, L1, L2
from .train import Protocol, Timer, protocol_hash, pruned_fraction, train_epoch, train_masked, train_sparse

RECORD_FIELDS = (
    "method", "dataset", "arch", "hidden", "target_sparsity", "achieved_sparsity", "weights_total",
    "weights_kept", "biases", "test_accuracy", "val_accuracy", "epochs", "seed", "wall_s", "config", "version",
)


def check_sparsity(sparsity):
    """S must be a real number in [0, 1)."""
    return check_real("sparsity", sparsity, 0.0, 1.0, high_open=True)


def run_name(method, dataset, split, arch_label, sparsity, seed, protocol, layer_sparsity=None):
    """A file-name stem that identifies a run: ``magl2_mnist_784-100-10_S0.9_seed0_p1a2b3c4d``.

    Parameters
    ----------
    method, dataset, arch_label : str
    split : {"paper", "standard"}
        Named after the data set when not the paper split (``mnist@standard``).
    sparsity : float
        The target S (ignored when ``layer_sparsity`` is given).
    seed : int
    protocol : Protocol or dict (``Protocol.to_dict()``)
        Its hash ends the name (the 8 hex digits of the run keys of
        ``pynncomp reproduce``), so runs under other protocols get other files.
    layer_sparsity : None or dict ``{"index.name": S_l}``
        Targets per layer, named ``L`` followed by their hash.
    """
    protocol = protocol.to_dict() if isinstance(protocol, Protocol) else protocol
    data = dataset if split == "paper" else f"{dataset}@{split}"
    if layer_sparsity:
        targets = json.dumps({str(key): value for key, value in layer_sparsity.items()}, sort_keys=True)
        level = "L" + hashlib.sha1(targets.encode()).hexdigest()[:8]
    else:
        level = f"S{sparsity:g}"
    return f"{method}_{data}_{arch_label}_{level}_seed{seed}_p{protocol_hash(protocol)}"


def run_paths(out_dir, name):
    """``(out_dir/NAME.npz, out_dir/NAME.json)``: where :func:`save_run` writes."""
    out_dir = pathlib.Path(out_dir)
    return out_dir / f"{name}.npz", out_dir / f"{name}.json"


def check_free(out_dir, name):
    """Refuse to replace the files of an earlier run: ValueError naming them."""
    taken = [path for path in run_paths(out_dir, name) if path.exists()]
    if taken:
        raise ValueError(
            f"{' and '.join(str(path) for path in taken)} already exist (the same experiment was run into "
            f"{out_dir} before): give --overwrite to replace them, or another --out"
        )


def run(method, dataset, *, arch="mlp", hidden=None, sparsity=0.0, seed=0, protocol=None, progress=None,
        pretrained=None, layer_sparsity=None, sparse_training=True):
    """Train one method on one data set on the common timetable, and report.

    The timetable of docs/methods.md#timetable: pre-training, the pruning
    steps, fine-tuning to the best validation epoch.

    Parameters
    ----------
    method : str or Method
        One of :data:`pynncomp.methods.METHODS` (or a method object of its own).
    dataset : pynncomp.data.Dataset
        With a validation subset (fine-tuning stops on it), in the layout
        of ``arch`` (:func:`pynncomp.models.layout_of`).
    arch : {"mlp", "lenet300", "lenet5"}
    hidden : int or sequence of int
        Hidden sizes of "mlp".
    sparsity : float in [0, 1)
        S, the target fraction of weights removed (for ``hashednet``: the
        pruning level whose kept-weight count its real weights match; for
        the ``neurons-*`` and ``filters-*`` methods: of the units removed).
    seed : int >= 0
    protocol : Protocol or None (the defaults)
    progress : callable or None
        Called with a dict after every epoch (``epoch``, ``phase``, ``loss``,
        ``val_accuracy``, ``sparsity``, ``lr``, ``seconds``) and after every
        pruning step (``event = "prune"``; ``target`` and ``achieved`` are
        fractions of what ``removes`` names: ``"weights"``, or the
        ``"neurons"`` or ``"filters"`` of structured pruning).
    pretrained : dict or None
        A cache shared between runs whose first ``pretrain_epochs`` epochs
        are the same: the runs of one method at several S, and of methods
        that build the same network and train with the same penalty
        (MagL2, OBD, OBS and L-OBS; :meth:`Method.pretraining_identity`).
        The state after pre-training is trained once, kept, and restored
        bit for bit (:func:`_pretrain`).  The record says
        ``pretraining_reused``.
    layer_sparsity : None or dict ``{"index.name" or (index, name): S_l}``
        A target per prunable parameter instead of one S (Han et al. prune
        each layer to its own fraction): each layer follows the schedule to
        its S_l on its own (scope "layer"); the record's ``target_sparsity``
        is the overall fraction these remove.

    Returns
    -------
    model : Sequential
        The trained (pruned) network, weights of the best fine-tuning epoch
        (for structured pruning, the smaller dense net cut out of it:
        :meth:`~pynncomp.methods.Method.finish`).
    record : dict
        JSON-serialisable; the fields of :data:`RECORD_FIELDS` and more:
        ``layers`` (kept/total per weight), ``history`` (per epoch),
        ``schedule``, ``method_notes``, ``backend``, ``dense_float32_bytes``,
        ``prune_s`` and ``prune_step_s`` (the wall time of the pruning
        steps, in all and step by step, within ``wall_s``),
        ``sparse_layers`` (after each pruning step, the layers that trained
        as :class:`~pynncomp.nn.SparseDense`).
    sparse_training : bool
        After each pruning step, train each dense layer kept below its
        measured threshold as a :class:`~pynncomp.nn.SparseDense`
        (:func:`pynncomp.train.train_sparse`): the same trajectory up to
        the rounding of the sparse kernels' sums, faster.  The methods, the
        returned model and the record see masked Dense layers only.  False
        trains masked dense throughout.
    """
    timer = Timer()
    method = methods.get(method)
    arch, hidden, sparsity, seed, protocol = _checked_arguments(method, dataset, arch, hidden, sparsity, seed,
                                                                protocol, layer_sparsity)
    training = _start(method, dataset, arch, hidden, sparsity, seed, protocol, progress)
    training.sparse_training = bool(sparse_training)
    targets = _targets(training, sparsity, layer_sparsity)
    timetable = dict(zip(protocol.prune_epochs(len(targets.schedule)), targets.schedule))
    reused = _pretrain(training, pretrained)
    _prune_and_retrain(training, timetable, targets.scope)
    best_val = _fine_tune(training, timetable, targets.scope)
    train_masked(training.model, training.optimizer)
    # a method may return another net than the one it trained (structured pruning: the smaller dense net)
    return method.finish(training.model, _record(training, targets, best_val, reused, timer), training.context)


@dataclasses.dataclass
class _Training:
    """One run in progress: what it trains, and everything its next epoch depends on.

    Attributes
    ----------
    method : Method
        This run's own method object (it may keep state between steps).
    dataset, arch, hidden, sparsity, seed, protocol : the run's arguments, checked
    model : Sequential
    optimizer : SGD
        With its velocities and the penalty of the method (or protocol).
    order_rng : numpy.random.Generator
        The batch order.
    context : StepContext
        What the method sees at a pruning step; its ``notes`` become the
        record's ``method_notes``.
    progress : callable or None
    history : list of dict
        One entry per epoch trained.
    prune_seconds : list of float
        The wall time of each pruning step (the method's step and what it
        changes after it).
    sparse_training : bool
        Whether layers train as SparseDense after a pruning step.
    sparse_layers : list of list of int
        After each pruning step, the indices of the layers made sparse.
    """

    method: methods.Method
    dataset: object
    arch: str
    hidden: tuple
    sparsity: float
    seed: int
    protocol: Protocol
    model: object
    optimizer: SGD
    order_rng: np.random.Generator
    context: methods.StepContext
    progress: object
    history: list = dataclasses.field(default_factory=list)
    prune_seconds: list = dataclasses.field(default_factory=list)
    sparse_training: bool = False
    sparse_layers: list = dataclasses.field(default_factory=list)


class _Targets(typing.NamedTuple):
    """What the pruning steps aim at (:func:`_targets`).

    Attributes
    ----------
    schedule : list of float, or list of dict ``{(index, name): S_l,i}``
        The sparsity after each step; empty for a method that does not prune.
    scope : {"global", "layer"}
    sparsity : float
        The overall target S, the record's ``target_sparsity``.
    layer_sparsity : None or dict ``{(index, name): S_l}``
    """

    schedule: list
    scope: str
    sparsity: float
    layer_sparsity: dict


def _checked_arguments(method, dataset, arch, hidden, sparsity, seed, protocol, layer_sparsity):
    """``(arch, hidden, sparsity, seed, protocol)`` checked; ValueError or TypeError naming what is wrong."""
    arch = models.check_arch(arch)
    hidden = models.arch_hidden(arch, hidden)
    sparsity = check_sparsity(sparsity)
    seed = check_int("seed", seed, 0)
    protocol = Protocol() if protocol is None else protocol
    if not isinstance(protocol, Protocol):
        raise TypeError(f"protocol must be a pynncomp.train.Protocol or None, got {type(protocol).__name__}")
    method.check(arch, hidden, sparsity)
    if layer_sparsity is not None and not method.prunes:
        raise ValueError(f"method {method.name!r} does not prune: layer_sparsity is for the pruning methods")
    if layer_sparsity is not None and method.removes != "weights":
        raise ValueError(f"method {method.name!r} removes {method.removes}: layer_sparsity (a target per weight "
                         "parameter) is for the methods that remove weights; give sparsity, the fraction of the "
                         f"{method.removes} removed")
    layout = models.layout_of(arch)
    expected_ndim = 4 if layout == "image" else 2
    if dataset.X_train.ndim != expected_ndim:
        raise ValueError(f"arch {arch!r} reads the {layout!r} layout: load the data set with layout={layout!r}")
    if dataset.X_val.shape[0] == 0:
        raise ValueError("dataset has no validation subset, which fine-tuning needs: load it with val_size >= 1")
    return arch, hidden, sparsity, seed, protocol


def _start(method, dataset, arch, hidden, sparsity, seed, protocol, progress):
    """The freshly built network, its optimiser and the run's three random streams (module docstring)."""
    init_seed, order_seed, method_seed = np.random.SeedSequence(seed).spawn(3)
    model = method.build(arch, hidden, sparsity, int(init_seed.generate_state(1)[0]), protocol)
    optimizer = SGD(protocol.lr, protocol.momentum, _penalty(method, protocol))
    context = methods.StepContext(dataset.X_train, dataset.y_train, protocol,
                                  np.random.default_rng(method_seed), optimizer=optimizer)
    return _Training(method, dataset, arch, hidden, sparsity, seed, protocol, model, optimizer,
                     np.random.default_rng(order_seed), context, progress)


def _penalty(method, protocol):
    kind = method.penalty if protocol.penalty is None else protocol.penalty
    if kind == "l1":
        return L1(protocol.l1) if protocol.l1 > 0 else None
    if kind == "l2":
        return L2(protocol.l2) if protocol.l2 > 0 else None
    return None


def _targets(training, sparsity, layer_sparsity):
    """The sparsity after each pruning step, the scope it is reached in, and the overall target.

    One S: the method's schedule [S_1, …, S_k] in its scope.  One S_l per
    layer: each layer's own schedule, step by step ``{(index, name): S_l,i}``,
    each layer ranked on its own (scope "layer"); the overall target is then
    the fraction of all prunable weights these keep counts remove.
    """
    method, protocol, model = training.method, training.protocol, training.model
    if layer_sparsity is None:
        return _Targets(method.schedule(sparsity, protocol), method.scope(protocol), sparsity, None)
    layer_sparsity = _checked_layer_sparsity(model, layer_sparsity)
    per_layer = {key: method.schedule(S_l, protocol) for key, S_l in layer_sparsity.items()}
    schedule = [dict(zip(per_layer, step)) for step in zip(*per_layer.values())]
    sizes = {(i, name): layer.params[name].size for i, layer, name in model.parameters(prunable_only=True)}
    kept = sum(kept_count(S_l, sizes[key]) for key, S_l in layer_sparsity.items())
    return _Targets(schedule, "layer", 1.0 - kept / sum(sizes.values()), layer_sparsity)


def _train_one(training, epoch, phase):
    """One epoch (0-based ``epoch``) at the protocol's learning rate; its validation accuracy."""
    protocol, optimizer, context, model = training.protocol, training.optimizer, training.context, training.model
    epoch_timer = Timer()
    optimizer.lr = protocol.lr_at(epoch - context.lr_restart_epoch, context.lr_factor)
    loss = train_epoch(model, optimizer, training.dataset.X_train, training.dataset.y_train, protocol.batch_size,
                       training.order_rng)
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"the training loss became {loss} at epoch {epoch + 1}; lower lr (now {optimizer.lr}) or the penalty"
        )
    val = model.accuracy(training.dataset.X_val, training.dataset.y_val)
    entry = {"epoch": epoch + 1, "phase": phase, "loss": loss, "val_accuracy": val,
             "sparsity": _sparsity_now(model), "lr": optimizer.lr, "seconds": epoch_timer()}
    training.history.append(entry)
    _report(training, entry)
    return val


def _prune_if_due(training, timetable, scope, epoch):
    """Step i of the timetable, if it falls at the start of ``epoch``: the method's pruning step."""
    if epoch not in timetable:
        return
    method, model, context = training.method, training.model, training.context
    context.step += 1
    context.epoch = epoch
    step_timer = Timer()
    train_masked(model, training.optimizer)  # the methods read and write masks
    step_report = method.prune_step(model, timetable[epoch], scope, context)
    method.after_prune(model, context)
    training.sparse_layers.append(train_sparse(model, training.optimizer, training.protocol.batch_size)
                                  if training.sparse_training else [])
    training.prune_seconds.append(step_timer())
    _report(training, {"event": "prune", "step": context.step, "epoch": epoch + 1,
                       "target": timetable[epoch], "achieved": step_report["achieved_sparsity"],
                       "removes": method.removes, "seconds": training.prune_seconds[-1]})


def _report(training, entry):
    if training.progress is not None:
        training.progress(entry)


def _pretrain(training, pretrained):
    """Epochs 1 … P, or the state after them taken from ``pretrained``; True when taken.

    The first P epochs do not depend on the target sparsity, nor on the
    method beyond its network and its penalty, so the runs of a table (its
    levels, and methods such as MagL2, OBD and L-OBS that differ only in
    their pruning steps) can train them once: the state after pre-training
    (weights, velocities, the batch-order and dropout streams, the history)
    is stored in ``pretrained`` under what it depends on
    (:func:`_pretraining_key`) and restored exactly, so the results are bit
    for bit those of a run without the cache.
    """
    P = training.protocol.pretrain_epochs
    shared = pretrained is not None and P > 0
    key = _pretraining_key(training) if shared else None
    if shared and key in pretrained:
        _set_training_state(pretrained[key], training)
        return True
    for epoch in range(P):
        _train_one(training, epoch, "pretrain")
    if shared:
        pretrained[key] = _training_state(training)
    return False


def _prune_and_retrain(training, timetable, scope):
    """Epochs P + 1 … P + (k − 1)·e: each opens with the pruning step due then, if any."""
    protocol, context = training.protocol, training.context
    for epoch in range(protocol.pretrain_epochs, protocol.fixed_epochs):
        _prune_if_due(training, timetable, scope, epoch)
        # a method that never prunes is still pre-training in these epochs
        _train_one(training, epoch, "pretrain" if context.step == 0 else "prune")


def _fine_tune(training, timetable, scope):
    """The last step, then epochs until ``patience`` bring no better validation accuracy; the best restored.

    docs/methods.md#fine-tuning.  At most ``finetune_max`` epochs; the
    weights of the best epoch (the first of equal bests) are put back.
    With ``finetune_max = 0`` no epoch follows the last step.

    Returns
    -------
    float
        The best validation accuracy; with ``finetune_max = 0``, the
        accuracy right after the last step.
    """
    protocol, model = training.protocol, training.model
    _prune_if_due(training, timetable, scope, protocol.fixed_epochs)
    if protocol.finetune_max == 0:
        return model.accuracy(training.dataset.X_val, training.dataset.y_val)
    best_val, best_weights, since_best = -1.0, None, 0
    for epoch in range(protocol.fixed_epochs, protocol.fixed_epochs + protocol.finetune_max):
        val = _train_one(training, epoch, "finetune")
        if val > best_val:
            best_val, best_weights, since_best = val, _snapshot(model), 0
        else:
            since_best += 1
            if since_best >= protocol.patience:
                break
    _restore(model, best_weights)
    return best_val


def _record(training, targets, best_val, reused, timer):
    """The JSON-ready result of a run (:data:`RECORD_FIELDS` first)."""
    method, model, dataset, protocol = training.method, training.model, training.dataset, training.protocol
    final = pruning_report(model)
    layer_sparsity = targets.layer_sparsity
    return {
        "method": method.name,
        "dataset": dataset.name,
        "arch": models.describe(training.arch, training.hidden),
        "arch_name": training.arch,
        "hidden": list(training.hidden),
        "target_sparsity": targets.sparsity,
        "achieved_sparsity": method.achieved_sparsity(model),
        "weights_total": virtual_weight_count(model),
        "weights_kept": model.n_kept_weights,
        "biases": model.n_biases,
        "parameters": model.n_kept_weights + model.n_biases,
        "test_accuracy": model.accuracy(dataset.X_test, dataset.y_test),
        "val_accuracy": best_val,
        "epochs": len(training.history),
        "seed": training.seed,
        "wall_s": timer(),
        "config": {"protocol": protocol.to_dict(), "scope": targets.scope,
                   "penalty": repr(training.optimizer.penalty), "schedule": _json_schedule(targets.schedule),
                   "data": _data_config(dataset),
                   "layer_sparsity": None if layer_sparsity is None else
                   {f"{index}.{name}": S_l for (index, name), S_l in layer_sparsity.items()}},
        "version": __version__,
        "layers": {f"{index}.{name}": entry for (index, name), entry in final["layers"].items()},
        "method_notes": training.context.notes,
        "history": training.history,
        "backend": kernels.ACTIVE_BACKEND,
        "dense_float32_bytes": dense_float32_nbytes(model),
        "synthetic_data": dataset.synthetic,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - timer())),
        "host": {"python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count()},
        "pretraining_reused": bool(reused),
        "prune_s": sum(training.prune_seconds),
        "prune_step_s": list(training.prune_seconds),
        "sparse_layers": [list(step) for step in training.sparse_layers],
    }


def _snapshot(model):
    return [{name: p.copy() for name, p in layer.params.items()} for layer in model.layers]


def _restore(model, snapshot):
    for layer, params in zip(model.layers, snapshot):
        for name, p in params.items():
            layer.params[name][...] = p


def _sparsity_now(model):
    return pruned_fraction(model)


def _pretraining_key(training):
    """What the first ``pretrain_epochs`` epochs of a run depend on.

    The network (:meth:`Method.pretraining_identity`: None for every method
    that builds :func:`pynncomp.models.build`'s net; ``arch``, ``hidden``,
    ``dropout`` and the seed, which also fixes the batch order), the penalty
    the optimiser applies (its kind and λ, after the protocol's ``penalty``
    override), the optimiser's and the timetable's fields used before the
    first step, the data and the backend.  Not the target S, nor the method's
    name: the pruning methods of one penalty share their pre-training.
    """
    dataset, protocol, method = training.dataset, training.protocol, training.method
    fields = ("batch_size", "lr", "momentum", "pretrain_epochs", "dropout", "lr_decay")
    return (method.pretraining_identity(training.sparsity), repr(training.optimizer.penalty), training.arch,
            tuple(training.hidden), training.seed, dataset.name, dataset.split, dataset.X_train.shape,
            dataset.X_val.shape, repr(dataset.provenance.get("validation")),
            tuple(getattr(protocol, f) for f in fields), kernels.ACTIVE_BACKEND)


def _training_state(training):
    """Everything later epochs depend on, copied: weights, velocities, random streams, history."""
    model, optimizer = training.model, training.optimizer
    index_of = {id(layer): i for i, layer in enumerate(model.layers)}
    return {
        "params": _snapshot(model),
        "velocity": {(index_of[id(layer)], name): v.copy() for (layer, name), v in optimizer.velocity.items()},
        "order_rng": copy.deepcopy(training.order_rng.bit_generator.state),
        "layer_rngs": {i: copy.deepcopy(layer.rng.bit_generator.state) for i, layer in enumerate(model.layers)
                       if hasattr(layer, "rng")},
        "history": copy.deepcopy(training.history),
    }


def _set_training_state(state, training):
    model = training.model
    _restore(model, state["params"])
    training.optimizer.velocity = {(model.layers[i], name): v.copy() for (i, name), v in state["velocity"].items()}
    training.order_rng.bit_generator.state = copy.deepcopy(state["order_rng"])
    for i, rng_state in state["layer_rngs"].items():
        model.layers[i].rng.bit_generator.state = copy.deepcopy(rng_state)
    training.history.extend(copy.deepcopy(state["history"]))


def _checked_layer_sparsity(model, layer_sparsity):
    """``{(index, name): S_l}`` from keys ``"index.name"`` or tuples; one per prunable parameter."""
    if not isinstance(layer_sparsity, dict):
        raise TypeError(f"layer_sparsity must be a dict {{'index.name': S_l}}, got {type(layer_sparsity).__name__}")
    expected = {(index, name) for index, _, name in model.parameters(prunable_only=True)}
    checked = {}
    for key, value in layer_sparsity.items():
        if isinstance(key, str) and "." in key and key.split(".", 1)[0].isdigit():
            key = (int(key.split(".", 1)[0]), key.split(".", 1)[1])
        if key not in expected:
            raise ValueError(f"layer_sparsity has the key {key!r}, which is no prunable parameter; "
                             f"expected the keys {sorted(f'{i}.{n}' for i, n in expected)}")
        checked[key] = check_sparsity(value)
    missing = expected - set(checked)
    if missing:
        raise ValueError(f"layer_sparsity misses {sorted(f'{i}.{n}' for i, n in missing)}")
    return checked


def _json_schedule(targets):
    return [t if not isinstance(t, dict) else {f"{i}.{n}": S for (i, n), S in t.items()} for t in targets]


def _data_config(dataset):
    prov = dataset.provenance
    config = {"name": dataset.name, "split": dataset.split, "n_train": int(dataset.X_train.shape[0]),
              "n_val": int(dataset.X_val.shape[0]), "n_test": int(dataset.X_test.shape[0]),
              "validation": prov.get("validation"), "synthetic": dataset.synthetic}
    if dataset.synthetic:
        # what regenerates the same images (pynncomp.data.load's n_train, n_test)
        config["generator"] = {"n_train": prov.get("n_train"), "n_test": prov.get("n_test")}
    if isinstance(prov.get("variant"), dict):
        # "generated" from MNIST's digits or read from the "original" archives
        config["variant_source"] = prov["variant"].get("source")
    return config


def save_run(out_dir, model, record, name=None, overwrite=True):
    """Write ``NAME.npz`` (the compressed model) and ``NAME.json`` (the record) into ``out_dir``.

    Each file is written atomically; the record gains ``model_file``,
    ``file_bytes`` and ``file_ratio`` (bytes on disk / dense float32 bytes).
    The model file's metadata holds the record's summary and the data the
    model was trained on (``record["config"]["data"]``), which
    ``pynncomp evaluate`` measures it on by default
    (:mod:`pynncomp.evaluation`).

    Parameters
    ----------
    out_dir : path
    model : Sequential
    record : dict
        From :func:`run`.
    name : None or str
        The file-name stem; None: :func:`run_name` of the record.
    overwrite : bool
        False refuses (ValueError) when either file exists.

    Returns
    -------
    (model_path, record_path, record) : (pathlib.Path, pathlib.Path, dict)
        The record with the fields above added.
    """
    if name is None:
        config = record["config"]
        name = run_name(record["method"], record["dataset"], config["data"]["split"], record["arch"],
                        record["target_sparsity"], record["seed"], config["protocol"], config["layer_sparsity"])
    if not overwrite:
        check_free(out_dir, name)
    model_path, record_path = run_paths(out_dir, name)
    summary = {k: record[k] for k in RECORD_FIELDS if k != "config"}
    file_bytes = save_model(model_path, model, metadata={"record": summary, "data": record["config"]["data"]})
    record = dict(record, model_file=model_path.name, file_bytes=file_bytes,
                  file_ratio=file_bytes / record["dense_float32_bytes"])
    with atomic_write(record_path) as stream:
        stream.write(json.dumps(record, indent=1).encode())
    return model_path, record_path, record


__all__ = ["run", "save_run", "run_name", "run_paths", "check_free", "RECORD_FIELDS", "check_sparsity", "Protocol"]
