"""Worked solutions of lesson 8's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numpy as np


def csr_from_mask(W, keep_mask):
    """Canonical CSR (indptr, indices, data) of W[keep_mask]; see tutorials/exercises/ex08_sparse.py."""
    # np.nonzero walks the mask row-major: row after row, columns increasing within a row,
    # which is exactly the canonical order; the mask decides, so a kept 0 is stored
    rows, cols = np.nonzero(keep_mask)
    indptr = np.zeros(W.shape[0] + 1, dtype=np.int64)
    np.cumsum(keep_mask.sum(axis=1), out=indptr[1:])  # row r spans indptr[r] .. indptr[r+1]
    return indptr, cols, W[rows, cols]


def csr_matvec(x, indptr, indices, data, n_out):
    """Y = X (W ⊙ M) from the CSR arrays; see tutorials/exercises/ex08_sparse.py."""
    Y = np.zeros((x.shape[0], n_out), dtype=np.result_type(x, data))
    for i in range(len(indptr) - 1):
        start, end = indptr[i], indptr[i + 1]
        # input i feeds only the columns it keeps; those are distinct within a row (canonical
        # CSR), so the fancy-indexed += adds each exactly once
        Y[:, indices[start:end]] += x[:, i:i + 1] * data[start:end]
    return Y
