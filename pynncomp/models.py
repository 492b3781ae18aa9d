"""The networks of the two papers (docs/methods.md#networks), built by name.

========================  ===================================================
``arch``                  network
========================  ===================================================
``"mlp"``                 784 → H₁ (ReLU) → … → H_n (ReLU) → 10; the
                          comparative study's 784-H-10 with H ∈ {100, 50, 30}
``"lenet300"``            LeNet-300-100 of Han et al. (2015): ``"mlp"`` with
                          hidden (300, 100)
``"lenet5"``              LeNet-5, Caffe's variant used by Han et al.:
                          conv 20@5×5 → maxpool 2 → conv 50@5×5 → maxpool 2
                          → dense 500 (ReLU) → dense 10 (431K parameters)
========================  ===================================================

An optional dropout layer follows every hidden ReLU of the dense part
(``dropout > 0``); Han et al. rescale it when retraining a pruned net
(:func:`pynncomp.compress.rescaled_dropout`).  :func:`hashed_mlp` is the MLP
with every dense layer replaced by a :class:`~pynncomp.nn.HashedDense`
(Chen et al. 2015; docs/methods.md#hashednet).
"""
import numpy as np

from .nn import Conv2D, Dense, Dropout, Flatten, HashedDense, MaxPool2D, ReLU, Sequential
from ._checks import check_positive_int, check_real
from .nn.hashed import DEFAULT_HASH_SEED

ARCHS = ("mlp", "lenet300", "lenet5")
N_PIXELS = 784
N_CLASSES = 10
LENET300_HIDDEN = (300, 100)
LENET5_DENSE = 500


def check_arch(arch):
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
    return arch


def check_hidden(hidden):
    """A tuple of positive hidden-layer sizes from an int or a sequence of ints."""
    if isinstance(hidden, (list, tuple)):
        if not hidden:
            raise ValueError("hidden must hold at least one layer size, got an empty sequence")
        return tuple(check_positive_int("hidden", h) for h in hidden)
    return (check_positive_int("hidden", hidden),)


def arch_hidden(arch, hidden=None):
    """The hidden sizes of ``arch``: ``hidden`` for "mlp", fixed for the LeNets.

    A LeNet given a ``hidden`` different from its own is refused, so that a
    record never claims sizes the network does not have.
    """
    check_arch(arch)
    if arch == "mlp":
        if hidden is None:
            raise ValueError("arch 'mlp' needs hidden, the hidden-layer sizes (e.g. 100 or [300, 100])")
        return check_hidden(hidden)
    own = LENET300_HIDDEN if arch == "lenet300" else (LENET5_DENSE,)
    if hidden is not None and check_hidden(hidden) != own:
        raise ValueError(f"arch {arch!r} has hidden sizes {own}, got hidden={hidden!r}; leave hidden unset")
    return own


def layout_of(arch):
    """The data layout a network reads: ``"image"`` for LeNet-5, ``"flat"`` otherwise."""
    return "image" if check_arch(arch) == "lenet5" else "flat"


def describe(arch, hidden=None):
    """A short name: ``"784-100-10"``, ``"784-300-100-10"`` or ``"lenet5"``."""
    if check_arch(arch) == "lenet5":
        return "lenet5"
    return "-".join(str(n) for n in (N_PIXELS, *arch_hidden(arch, hidden), N_CLASSES))


def _seeds(seed, n):
    return np.random.SeedSequence(seed).spawn(n)


def _dense_part(sizes, dropout, seeds, make_layer):
    """Dense layers between ``sizes``, ReLU (and Dropout) after all but the last."""
    layers = []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(make_layer(index, n_in, n_out, np.random.default_rng(seeds[2 * index])))
        if index < len(sizes) - 2:
            layers.append(ReLU())
            if dropout > 0:
                layers.append(Dropout(dropout, seed=np.random.default_rng(seeds[2 * index + 1])))
    return layers


def build(arch, hidden=None, *, seed=0, dropout=0.0, dtype=np.float32):
    """A freshly initialised network.

    Parameters
    ----------
    arch : {"mlp", "lenet300", "lenet5"}
    hidden : int or sequence of int
        Hidden sizes of ``"mlp"`` (leave unset for the LeNets).
    seed : int >= 0
        Initial weights and dropout masks (independent streams spawned
        from ``numpy.random.SeedSequence(seed)``).
    dropout : float in [0, 1)
        Drop probability after every hidden ReLU of the dense part; 0 adds none.
    dtype : float32 or float64

    Returns
    -------
    Sequential
    """
    hidden = arch_hidden(arch, hidden)
    dropout = check_real("dropout", dropout, 0.0, 1.0, high_open=True)
    n_dense = len(hidden) + 1
    # two streams per dense layer (weights, dropout), then two for the convs
    seeds = _seeds(seed, 2 * n_dense + 2)

    def dense(index, n_in, n_out, rng):
        return Dense(n_in, n_out, seed=rng, dtype=dtype)

    if arch != "lenet5":
        return Sequential(_dense_part((N_PIXELS, *hidden, N_CLASSES), dropout, seeds, dense))
    conv = [
        Conv2D(1, 20, 5, seed=np.random.default_rng(seeds[-2]), dtype=dtype),
        MaxPool2D(2),
        Conv2D(20, 50, 5, seed=np.random.default_rng(seeds[-1]), dtype=dtype),
        MaxPool2D(2),
        Flatten(),
    ]
    return Sequential(conv + _dense_part((50 * 4 * 4, LENET5_DENSE, N_CLASSES), dropout, seeds, dense))


def dense_shapes(arch, hidden=None):
    """(n_in, n_out) of every dense layer of ``arch``, in order."""
    hidden = arch_hidden(arch, hidden)
    sizes = (N_PIXELS, *hidden, N_CLASSES) if arch != "lenet5" else (800, LENET5_DENSE, N_CLASSES)
    return list(zip(sizes[:-1], sizes[1:]))


def hashed_mlp(hidden, buckets, *, seed=0, dropout=0.0, dtype=np.float32, hash_seed=DEFAULT_HASH_SEED):
    """An MLP whose every dense layer is a HashedDense with K_l real weights.

    Parameters
    ----------
    hidden : int or sequence of int
    buckets : sequence of int
        K_l per dense layer, e.g. from
        :func:`pynncomp.compress.matched_hashed_buckets`.
    seed : int >= 0
    dropout : float in [0, 1)
    dtype : float32 or float64
    hash_seed : int in [0, 2**32 - 1 − number of layers]
        Dense layer ``index`` hashes with seed ``hash_seed + index``, so that
        no two layers share a hash function (Chen et al. 2015 use one per
        layer).

    Returns
    -------
    Sequential
    """
    hidden = check_hidden(hidden)
    dropout = check_real("dropout", dropout, 0.0, 1.0, high_open=True)
    sizes = (N_PIXELS, *hidden, N_CLASSES)
    buckets = list(buckets)
    if len(buckets) != len(sizes) - 1:
        raise ValueError(f"buckets must hold one K per dense layer ({len(sizes) - 1}), got {len(buckets)}")

    def hashed(index, n_in, n_out, rng):
        return HashedDense(n_in, n_out, K=buckets[index], hash_seed=hash_seed + index, seed=rng, dtype=dtype)

    return Sequential(_dense_part(sizes, dropout, _seeds(seed, 2 * len(buckets) + 2), hashed))


__all__ = ["ARCHS", "build", "hashed_mlp", "describe", "dense_shapes", "layout_of", "arch_hidden", "check_arch"]
