# %% [markdown]
# # Lesson 1 — Layers and gradients
#
# **Learning goals.** After this lesson you can
#
# 1. say what a pynncomp layer is: a `forward` that returns its output and a *cache*, and a `backward`
#    that turns the gradient of the loss with respect to the output into the gradients of the input and
#    of every parameter;
# 2. write the three gradients of a dense layer, the gradient of ReLU and the gradient of softmax
#    cross-entropy;
# 3. check any hand-written gradient against centred finite differences, and explain why the check runs
#    in float64 and what relative error counts as a pass;
# 4. say what a keep-mask (a pruned weight) does to the forward pass and to the gradient.
#
# **The equations.** Rows are samples: a batch $X$ has shape $(B, n_{in})$ and a dense layer's weight
# $W$ has shape $(n_{in}, n_{out})$. A pruned layer carries a boolean keep-mask $M$ of the shape of $W$
# and multiplies with $W \odot M$. Backpropagation (Rumelhart, Hinton & Williams 1986) hands each layer
# $dY = \partial L / \partial Y$, of shape $(B, n_{out})$, and the chain rule gives
#
# $$
# Y = X (W \odot M) + b, \qquad
# \frac{\partial L}{\partial W} = \left(X^\top dY\right) \odot M, \qquad
# \frac{\partial L}{\partial b} = \sum_{b=1}^{B} dY_b, \qquad
# dX = dY \left(W \odot M\right)^\top .
# $$
#
# ReLU passes the gradient where its input was positive: $f(a) = \max(a, 0)$, $f'(a) = [a > 0]$, and
# $f'(0) = 0$ by convention. The loss is the softmax cross-entropy of logits $z$ $(B, C)$ and labels $y_b$,
# averaged over the batch, so the factor $1/B$ appears once, here, and every gradient below it is
# already a batch mean:
#
# $$
# p_{bc} = \frac{e^{z_{bc}}}{\sum_{c'} e^{z_{bc'}}}, \qquad
# L = -\frac{1}{B} \sum_b \log p_{b y_b}, \qquad
# \frac{\partial L}{\partial z_{bc}} = \frac{p_{bc} - [c = y_b]}{B} .
# $$
#
# A gradient is checked against the centred finite difference of a scalar function $f$ along each
# coordinate $e_t$, and the two are compared by one relative error over the whole array:
#
# $$
# \hat g_t = \frac{f(x + \varepsilon e_t) - f(x - \varepsilon e_t)}{2 \varepsilon}, \qquad
# \operatorname{err}(g, \hat g) = \frac{\max_t |g_t - \hat g_t|}{\max\left(\max_t |g_t|, \max_t |\hat g_t|\right)} .
# $$
#
# These are the equations of `docs/methods.md#dense` and `docs/methods.md#loss`; the finite differences
# are those of the CS231n assignments, kept in `pynncomp/gradcheck.py`.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from pynncomp import kernels
from pynncomp.course import save_figure
from pynncomp.gradcheck import (
    EPS,
    GRAD_RTOL,
    check_layer,
    numerical_gradient,
    rel_error,
)
from pynncomp.nn import (
    SGD,
    Conv2D,
    Dense,
    HashedDense,
    MaxPool2D,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
)

LESSON = "01_layers_and_gradients"
rng = np.random.default_rng(0)
print(f"kernel backend: {kernels.ACTIVE_BACKEND}")

# %% [markdown]
# ## 1. A layer is a forward/backward pair with a cache
#
# Every layer follows the contract of `pynncomp/nn/base.py`:
#
# * `forward(x, train=False)` returns `(out, cache)`; the cache holds what the backward pass will need
#   (for a dense layer: the input $X$ and the weight it used, $W \odot M$);
# * `backward(dout, cache)` receives $dY$ and returns $dX$, and writes $\partial L / \partial p$ into
#   `layer.grads[name]` for every parameter `name` in `layer.params`.
#
# Nothing else is remembered between the two calls, so a layer can run forward on many batches and
# backward on any of them. Below, `pynncomp.nn.Dense` (the first three equations above,
# `Dense.forward` and `Dense.backward`, `docs/methods.md#dense`) runs on a batch of 5 samples. We work
# in float64 throughout this lesson, for the finite differences of section 3; training uses float32.

