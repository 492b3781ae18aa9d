"""Optimal Brain Surgeon: remove the cheapest weight and move the others to make up for it.

Hassibi & Stork (1993), "Second order derivatives for network pruning:
Optimal Brain Surgeon"; docs/methods.md#obs.  Near a minimum the loss grows
by ½ δwᵀ H δw when the weights move by δw.  Removing weight q (δw_q = −w_q)
and letting every other weight move to the best place it can costs

.. math:: L_q = \\frac{w_q^2}{2\\,[H^{-1}]_{qq}}

(:func:`obs_saliency`), reached by the update :func:`obs_update`.  OBS
removes the weight of least L_q, eliminates q from H⁻¹, and repeats
(:func:`greedy_order`).  Removing a set of weights one at a time ends where
the quadratic has its minimum with those weights at 0 (:func:`joint_update`).

This module holds that elimination and **whole-net OBS**
(:func:`obs_prune`): one H over every kept weight of the model, the
Gauss–Newton (outer-product) approximation of the loss's Hessian
(:func:`gauss_newton_factors`), inverted by Hassibi & Stork's rank-one
recursion (:func:`outer_product_inverse`).  H⁻¹ takes m²·8 bytes, so
nets of more than :data:`OBS_MAX_WEIGHTS` kept weights are refused:
:mod:`pynncomp.compress.lobs` prunes layer by layer instead.

How many weights go is the engine's choice (:func:`pynncomp.compress.prune`:
exact counts, the scope, the tie rule), made on the keys of
:func:`removal_keys`; the kept weights then move.
"""
import numpy as np

from .._checks import check_positive_int, check_real, check_samples
from .prune import _keep_mask, prune

# H⁻¹ is m × m float64: 4096² · 8 bytes = 128 MiB, and every Woodbury block
# and every delayed elimination reads all of it.
OBS_MAX_WEIGHTS = 4096
# Relative damping λ: H + λ·mean(diag H)·I.  The Gauss–Newton H is nearly 0
# along every direction the net is confident about, where the quadratic
# promises moves for free that the loss does not honour; 10 % limits them
# (docs/methods.md#obs-hessian).
OBS_DAMPING = 0.1
# Eliminations whose H⁻¹ updates are applied together, as one matrix product.
ELIMINATION_BLOCK = 64
# Rank-one terms of the H⁻¹ recursion folded into one Woodbury step.
WOODBURY_BLOCK = 64


def obs_saliency(w, hinv_diag):
    """The loss increase of removing each weight, the others moving to compensate.

    Hassibi & Stork (1993); docs/methods.md#obs-saliency.

    Parameters
    ----------
    w : float64 ndarray (..., a)
        The weights.
    hinv_diag : float64 ndarray (..., a), > 0
        The diagonal of H⁻¹.

    Returns
    -------
    ndarray (..., a)
        L, >= 0.

    Notes
    -----
    .. math:: L_q = \\frac{w_q^2}{2\\,[H^{-1}]_{qq}}
    """
    return w * w / (2.0 * hinv_diag)


def obs_update(w_q, hinv_column, hinv_qq):
    """The change of every weight when weight q is removed (w_q becomes exactly 0).

    Hassibi & Stork (1993); docs/methods.md#obs-update.  It is the
    minimiser of ½ δwᵀ H δw under the constraint e_qᵀ δw = −w_q.

    Parameters
    ----------
    w_q : float64 ndarray (...)
        The weight removed.
    hinv_column : float64 ndarray (..., a)
        H⁻¹ e_q, column q of H⁻¹.
    hinv_qq : float64 ndarray (...)
        [H⁻¹]_qq.

    Returns
    -------
    ndarray (..., a)
        δw; its entry q is −w_q up to rounding.

    Notes
    -----
    .. math:: \\delta w = -\\frac{w_q}{[H^{-1}]_{qq}}\\, H^{-1} e_q
    """
    return -np.asarray(w_q / hinv_qq)[..., None] * hinv_column


