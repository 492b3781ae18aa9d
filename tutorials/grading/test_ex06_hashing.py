"""Grades tutorials/exercises/ex06_hashing.py: against pynncomp's kernels, a layer and finite differences."""
import grader
import numpy as np
import pytest

from pynncomp import kernels
from pynncomp.gradcheck import numerical_gradient
from pynncomp.nn import HashedDense

exercise = grader.load("ex06_hashing")

# (n_in, n_out, K, hash seed): a few buckets for many weights, K = n (about a third of the buckets
# empty), one bucket, a tall and a wide layer
HASHED_SHAPES = [(5, 4, 3, 1691), (6, 5, 30, 7), (4, 3, 1, 0), (20, 2, 9, 1692), (2, 17, 6, 99)]


@pytest.mark.parametrize("n_in, n_out, K, seed", HASHED_SHAPES)
def test_hashed_lookup_matches_the_kernel(n_in, n_out, K, seed):
    rng = np.random.default_rng(seed)
    bucket, sign = kernels.hash_buckets(n_in, n_out, K, seed)
    w = rng.standard_normal(K)
    got = grader.call(exercise.hashed_lookup, w, bucket, sign)
    grader.assert_equal(f"V ({n_in}x{n_out}, K = {K})", got, kernels.hashed_lookup(w, bucket, sign))


def test_hashed_lookup_keeps_any_shape_and_the_dtype_of_w():
    rng = np.random.default_rng(1)
    w = rng.standard_normal(7).astype(np.float32)
    bucket = rng.integers(0, 7, size=(3, 4, 2)).astype(np.int32)
    sign = rng.choice(np.array([-1, 1], dtype=np.int8), size=(3, 4, 2))
    got = grader.call(exercise.hashed_lookup, w, bucket, sign)
    grader.assert_equal("V (a 3-D bucket array)", got, kernels.hashed_lookup(w, bucket, sign))
    if np.asarray(got).dtype != w.dtype:
        pytest.fail(f"V: expected the dtype of w ({w.dtype}), got {np.asarray(got).dtype} "
                    "(an int8 sign times a float32 w must stay float32)")


@pytest.mark.parametrize("n_in, n_out, K, seed", HASHED_SHAPES)
def test_bucket_gradient_matches_the_kernel(n_in, n_out, K, seed):
    rng = np.random.default_rng(seed + 10)
    bucket, sign = kernels.hash_buckets(n_in, n_out, K, seed)
    dV = rng.standard_normal((n_in, n_out))
    got = grader.call(exercise.bucket_gradient, dV, bucket, sign, K)
    grader.assert_close(f"dw ({n_in}x{n_out}, K = {K})", got, kernels.bucket_accumulate(dV, bucket, sign, K),
                        rtol=1e-10, atol=1e-12)


def test_bucket_gradient_gives_zero_to_unused_buckets():
    rng = np.random.default_rng(2)
    K = 10
    bucket = rng.integers(0, 6, size=(4, 5)).astype(np.int32)  # buckets 6..9 unused, and maybe a few below
    sign = rng.choice(np.array([-1, 1], dtype=np.int8), size=(4, 5))
    dV = rng.standard_normal((4, 5))
    got = grader.call(exercise.bucket_gradient, dV, bucket, sign, K)
    grader.assert_close("dw (buckets 6 to 9 unused: dw must still have K = 10 entries)", got,
                        kernels.bucket_accumulate(dV, bucket, sign, K), rtol=1e-10, atol=1e-12)


def test_bucket_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    n_in, n_out, K = 6, 4, 5
    bucket, sign = kernels.hash_buckets(n_in, n_out, K, 1691)
    w = rng.standard_normal(K)
    G = rng.standard_normal((n_in, n_out))
    got = grader.call(exercise.bucket_gradient, G, bucket, sign, K)
    # L(w) = Σ G ⊙ V(w) with V from pynncomp's lookup: dL/dV = G, and dL/dw is the gradient asked for
    numeric = numerical_gradient(lambda: float(np.sum(G * kernels.hashed_lookup(w, bucket, sign))), w)
    grader.assert_close("dw against finite differences of L = Σ G ⊙ V(w)", got, numeric, rtol=1e-6, atol=1e-8)


def test_bucket_gradient_is_the_gradient_of_a_hashed_layer():
    rng = np.random.default_rng(4)
    layer = HashedDense(9, 4, K=7, hash_seed=1691, seed=0, dtype=np.float64)
    x = rng.standard_normal((5, 9))
    dY = rng.standard_normal((5, 4))
    _, cache = layer.forward(x)
    layer.backward(dY, cache)
    got = grader.call(exercise.bucket_gradient, x.T @ dY, layer.bucket, layer.sign, layer.K)
    grader.assert_close("dw of HashedDense(9, 4, K=7) from dV = Xᵀ dY", got, layer.grads["w"],
                        rtol=1e-10, atol=1e-12)