# %%
dense = Dense(6, 4, seed=0, dtype=np.float64)
x = rng.standard_normal((5, 6))
out, cache = dense.forward(x)
dout = rng.standard_normal(out.shape)          # stands for dL/dY, handed down by the layer above
dx = dense.backward(dout, cache)

print(f"x {x.shape}  W {dense.params['W'].shape}  b {dense.params['b'].shape}  ->  Y {out.shape}")
print(f"cache holds X {cache[0].shape} and the weight used, W ⊙ M {cache[1].shape}")
print(f"backward: dX {dx.shape}, grads['W'] {dense.grads['W'].shape}, grads['b'] {dense.grads['b'].shape}")

# %% [markdown]
# Each gradient has the shape of what it differentiates: $dX$ that of $X$, $\partial L/\partial W$ that
# of $W$. That is a quick test of any formula you write: $X^\top dY$ is $(n_{in}, B)(B, n_{out})$, the
# shape of $W$, and $dY W^\top$ is $(B, n_{out})(n_{out}, n_{in})$, the shape of $X$. The bias gradient
# sums over the batch because the same $b$ is added to every row.
#
# ## 2. ReLU and the loss
#
# `pynncomp.nn.ReLU` caches the boolean $[a > 0]$ and multiplies $dY$ by it (`ReLU.backward`,
# `docs/methods.md#dense`). `pynncomp.nn.SoftmaxCrossEntropy` (`docs/methods.md#loss`) subtracts each row's
# largest logit before exponentiating, which changes no $p_{bc}$ but keeps $e^{z}$ from overflowing, and
# its `backward` returns $(p - \text{onehot}(y)) / B$. Two facts to check in the printout: with all
# logits equal, every $p_{bc} = 1/C$ and $L = \log C$; and each row of $\partial L / \partial z$ sums to
# zero, because the $p_{bc}$ of a row sum to one.

# %%
relu = ReLU()
a = np.array([[-1.5, 0.0, 2.0]])
y_relu, relu_cache = relu.forward(a)
print(f"ReLU: a = {a[0]}  ->  y = {y_relu[0]};  dL/da for dL/dy = 1: {relu.backward(np.ones_like(a), relu_cache)[0]}")

loss_layer = SoftmaxCrossEntropy()
C = 10
labels = rng.integers(0, C, size=8)
uniform_loss, _ = loss_layer.forward(np.zeros((8, C)), labels)
print(f"all logits equal: L = {uniform_loss:.6f}, log C = {np.log(C):.6f}")

z = 3 * rng.standard_normal((8, C))
loss, loss_cache = loss_layer.forward(z, labels)
dz = loss_layer.backward(loss_cache)
print(f"random logits: L = {loss:.4f}; largest |row sum of dL/dz| = {np.abs(dz.sum(axis=1)).max():.1e}")
huge, _ = loss_layer.forward(z + 1000.0, labels)
print(f"the same logits + 1000 (e^1000 overflows float64): L = {huge:.4f}, unchanged")

