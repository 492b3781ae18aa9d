"""``dense``: the uncompressed baseline.

The network is trained on the common timetable with the L2 penalty of
MagL2 (so that it is the study's "0 % removed" row) and never pruned.
"""
from .base import Method


class Uncompressed(Method):
    name = "dense"
    summary = "no compression: the baseline, trained with the L2 penalty"
    penalty = "l2"
    prunes = False

    def check(self, arch, hidden, sparsity):
        if sparsity != 0:
            raise ValueError(f"method 'dense' does not compress: sparsity must be 0, got {sparsity!r}")
