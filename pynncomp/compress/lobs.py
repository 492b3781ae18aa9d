"""Layer-wise Optimal Brain Surgeon: each layer pruned to reproduce its own outputs.

Dong, Chen & Pan (2017), "Learning to Prune Deep Neural Networks via
Layer-wise Optimal Brain Surgeon"; Frantar & Alistarh (2022), "Optimal
Brain Compression" (OBC); docs/methods.md#lobs.  A Dense or Conv2D layer
with inputs X (n, d) on some samples is judged by how well its pruned
weights Ŵ reproduce its outputs,

.. math::
    E = \\frac{1}{2n} \\left\\| X \\hat W - X W \\right\\|_F^2
      = \\sum_j \\tfrac12 (\\hat w_j - w_j)^\\top H (\\hat w_j - w_j),
    \\qquad H = X^\\top X / n,

an exactly quadratic error, one term per output unit j (column of W), all
with the same H.  So OBS (:mod:`pynncomp.compress.obs`) needs no
approximation here and no Hessian of the whole net: each unit is pruned
one weight at a time against its own copy of H⁻¹, the units of a layer in
batches (:func:`unit_keys`), and the engine takes as many weights as the
step asks (:func:`lobs_prune`).
"""
import numpy as np

from .._checks import check_positive_definite, check_positive_int, check_samples
from ..nn import Conv2D, Dense
from .obs import check_damping, greedy_order, removal_keys
from .prune import _keep_mask, prune

# λ of H + λ·mean(diag H)·I.  H is the exact Hessian of the error and needs
# damping only to be invertible: 1 %, OBC's and SparseGPT's choice.
LOBS_DAMPING = 0.01
# The stacked per-unit inverses held at a time (a 784-input layer: 27 units).
UNIT_BATCH_BYTES = 2**27


def damped(H, damping):
    """H + λ·mean(diag H)·I, the damped Hessian (docs/methods.md#lobs).

    Parameters
    ----------
    H : float64 ndarray (d, d)
    damping : float > 0 or None
        λ; None leaves H as it is.  When the diagonal is all 0 (a layer
        whose inputs are all 0 on the samples) λ itself is added: no weight
        then changes the output, and the ranking falls back to |w|.

    Returns
    -------
    float64 ndarray (d, d)
    """
    if damping is None:
        return H
    scale = float(np.mean(np.diag(H)))
    return H + damping * (scale if scale > 0 else 1.0) * np.eye(H.shape[0])


def refit_kept(H, w, kept, removed):
    """One unit's weights after removing Q: the kept ones re-solved with w_Q = 0.

    docs/methods.md#lobs.  The minimiser of ½ (ŵ − w)ᵀ H (ŵ − w) with
    ŵ_Q = 0, written with H (which L-OBS has) rather than H⁻¹; K are the
    kept weights:

    .. math:: \\hat w_K = w_K + H_{KK}^{-1} H_{KQ}\\, w_Q, \\qquad \\hat w_Q = 0

    Parameters
    ----------
    H : float64 ndarray (d, d), positive definite
    w : float64 ndarray (d,)
    kept, removed : bool ndarray (d,)
        K and Q; any other weight is 0 in ``w`` and stays 0.

    Returns
    -------
    float64 ndarray (d,)
        ŵ.
    """
    K, Q = np.flatnonzero(kept), np.flatnonzero(removed)
    refitted = np.where(kept, w, 0.0)
    if K.size and Q.size:
        refitted[K] += np.linalg.solve(H[np.ix_(K, K)], H[np.ix_(K, Q)] @ w[Q])
    return refitted


