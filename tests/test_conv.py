"""Conv2D and MaxPool2D: forward against direct loops, gradients against finite
differences, the OBD curvature against brute force and against exact second
derivatives, and the argument checks.

Every oracle here is written from the definition with nested Python loops and
bounds checks, sharing no code with pynncomp.nn.conv (no window view, no
padding helper).  Derivative checks are float64 with the stated tolerance
``GRAD_RTOL``; forward and brute-force comparisons only reorder float64 sums,
hence ``EXACT_RTOL``.
"""
import numpy as np
import pytest

from pynncomp.gradcheck import GRAD_RTOL, check_layer, numerical_gradient, numerical_second_derivative, rel_error
from pynncomp.nn.conv import Conv2D, MaxPool2D, sum_windows, window_view

EXACT_RTOL = 1e-12

# (batch, channels, height, width, filters, kernel, stride, padding).  Chosen to
# cover strides 1-3, paddings 0-2, non-square kernels, unequal strides and
# paddings per axis (the last one: p_h != p_w changes the output size), and
# sizes where the stride leaves the last rows/columns out of every window:
# (8 + 2 - 3) % 2, (10 + 4 - 4) % 3 and (9 + 2 - 3) % 3 != 0.
CONV_CONFIGS = [
    (2, 1, 7, 7, 2, 3, 1, 0),
    (2, 2, 8, 7, 3, (3, 2), 2, 1),
    (1, 3, 9, 10, 2, (2, 4), 3, 2),
    (2, 2, 6, 9, 3, (1, 3), (2, 3), (0, 1)),
    (3, 2, 5, 5, 2, 5, 1, 2),
    (2, 1, 2, 3, 2, 4, 1, 1),
    (1, 2, 5, 6, 2, (2, 3), 1, (1, 2)),
]
CONV_IDS = [f"x{c[:4]}-F{c[4]}-k{c[5]}-s{c[6]}-p{c[7]}" for c in CONV_CONFIGS]

# (batch, channels, height, width, pool, stride): non-overlapping, sizes the
# pool does not divide, overlapping (stride < pool) and gapped (stride > pool).
POOL_CONFIGS = [
    (2, 3, 6, 6, 2, None),
    (2, 2, 7, 9, (2, 3), None),
    (1, 2, 7, 7, 3, 2),
    (2, 1, 8, 6, (3, 2), (1, 2)),
    (1, 2, 5, 5, 2, 3),
]
POOL_IDS = [f"x{c[:4]}-k{c[4]}-s{c[5]}" for c in POOL_CONFIGS]


def as_pair(value):
    return value if isinstance(value, tuple) else (value, value)


def make_conv(config, seed=0):
    """A float64 Conv2D of ``config``, random bias, and a random input for it."""
    B, C, H, W, F, kernel, stride, padding = config
    layer = Conv2D(C, F, kernel, stride=stride, padding=padding, seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed + 1)
    layer.params["b"][:] = rng.standard_normal(F)
    return layer, rng.standard_normal((B, C, H, W))


def random_keep_mask(layer, seed=7):
    keep = np.random.default_rng(seed).random(layer.params["W"].shape) < 0.6
    keep.flat[0], keep.flat[-1] = False, True  # at least one pruned and one kept weight
    return keep


def padded_value(x, n, c, r, q):
    """x[n, c, r, q], or the padding zero when (r, q) is outside the image."""
    inside = 0 <= r < x.shape[2] and 0 <= q < x.shape[3]
    return x[n, c, r, q] if inside else 0.0


def window_starts(size, kernel, stride, padding):
    """Top-left offsets of the windows along one axis, counted in the padded input."""
    return list(range(0, size + 2 * padding - kernel + 1, stride))