# %% [markdown]
# ## 3. Finite differences: why float64, and what tolerance
#
# A hand-written gradient is easy to get subtly wrong (a missing transpose, a forgotten $1/B$, a mask
# left out), and the network still trains, only worse. The remedy is to compare it with the centred
# difference $\hat g$ of the equations above, computed by `pynncomp.gradcheck.numerical_gradient`
# (it nudges each entry of the array in place and puts it back), and to measure the gap with
# `pynncomp.gradcheck.rel_error`.
#
# How small can the gap be? A Taylor expansion gives two errors that pull in opposite directions:
#
# $$
# \hat g_t - g_t \approx
# \underbrace{\frac{\varepsilon^2}{6} f'''(x)}_{\text{truncation}}
# \; + \; \underbrace{\frac{u\,|f(x)|}{\varepsilon}}_{\text{rounding}} ,
# $$
#
# where $u$ is the unit roundoff of the arithmetic: $f$ is computed with a relative error of order $u$,
# and the difference of two nearly equal values of $f$ divided by $2\varepsilon$ magnifies it. The sum is
# smallest at $\varepsilon \approx u^{1/3}$, where it is of order $u^{2/3}$. In float64,
# $u = 2^{-53} \approx 1.1 \times 10^{-16}$, so the best error is around $10^{-11}$ and any $\varepsilon$
# from about $10^{-8}$ to $10^{-4}$ does well; pynncomp uses $\varepsilon = 10^{-6}$ (`gradcheck.EPS`) and
# calls a gradient correct when the relative error is below $10^{-6}$ (`gradcheck.GRAD_RTOL`), far above
# what rounding produces and far below the error of order 1 that a wrong formula gives. In float32,
# $u = 2^{-24} \approx 6 \times 10^{-8}$ and the best achievable error, about $u^{2/3} \approx 10^{-5}$,
# is already above the tolerance: a float32 check cannot tell a correct gradient from a slightly wrong one.
#
# The cell below measures this on a small two-layer network (Dense → ReLU → Dense → softmax
# cross-entropy): the gradient of the loss with respect to the first weight matrix, from
# `Sequential.loss_and_grads`, against centred differences for $\varepsilon$ from $10^{-13}$ to $10^{-1}$,
# once with the loss computed in float64 and once with the same network in float32.

# %%
def small_net(dtype):
    return Sequential([Dense(8, 5, seed=1, dtype=dtype), ReLU(), Dense(5, 3, seed=2, dtype=dtype)])


net64, net32 = small_net(np.float64), small_net(np.float32)
X_small = rng.standard_normal((10, 8))
y_small = rng.integers(0, 3, size=10)
net64.loss_and_grads(X_small, y_small)
analytic = net64.layers[0].grads["W"].copy()
W64 = net64.layers[0].params["W"]               # numerical_gradient nudges this array in place


def loss64():
    return net64.loss(X_small, y_small)[0]


def loss32():
    # the same W, rounded to float32, through the float32 copy of the network
    net32.layers[0].params["W"] = W64.astype(np.float32)
    return net32.loss(X_small.astype(np.float32), y_small)[0]


steps = np.logspace(-13, -1, 25)
errors64 = [rel_error(analytic, numerical_gradient(loss64, W64, eps)) for eps in steps]
errors32 = [rel_error(analytic, numerical_gradient(loss32, W64, eps)) for eps in steps]
for name, errors in (("float64", errors64), ("float32", errors32)):
    best = int(np.argmin(errors))
    print(f"{name}: smallest relative error {errors[best]:.1e} at eps = {steps[best]:.0e}; "
          f"at pynncomp's eps = {EPS:.0e}: {errors[int(np.argmin(abs(steps - EPS)))]:.1e}")
print(f"unit roundoff u: float64 {np.finfo(np.float64).eps / 2:.1e}, float32 {np.finfo(np.float32).eps / 2:.1e}")

fig, ax = plt.subplots(figsize=(6.4, 4.2))
ax.loglog(steps, errors64, "o-", label="loss computed in float64")
ax.loglog(steps, errors32, "s-", label="loss computed in float32")
ax.axhline(GRAD_RTOL, color="k", linestyle="--", label=f"tolerance GRAD_RTOL = {GRAD_RTOL:.0e}")
ax.axvline(EPS, color="gray", linestyle=":", label=f"pynncomp's step EPS = {EPS:.0e}")
ax.set_xlabel(r"finite-difference step $\varepsilon$ (dimensionless)")
ax.set_ylabel("relative error of the gradient (dimensionless)")
ax.set_title("Centred differences: rounding error (left) vs truncation error (right)")
ax.legend(fontsize=8)
save_figure(fig, LESSON, "finite_difference_error_vs_step")

