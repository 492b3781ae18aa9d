"""Every layer, the loss and the penalties, one at a time.

Derivatives are checked in float64 against centred finite differences
(:mod:`pynncomp.gradcheck`) and must agree to ``GRAD_RTOL`` = 1e-6 in the
whole-array relative error; a correct derivative lands near 1e-10, a wrong
one near 1.  The measured errors are printed (``pytest -s``).

Curvature passes are checked on the objective ``f(out) = ½ Σ C ⊙ out²``
(C >= 0 fixed): for a layer that is linear in x and in its parameters
(Dense, SparseDense) or piecewise linear (ReLU away from 0, Dropout with a
fixed mask, Flatten), ``curvature(C, cache)`` is then *exactly* the diagonal
second derivative of f, which finite differences measure with no truncation
error (f is quadratic).
"""
import copy
import re

import numpy as np
import pytest

from pynncomp import kernels
from pynncomp.gradcheck import (
    GRAD_RTOL,
    check_layer,
    numerical_gradient,
    numerical_second_derivative,
    rel_error,
)
from pynncomp.nn import (
    L1,
    L2,
    SGD,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    HashedDense,
    ReLU,
    SoftmaxCrossEntropy,
    SparseDense,
)

# A centred second difference with eps = 1e-4 carries a rounding error of
# about 1e-16·|f| / eps² = 1e-8·|f|; for a loss f ~ 1 whose second
# derivatives are ~1e-2 that is ~1e-6 relative, hence a looser bound than
# GRAD_RTOL wherever f is not an exact quadratic with small values.
FD2_RTOL = 1e-5
# Float32 keeps ~7 significant digits; sums of a few dozen products agree
# with float64 to a few units in 1e-7 relative to the largest entry.
FLOAT32_RTOL = 1e-5


def report(name, errors):
    worst = max(errors.values())
    details = ", ".join(f"{k}={v:.1e}" for k, v in errors.items())
    print(f"\n[gradcheck] {name}: max relative error {worst:.2e} ({details})")
    return worst


@pytest.fixture(params=["active", "numpy"])
def backend(request, monkeypatch):
    """Run a test with the active kernels (C when built) and with the NumPy twins."""
    if request.param == "numpy":
        monkeypatch.setattr(kernels, "_unchecked", lambda: kernels.reference)
    return request.param


def check_curvature(layer, x, seed=1):
    """Relative errors of ``curvature`` against FD second derivatives of ½ Σ C ⊙ out²."""
    out, cache = layer.forward(x)
    C = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    d2x = layer.curvature(C, cache)
    analytic = {"x": d2x, **{k: v.copy() for k, v in layer.hessian.items()}}

    def objective():
        return 0.5 * float(np.sum(C * layer.forward(x)[0] ** 2))

    errors = {"x": rel_error(analytic["x"], numerical_second_derivative(objective, x))}
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_second_derivative(objective, p))
    return errors


def dense64(n_in, n_out, seed=0):
    layer = Dense(n_in, n_out, seed=seed, dtype=np.float64)
    layer.params["b"][:] = np.random.default_rng(seed + 100).standard_normal(n_out)
    return layer


# ---- Dense ----------------------------------------------------------------

MASKS = {
    "no mask": None,
    "random mask": lambda shape, rng: rng.random(shape) < 0.5,
    "empty mask": lambda shape, rng: np.zeros(shape, dtype=bool),
    "full mask": lambda shape, rng: np.ones(shape, dtype=bool),
}


@pytest.mark.parametrize("mask_kind", list(MASKS))
def test_dense_forward_is_masked_affine_and_gradients_match(mask_kind, rng):
    layer = dense64(6, 4)
    x = rng.standard_normal((5, 6))
    keep = None if MASKS[mask_kind] is None else MASKS[mask_kind]((6, 4), rng)
    W_before = layer.params["W"].copy()
    if keep is not None:
        layer.set_mask("W", keep)
    out, _ = layer.forward(x)
    W_used = W_before if keep is None else W_before * keep
    np.testing.assert_array_equal(out, x @ W_used + layer.params["b"])

    errors = check_layer(layer, x)
    assert report(f"Dense {mask_kind}", errors) < GRAD_RTOL
    if keep is not None:
        assert np.all(layer.grads["W"][~keep] == 0)
    assert max(check_curvature(layer, x).values()) < GRAD_RTOL
    if keep is not None:
        assert np.all(layer.hessian["W"][~keep] == 0)


