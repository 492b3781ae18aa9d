"""Controls: ``oneshot`` (prune once) and ``random`` (random saliency).

``oneshot`` prunes straight to the target with magnitude saliency at the
first pruning epoch, then retrains for the rest of the common timetable:
the same budget as the iterative methods, with all of it spent after the
cut (Han et al. 2015 compare iterative and one-shot pruning this way).

``random`` follows the iterative schedule with a saliency drawn uniformly
at random at each step: what any saliency must beat.
"""
from ..compress import magnitude_saliency, one_shot_schedule, random_saliency
from .base import Method


class OneShot(Method):
    name = "oneshot"
    summary = "magnitude saliency, L2 penalty, one pruning step to the target, then retraining"
    penalty = "l2"

    def schedule(self, sparsity, protocol):
        return one_shot_schedule(sparsity)

    def saliency(self, model, context):
        return magnitude_saliency(model)


class Random(Method):
    name = "random"
    summary = "random saliency (control), L2 penalty, iterative pruning"
    penalty = "l2"

    def saliency(self, model, context):
        return random_saliency(model, int(context.rng.integers(2**63)))