# %% [markdown]
# Read the figure from right to left. For large $\varepsilon$ the truncation term dominates and the error
# falls as $\varepsilon^2$ (two decades per decade of $\varepsilon$); for small $\varepsilon$ rounding
# dominates and the error grows as $1/\varepsilon$. At the far left of the float32 curve the error is 1:
# a step smaller than float32's spacing near $W_t$ leaves $W_t$ unchanged once rounded, both values of the
# loss are equal and the "gradient" is 0. Between them is the bottom of the V, which the run
# above prints for both precisions: the float64 curve dips far below the dashed tolerance over a wide
# range of steps, the float32 curve never gets there. This is why every gradient check in pynncomp (and in
# this course's graders) runs in float64: the layers compute in the dtype of their parameters, so a layer
# is checked by building it with `dtype=np.float64` (or calling `layer.astype(np.float64)`).
#
# One more thing the right end of the float64 curve can show: ReLU has a kink at 0. A step large enough
# to push some pre-activation across 0 is no longer measuring one smooth function, and the error jumps.
#
# ## 4. Checking every layer
#
# `pynncomp.gradcheck.check_layer(layer, x)` does the whole check for one layer. It picks a fixed random
# $G$ of the output's shape and uses the scalar $s = \sum_{\text{entries}} \text{forward}(x) \odot G$, whose
# gradient with respect to the output is exactly $G$; so `backward(G, cache)` must return
# $\partial s / \partial x$ and fill `grads` with $\partial s / \partial p$, and each is compared with centred
# differences of $s$. It returns one relative error per array: `"x"` and every parameter name.
#
# Below it checks each kind of layer pynncomp has: `Dense`, a `Dense` with a keep-mask, `Conv2D` (with
# stride and padding, `docs/methods.md#conv`), `MaxPool2D`, `HashedDense` (whose $K$ real weights are
# shared by many virtual ones, `docs/methods.md#hashed-layer`), and ReLU. The last bar is a deliberately
# broken dense layer whose backward pass forgets the keep-mask, to show what a wrong gradient looks like.

# %%
class DenseThatForgetsTheMask(Dense):
    """A deliberately wrong layer: its weight gradient is X^T dY, without ⊙ M."""

    def backward_params(self, dout, cache):
        x, _ = cache
        self.grads["W"] = x.T @ dout
        self.grads["b"] = dout.sum(axis=0)


def with_half_pruned(layer):
    layer.set_mask("W", np.random.default_rng(5).random(layer.params["W"].shape) > 0.5)
    return layer


x_flat = rng.standard_normal((5, 6))
x_image = rng.standard_normal((2, 2, 7, 7))    # (batch, channels, height, width)
cases = [
    ("Dense", Dense(6, 4, seed=0, dtype=np.float64), x_flat),
    ("Dense, half pruned", with_half_pruned(Dense(6, 4, seed=0, dtype=np.float64)), x_flat),
    ("Conv2D 3x3, stride 2, pad 1", Conv2D(2, 3, 3, stride=2, padding=1, seed=0, dtype=np.float64), x_image),
    ("MaxPool2D 2x2", MaxPool2D(2), rng.standard_normal((2, 3, 6, 6))),
    ("HashedDense, K = 6 of 24", HashedDense(6, 4, K=6, seed=0, dtype=np.float64), x_flat),
    ("ReLU", ReLU(), x_flat),
    ("broken: forgets the mask", with_half_pruned(DenseThatForgetsTheMask(6, 4, seed=0, dtype=np.float64)), x_flat),
]

bar_labels, bar_errors = [], []
print(f"{'layer':<30} {'array':<6} {'relative error':>15}   (tolerance {GRAD_RTOL:.0e})")
for name, layer, layer_input in cases:
    for array, error in check_layer(layer, layer_input).items():
        verdict = "pass" if error < GRAD_RTOL else "FAIL"
        print(f"{name:<30} {array:<6} {error:>15.1e}   {verdict}")
        bar_labels.append(f"{name}: d{array}")
        bar_errors.append(error)

fig, ax = plt.subplots(figsize=(7.5, 5.2))
colours = ["tab:blue" if error < GRAD_RTOL else "tab:red" for error in bar_errors]
ax.barh(range(len(bar_errors)), bar_errors, color=colours)
tolerance_line = ax.axvline(GRAD_RTOL, color="k", linestyle="--")
ax.set_xscale("log")
ax.set_yticks(range(len(bar_errors)), bar_labels, fontsize=8)
ax.invert_yaxis()
ax.set_xlabel(f"relative error against centred differences, eps = {EPS:.0e} (dimensionless)")
ax.set_title("Gradient check of every layer and parameter (float64)")
ax.legend([tolerance_line, Patch(color="tab:blue"), Patch(color="tab:red")],
          [f"tolerance GRAD_RTOL = {GRAD_RTOL:.0e}", "below the tolerance: pass", "above the tolerance: fail"],
          loc="upper right", fontsize=8)
