"""HashedNet bucket counts matched to a pruned net's number of weights.

The comparative study compares pruning and HashedNets (Chen et al. 2015) at
an equal number of parameters: a HashedNet of the same architecture gets, in
total over its hashed layers, as many real weights as the pruned net keeps,
``round((1 − S)·m)`` (:func:`~pynncomp.compress.prune.kept_count`).  Biases
are not hashed in either, so they match too.
"""
import numbers

from .._checks import check_positive_int
from ..nn.hashed import HashedDense
from .prune import kept_count
from .schedules import _check_sparsity


def _check_shapes(layer_shapes):
    shapes = [tuple(shape) for shape in layer_shapes]
    if not shapes:
        raise ValueError("layer_shapes must hold at least one (n_in, n_out), got none")
    for shape in shapes:
        if len(shape) != 2 or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1
                                      for n in shape):
            raise ValueError(f"layer_shapes must hold pairs (n_in, n_out) of integers >= 1, got {shape!r}")
    return [int(n_in) * int(n_out) for n_in, n_out in shapes]


def hashed_buckets(layer_shapes, n_real):
    """Split ``n_real`` real weights over hashed layers in proportion to their size.

    Layer l with virtual size v_l = n_in·n_out gets the quota
    q_l = n_real · v_l / V (V = Σ v_l).  Each layer first gets ⌊q_l⌋; the
    weights left over go one each to the layers with the largest remainders
    q_l − ⌊q_l⌋ (the largest-remainder method, exact in integer arithmetic;
    ties to the earlier layer).  A layer left with 0 then gets 1, taken from
    the layer holding the most (the earlier on ties), so every K_l >= 1.

    Parameters
    ----------
    layer_shapes : sequence of (n_in, n_out)
    n_real : int in [number of layers, V]

    Returns
    -------
    list of int
        K_l per layer, 1 <= K_l <= v_l, summing to ``n_real`` exactly; give
        each to ``HashedDense(n_in, n_out, K=K_l)``.
    """
    sizes = _check_shapes(layer_shapes)
    n_real = check_positive_int("n_real", n_real)
    total = sum(sizes)
    if not len(sizes) <= n_real <= total:
        raise ValueError(
            f"n_real must be in [{len(sizes)}, {total}] (one weight per layer up to all virtual weights), "
            f"got {n_real}"
        )
    buckets = [n_real * v // total for v in sizes]
    remainders = [n_real * v % total for v in sizes]
    by_remainder = sorted(range(len(sizes)), key=lambda layer: (-remainders[layer], layer))
    for layer in by_remainder[:n_real - sum(buckets)]:
        buckets[layer] += 1
    for layer in range(len(sizes)):
        if buckets[layer] == 0:
            donor = max(range(len(sizes)), key=lambda other: (buckets[other], -other))
            buckets[donor] -= 1
            buckets[layer] = 1
    return buckets


def matched_hashed_buckets(layer_shapes, sparsity):
    """K_l per layer for a HashedNet as large as the net pruned to sparsity S.

    ``hashed_buckets(layer_shapes, round((1 − S)·m))`` with m = Σ n_in·n_out.
    """
    sparsity = _check_sparsity(sparsity)
    sizes = _check_shapes(layer_shapes)
    return hashed_buckets(layer_shapes, kept_count(sparsity, sum(sizes)))


def virtual_weight_count(model):
    """The weights of the uncompressed architecture: m of the pruned net a HashedNet is matched to.

    A pruned parameter counts all its entries, kept or not; a
    :class:`~pynncomp.nn.HashedDense` counts its n_in·n_out virtual
    weights, not its K real ones (docs/methods.md#parameter-count).

    Parameters
    ----------
    model : Sequential

    Returns
    -------
    int
    """
    total = 0
    for _, layer, name in model.parameters(prunable_only=True):
        total += layer.n_in * layer.n_out if isinstance(layer, HashedDense) else layer.params[name].size
    return total


__all__ = ["hashed_buckets", "matched_hashed_buckets", "virtual_weight_count"]
