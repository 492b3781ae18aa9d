"""``hashednet``: HashedNets (Chen, Wilson, Tyree, Weinberger & Chen 2015).

Every dense layer becomes a :class:`~pynncomp.nn.HashedDense`: its virtual
matrix V_ij = ξ(i, j)·w[h(i, j)] draws on K_l real weights
(docs/methods.md#hashednet).  The comparative study compares methods at
equal parameter counts, so the K_l are chosen with
:func:`pynncomp.compress.matched_hashed_buckets`: over all layers, exactly
as many real weights as a pruned net keeps at the same target,
round((1 − S)·m), split across layers in proportion to their size.  The
biases are not hashed (nor pruned), so they match too.  The net trains on
the common timetable with the L2 penalty on its real weights and is never
pruned.
"""
from .. import models
from ..compress import matched_hashed_buckets, virtual_weight_count
from .base import Method


class HashedNet(Method):
    name = "hashednet"
    summary = "every dense layer hashed (Chen et al. 2015), as many real weights as pruning to S keeps"
    penalty = "l2"
    prunes = False

    def check(self, arch, hidden, sparsity):
        if arch == "lenet5":
            raise ValueError("method 'hashednet' hashes dense layers: use arch 'mlp' or 'lenet300', not 'lenet5'")

    def build(self, arch, hidden, sparsity, seed, protocol):
        hidden = models.arch_hidden(arch, hidden)
        buckets = matched_hashed_buckets(models.dense_shapes(arch, hidden), sparsity)
        return models.hashed_mlp(hidden, buckets, seed=seed, dropout=protocol.dropout)

    def achieved_sparsity(self, model):
        """1 − Σ K_l / m: the share of the n_in·n_out virtual weights the net does not store."""
        return 1.0 - model.n_kept_weights / virtual_weight_count(model)