def reconstruction_hessians(model, X, batch_size=256):
    """H = XᵀX / n of the inputs of every prunable layer, in float64.

    docs/methods.md#lobs.  For a Dense layer the rows of X are its input
    vectors, one per sample; for a Conv2D layer they are the columns of its
    im2col matrix X_col (one per sample and output position), so that a
    filter's output is ``X_col`` times its weights, as a dense unit's is.
    The inputs are those of the net as it is, in evaluation mode.

    Parameters
    ----------
    model : Sequential
        Its prunable layers must be Dense or Conv2D.
    X : ndarray (N, ...) of the model's dtype, N >= 1
    batch_size : int >= 1

    Returns
    -------
    dict
        ``{layer_index: H}``, H (d, d) with d = n_in (Dense) or C·k_h·k_w
        (Conv2D).
    """
    batch_size = check_positive_int("batch_size", batch_size)
    X = check_samples(X)
    for index, layer, _ in model.parameters(prunable_only=True):
        if not isinstance(layer, (Dense, Conv2D)):
            raise ValueError(f"model must have only Dense and Conv2D prunable layers for layer-wise OBS; "
                             f"layer {index} is {type(layer).__name__}")
    totals, rows = {}, {}
    for start in range(0, X.shape[0], batch_size):
        x = X[start:start + batch_size]
        for index, layer in enumerate(model.layers):
            out, cache = layer.forward(x)
            if isinstance(layer, (Dense, Conv2D)):
                inputs = x.reshape(x.shape[0], -1).T if isinstance(layer, Dense) else cache[1]
                inputs = inputs.astype(np.float64)
                totals[index] = totals.get(index, 0.0) + inputs @ inputs.T
                rows[index] = rows.get(index, 0) + inputs.shape[1]
            x = out
    return {index: totals[index] / rows[index] for index in totals}


