"""Exercises of lesson 3: the magnitude keep-mask and the pruning schedules.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex03

Each function must compute its result with NumPy (and plain Python) from its
arguments alone, without calling pynncomp: the grader compares it with
``pynncomp.compress.prune`` on Dense and Conv2D layers and with
``pynncomp.compress.power_schedule`` and ``cubic_schedule``.  The rules are
stated in docs/methods.md#exact-sparsity and docs/methods.md#schedules, and
in the module docstring of pynncomp/compress/prune.py.
"""


def magnitude_mask(W, sparsity, keep=None):
    """The keep-mask of one magnitude pruning step of the weight ``W`` to sparsity S.

    The step keeps exactly

        n_kept = round((1 − S)·m),    m = W.size,

    with Python's ``round`` (halves go to the even neighbour: round(2.5) = 2),
    and prunes the other m − n_kept weights in ascending order of the key

        (s_k, k),    s_k = |w_k|, or −∞ where ``keep`` is False,

    where k is the row-major (C-order) flat index of the weight.  So the
    weights already pruned go first, then the smallest |w|, and among equal
    |w| the entry with the smaller flat index goes first.

    Parameters
    ----------
    W : float ndarray, any shape (n_in, n_out) for a dense layer, (F, C, k_h, k_w) for a convolution
        The weights; entries already pruned are 0.
    sparsity : float in [0, 1)
        S, the fraction of the m weights removed after the step.
    keep : None or bool ndarray of the shape of ``W``
        The keep-mask before the step (False = already pruned); None: all kept.

    Returns
    -------
    bool ndarray of the shape of ``W``
        True for the n_kept weights the step keeps.

    Raises
    ------
    ValueError
        When n_kept is larger than the number of weights ``keep`` keeps now:
        a pruned weight is never revived.
    """
    raise NotImplementedError


def power_schedule(sparsity, steps, power):
    """The comparative study's schedule: the sparsity after each of k pruning steps.

        S_i = S·(i / k)^(1/c),    i = 1, …, k

    Parameters
    ----------
    sparsity : float in [0, 1)
        S, the final sparsity.
    steps : int >= 1
        k.
    power : float >= 1
        c (c = 1 is linear; a larger c takes bigger steps first).

    Returns
    -------
    list of float, length k
        [S_1, …, S_k], with S_k = S.
    """
    raise NotImplementedError


def cubic_schedule(sparsity, steps):
    """Zhu & Gupta's (2018) cubic schedule, starting from 0.

        S_i = S·(1 − (1 − i / k)³),    i = 1, …, k

    Parameters
    ----------
    sparsity : float in [0, 1)
        S, the final sparsity.
    steps : int >= 1
        k.

    Returns
    -------
    list of float, length k
        [S_1, …, S_k], with S_k = S.
    """
    raise NotImplementedError