def direct_conv(x, W, b, stride, padding):
    B, C, H, Wd = x.shape
    F, _, k_h, k_w = W.shape
    (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
    rows, cols = window_starts(H, k_h, s_h, p_h), window_starts(Wd, k_w, s_w, p_w)
    out = np.zeros((B, F, len(rows), len(cols)))
    for n in range(B):
        for f in range(F):
            for i, r0 in enumerate(rows):
                for j, q0 in enumerate(cols):
                    total = b[f]
                    for c in range(C):
                        for u in range(k_h):
                            for v in range(k_w):
                                total += W[f, c, u, v] * padded_value(x, n, c, r0 + u - p_h, q0 + v - p_w)
                    out[n, f, i, j] = total
    return out


def direct_conv_curvature(x, W, d2a, stride, padding):
    """Brute-force OBD: h_W = Σ_{n,i,j} d2a·x², h_b = Σ d2a, d2x = Σ over fed outputs of W²·d2a."""
    B, C, H, Wd = x.shape
    F, _, k_h, k_w = W.shape
    (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
    rows, cols = window_starts(H, k_h, s_h, p_h), window_starts(Wd, k_w, s_w, p_w)
    h_W, h_b, d2x = np.zeros(W.shape), np.zeros(F), np.zeros(x.shape)
    for n in range(B):
        for f in range(F):
            for i, r0 in enumerate(rows):
                for j, q0 in enumerate(cols):
                    h_b[f] += d2a[n, f, i, j]
                    for c in range(C):
                        for u in range(k_h):
                            for v in range(k_w):
                                r, q = r0 + u - p_h, q0 + v - p_w
                                h_W[f, c, u, v] += d2a[n, f, i, j] * padded_value(x, n, c, r, q) ** 2
                                if 0 <= r < H and 0 <= q < Wd:
                                    d2x[n, c, r, q] += W[f, c, u, v] ** 2 * d2a[n, f, i, j]
    return h_W, h_b, d2x


def direct_maxpool(x, pool, stride):
    """Pooled output and, per output, the input position of the first maximum in row-major order."""
    B, C, H, W = x.shape
    (k_h, k_w) = as_pair(pool)
    (s_h, s_w) = as_pair(pool if stride is None else stride)
    rows, cols = window_starts(H, k_h, s_h, 0), window_starts(W, k_w, s_w, 0)
    y = np.zeros((B, C, len(rows), len(cols)))
    where = {}
    for n in range(B):
        for c in range(C):
            for i, r0 in enumerate(rows):
                for j, q0 in enumerate(cols):
                    best = (r0, q0)
                    for u in range(k_h):
                        for v in range(k_w):
                            if x[n, c, r0 + u, q0 + v] > x[n, c, best[0], best[1]]:
                                best = (r0 + u, q0 + v)
                    y[n, c, i, j] = x[n, c, best[0], best[1]]
                    where[n, c, i, j] = best
    return y, where


def direct_maxpool_routing(x, pool, stride, dy):
    _, where = direct_maxpool(x, pool, stride)
    dx = np.zeros(x.shape)
    for (n, c, i, j), (r, q) in where.items():
        dx[n, c, r, q] += dy[n, c, i, j]
    return dx


def distinct_values(shape, seed=0):
    """A random permutation of 0.01·(0, 1, ..., size-1): no ties, gaps far above the FD step."""
    return 0.01 * np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)


# ---------------------------------------------------------------- Conv2D forward


@pytest.mark.parametrize("config", CONV_CONFIGS, ids=CONV_IDS)
def test_conv_forward_matches_direct_loops(config):
    layer, x = make_conv(config)
    _, _, _, _, _, _, stride, padding = config
    out, _ = layer.forward(x)
    expected = direct_conv(x, layer.params["W"], layer.params["b"], stride, padding)
    assert out.shape == expected.shape == layer.output_shape(x.shape)
    assert rel_error(out, expected) < EXACT_RTOL


def test_conv_forward_uses_masked_weights_even_if_pruned_entries_change():
    config = CONV_CONFIGS[1]
    layer, x = make_conv(config)
    keep = random_keep_mask(layer)
    layer.set_mask("W", keep)
    assert np.all(layer.params["W"][~keep] == 0)
    layer.params["W"][~keep] = 5.0  # e.g. written by a careless optimiser: must not be revived
    out, _ = layer.forward(x)
    expected = direct_conv(x, layer.params["W"] * keep, layer.params["b"], config[6], config[7])
    assert rel_error(out, expected) < EXACT_RTOL


def test_conv_float32_forward_matches_float64():
    layer, x = make_conv(CONV_CONFIGS[2])
    out64, _ = layer.forward(x)
    out32, _ = layer.astype(np.float32).forward(x.astype(np.float32))
    assert out32.dtype == np.float32
    assert rel_error(out32, out64) < 1e-5


def test_conv_he_initialisation_and_seed():
    layer = Conv2D(20, 50, 5, seed=3)
    W = layer.params["W"]
    assert W.shape == (50, 20, 5, 5) and W.dtype == np.float32
    assert layer.params["b"].shape == (50,) and np.all(layer.params["b"] == 0)
    assert abs(W.std() / np.sqrt(2.0 / (20 * 5 * 5)) - 1) < 0.02  # 25 000 draws: std of the ratio ~ 0.5 %
    assert abs(W.mean()) < 0.01
    assert np.array_equal(W, Conv2D(20, 50, 5, seed=3).params["W"])
    assert not np.array_equal(W, Conv2D(20, 50, 5, seed=4).params["W"])


def test_conv_accepts_a_generator_as_seed_and_non_contiguous_input():
    layer = Conv2D(2, 3, 3, seed=np.random.default_rng(3), dtype=np.float64)
    twin = Conv2D(2, 3, 3, seed=np.random.default_rng(3), dtype=np.float64)
    assert np.array_equal(layer.params["W"], twin.params["W"])
    x = np.random.default_rng(0).standard_normal((2, 2, 10, 7))[:, :, ::2]  # strided, not C-contiguous
    out, _ = layer.forward(x)
    assert rel_error(out, direct_conv(x, layer.params["W"], layer.params["b"], 1, 0)) < EXACT_RTOL


@pytest.mark.parametrize("kernel, stride", [((3, 2), (1, 1)), ((2, 3), (2, 3)), ((3, 3), (2, 1)), ((2, 2), (3, 3))])
def test_sum_windows_is_the_adjoint_of_window_view(kernel, stride):
    """<window_view(x), G> = <x, sum_windows(G)> for all x, G: the defining property of col2im."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 7, 3))
    windows = window_view(x, kernel, stride)
    G = rng.standard_normal(windows.shape)
    assert abs(np.sum(windows * G) - np.sum(x * sum_windows(G, x.shape, stride))) < EXACT_RTOL * np.sum(np.abs(G))


# ---------------------------------------------------------------- Conv2D gradients


@pytest.mark.parametrize("config", CONV_CONFIGS, ids=CONV_IDS)
def test_conv_gradients_match_finite_differences(config):
    layer, x = make_conv(config)
    errors = check_layer(layer, x)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < GRAD_RTOL, errors


@pytest.mark.parametrize("config", CONV_CONFIGS[:4], ids=CONV_IDS[:4])
def test_conv_masked_gradients_match_finite_differences_and_are_zero_where_pruned(config):
    layer, x = make_conv(config)
    keep = random_keep_mask(layer)
    layer.set_mask("W", keep)
    errors = check_layer(layer, x)
    assert max(errors.values()) < GRAD_RTOL, errors
    assert np.all(layer.grads["W"][~keep] == 0)
    assert np.all(layer.grads["W"][keep] != 0)


def test_conv_pool_conv_chain_gradients_match_finite_differences():
    """The layers pass NCHW-indexed views of CHWN memory to each other; the chain must still be exact."""
    rng = np.random.default_rng(0)
    conv1 = Conv2D(2, 3, 3, padding=1, seed=1, dtype=np.float64)
    pool = MaxPool2D(2)
    conv2 = Conv2D(3, 2, (2, 3), stride=(1, 2), seed=2, dtype=np.float64)
    x = rng.standard_normal((2, 2, 8, 9))
    G = rng.standard_normal((2, 2, 3, 1))

    def objective():
        a1, _ = conv1.forward(x)
        y, _ = pool.forward(a1)
        return float(np.sum(conv2.forward(y)[0] * G))

    a1, c1 = conv1.forward(x)
    y, cp = pool.forward(a1)
    a2, c2 = conv2.forward(y)
    assert a2.shape == G.shape
    dx = conv1.backward(pool.backward(conv2.backward(G, c2), cp), c1)
    errors = {"x": rel_error(dx, numerical_gradient(objective, x))}
    for name, layer in (("conv1", conv1), ("conv2", conv2)):
        analytic = {key: value.copy() for key, value in layer.grads.items()}
        for key in ("W", "b"):
            errors[f"{name}.{key}"] = rel_error(analytic[key], numerical_gradient(objective, layer.params[key]))
    assert max(errors.values()) < GRAD_RTOL, errors


# ---------------------------------------------------------------- Conv2D curvature


@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
@pytest.mark.parametrize("config", CONV_CONFIGS[:4], ids=CONV_IDS[:4])
def test_conv_curvature_matches_brute_force(config, masked):
    layer, x = make_conv(config)
    keep = random_keep_mask(layer)
    if masked:
        layer.set_mask("W", keep)
    out, cache = layer.forward(x)
    d2a = np.random.default_rng(5).random(out.shape)
    d2x = layer.curvature(d2a, cache)
    h_W, h_b, expected_d2x = direct_conv_curvature(x, layer.params["W"], d2a, config[6], config[7])
    if masked:
        h_W *= keep
        assert np.all(layer.hessian["W"][~keep] == 0)
    assert rel_error(layer.hessian["W"], h_W) < EXACT_RTOL
    assert rel_error(layer.hessian["b"], h_b) < EXACT_RTOL
    assert rel_error(d2x, expected_d2x) < EXACT_RTOL
    assert np.all(layer.hessian["W"] >= 0) and np.all(d2x >= 0)


def test_conv_float32_curvature_keeps_the_layer_dtype():
    layer = Conv2D(2, 3, 3, seed=0)
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype(np.float32)
    out, cache = layer.forward(x)
    d2x = layer.curvature(np.ones(out.shape), cache)  # float64 from, say, a float64 loss
    assert d2x.dtype == layer.hessian["W"].dtype == layer.hessian["b"].dtype == np.float32
    dx = layer.backward(np.ones(out.shape), cache)
    assert dx.dtype == layer.grads["W"].dtype == np.float32


def half_weighted_square_loss(layer, x, weight):
    """L = ½·Σ weight·a²: ∂²L/∂a² = weight is diagonal, so OBD's h is the exact diagonal Hessian."""
    return 0.5 * float(np.sum(weight * layer.forward(x)[0] ** 2))


@pytest.mark.parametrize("config", CONV_CONFIGS[1:4], ids=CONV_IDS[1:4])
def test_conv_curvature_is_the_exact_second_derivative_of_a_weighted_square_loss(config):
    layer, x = make_conv(config)
    layer.set_mask("W", random_keep_mask(layer))
    out, cache = layer.forward(x)
    weight = np.random.default_rng(5).random(out.shape) + 0.5
    d2x = layer.curvature(weight, cache)

    # L is quadratic in each single coordinate, so the centred second
    # difference has no truncation error; eps = 1e-2 keeps rounding far below
    # the tolerance (pruned weights: L does not depend on them, h = 0).
    def loss():
        return half_weighted_square_loss(layer, x, weight)

    errors = {"x": rel_error(d2x, numerical_second_derivative(loss, x, eps=1e-2))}
    for name in ("W", "b"):
        errors[name] = rel_error(layer.hessian[name], numerical_second_derivative(loss, layer.params[name], eps=1e-2))
    assert max(errors.values()) < GRAD_RTOL, errors


def test_conv_curvature_drops_off_diagonal_terms_of_a_non_diagonal_loss():
    """L = ½·Σ_n (Σ_{f,i,j} a_nfij)²: every ∂²L/∂a² = 1 but ∂²L/∂a∂a' = 1 too.

    The exact diagonal is ∂²L/∂W_fcuv² = Σ_n (Σ_ij x̃_patch)², OBD's is
    Σ_n Σ_ij x̃_patch²; with positive inputs OBD's is smaller.
    """
    layer, x = make_conv(CONV_CONFIGS[0])
    x = np.abs(x)
    out, cache = layer.forward(x)
    layer.curvature(np.ones(out.shape), cache)

    def loss():
        return 0.5 * float(np.sum(layer.forward(x)[0].sum(axis=(1, 2, 3)) ** 2))

    exact = numerical_second_derivative(loss, layer.params["W"], eps=1e-2)
    assert np.all(layer.hessian["W"] < exact)
    assert rel_error(layer.hessian["W"], exact) > 0.5


# ---------------------------------------------------------------- MaxPool2D


@pytest.mark.parametrize("config", POOL_CONFIGS, ids=POOL_IDS)
def test_maxpool_forward_matches_direct_loops(config):
    B, C, H, W, pool, stride = config
    x = np.random.default_rng(0).standard_normal((B, C, H, W))
    y, _ = MaxPool2D(pool, stride).forward(x)
    expected, _ = direct_maxpool(x, pool, stride)
    assert y.shape == expected.shape
    assert np.array_equal(y, expected)


@pytest.mark.parametrize("config", POOL_CONFIGS, ids=POOL_IDS)
def test_maxpool_gradient_matches_finite_differences_and_routing(config):
    B, C, H, W, pool, stride = config
    layer = MaxPool2D(pool, stride)
    x = distinct_values((B, C, H, W))
    errors = check_layer(layer, x)
    assert errors["x"] < GRAD_RTOL, errors
    y, cache = layer.forward(x)
    dy = np.random.default_rng(1).standard_normal(y.shape)
    assert rel_error(layer.backward(dy, cache), direct_maxpool_routing(x, pool, stride, dy)) < EXACT_RTOL


def test_maxpool_overlapping_windows_accumulate_at_a_shared_max():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the max of all four 2x2 windows at stride 1
    layer = MaxPool2D(2, stride=1)
    y, cache = layer.forward(x)
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    assert np.array_equal(y, np.ones((1, 1, 2, 2)))
    assert np.array_equal(dx, expected)


def test_maxpool_ties_go_to_the_first_maximum_in_row_major_order():
    # Both windows tie at (0, 1) and (1, 0) (the first also at (1, 1)):
    # row-major order picks (0, 1), column-major would pick (1, 0).
    x = np.array([[[[0.0, 3.0, 1.0, 2.0],
                    [3.0, 3.0, 2.0, 0.5]]]])
    y, cache = MaxPool2D(2).forward(x)
    dx = MaxPool2D(2).backward(np.array([[[[1.0, 1.0]]]]), cache)
    assert np.array_equal(y, [[[[3.0, 2.0]]]])
    assert np.array_equal(dx, [[[[0.0, 1.0, 0.0, 1.0],
                                  [0.0, 0.0, 0.0, 0.0]]]])


@pytest.mark.parametrize("config", POOL_CONFIGS, ids=POOL_IDS)
def test_maxpool_curvature_routes_like_the_gradient(config):
    B, C, H, W, pool, stride = config
    layer = MaxPool2D(pool, stride)
    x = distinct_values((B, C, H, W), seed=2)
    y, cache = layer.forward(x)
    d2y = np.random.default_rng(3).random(y.shape)
    d2x = layer.curvature(d2y, cache)
    assert rel_error(d2x, direct_maxpool_routing(x, pool, stride, d2y)) < EXACT_RTOL
    assert layer.hessian == {} and layer.params == {}


def test_maxpool_keeps_float32():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    layer = MaxPool2D(2)
    y, cache = layer.forward(x)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y), cache).dtype == np.float32