def unit_keys(H, W, keep, batch_bytes=UNIT_BATCH_BYTES):
    """The OBS removal key of every kept weight of a layer, each output unit on its own.

    Every unit j (column of W) runs :func:`greedy_order` on its kept
    weights A_j, from the inverse of H restricted to them, (H_{A_j A_j})⁻¹;
    units are batched, padded to the largest in the batch.

    Parameters
    ----------
    H : float64 ndarray (d, d), positive definite
    W : float64 ndarray (d, n_units)
    keep : bool ndarray (d, n_units)
    batch_bytes : int >= 1
        How much the stacked inverses of a batch may take.

    Returns
    -------
    float64 ndarray (d, n_units)
        :func:`removal_keys` at the kept weights, 0 elsewhere.
    """
    d, n_units = W.shape
    keys = np.zeros((d, n_units))
    sizes = keep.sum(axis=0)
    by_size = [j for j in np.argsort(-sizes, kind="stable") if sizes[j] > 0]
    full_inverse = np.linalg.inv(H) if sizes.max(initial=0) == d else None
    start = 0
    while start < len(by_size):
        size = int(sizes[by_size[start]])
        batch = by_size[start:start + max(1, batch_bytes // (8 * size * size))]
        start += len(batch)
        kept_rows = [np.flatnonzero(keep[:, j]) for j in batch]
        w = np.zeros((len(batch), size))
        eligible = np.zeros((len(batch), size), dtype=bool)
        for i, (j, A) in enumerate(zip(batch, kept_rows)):
            w[i, :A.size] = W[A, j]
            eligible[i, :A.size] = True
        order, saliency = greedy_order(_stacked_inverses(H, full_inverse, kept_rows, size), w, eligible)
        batch_keys = removal_keys(order, saliency)
        for i, (j, A) in enumerate(zip(batch, kept_rows)):
            keys[A, j] = batch_keys[i, :A.size]
    return keys


def _stacked_inverses(H, full_inverse, kept_rows, size):
    """(b, size, size): (H_AA)⁻¹ of every unit's kept weights A, padded with an identity block."""
    if all(A.size == H.shape[0] for A in kept_rows):
        # every unit still dense: one shared inverse, which greedy_order only reads
        return np.broadcast_to(full_inverse, (len(kept_rows), size, size))
    stacked = np.zeros((len(kept_rows), size, size))
    for i, A in enumerate(kept_rows):
        stacked[i, :A.size, :A.size] = full_inverse if A.size == H.shape[0] else np.linalg.inv(H[np.ix_(A, A)])
        stacked[i, A.size:, A.size:] = np.eye(size - A.size)
    return stacked


def lobs_prune(model, X, sparsity, scope="global", damping=LOBS_DAMPING, batch_size=256):
    """Layer-wise OBS: prune ``model`` in place to sparsity S, each unit compensating.

    Dong, Chen & Pan (2017), L-OBS; Frantar & Alistarh (2022), OBC;
    docs/methods.md#lobs.  Layer l, given its inputs X (n, d) on the
    samples, is judged by how well the pruned weights Ŵ reproduce its
    outputs:

    .. math::
        E_l = \\frac{1}{2n} \\left\\| X \\hat W - X W \\right\\|_F^2
            = \\sum_j \\tfrac12 (\\hat w_j - w_j)^\\top H (\\hat w_j - w_j),
        \\qquad H = X^\\top X / n

    exactly quadratic, one term per output unit j, all with the same H,
    damped (:func:`damped`).  Each unit runs OBS on its own kept weights to
    the end (:func:`unit_keys`); :func:`pynncomp.compress.prune` takes as
    many weights as S asks, lowest key first, over the scope (a layer, or
    every layer together), which is a prefix of every unit's order; the
    unit's kept weights are then re-solved (:func:`refit_kept`), where
    removing its weights one by one ends.

    Parameters
    ----------
    model : Sequential
        Prunable layers Dense or Conv2D only.
    X : ndarray (N, ...) of the model's dtype, N >= 1
        The samples the layers' inputs are taken on.
    sparsity : float in [0, 1), or dict ``{(layer_index, name): S_l}``
    scope : {"global", "layer"}
    damping : float > 0 or None
        λ, :data:`LOBS_DAMPING` by default; None: no damping, and a
        singular H is refused.
    batch_size : int >= 1
        Samples per forward pass.

    Returns
    -------
    dict
        The report of :func:`pynncomp.compress.prune`, with
        ``predicted_increase``: ``{(layer_index, name): E_l}`` of the
        damped quadratic.
    """
    damping = check_damping(damping, optional=True)
    hessians = reconstruction_hessians(model, X, batch_size)
    entries = list(model.parameters(prunable_only=True))
    layers, keys = {}, {}
    for index, layer, name in entries:
        H = damped(hessians[index], damping)
        what = f"layer {index}'s reconstruction Hessian XᵀX/n ({H.shape[0]} × {H.shape[0]})"
        if damping is None:
            check_positive_definite(f"with damping None, {what}", H,
                                    "give damping > 0 (e.g. 0.01); an input that is 0 on every sample, or "
                                    "fewer samples than inputs, makes XᵀX singular")
        else:
            check_positive_definite(f"{what}, damped by {damping:g}", H, "give a larger damping")
        W = _as_units(layer, layer.params[name]).astype(np.float64)
        keep = _as_units(layer, _keep_mask(layer, name))
        layers[(index, name)] = (H, W, keep)
        keys[(index, name)] = _from_units(layer, unit_keys(H, W, keep))
    report = prune(model, keys, sparsity, scope)
    increase = {}
    for index, layer, name in entries:
        H, W, keep_before = layers[(index, name)]
        keep = _as_units(layer, _keep_mask(layer, name))
        refitted = W.copy()
        for j in np.flatnonzero((keep_before & ~keep).any(axis=0)):
            refitted[:, j] = refit_kept(H, W[:, j], keep[:, j], keep_before[:, j] & ~keep[:, j])
        change = refitted - W
        increase[(index, name)] = 0.5 * float(np.sum(change * (H @ change)))
        layer.params[name][...] = _from_units(layer, refitted * keep)
    report["predicted_increase"] = increase
    return report


def _as_units(layer, array):
    """(d, n_units), one column per output unit: a Dense W itself, a Conv2D W one column per filter."""
    return array if isinstance(layer, Dense) else array.reshape(array.shape[0], -1).T


def _from_units(layer, units):
    """The inverse of :func:`_as_units`: an array of the shape of ``layer.params["W"]``."""
    return units if isinstance(layer, Dense) else units.T.reshape(layer.params["W"].shape)


__all__ = ["LOBS_DAMPING", "damped", "refit_kept", "reconstruction_hessians", "unit_keys", "lobs_prune"]