save_figure(fig, LESSON, "gradient_check_per_layer")

# %% [markdown]
# Every real layer passes by several orders of magnitude; the broken one fails on its weight gradient
# only, and by an error of order one, not $10^{-5}$: its $dX$ and $db$ are right. A wrong gradient is not
# a little wrong, which is why a tolerance as loose as $10^{-6}$ is safe.
#
# ## 5. What a keep-mask does to the gradient
#
# Pruning a weight means installing a keep-mask with `layer.set_mask("W", keep)` (`Layer.set_mask`,
# `docs/methods.md#masks`). It sets the pruned entries of `params["W"]` to exactly 0, and from then on the
# layer computes with $W \odot M$. So a pruned weight no longer influences the output at all: nudging it
# changes nothing, its finite-difference gradient is exactly 0, and the layer's own gradient
# $(X^\top dY) \odot M$ is exactly 0 there too. That is what the broken layer above got wrong: it reported
# a gradient for weights that have none.
#
# The mask is also what keeps a pruned weight dead during training: `pynncomp.nn.SGD` multiplies its
# whole update by $M$ (`SGD.step`, `docs/methods.md#optimizer`; lesson 2 derives the update), so one
# training step leaves the pruned weights at exactly 0.

# %%
layer = with_half_pruned(Dense(6, 4, seed=0, dtype=np.float64))
keep = layer.masks["W"]
out, cache = layer.forward(x_flat)
G = rng.standard_normal(out.shape)
layer.backward(G, cache)
numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x_flat)[0] * G)), layer.params["W"])
print(f"{keep.sum()} of {keep.size} weights kept")
print(f"pruned weights: largest |W| = {np.abs(layer.params['W'][~keep]).max()}, "
      f"largest |dW| (backward) = {np.abs(layer.grads['W'][~keep]).max()}, "
      f"largest |dW| (finite differences) = {np.abs(numeric[~keep]).max()}")
print(f"kept weights: relative error of dW = {rel_error(layer.grads['W'][keep], numeric[keep]):.1e}")

model = Sequential([layer])
model.loss_and_grads(x_flat, rng.integers(0, 4, size=5))
SGD(lr=0.1, momentum=0.9).step(model)
print(f"after one SGD step: largest |W| among pruned weights = {np.abs(layer.params['W'][~keep]).max()}, "
      f"kept weights moved by up to {np.abs(layer.params['W'] - cache[1])[keep].max():.3f}")

# %% [markdown]
# ## Exercises
#
# 1. **Graded: the backward passes.** Open `tutorials/exercises/ex01_gradients.py` and write
#    `dense_backward`, `relu_backward`, `masked_dense_backward` (the dense layer with a keep-mask) and
#    `numerical_gradient` (the centred difference of section 3) with NumPy alone. Grade them with
#    `python -m pytest tutorials/grading -k ex01`: the grader compares them with pynncomp's layers, with
#    `pynncomp.gradcheck` and with finite differences; a function not written yet is reported as skipped.
# 2. **Predict, then try.** In section 3, the truncation error grows as $\varepsilon^2$. With a one-sided
#    difference $(f(x + \varepsilon e_t) - f(x)) / \varepsilon$ it grows as $\varepsilon$ instead: where would
#    the bottom of the V move, and how deep would it be in float64? Change `numerical_gradient` in your
#    exercise file to the one-sided form, import it into section 3 in place of pynncomp's to redraw the
#    figure, and see which grader test catches it.
# 3. **Break a layer on purpose.** Copy `DenseThatForgetsTheMask` and make two other classic mistakes
#    instead: divide the weight gradient by the batch size (the loss already did), or write a ReLU whose
#    backward uses $[a \ge 0]$ instead of $[a > 0]$. Predict which arrays `check_layer` flags each time and by
#    how much, then run it. Why does the second mistake go unnoticed on random inputs, and on what kind of
#    input would it matter?