def test_dense_init_is_seeded_and_scaled():
    a = Dense(400, 300, seed=3, dtype=np.float64)
    b = Dense(400, 300, seed=np.random.default_rng(3), dtype=np.float64)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert a.params["W"].dtype == np.float64 and Dense(4, 3).params["W"].dtype == np.float32
    # He: std sqrt(2 / n_in) = 0.0707; 120 000 draws give it to ~0.3 %.
    assert abs(a.params["W"].std() - np.sqrt(2 / 400)) < 0.01 * np.sqrt(2 / 400)
    glorot = Dense(400, 300, seed=3, init="glorot").params["W"]
    assert np.abs(glorot).max() <= np.sqrt(6 / 700)
    assert np.all(a.params["b"] == 0)


# ---- SparseDense ------------------------------------------------------------

def test_sparse_dense_matches_the_masked_dense_it_came_from(backend, rng):
    dense = dense64(7, 5)
    keep = rng.random((7, 5)) < 0.4
    keep[2] = False  # an empty row
    dense.set_mask("W", keep)
    sparse = SparseDense.from_dense(dense)
    assert sparse.nnz == keep.sum()
    np.testing.assert_array_equal(sparse.params["data"], dense.params["W"][keep])

    x = rng.standard_normal((4, 7))
    G = rng.standard_normal((4, 5))
    out_dense, cache_dense = dense.forward(x)
    out_sparse, cache_sparse = sparse.forward(x)
    np.testing.assert_allclose(out_sparse, out_dense, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sparse.backward(G, cache_sparse), dense.backward(G, cache_dense), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sparse.grads["data"], dense.grads["W"][keep], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sparse.grads["b"], dense.grads["b"], rtol=1e-13)
    np.testing.assert_allclose(sparse.curvature(G**2, cache_sparse), dense.curvature(G**2, cache_dense),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sparse.hessian["data"], dense.hessian["W"][keep], rtol=1e-13, atol=1e-13)

    back = sparse.to_dense()
    np.testing.assert_array_equal(back.params["W"], dense.params["W"])
    np.testing.assert_array_equal(back.masks["W"], keep)


@pytest.mark.parametrize("density", [0.5, 1.0])
def test_sparse_dense_gradients_and_curvature(backend, density, rng):
    W = rng.standard_normal((6, 4))
    keep = rng.random((6, 4)) < density
    sparse = SparseDense.from_weights(W, rng.standard_normal(4), keep)
    x = rng.standard_normal((5, 6))
    assert report(f"SparseDense density {density} ({backend})", check_layer(sparse, x)) < GRAD_RTOL
    assert max(check_curvature(sparse, x).values()) < GRAD_RTOL


def test_sparse_dense_with_no_kept_weight(backend, rng):
    # gradcheck cannot nudge an empty array, so the derivatives are asserted directly.
    b = rng.standard_normal(4)
    sparse = SparseDense.from_weights(rng.standard_normal((6, 4)), b, np.zeros((6, 4), dtype=bool))
    x = rng.standard_normal((5, 6))
    G = rng.standard_normal((5, 4))
    out, cache = sparse.forward(x)
    np.testing.assert_array_equal(out, np.broadcast_to(b, (5, 4)))
    np.testing.assert_array_equal(sparse.backward(G, cache), np.zeros((5, 6)))
    assert sparse.grads["data"].shape == (0,)
    np.testing.assert_allclose(sparse.grads["b"], G.sum(axis=0), rtol=1e-15)
    np.testing.assert_array_equal(sparse.curvature(G**2, cache), np.zeros((5, 6)))
    assert sparse.hessian["data"].shape == (0,)


