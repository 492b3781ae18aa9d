"""What a compression method is: the parts a training run asks of it.

A :class:`Method` says, for one run,

* which network to build (:meth:`Method.build`; HashedNet builds its own),
  and so whether its pre-training can be shared with other methods
  (:meth:`Method.pretraining_identity`);
* which penalty to train with (``penalty``: ``"l1"``, ``"l2"`` or None,
  whose λ comes from the :class:`~pynncomp.train.Protocol`);
* the sparsity after each pruning step (:meth:`Method.schedule`);
* the saliency of every weight at a pruning step (:meth:`Method.saliency`),
  lowest pruned first by :func:`pynncomp.compress.prune`; or, for a method
  that also moves the weights it keeps (Optimal Brain Surgeon), the whole
  step (:meth:`Method.prune_step`: prune to the step's exact sparsity and
  update the kept weights);
* anything to change after a step (:meth:`Method.after_prune`; Han et al.
  lower the learning rate and the dropout);
* how much of the architecture the trained net leaves out
  (:meth:`Method.achieved_sparsity`; a HashedNet stores no pruned weights),
  and what ``--sparsity`` counts (``removes``: weights, or the neurons or
  filters of structured pruning);
* the network and record the run returns (:meth:`Method.finish`;
  structured pruning cuts the removed units out of the trained net).

A method object serves one run: :func:`pynncomp.methods.get` makes a new
one each time, and a method keeps what it carries from one pruning step to
the next (OBD's subsample, Han et al.'s original dropout rates) on itself.
What it reports goes in :attr:`StepContext.notes`.

The run itself — the epoch loop, the timetable, fine-tuning, saving — is
:func:`pynncomp.experiment.run`, the same for every method.
"""
import dataclasses

import numpy as np

from .. import models
from ..compress import cubic_schedule, one_shot_schedule, power_schedule, prune, pruning_report


@dataclasses.dataclass
class StepContext:
    """What a method may look at when it prunes.

    Attributes
    ----------
    X_train, y_train : the training images and labels of the run
    protocol : Protocol
    rng : numpy.random.Generator
        The run's stream for the method's own randomness (random saliency,
        OBD's subsample), independent of initialisation and batch order.
    step : int
        1-based index of the pruning step.
    lr_factor : float
        Multiplies the protocol's learning rate from the next epoch on
        (Han et al.'s retraining sets it to ``han_lr_factor``).
    lr_restart_epoch : int
        The epoch the learning-rate decay counts from (Han et al.'s
        retraining starts a new schedule at each pruning step).
    epoch : int
        The current epoch (0-based), set before each pruning step.
    optimizer : SGD
    notes : dict
        What the method reports, JSON-ready: the result record's
        ``"method_notes"`` (e.g. ``steps``, ``obd_subsample``).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    protocol: object
    rng: np.random.Generator
    step: int = 0
    optimizer: object = None
    lr_factor: float = 1.0
    lr_restart_epoch: int = 0
    epoch: int = 0
    notes: dict = dataclasses.field(default_factory=dict)


class Method:
    """Base class: a pruning method with magnitude saliency and the protocol's schedule."""

    name = ""
    summary = ""
    penalty = "l2"
    prunes = True
    default_scope = "global"
    # what the target sparsity is a fraction of: "weights", or "neurons" / "filters" (structured pruning)
    removes = "weights"

    def check(self, arch, hidden, sparsity):
        """Refuse settings the method has no meaning for (ValueError)."""

    def build(self, arch, hidden, sparsity, seed, protocol):
        """The freshly initialised network this method trains."""
        return models.build(arch, hidden, seed=seed, dropout=protocol.dropout)

    def pretraining_identity(self, sparsity):
        """What sets this method's first epochs apart from another's with the same penalty: None if nothing.

        Before its first pruning step a run asks its method for nothing but
        the network (:meth:`build`) and the penalty (``penalty``), so every
        method that builds the network of :func:`pynncomp.models.build`
        pre-trains exactly as any other with the same penalty, λ and
        protocol: it returns None, and :func:`pynncomp.experiment.run`
        trains those epochs once for all of them (``pretrained``).  A
        method that builds its own network (HashedNet, whose size follows
        the target) is set apart by its class and ``sparsity``.  A method
        whose network depends on more than that overrides this too.

        Parameters
        ----------
        sparsity : float
            The run's target S.

        Returns
        -------
        None or tuple
            Hashable; part of the key of the pre-training cache.
        """
        if type(self).build is Method.build:
            return None
        return (type(self).__module__, type(self).__qualname__, sparsity)

    def schedule(self, sparsity, protocol):
        """[S_1, …, S_k]: the sparsity after each pruning step."""
        if not self.prunes:
            return []
        if protocol.schedule == "oneshot":
            return one_shot_schedule(sparsity)
        if protocol.schedule == "cubic":
            return cubic_schedule(sparsity, protocol.steps)
        return power_schedule(sparsity, protocol.steps, protocol.power)

    def scope(self, protocol):
        return protocol.scope or self.default_scope

    def saliency(self, model, context):
        """``{(layer_index, name): s}`` for every prunable parameter."""
        raise NotImplementedError

    def prune_step(self, model, sparsity, scope, context):
        """One pruning step: ``model`` pruned in place to exactly ``sparsity``.

        The default hands :meth:`saliency` to the engine, which removes the
        lowest and leaves the kept weights as they are.  A method that also
        changes the kept weights (OBS's compensating update) overrides this;
        it must leave the exact counts of :func:`pynncomp.compress.prune` in
        ``scope`` and the mask semantics (docs/methods.md#masks): every
        pruned weight masked and exactly 0, none revived.

        Parameters
        ----------
        model : Sequential
        sparsity : float in [0, 1), or dict ``{(layer_index, name): S_l}``
            The step's target (:meth:`schedule`).
        scope : {"global", "layer"}
        context : StepContext

        Returns
        -------
        dict
            The report of :func:`pynncomp.compress.prune`.
        """
        return prune(model, self.saliency(model, context), sparsity, scope)

    def after_prune(self, model, context):
        """Called after each pruning step (default: nothing)."""

    def achieved_sparsity(self, model):
        """The fraction of the architecture's weights the trained ``model`` leaves out.

        For a pruned net, 1 − kept/m over its prunable weights
        (:func:`pynncomp.compress.pruning_report`).

        Returns
        -------
        float in [0, 1]
        """
        return pruning_report(model)["achieved_sparsity"]

    def finish(self, model, record, context):
        """The network and record a run returns, from the trained net and its record (default: both as they are).

        Called once, after fine-tuning and the record.  A method whose
        result is another network than the one it trained returns it here,
        and amends the record to match: structured pruning trains a masked
        net and returns the smaller dense net its surgery cuts out of it.

        Parameters
        ----------
        model : Sequential
            The trained net, weights of the best fine-tuning epoch.
        record : dict
            The run's record, measured on ``model``.
        context : StepContext

        Returns
        -------
        (Sequential, dict)
        """
        return model, record

    def __repr__(self):
        return f"<method {self.name}: {self.summary}>"
