"""Exercises of lesson 5: Optimal Brain Surgeon's saliency, update and elimination.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex05

Each function must compute its result with NumPy from its arguments alone
(no pynncomp function inside). The grader compares it with
``pynncomp.compress.obs`` (``obs_saliency``, ``obs_update``,
``greedy_order``, ``joint_update``) and with brute-force answers on small
least-squares problems, where the quadratic is exact: re-fits by
``np.linalg.lstsq`` and inverses by ``np.linalg.inv``. Shapes: m weights,
``w`` is (m,), the inverse Hessian ``hinv`` is (m, m), symmetric positive
definite, and ``q`` is an index in 0 … m − 1.
"""


def obs_update(w, hinv, q):
    """OBS's saliency of weight q, and the move of every weight that removes it.

    Near a minimum the loss rises by ½ δwᵀ H δw. Removing weight q is the
    constraint e_qᵀ δw + w_q = 0, and the cheapest move under it (one
    Lagrange multiplier) is

        δw = −(w_q / [H⁻¹]_qq) · H⁻¹ e_q,

    which costs

        L_q = w_q² / (2 [H⁻¹]_qq)

    (Hassibi & Stork 1993; docs/methods.md#obs-saliency and #obs-update).
    H⁻¹ e_q is column q of H⁻¹. Entry q of δw is −w_q, so that w + δw has
    a 0 there: write that entry as exactly −w_q rather than trust the
    rounding.

    Parameters
    ----------
    w : float64 ndarray (m,)
        The weights.
    hinv : float64 ndarray (m, m)
        H⁻¹, symmetric positive definite. Do not modify it.
    q : int
        The weight removed.

    Returns
    -------
    saliency : float
        L_q >= 0.
    delta : float64 ndarray (m,)
        δw; ``delta[q] == -w[q]``.
    """
    raise NotImplementedError


def remove_coordinate(hinv, q):
    """H⁻¹ after coordinate q is eliminated: the inverse Hessian of the weights left.

    Once w_q is removed it stays 0, and the other weights K see the
    quadratic with coordinate q held fixed, whose Hessian is H_KK. By the
    block inverse,

        H⁻¹ − (H⁻¹ e_q)(e_qᵀ H⁻¹) / [H⁻¹]_qq

    has row and column q equal to 0 and (H_KK)⁻¹ on the other rows and
    columns (docs/methods.md#obs-update). Write row and column q as exact
    zeros: the formula leaves rounding-sized values there, and a later
    update would move the removed weight by that much. Applied to an H⁻¹
    from which other coordinates were already eliminated, it eliminates q
    as well, and their rows and columns stay 0.

    Parameters
    ----------
    hinv : float64 ndarray (m, m)
        H⁻¹ (possibly with some coordinates other than q already
        eliminated). Do not modify it: return a new array.
    q : int
        A coordinate not yet eliminated.

    Returns
    -------
    float64 ndarray (m, m)
        The updated H⁻¹; row and column q are 0.
    """
    raise NotImplementedError


def obs_greedy(w, hinv, n_remove):
    """Optimal Brain Surgeon one weight at a time, ``n_remove`` times.

    Each step computes the saliency L (see :func:`obs_update`) of every
    weight not yet removed, removes the one of least L, moves all the
    weights by its δw, and eliminates its coordinate from H⁻¹ (see
    :func:`remove_coordinate`). Then it starts again with the new w and
    H⁻¹. A removed coordinate has w = 0 and a diagonal entry of H⁻¹ that is
    0, so its L is 0/0: leave removed weights out of the choice explicitly
    (for example, give them saliency +inf).

    Parameters
    ----------
    w : float64 ndarray (m,)
        Do not modify it.
    hinv : float64 ndarray (m, m)
        Do not modify it.
    n_remove : int, 0 <= n_remove <= m

    Returns
    -------
    order : int ndarray (n_remove,)
        The weights in the order they are removed.
    saliency : float64 ndarray (n_remove,)
        L of each when it was removed. Their sum is the rise of the
        quadratic after all n_remove removals.
    w_after : float64 ndarray (m,)
        The weights after the last removal, exactly 0 at ``order``.
    """
    raise NotImplementedError