def test_sparse_dense_mask_on_data_prunes_further(backend, rng):
    sparse = SparseDense.from_weights(rng.standard_normal((5, 4)), np.zeros(4), rng.random((5, 4)) < 0.6)
    keep_data = rng.random(sparse.nnz) < 0.5
    sparse.set_mask("data", keep_data)
    x = rng.standard_normal((3, 5))
    assert max(check_layer(sparse, x).values()) < GRAD_RTOL
    assert np.all(sparse.grads["data"][~keep_data] == 0)
    dense = sparse.to_dense()
    assert dense.masks["W"].sum() == keep_data.sum()
    np.testing.assert_allclose(dense.forward(x)[0], sparse.forward(x)[0], rtol=1e-13, atol=1e-13)


def test_sparse_dense_rejects_a_bad_pattern():
    data = np.ones(2)
    with pytest.raises(ValueError, match="indices must be strictly increasing"):
        SparseDense(np.array([0, 2]), np.array([1, 1]), data, np.zeros(3), 3)
    with pytest.raises(ValueError, match="indices must have values in"):
        SparseDense(np.array([0, 2]), np.array([0, 3]), data, np.zeros(3), 3)
    with pytest.raises(ValueError, match="indptr must start at 0"):
        SparseDense(np.array([0, 1]), np.array([0, 1]), data, np.zeros(3), 3)
    with pytest.raises(TypeError, match="b must have dtype float64"):
        SparseDense(np.array([0, 2]), np.array([0, 1]), data, np.zeros(3, np.float32), 3)
    with pytest.raises(TypeError, match="keep_mask must be a bool array"):
        SparseDense.from_weights(np.ones((2, 3)), np.zeros(3), np.ones((2, 3)))
    with pytest.raises(TypeError, match="layer must be a Dense"):
        SparseDense.from_dense(ReLU())


# ---- HashedDense -------------------------------------------------------------

