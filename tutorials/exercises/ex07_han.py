"""Exercises of lesson 7: Han et al.'s threshold q·σ_l and their dropout rescaling.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex07

Each function must compute its result with NumPy (and the math module) from
its arguments alone, without calling pynncomp: the grader compares it with
``pynncomp.compress.kept_weight_std``, ``pynncomp.compress.han_prune`` and
with what ``pynncomp.methods.han`` does to a network's dropout layers.  See
docs/methods.md#q-sigma and #dropout-rescaling.  A weight ``W`` has any shape
(a dense layer's is (n_in, n_out)); a keep-mask has the shape of ``W``, True
where the weight is kept.
"""


def kept_sigma(W, mask=None):
    """σ_l of Han et al.'s threshold: the spread of the weights a layer still keeps.

    The population standard deviation (divide by n, the number of kept
    weights, not by n − 1) of the entries of ``W`` that ``mask`` keeps,
    computed in float64:

        σ = sqrt( (1/n) Σ_{k kept} (w_k − w̄)² ),   w̄ = (1/n) Σ_{k kept} w_k .

    The pruned weights (zeros) do not count.

    Parameters
    ----------
    W : ndarray, any shape
    mask : None or bool ndarray of the shape of ``W``
        True where the weight is kept; None keeps every weight.

    Returns
    -------
    float
        σ >= 0; 0.0 when no weight is kept.
    """
    raise NotImplementedError


def han_threshold_mask(W, q, mask=None):
    """The keep-mask after one step of Han et al.'s rule on one layer.

        M ← M ∧ (|w| ≥ q·σ),   σ = kept_sigma(W, M) (before this step)

    A weight already pruned stays pruned, and a weight exactly on the
    threshold is kept (≥, not >).

    Parameters
    ----------
    W : ndarray, any shape
    q : float >= 0
        The quality parameter.
    mask : None or bool ndarray of the shape of ``W``
        The keep-mask before the step; None keeps every weight.

    Returns
    -------
    bool ndarray of the shape of ``W``
        True where the weight is kept after the step.
    """
    raise NotImplementedError


def rescaled_dropout(p, kept_before, kept_after):
    """Han et al.'s dropout rate for retraining a pruned layer (their eq. 2).

        D_r = D_o · sqrt(C_ir / C_io)

    with D_o = ``p`` the original rate, C_io = ``kept_before`` the layer's
    connections before pruning (n_in·n_out for a dense layer) and
    C_ir = ``kept_after`` the connections it keeps.

    Parameters
    ----------
    p : float in [0, 1)
        D_o.
    kept_before : int >= 1
        C_io.
    kept_after : int in [0, kept_before]
        C_ir.

    Returns
    -------
    float
        D_r, between 0 and D_o.
    """
    raise NotImplementedError