# ---------------------------------------------------------------- argument checks


@pytest.mark.parametrize("kwargs, error, match", [
    ({"in_channels": 0}, ValueError, r"in_channels must be an integer >= 1, got 0"),
    ({"in_channels": 2.0}, TypeError, r"in_channels must be an integer >= 1, got float 2\.0"),
    ({"out_channels": -3}, ValueError, r"out_channels must be an integer >= 1, got -3"),
    ({"kernel_size": (3, 0)}, ValueError, r"kernel_size must be an integer >= 1 or a pair .*, got \(3, 0\)"),
    ({"kernel_size": (3, 3, 3)}, TypeError, r"kernel_size must be an integer or a pair of integers, got \(3, 3, 3\)"),
    ({"kernel_size": True}, TypeError, r"kernel_size must be an integer or a pair of integers, got True"),
    ({"stride": 0}, ValueError, r"stride must be an integer >= 1 .*got 0"),
    ({"padding": -1}, ValueError, r"padding must be an integer >= 0 .*got -1"),
    ({"padding": 1.5}, TypeError, r"padding must be an integer or a pair of integers, got 1\.5"),
    ({"dtype": np.int32}, TypeError, r"dtype must be float32 or float64, got .*int32"),
    ({"dtype": np.float16}, TypeError, r"dtype must be float32 or float64, got .*float16"),
])
def test_conv_constructor_rejects_bad_arguments(kwargs, error, match):
    args = {"in_channels": 2, "out_channels": 3, "kernel_size": 3, **kwargs}
    in_channels, out_channels, kernel_size = args.pop("in_channels"), args.pop("out_channels"), args.pop("kernel_size")
    with pytest.raises(error, match=match):
        Conv2D(in_channels, out_channels, kernel_size, **args)