def greedy_order(hinv, w, eligible=None, block=ELIMINATION_BLOCK):
    """OBS to the end: the order in which the weights go, and what each removal costs.

    Each step removes the weight of least saliency L_q (:func:`obs_saliency`),
    moves the others by δw (:func:`obs_update`) and eliminates coordinate q
    from H⁻¹, which leaves the inverse of H with row and column q deleted
    (docs/methods.md#obs-update):

    .. math::
        H^{-1} \\leftarrow H^{-1} - \\frac{H^{-1} e_q\\, e_q^\\top H^{-1}}{[H^{-1}]_{qq}}

    It runs until every weight is gone, for a batch of b independent
    problems at once (L-OBS's output units).  The weights that step t leaves
    and the saliency each step finds are those of the one-at-a-time
    algorithm; only the arithmetic is grouped: an elimination changes the
    whole m × m inverse, but the next step reads one column of it, so the
    updates of ``block`` consecutive steps are kept as their columns
    :math:`u_s = H^{-1} e_{q_s}` and applied together, one matrix product
    (SparseGPT's lazy batch updates, Frantar & Alistarh 2023):

    .. math::
        H^{-1} e_q = H^{-1}_{0} e_q - \\sum_{s} \\frac{u_s\\, u_{s,q}}{u_{s,q_s}}, \\qquad
        H^{-1}_{0} \\leftarrow H^{-1}_{0} - \\sum_s \\frac{u_s u_s^\\top}{u_{s,q_s}}

    after which the eliminated coordinates are dropped, so later steps
    work on smaller matrices.

    Parameters
    ----------
    hinv : float64 ndarray (b, a, a)
        H⁻¹ of each problem, symmetric positive definite.
    w : float64 ndarray (b, a)
    eligible : None or bool ndarray (b, a)
        False marks padding that lets problems of fewer than a weights share
        the batch: such a coordinate must have an identity row and column in
        ``hinv`` and weight 0; it goes after every eligible one, with
        saliency +inf.  None: all eligible.
    block : int >= 1

    Returns
    -------
    order : int64 ndarray (b, a)
        ``order[i, t]``, the coordinate removed at step t.
    saliency : float64 ndarray (b, a)
        ``saliency[i, t]``, L of that coordinate when it was removed.
    """
    block = check_positive_int("block", block)
    hinv = np.asarray(hinv, dtype=np.float64)
    n_problems, size = w.shape
    rows = np.arange(n_problems)
    trailing = hinv  # H⁻¹ as of the last delayed update, over the coordinates left (only read)
    w = np.array(w, dtype=np.float64)
    diag = np.einsum("bii->bi", trailing).copy()
    coords = np.tile(np.arange(size), (n_problems, 1))
    eligible = np.ones((n_problems, size), dtype=bool) if eligible is None else eligible.copy()
    order = np.empty((n_problems, size), dtype=np.int64)
    saliency = np.empty((n_problems, size))
    removed = 0
    while removed < size:
        left = trailing.shape[1]
        n_block = min(block, left)
        columns = np.empty((n_problems, n_block, left))
        pivots = np.empty((n_problems, n_block))
        gone = np.zeros((n_problems, left), dtype=bool)
        for s in range(n_block):
            L = obs_saliency(w, diag)
            # eligible weights by saliency, then padding; never one already gone
            rank = np.where(gone, np.inf, np.where(eligible, L, np.finfo(np.float64).max))
            q = np.argmin(rank, axis=1)
            # the current H⁻¹ e_q: the trailing matrix is symmetric, so its row q,
            # less what this block's eliminations have not yet subtracted from it
            pending = (columns[rows, :s, q] / pivots[:, :s])[:, None, :] @ columns[:, :s]
            column = trailing[rows, q] - pending[:, 0]
            pivot = column[rows, q]
            saliency[:, removed] = np.where(eligible[rows, q], L[rows, q], np.inf)
            order[:, removed] = coords[rows, q]
            w += obs_update(w[rows, q], column, pivot)
            w[rows, q] = 0.0
            diag -= column * column / pivot[:, None]
            # q's diagonal is now 0 up to rounding; inf keeps its saliency 0/inf = 0
            diag[rows, q] = np.inf
            gone[rows, q] = True
            eligible[rows, q] = False
            columns[:, s] = column
            pivots[:, s] = pivot
            removed += 1
        kept = np.nonzero(~gone)[1].reshape(n_problems, left - n_block)
        trailing = _apply_eliminations(trailing, columns, pivots, kept)
        w, diag, coords, eligible = (np.take_along_axis(x, kept, axis=1) for x in (w, diag, coords, eligible))
    return order, saliency


