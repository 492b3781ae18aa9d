"""Exercises of lesson 8: a pruned weight in CSR form, and the product computed from it.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex08

Each function must compute its result with NumPy from its arguments alone
(no pynncomp layer or kernel, no ``scipy.sparse``): the grader compares it
with ``pynncomp.nn.SparseDense.from_weights``, with the arrays
``pynncomp.io.save_model`` writes, and with ``pynncomp.kernels.sparse_matmul``.
The format is that of docs/methods.md#csr: the CSR of W (n_in, n_out) runs
over its rows i (the inputs); row i holds
``W[i, indices[t]] = data[t]`` for ``indptr[i] <= t < indptr[i + 1]``, with
the column indices strictly increasing within a row ("canonical" CSR).
"""


def csr_from_mask(W, keep_mask):
    """The canonical CSR arrays of the kept weights of W.

    The mask, not the value, decides what is stored: a kept weight equal to
    0 is stored, a pruned weight is not, whatever W holds there.

    Parameters
    ----------
    W : float ndarray (n_rows, n_cols)
    keep_mask : bool ndarray (n_rows, n_cols)
        True where the weight is kept.

    Returns
    -------
    indptr : integer ndarray (n_rows + 1,)
        indptr[0] = 0, indptr[r + 1] - indptr[r] = the number of kept
        weights in row r, indptr[-1] = n_kept.
    indices : integer ndarray (n_kept,)
        The column of each kept weight, row after row, increasing within a row.
    data : ndarray (n_kept,), the dtype of W
        The kept weights, in the same order.
    """
    raise NotImplementedError


def csr_matvec(x, indptr, indices, data, n_out):
    """Y = X (W ⊙ M) computed from the CSR arrays of the kept weights.

    .. math:: Y_{bj} = \\sum_{t:\\ \\mathrm{indices}[t] = j} X_{b, r(t)}\\, \\mathrm{data}[t],

    r(t) the row holding entry t.  Do it without building the dense
    (n_in, n_out) matrix: the point of the format is to touch only the kept
    weights.

    Parameters
    ----------
    x : float ndarray (B, n_in)
        A batch of inputs, n_in = len(indptr) - 1.
    indptr, indices, data : the canonical CSR of W ⊙ M, as ``csr_from_mask`` returns it
    n_out : int
        The number of columns of W (it cannot be read from the CSR arrays:
        the last columns may hold no kept weight).

    Returns
    -------
    Y : ndarray (B, n_out)
    """
    raise NotImplementedError