@pytest.mark.parametrize("x, error, match", [
    ([[[[0.0]]]], TypeError, r"x must be a numpy.ndarray of float32 or float64, got list"),
    (np.zeros((1, 2, 5, 5), dtype=np.int64), TypeError, r"x must be .*float32 or float64, got dtype int64"),
    (np.zeros((1, 2, 5, 5), dtype=np.float32), TypeError, r"x must have dtype float64 \(the layer's.*got float32"),
    (np.zeros((2, 5, 5)), ValueError, r"x must be 4-D .*got shape \(2, 5, 5\)"),
    (np.zeros((1, 3, 5, 5)), ValueError, r"x must have 2 channels .*got shape \(1, 3, 5, 5\)"),
    (np.zeros((1, 2, 5, 1)), ValueError, r"x must be at least 1x2 .*\(3, 4\).*padding \(1, 1\).*\(1, 2, 5, 1\)"),
])
def test_conv_forward_rejects_bad_inputs(x, error, match):
    layer = Conv2D(2, 3, (3, 4), padding=1, dtype=np.float64)
    with pytest.raises(error, match=match):
        layer.forward(x)


def test_conv_backward_rejects_a_mismatched_upstream_gradient():
    layer = Conv2D(2, 3, 3, dtype=np.float64)
    out, cache = layer.forward(np.zeros((1, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"dout must be .*\(1, 3, 3, 3\), got \(1, 3, 3, 2\)"):
        layer.backward(np.zeros((1, 3, 3, 2)), cache)
    with pytest.raises(ValueError, match=r"d2out must be .*\(1, 3, 3, 3\), got list"):
        layer.curvature([0.0], cache)


@pytest.mark.parametrize("args, error, match", [
    ((0,), ValueError, r"pool_size must be an integer >= 1 .*got 0"),
    ((2.5,), TypeError, r"pool_size must be an integer or a pair of integers, got 2\.5"),
    ((2, 0), ValueError, r"stride must be an integer >= 1 .*got 0"),
    ((2, (1, -1)), ValueError, r"stride must be an integer >= 1 .*\(1, -1\)"),
])
def test_maxpool_constructor_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        MaxPool2D(*args)


@pytest.mark.parametrize("x, error, match", [
    (np.zeros((1, 1, 4, 4), dtype=np.int32), TypeError, r"x must be .*got dtype int32"),
    (np.zeros((4, 4)), ValueError, r"x must be 4-D .*got shape \(4, 4\)"),
    (np.zeros((1, 1, 2, 4)), ValueError, r"x must be at least 3x3 .*pool_size \(3, 3\).*\(1, 1, 2, 4\)"),
])
def test_maxpool_forward_rejects_bad_inputs(x, error, match):
    with pytest.raises(error, match=match):
        MaxPool2D(3).forward(x)