def _apply_eliminations(trailing, columns, pivots, kept):
    """The delayed update H⁻¹ − Σ_s u_s u_sᵀ / u_{s,q_s} on the coordinates ``kept``, (b, k, k)."""
    n_problems, n_kept = kept.shape
    updated = np.empty((n_problems, n_kept, n_kept))
    for i in range(n_problems):
        u = columns[i].take(kept[i], axis=1)
        updated[i] = trailing[i].take(kept[i], axis=0).take(kept[i], axis=1)
        updated[i] -= (u.T / pivots[i]) @ u
    return updated


def removal_keys(order, saliency):
    """A ranking key for every coordinate, lowest first in each problem's OBS order.

    A problem's t-th weight only goes after its first t − 1, so its key is
    the largest saliency among the first t (docs/methods.md#obs-ranking): the n
    coordinates of lowest key over several problems then take a prefix of
    every problem's order, and the engine's choice between them is where
    removing one more weight costs least.  Where a key would equal its
    predecessor it is raised to the next float, so that the engine's tie
    rule (the flat index) never takes a weight before one that OBS removes
    earlier.

    Parameters
    ----------
    order, saliency : (b, a) from :func:`greedy_order`

    Returns
    -------
    float64 ndarray (b, a)
        ``keys[i, order[i, t]]``, nondecreasing in t, strictly where finite.
    """
    running = np.maximum.accumulate(saliency, axis=1)
    for t in range(1, running.shape[1]):
        running[:, t] = np.maximum(running[:, t], np.nextafter(running[:, t - 1], np.inf))
    keys = np.empty_like(running)
    np.put_along_axis(keys, order, running, axis=1)
    return keys


def outer_product_inverse(vectors, alpha, block=WOODBURY_BLOCK):
    """H⁻¹ for H = α I + Σ_r g_r g_rᵀ, by Hassibi & Stork's recursion from (1/α)·I.

    Hassibi & Stork (1993); docs/methods.md#obs-hessian.  The 1/P of their
    average over P patterns is folded into the rows g_r.  Each term is a
    rank-one (Sherman–Morrison) update:

    .. math::
        H_0^{-1} = \\alpha^{-1} I, \\qquad
        H_{r}^{-1} = H_{r-1}^{-1} -
            \\frac{H_{r-1}^{-1} g_r\\, g_r^\\top H_{r-1}^{-1}}{1 + g_r^\\top H_{r-1}^{-1} g_r}

    ``block`` consecutive terms are applied at once with the Woodbury
    identity, which gives the same matrix as that many rank-one steps; with
    G the (k, m) block of rows,

    .. math::
        H^{-1} \\leftarrow H^{-1} - H^{-1} G^\\top \\left(I_k + G H^{-1} G^\\top\\right)^{-1} G H^{-1}

    Parameters
    ----------
    vectors : float64 ndarray (R, m)
        The rows g_r.
    alpha : float > 0
        The damping α: H starts from α I, which makes it invertible.
    block : int >= 1
        1 is the recursion as written, one term at a time.

    Returns
    -------
    float64 ndarray (m, m)
        H⁻¹, symmetrised.
    """
    alpha = check_real("alpha", alpha, 0.0, None, low_open=True)
    block = check_positive_int("block", block)
    vectors = np.asarray(vectors, dtype=np.float64)
    hinv = np.eye(vectors.shape[1]) / alpha
    for start in range(0, vectors.shape[0], block):
        G = vectors[start:start + block]
        hinv_Gt = hinv @ G.T
        inner = np.eye(G.shape[0]) + G @ hinv_Gt
        hinv -= hinv_Gt @ np.linalg.solve(inner, hinv_Gt.T)
    return (hinv + hinv.T) / 2