def test_hashed_dense_gradients_and_shared_weights(backend, rng):
    layer = HashedDense(6, 5, K=7, seed=0, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(5)
    x = rng.standard_normal((4, 6))
    assert report(f"HashedDense ({backend})", check_layer(layer, x)) < GRAD_RTOL

    V = layer.virtual_weights()
    w = layer.params["w"]
    for k in range(layer.K):
        in_bucket = layer.bucket == k
        np.testing.assert_array_equal(V[in_bucket] * layer.sign[in_bucket], w[k])
    assert set(np.unique(layer.bucket)) == set(range(7))  # 30 connections fill all 7 buckets
    np.testing.assert_array_equal(layer.forward(x)[0], x @ V + layer.params["b"])


def test_hashed_dense_masked_bucket_gets_no_gradient(rng):
    layer = HashedDense(6, 5, K=7, seed=0, dtype=np.float64)
    keep = np.array([True, False, True, True, False, True, True])
    layer.set_mask("w", keep)
    x = rng.standard_normal((4, 6))
    assert max(check_layer(layer, x).values()) < GRAD_RTOL
    assert np.all(layer.grads["w"][~keep] == 0)
    assert np.all(layer.virtual_weights()[np.isin(layer.bucket, np.flatnonzero(~keep))] == 0)


@pytest.mark.parametrize("n_in, n_out, compression, K", [
    (8, 10, 0.25, 20),
    (10, 100, 0.1, 100),       # 0.1 * 1000 must not round up to 101
    (784, 100, 1 / 64, 1225),
    (3, 3, 0.5, 5),            # ceil(4.5)
    (3, 3, 1e-6, 1),           # at least one bucket
    (3, 3, 1.0, 9),
])
def test_hashed_dense_number_of_buckets(n_in, n_out, compression, K):
    layer = HashedDense(n_in, n_out, compression=compression, seed=0)
    assert layer.K == K and layer.params["w"].shape == (K,)
    assert HashedDense(n_in, n_out, K=K).K == K


def test_hashed_dense_hash_seed_and_init_seed_are_independent():
    base = HashedDense(20, 10, K=30, hash_seed=1691, seed=0)
    other_init = HashedDense(20, 10, K=30, hash_seed=1691, seed=1)
    other_hash = HashedDense(20, 10, K=30, hash_seed=1692, seed=0)
    np.testing.assert_array_equal(base.bucket, other_init.bucket)
    assert not np.array_equal(base.params["w"], other_init.params["w"])
    np.testing.assert_array_equal(base.params["w"], other_hash.params["w"])
    assert not np.array_equal(base.bucket, other_hash.bucket)
    expected_bucket, expected_sign = kernels.hash_buckets(20, 10, 30, 1691, backend="numpy")
    np.testing.assert_array_equal(base.bucket, expected_bucket)
    np.testing.assert_array_equal(base.sign, expected_sign)


def test_hashed_dense_state_round_trip(rng):
    layer = HashedDense(9, 4, compression=0.3, hash_seed=77, seed=5, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(4)
    layer.set_mask("w", rng.random(layer.K) < 0.7)
    state = layer.state()
    assert set(state) == {"n_in", "n_out", "K", "hash_seed", "w", "b", "w_mask"}
    restored = HashedDense.from_state(state)
    x = rng.standard_normal((3, 9))
    np.testing.assert_array_equal(restored.forward(x)[0], layer.forward(x)[0])
    np.testing.assert_array_equal(restored.masks["w"], layer.masks["w"])
    with pytest.raises(ValueError, match=r"state\['w'\] must have shape"):
        HashedDense.from_state({**state, "w": np.zeros(3)})


# ---- activations ----------------------------------------------------------------

def away_from_zero(rng, shape, margin=0.1):
    return rng.uniform(margin, 1.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def test_relu(rng):
    x = away_from_zero(rng, (4, 3, 5))
    layer = ReLU()
    out, cache = layer.forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    assert report("ReLU", check_layer(layer, x)) < GRAD_RTOL
    assert max(check_curvature(layer, x).values()) < GRAD_RTOL
    d2out = rng.random(x.shape)
    np.testing.assert_array_equal(layer.curvature(d2out, cache), d2out * (x > 0))


def test_dropout_with_a_fixed_mask(rng):
    layer = Dropout(0.3, seed=0)
    x = rng.standard_normal((6, 7))

    def forward_fixed_mask():
        layer.rng = np.random.default_rng(7)  # the same mask at every call
        return layer.forward(x, train=True)

    out, cache = forward_fixed_mask()
    assert set(np.unique(cache)) <= {0.0, 1 / 0.7}
    np.testing.assert_array_equal(out, x * cache)
    G = rng.standard_normal(x.shape)
    dx = layer.backward(G, cache)
    numeric = numerical_gradient(lambda: float(np.sum(forward_fixed_mask()[0] * G)), x)
    assert report("Dropout (fixed mask)", {"x": rel_error(dx, numeric)}) < GRAD_RTOL
    np.testing.assert_array_equal(layer.curvature(G**2, cache), G**2 * cache**2)


def test_dropout_train_and_eval_modes():
    layer = Dropout(0.25, seed=1)
    x = np.ones((200, 500), dtype=np.float32)
    out, cache = layer.forward(x, train=True)
    assert out.dtype == np.float32
    kept = np.mean(cache > 0)
    assert abs(kept - 0.75) < 0.01  # 100 000 Bernoulli(0.75) draws: std 0.0014
    assert abs(out.mean() - 1.0) < 0.02  # inverted dropout keeps the mean
    out_eval, cache_eval = layer.forward(x, train=False)
    assert out_eval is x and cache_eval is None
    assert layer.backward(x, None) is x
    second, _ = layer.forward(x, train=True)
    assert not np.array_equal(second, out)  # a fresh mask each call
    replay = Dropout(0.25, seed=1).forward(x, train=True)[0]
    np.testing.assert_array_equal(replay, out)


def test_flatten(rng):
    x = rng.standard_normal((3, 2, 4, 5))
    layer = Flatten()
    out, cache = layer.forward(x)
    assert out.shape == (3, 40)
    np.testing.assert_array_equal(out[1], x[1].ravel())
    assert report("Flatten", check_layer(layer, x)) < GRAD_RTOL
    assert layer.curvature(out, cache).shape == x.shape


# ---- loss -----------------------------------------------------------------------

def direct_cross_entropy(z, y):
    """-mean log softmax, written the naive way (fine for moderate z)."""
    return -np.mean([np.log(np.exp(z[b, y[b]]) / np.sum(np.exp(z[b]))) for b in range(len(y))])


def test_softmax_cross_entropy_value_gradient_and_curvature(rng):
    loss_layer = SoftmaxCrossEntropy()
    z = 2 * rng.standard_normal((6, 4))
    y = rng.integers(0, 4, size=6)
    loss, cache = loss_layer.forward(z, y)
    assert abs(loss - direct_cross_entropy(z, y)) < 1e-14 * max(1.0, loss)

    dz = loss_layer.backward(cache)
    numeric = numerical_gradient(lambda: loss_layer.forward(z, y)[0], z)
    assert report("SoftmaxCrossEntropy dz", {"z": rel_error(dz, numeric)}) < GRAD_RTOL
    # p(1 - p)/B is the exact diagonal of the softmax-CE Hessian in z.
    d2z = loss_layer.curvature(cache)
    numeric2 = numerical_second_derivative(lambda: loss_layer.forward(z, y)[0], z)
    assert report("SoftmaxCrossEntropy d2z (second differences)", {"z": rel_error(d2z, numeric2)}) < FD2_RTOL


def test_softmax_cross_entropy_is_stable_for_large_logits(rng):
    loss_layer = SoftmaxCrossEntropy()
    z = rng.standard_normal((5, 3))
    y = rng.integers(0, 3, size=5)
    shifted_loss, cache = loss_layer.forward(z + 1000.0, y)
    assert np.isfinite(shifted_loss)
    assert abs(shifted_loss - loss_layer.forward(z, y)[0]) < 1e-12
    assert np.isfinite(cache[0]).all()
    huge_loss, _ = loss_layer.forward(np.array([[0.0, 800.0]]), np.array([0]))
    assert huge_loss == 800.0  # -log softmax = 800 exactly, no overflow to inf


@pytest.mark.parametrize("y, error, match", [
    (np.array([0.0, 1.0, 2.0]), TypeError, "y must hold integer class labels"),
    (np.array([True, False, True]), TypeError, "y must hold integer class labels"),
    (np.array([[0, 1, 2]]), ValueError, r"y must have shape \(3,\)"),
    (np.array([0, 1]), ValueError, r"y must have shape \(3,\)"),
    (np.array([0, 1, 4]), ValueError, r"y must have values in \[0, 4\)"),
    (np.array([0, -1, 2]), ValueError, r"y must have values in \[0, 4\)"),
])
def test_softmax_cross_entropy_rejects_bad_labels(y, error, match):
    with pytest.raises(error, match=match):
        SoftmaxCrossEntropy().forward(np.zeros((3, 4)), y)


def test_softmax_cross_entropy_rejects_bad_logits():
    with pytest.raises(ValueError, match=r"z must have shape \(B, C\)"):
        SoftmaxCrossEntropy().forward(np.zeros(4), np.array([0]))
    with pytest.raises(TypeError, match="z must have dtype float32 or float64"):
        SoftmaxCrossEntropy().forward(np.zeros((2, 3), dtype=int), np.array([0, 1]))


# ---- penalties -------------------------------------------------------------------

def test_penalties_value_and_gradient(rng):
    w = away_from_zero(rng, (5, 4))  # L1 is differentiable away from its kink at 0
    l1, l2 = L1(0.3), L2(0.7)
    assert abs(l1.value(w) - 0.3 * np.abs(w).sum()) < 1e-14
    assert abs(l2.value(w) - 0.35 * np.sum(w**2)) < 1e-14
    errors = {}
    for penalty in (l1, l2):
        analytic = penalty.grad(w)
        numeric = numerical_gradient(lambda: penalty.value(w), w)
        errors[type(penalty).__name__] = rel_error(analytic, numeric)
    assert report("penalties", errors) < GRAD_RTOL
    assert np.all(L1(0.3).grad(np.zeros(3)) == 0)  # subgradient sign(0) = 0


# ---- dtypes ------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: dense64(30, 20),
    lambda: SparseDense.from_weights(np.random.default_rng(0).standard_normal((30, 20)), np.ones(20),
                                     np.random.default_rng(1).random((30, 20)) < 0.3),
    lambda: HashedDense(30, 20, compression=0.2, seed=0, dtype=np.float64),
])
def test_float32_forward_and_backward_close_to_float64(make, rng):
    layer64 = make()
    layer32 = copy.deepcopy(layer64).astype(np.float32)
    x = rng.standard_normal((8, 30))
    G = rng.standard_normal((8, 20))
    out64, cache64 = layer64.forward(x)
    out32, cache32 = layer32.forward(x.astype(np.float32))
    assert out32.dtype == np.float32
    assert rel_error(out32, out64) < FLOAT32_RTOL
    dx32 = layer32.backward(G.astype(np.float32), cache32)
    dx64 = layer64.backward(G, cache64)
    assert dx32.dtype == np.float32 and rel_error(dx32, dx64) < FLOAT32_RTOL
    for name in layer64.params:
        assert layer32.grads[name].dtype == np.float32
        assert rel_error(layer32.grads[name], layer64.grads[name]) < FLOAT32_RTOL


# ---- bad inputs ------------------------------------------------------------------

@pytest.mark.parametrize("build, error, match", [
    (lambda: Dense(0, 3), ValueError, "n_in must be an integer >= 1, got 0"),
    (lambda: Dense(3, -2), ValueError, "n_out must be an integer >= 1, got -2"),
    (lambda: Dense(2.5, 3), TypeError, "n_in must be an integer"),
    (lambda: Dense(True, 3), TypeError, "n_in must be an integer"),
    (lambda: Dense(2, 3, dtype=np.int32), TypeError, "dtype must be float32 or float64, got int32"),
    (lambda: Dense(2, 3, dtype=np.float16), TypeError, "dtype must be float32 or float64"),
    (lambda: Dense(2, 3, init="lecun"), ValueError, "init must be one of"),
    (lambda: Dense(2, 3, seed=-1), ValueError, "seed must be None, an integer >= 0"),
    (lambda: Dense(2, 3, seed="abc"), TypeError, "seed must be None, an integer >= 0"),
    (lambda: HashedDense(4, 4, compression=0.0), ValueError, r"compression must be in \(0, 1\]"),
    (lambda: HashedDense(4, 4, compression=1.5), ValueError, r"compression must be in \(0, 1\]"),
    (lambda: HashedDense(4, 4, compression="half"), TypeError, "compression must be a real number"),
    (lambda: HashedDense(4, 4), ValueError, "give exactly one of compression"),
    (lambda: HashedDense(4, 4, compression=0.5, K=3), ValueError, "give exactly one of compression"),
    (lambda: HashedDense(4, 4, K=17), ValueError, r"K must be in \[1, n_in \* n_out = 16\]"),
    (lambda: HashedDense(4, 4, K=0), ValueError, "K must be an integer >= 1"),
    (lambda: HashedDense(4, 4, K=3, hash_seed=-1), ValueError, "hash_seed must be an integer"),
    (lambda: HashedDense(4, 4, K=3, hash_seed=2**32), ValueError, "hash_seed must be an integer"),
    (lambda: Dropout(1.0), ValueError, r"p must be in \[0, 1\)"),
    (lambda: Dropout(-0.1), ValueError, r"p must be in \[0, 1\)"),
    (lambda: SGD(0.0), ValueError, r"lr must be in \(0, inf\), got 0.0"),
    (lambda: SGD(-1e-3), ValueError, "lr must be in"),
    (lambda: SGD(0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: SGD(0.1, momentum=-0.5), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: SGD(0.1, penalty="l2"), TypeError, "penalty must be None or a Penalty"),
    (lambda: L1(-1e-4), ValueError, r"lam must be in \[0, inf\), got -0.0001"),
    (lambda: L2(float("nan")), ValueError, "lam must be in"),
])
def test_constructors_reject_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("layer", [
    Dense(4, 3, dtype=np.float64),
    HashedDense(4, 3, K=5, dtype=np.float64),
    SparseDense.from_weights(np.ones((4, 3)), np.zeros(3), np.eye(4, 3, dtype=bool)),
], ids=["Dense", "HashedDense", "SparseDense"])
def test_forward_rejects_bad_inputs(layer):
    with pytest.raises(TypeError, match="x must be a numpy.ndarray of floats, got list"):
        layer.forward([[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(TypeError, match="x must have dtype float64 .*got float32"):
        layer.forward(np.ones((2, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="x must have dtype float64 .*got int64"):
        layer.forward(np.ones((2, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 4\), got \(2, 5\)"):
        layer.forward(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 4\), got \(4,\)"):
        layer.forward(np.ones(4))
    # a non-contiguous array is accepted (and copied for the kernels)
    x = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(layer.forward(np.asfortranarray(x))[0], layer.forward(x)[0])


def test_activations_reject_bad_inputs():
    for layer in (ReLU(), Dropout(0.5), Flatten()):
        with pytest.raises(TypeError, match="x must be a numpy.ndarray of floats"):
            layer.forward([1.0, 2.0])
        with pytest.raises(TypeError, match="x must have dtype float32 or float64"):
            layer.forward(np.ones((2, 3), dtype=np.int32))


@pytest.mark.parametrize("make, x_shape", [
    (lambda: Dense(7, 5, seed=0, dtype=np.float64), (4, 7)),
    (lambda: HashedDense(7, 5, K=9, seed=0, dtype=np.float64), (4, 7)),
    (lambda: Conv2D(2, 3, 3, stride=2, padding=1, seed=0, dtype=np.float64), (4, 2, 6, 6)),
    (lambda: SparseDense.from_weights(np.arange(35.0).reshape(7, 5) - 17, np.zeros(5),
                                      (np.arange(35) % 3 == 0).reshape(7, 5)), (4, 7)),
    (lambda: ReLU(), (4, 7)),
])
def test_backward_params_fills_the_same_grads_as_backward(make, x_shape, rng):
    """The first layer of a model skips dx in training; its grads must not change."""
    layer = make()
    if "W" in layer.params:
        layer.set_mask("W", rng.random(layer.params["W"].shape) < 0.7)
    x = rng.standard_normal(x_shape)
    out, cache = layer.forward(x, train=True)
    dout = rng.standard_normal(out.shape)
    layer.backward(dout, cache)
    full = {name: g.copy() for name, g in layer.grads.items()}
    layer.grads = {}
    assert layer.backward_params(dout, cache) is None
    assert full.keys() == layer.grads.keys()
    for name in full:
        np.testing.assert_array_equal(layer.grads[name], full[name])


def sparse_layer_7x5(dtype=np.float64):
    W = (np.arange(35.0).reshape(7, 5) - 17).astype(dtype)
    return SparseDense.from_weights(W, np.zeros(5, dtype=dtype), (np.arange(35) % 3 == 0).reshape(7, 5))


@pytest.mark.parametrize("make", [
    lambda: Dense(7, 5, seed=0, dtype=np.float64),
    sparse_layer_7x5,
], ids=["Dense", "SparseDense"])
@pytest.mark.parametrize("method, name", [
    ("backward", "dout"), ("backward_params", "dout"), ("curvature", "d2out"),
])
@pytest.mark.parametrize("shape", [(4, 6), (3, 5), (4,), (4, 5, 1)])
def test_backward_refuses_a_gradient_of_the_wrong_shape(make, method, name, shape, backend):
    layer = make()
    _, cache = layer.forward(np.ones((4, 7)))
    with pytest.raises(ValueError, match=rf"^{name} must have shape \(4, 5\) .*got {re.escape(str(shape))}$"):
        getattr(layer, method)(np.ones(shape), cache)


@pytest.mark.parametrize("method, name", [("backward", "dout"), ("backward_params", "dout"), ("curvature", "d2out")])
def test_sparse_backward_refuses_a_gradient_of_another_dtype_or_type(method, name, backend):
    """The sparse kernels read dout as the layer's dtype: a float32 dout on a
    float64 layer would be misread by C, so it is refused."""
    layer = sparse_layer_7x5()
    _, cache = layer.forward(np.ones((4, 7)))
    with pytest.raises(TypeError, match=rf"^{name} must have dtype float64 \(the layer's dtype\), got float32$"):
        getattr(layer, method)(np.ones((4, 5), dtype=np.float32), cache)
    with pytest.raises(TypeError, match=rf"^{name} must be a numpy.ndarray of shape \(4, 5\), got list"):
        getattr(layer, method)(np.ones((4, 5)).tolist(), cache)


def misaligned(a):
    """A C-contiguous copy of ``a`` starting one byte into its buffer."""
    buffer = np.zeros(a.nbytes + 1, dtype=np.uint8)
    view = buffer[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_layer_hands_the_kernels_aligned_arrays(dtype, backend, monkeypatch, rng):
    layer = sparse_layer_7x5(dtype)
    x = rng.standard_normal((4, 7)).astype(dtype)
    dout = rng.standard_normal((4, 5)).astype(dtype)
    out, cache = layer.forward(x)
    dx = layer.backward(dout, cache)
    d2x = layer.curvature(dout * dout, cache)
    handed = []
    unchecked = kernels._unchecked()

    class Spy:
        def __getattr__(self, name):
            def spy(*args):
                handed.extend(a for a in args if isinstance(a, np.ndarray))
                return getattr(unchecked, name)(*args)
            return spy

    monkeypatch.setattr(kernels, "_unchecked", Spy)
    x_shifted = misaligned(x)
    assert x_shifted.flags.c_contiguous and not x_shifted.flags.aligned
    out_shifted, cache = layer.forward(x_shifted)
    np.testing.assert_array_equal(out_shifted, out)
    np.testing.assert_array_equal(layer.backward(misaligned(dout), cache), dx)
    np.testing.assert_array_equal(layer.curvature(misaligned(dout * dout), cache), d2x)
    assert handed and all(a.flags.aligned and a.flags.c_contiguous for a in handed)


@pytest.mark.parametrize("method", ["backward", "backward_params", "curvature"])
@pytest.mark.parametrize("n_out", [4, 6])  # one column too few, one too many
def test_hashed_backward_with_a_gradient_of_the_wrong_width_raises(method, n_out, backend):
    """dV = Xᵀ dout would have the wrong shape for the bucket array: a clear
    error on both backends, not a read past the end of the bucket array in C."""
    layer = HashedDense(7, 5, K=9, seed=0, dtype=np.float64)
    _, cache = layer.forward(np.ones((3, 7)))
    name = "d2out" if method == "curvature" else "dout"
    with pytest.raises(ValueError, match=rf"^{name} must have shape \(3, 5\) .* got \(3, {n_out}\)$"):
        getattr(layer, method)(np.ones((3, n_out)), cache)


def test_hashed_weights_replaced_by_an_array_of_another_length_are_refused(backend):
    """C reads w[bucket] unchecked: w must still hold K weights at every forward."""
    layer = HashedDense(7, 5, K=9, seed=0, dtype=np.float64)
    layer.params["w"] = layer.params["w"][:4]
    with pytest.raises(ValueError, match=r"params\['w'\] must be a float32 or float64 array of shape \(9,\)"):
        layer.forward(np.ones((3, 7)))
