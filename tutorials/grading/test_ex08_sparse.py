"""Grades tutorials/exercises/ex08_sparse.py: against SparseDense, the model file and the sparse kernel."""
import grader
import numpy as np
import pytest

from pynncomp import io, kernels
from pynncomp.nn import Dense, Sequential, SparseDense

exercise = grader.load("ex08_sparse")

# (n_rows, n_cols, fraction kept, seed): half kept, a few kept (empty rows), all kept, one row, one column
MASK_CASES = [(6, 5, 0.5, 0), (8, 7, 0.15, 1), (4, 3, 1.0, 2), (1, 9, 0.4, 3), (7, 1, 0.5, 4)]


def masked_weights(n_rows, n_cols, kept, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_rows, n_cols)).astype(dtype)
    keep_mask = rng.random((n_rows, n_cols)) < kept
    return W, keep_mask


def check_csr(what, got, expected_indptr, expected_indices, expected_data):
    if got is None or len(got) != 3:
        pytest.fail(f"{what}: expected the tuple (indptr, indices, data), got {got!r}")
    indptr, indices, data = got
    grader.assert_equal(f"{what}: indptr", indptr, expected_indptr)
    grader.assert_equal(f"{what}: indices", indices, expected_indices)
    grader.assert_equal(f"{what}: data", data, expected_data)


@pytest.mark.parametrize("n_rows, n_cols, kept, seed", MASK_CASES)
def test_csr_from_mask_matches_sparse_dense(n_rows, n_cols, kept, seed):
    W, keep_mask = masked_weights(n_rows, n_cols, kept, seed)
    layer = SparseDense.from_weights(W, np.zeros(n_cols), keep_mask)
    got = grader.call(exercise.csr_from_mask, W, keep_mask)
    check_csr(f"CSR of a {n_rows}x{n_cols} W, {keep_mask.sum()} kept", got, layer.indptr, layer.indices,
              layer.params["data"])


def test_csr_from_mask_matches_the_model_file(tmp_path):
    rng = np.random.default_rng(5)
    dense = Dense(12, 6, seed=0)
    dense.set_mask("W", rng.random((12, 6)) < 0.3)
    path = tmp_path / "pruned.npz"
    io.save_model(path, Sequential([dense]))
    with np.load(path) as stored:
        expected = [stored[f"layer0.W.{name}"] for name in ("indptr", "indices", "data")]
    got = grader.call(exercise.csr_from_mask, dense.params["W"], dense.masks["W"])
    check_csr("CSR of a 12x6 Dense layer as save_model writes it", got, *expected)


def test_csr_from_mask_follows_the_mask_not_the_values():
    W = np.array([[0.0, 2.0, 3.0], [4.0, 0.0, 6.0]])
    keep_mask = np.array([[True, False, True], [False, True, True]])  # keeps two zeros, drops 2.0 and 4.0
    got = grader.call(exercise.csr_from_mask, W, keep_mask)
    check_csr("CSR of a W with kept zeros and pruned non-zeros", got, [0, 2, 4], [0, 2, 1, 2], [0.0, 3.0, 0.0, 6.0])


def test_csr_from_mask_with_nothing_kept():
    W = np.ones((3, 4))
    got = grader.call(exercise.csr_from_mask, W, np.zeros((3, 4), dtype=bool))
    check_csr("CSR of a W with nothing kept", got, np.zeros(4, dtype=np.int64), np.zeros(0, dtype=np.int64),
              np.zeros(0))


# (B, n_in, n_out, fraction kept, seed, dtype): batch 1, empty rows, the last columns unused, float32
MATVEC_CASES = [(1, 6, 5, 0.5, 0, np.float64), (4, 8, 7, 0.15, 1, np.float64), (3, 5, 4, 1.0, 2, np.float64),
                (5, 10, 12, 0.05, 3, np.float64), (6, 9, 4, 0.4, 4, np.float32)]


@pytest.mark.parametrize("B, n_in, n_out, kept, seed, dtype", MATVEC_CASES)
def test_csr_matvec_matches_the_kernel_and_the_dense_product(B, n_in, n_out, kept, seed, dtype):
    W, keep_mask = masked_weights(n_in, n_out, kept, seed, dtype)
    x = np.random.default_rng(seed + 10).standard_normal((B, n_in)).astype(dtype)
    layer = SparseDense.from_weights(W, np.zeros(n_out, dtype=dtype), keep_mask)
    indptr, indices, data = layer.indptr, layer.indices, layer.params["data"]
    got = grader.call(exercise.csr_matvec, x, indptr, indices, data, n_out)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    what = f"Y for B = {B}, W {n_in}x{n_out} with {keep_mask.sum()} kept"
    grader.assert_close(f"{what}, against kernels.sparse_matmul", got,
                        kernels.sparse_matmul(x, indptr, indices, data, n_out), rtol=rtol, atol=1e-6)
    grader.assert_close(f"{what}, against X @ (W * M)", got, x @ (W * keep_mask), rtol=rtol, atol=1e-6)


def test_csr_matvec_with_nothing_kept():
    x = np.random.default_rng(6).standard_normal((2, 3))
    indptr, indices, data = np.zeros(4, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0)
    got = grader.call(exercise.csr_matvec, x, indptr, indices, data, 5)
    grader.assert_close("Y with nothing kept (all zeros, n_out = 5 columns)", got, np.zeros((2, 5)))