def joint_update(hinv, w, removed):
    """δw that removes the weights Q together, and the loss increase it costs.

    docs/methods.md#obs-update.  The minimiser of ½ δwᵀ H δw with δw_Q = −w_Q,
    the point where removing Q one weight at a time with :func:`obs_update`
    ends, in whatever order:

    .. math::
        \\delta w = -H^{-1}_{:,Q} \\left(H^{-1}_{QQ}\\right)^{-1} w_Q, \\qquad
        \\delta L = \\tfrac12\\, w_Q^\\top \\left(H^{-1}_{QQ}\\right)^{-1} w_Q

    Parameters
    ----------
    hinv : float64 ndarray (m, m)
    w : float64 ndarray (m,)
    removed : bool ndarray (m,)
        Q.

    Returns
    -------
    delta : float64 ndarray (m,)
        δw, exactly −w_Q on Q.
    increase : float
        δL >= 0.
    """
    Q = np.flatnonzero(removed)
    delta = np.zeros_like(w)
    if not Q.size:
        return delta, 0.0
    z = np.linalg.solve(hinv[np.ix_(Q, Q)], w[Q])
    delta -= hinv[:, Q] @ z
    delta[Q] = -w[Q]
    return delta, 0.5 * float(w[Q] @ z)


def check_damping(damping, optional):
    """λ, a real number > 0, or None when ``optional``; ValueError or TypeError naming it."""
    if damping is None and optional:
        return None
    if damping is None:
        raise ValueError("damping must be a real number > 0 for whole-net OBS, got None: the H⁻¹ recursion "
                         "starts from (1/α)·I with α = damping·mean(diag H)")
    return check_real("damping", damping, 0.0, None, low_open=True)


# ---- whole-net OBS ---------------------------------------------------------------

def gauss_newton_factors(model, X, positions):
    """Rows g whose outer products sum to the Gauss–Newton Hessian of the mean loss.

    docs/methods.md#obs-hessian.  For softmax cross-entropy the Hessian of
    one sample's loss with respect to its logits z is diag(p) − ppᵀ, which
    is Σ_c p_c (e_c − p)(e_c − p)ᵀ, and (p − e_c) is the gradient at z of
    the loss −log p_c the sample would have with label c.  Backpropagating
    it once per output c gives that loss's weight gradient g_{n,c}, and

    .. math::
        H \\approx \\frac{1}{N} \\sum_{n=1}^{N} J_n^\\top \\left(\\operatorname{diag}(p_n)
            - p_n p_n^\\top\\right) J_n
          = \\sum_{n, c} \\left(\\sqrt{p_{nc} / N}\\; g_{n,c}\\right)
            \\left(\\sqrt{p_{nc} / N}\\; g_{n,c}\\right)^\\top

    (J_n the Jacobian of the logits): Hassibi & Stork's outer-product
    approximation for a softmax output, which is also the Fisher
    information of the net's own predictive distribution.  It is positive
    semi-definite, leaves out of the true Hessian only the terms weighted by
    the residuals p − e_y, and needs no labels.  The "empirical" Fisher of
    the true labels equals it only where the labels follow the net's
    predictions; the Fisher of labels drawn from p is it plus sampling
    noise.  The price is C backward passes per sample instead of one.

    Parameters
    ----------
    model : Sequential
    X : ndarray (N, ...) of the model's dtype
    positions : list of int64 ndarray
        For each prunable parameter in ``model.parameters(prunable_only=True)``
        order, the flat indices of the weights H is over (the kept ones).

    Returns
    -------
    float64 ndarray (N·C, m)
        One row per sample and output, m = Σ len(positions).
    """
    entries = list(model.parameters(prunable_only=True))
    rows = []
    for n in range(X.shape[0]):
        logits, caches = model.forward(X[n:n + 1])
        n_outputs = logits.shape[1]
        for c in range(n_outputs):
            _, loss_cache = model.loss_layer.forward(logits, np.array([c]))
            p_c = float(loss_cache[0][0, c])
            model.backward(model.loss_layer.backward(loss_cache), caches, input_grad=False)
            gradient = np.concatenate([layer.grads[name].ravel()[where]
                                       for (_, layer, name), where in zip(entries, positions)])
            rows.append(np.sqrt(p_c / X.shape[0]) * gradient.astype(np.float64))
    return np.array(rows)


