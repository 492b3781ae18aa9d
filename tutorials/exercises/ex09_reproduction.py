"""Exercises of lesson 9: the numbers of a reproduction's table.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex09

Each function must compute its result from its arguments alone, with NumPy,
the standard library (``statistics``, ``re``, ``math``) or plain Python, without
calling pynncomp: the grader compares it with ``pynncomp.reproduce.cells`` and
with the table ``pynncomp.reproduce.report`` builds from records of runs.
"""


def mean_std(values):
    """The mean and the sample standard deviation of a cell's values, one per run.

        x̄ = (1/n) Σ x_i,    s = sqrt( (1/(n − 1)) Σ (x_i − x̄)² )

    (divisor n − 1, ``ddof=1``), as every table of ``pynncomp report`` prints
    them.

    Parameters
    ----------
    values : sequence of float, length n >= 1
        E.g. the test accuracies (in %) of a cell's runs, one per seed.

    Returns
    -------
    mean : float
    std : float or None
        None for a single value (one run has no standard deviation).
    """
    raise NotImplementedError


def within(ours_values, paper_mean, paper_std):
    """The report's "within σ": do our runs and the paper agree within their standard deviations?

        |x̄_ours − paper_mean| <= s_ours + paper_std

    with x̄_ours and s_ours the mean and sample standard deviation of
    ``ours_values`` (see :func:`mean_std`).

    Parameters
    ----------
    ours_values : sequence of float
        Our runs of the cell, one value per seed, in the paper's unit (%).
    paper_mean, paper_std : float
        The paper's mean and standard deviation for the same cell.

    Returns
    -------
    bool or None
        None with fewer than two values (no s_ours: the report leaves the
        verdict empty), else whether the inequality holds.
    """
    raise NotImplementedError


def cell_key(run_key):
    """The key of the cell a run belongs to: its run key without the seed and data-options parts.

    A run key is a path of parts joined by ``/``, one of which is ``seed``
    followed by digits: ``method/dataset/network/S<level>/seed<seed>/p<protocol hash>``
    for a pruned MLP, possibly followed by more parts (``/+sensitivity``,
    ``/n3000``, ...), and ``conv/dataset/<setting>/e<epochs>/seed<seed>`` for a
    conv baseline.  When the data options were not the defaults, the key ends
    with ``/d`` and 8 hexadecimal digits.  Remove the ``/seed<digits>`` part,
    and that final ``/d<8 hex digits>`` part if there is one; keep everything
    else as it is.

    Examples: ``"magl2/mnist/784-100-10/S0.99/seed3/p71499ea8/d0123abcd"``
    belongs to the cell ``"magl2/mnist/784-100-10/S0.99/p71499ea8"``, and
    ``"conv/mnist/conv5x5c6s3p3d0.2/e30/seed1"`` to ``"conv/mnist/conv5x5c6s3p3d0.2/e30"``.

    Parameters
    ----------
    run_key : str

    Returns
    -------
    str
    """
    raise NotImplementedError