def obs_prune(model, X, sparsity, scope="global", damping=OBS_DAMPING):
    """Whole-net Optimal Brain Surgeon: prune ``model`` in place to sparsity S, compensating.

    Hassibi & Stork (1993); docs/methods.md#obs.  H is the Gauss–Newton
    Hessian of the mean loss on X over the kept weights
    (:func:`gauss_newton_factors`), damped by α = λ·mean(diag H) and
    inverted by the rank-one recursion (:func:`outer_product_inverse`).  OBS
    removes the kept weights one at a time to the end (:func:`greedy_order`);
    :func:`pynncomp.compress.prune` takes as many as S asks, lowest key
    (:func:`removal_keys`) first, and the kept weights then move by the
    δw of removing those (:func:`joint_update`).  With scope "global" they
    are the first of OBS's order, and the weights are those of removing
    them one by one; with scope "layer" each layer loses the first of the
    order among its own weights.

    Parameters
    ----------
    model : Sequential
        At most :data:`OBS_MAX_WEIGHTS` kept prunable weights.
    X : ndarray (N, ...) of the model's dtype, N >= 1
        The samples H is averaged over (no labels: H depends on the net's
        own outputs).
    sparsity : float in [0, 1), or dict ``{(layer_index, name): S_l}``
    scope : {"global", "layer"}
    damping : float > 0
        λ, :data:`OBS_DAMPING` by default.

    Returns
    -------
    dict
        The report of :func:`pynncomp.compress.prune`, with
        ``predicted_increase``: ½ δwᵀ H δw, the loss increase the damped
        quadratic predicts.

    Raises
    ------
    ValueError
        More than :data:`OBS_MAX_WEIGHTS` kept weights (use
        :func:`lobs_prune`), damping not > 0, no sample, or what
        :func:`pynncomp.compress.prune` refuses.
    """
    damping = check_damping(damping, optional=False)
    X = check_samples(X)
    entries = list(model.parameters(prunable_only=True))
    positions = [np.flatnonzero(_keep_mask(layer, name)) for _, layer, name in entries]
    n_kept = sum(where.size for where in positions)
    if n_kept > OBS_MAX_WEIGHTS:
        raise ValueError(
            f"model has {n_kept} kept prunable weights, more than whole-net OBS holds (OBS_MAX_WEIGHTS = "
            f"{OBS_MAX_WEIGHTS}: its H⁻¹ would take {n_kept**2 * 8 / 2**30:.1f} GiB); prune it layer by layer "
            "with lobs_prune (method 'lobs')"
        )
    w = np.concatenate([layer.params[name].ravel()[where].astype(np.float64)
                        for (_, layer, name), where in zip(entries, positions)])
    factors = gauss_newton_factors(model, X, positions)
    alpha = damping * _positive_mean(np.einsum("rm,rm->m", factors, factors))
    hinv = outer_product_inverse(factors, alpha)
    order, saliency = greedy_order(hinv[None], w[None])
    keys = removal_keys(order, saliency)[0]
    report = prune(model, _scatter(entries, positions, keys), sparsity, scope)
    removed = np.concatenate([~_keep_mask(layer, name).ravel()[where]
                              for (_, layer, name), where in zip(entries, positions)])
    delta, increase = joint_update(hinv, w, removed)
    _scatter_into_params(entries, positions, w + delta)
    report["predicted_increase"] = increase
    return report


def _positive_mean(values):
    """The mean, or 1.0 when it is not > 0 (every gradient 0: α = λ)."""
    mean = float(np.mean(values)) if values.size else 0.0
    return mean if mean > 0 else 1.0


def _scatter(entries, positions, values):
    """``{(index, name): array of the parameter's shape}``, ``values`` at ``positions``, 0 elsewhere."""
    arrays, start = {}, 0
    for (index, layer, name), where in zip(entries, positions):
        array = np.zeros(layer.params[name].size)
        array[where] = values[start:start + where.size]
        arrays[(index, name)] = array.reshape(layer.params[name].shape)
        start += where.size
    return arrays


def _scatter_into_params(entries, positions, values):
    """Write ``values`` at ``positions`` of the parameters, except where their mask now prunes."""
    arrays = _scatter(entries, positions, values)
    for index, layer, name in entries:
        layer.params[name][...] = arrays[(index, name)] * _keep_mask(layer, name)


__all__ = ["OBS_MAX_WEIGHTS", "OBS_DAMPING", "obs_saliency", "obs_update", "greedy_order", "removal_keys",
           "outer_product_inverse", "joint_update", "check_damping", "gauss_newton_factors", "obs_prune"]
