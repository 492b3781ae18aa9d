# %% [markdown]
# # Lesson 5 — Optimal Brain Surgeon
#
# Optimal Brain Damage (lesson 4) predicts what deleting a weight costs from
# the diagonal of the Hessian, and leaves every other weight where it is.
# Hassibi & Stork (1993), *Second order derivatives for network pruning:
# Optimal Brain Surgeon* (OBS), keep the whole Hessian. When a weight goes,
# the others move to make up for it, and the cost of the removal is
# computed with that move included.
#
# **Learning goals.** After this lesson you can
#
# 1. derive OBS's saliency $L_q = w_q^2 / (2 [H^{-1}]_{qq})$ and its
#    compensating update $\delta w$ from the full second-order expansion,
#    with one Lagrange multiplier, and show that OBD is its diagonal case;
# 2. check on a linear least-squares model, where the quadratic is exact,
#    that $L_q$ is the actual rise of the loss and $\delta w$ the exact
#    re-fit of the other weights, one removal and many;
# 3. build $H^{-1}$ of a net from the outer-product (Gauss–Newton)
#    approximation by Hassibi & Stork's rank-one recursion, and say why it
#    must be damped;
# 4. compare magnitude pruning, OBD and OBS in one shot on a tiny net;
# 5. prune a real net layer by layer (L-OBS, OBC), with one Hessian
#    $X^\top X / n$ per layer shared by all its units, and measure what the
#    compensation buys.
#
# Everything below runs through pynncomp's public API; the equations are
# stated, with the function that computes each, in `docs/methods.md`,
# section 11 (anchors `#obs`, `#obs-saliency`, `#obs-update`,
# `#obs-ranking`, `#obs-hessian`, `#lobs`, `#lobs-oneshot`).

# %% [markdown]
# ## The equations
#
# **The full second-order expansion** (Hassibi & Stork 1993). Move the
# weights by $\delta w$. With the gradient $g$ and the Hessian $H$ of the
# training loss $L$,
#
# $$
# \delta L = g^\top \delta w + \frac12\, \delta w^\top H\, \delta w
#   + O\!\left(\lVert \delta w \rVert^3\right).
# $$
#
# OBS keeps two of OBD's three bets: training has stopped at a minimum
# ($g = 0$), and the loss is quadratic that far out. It drops the third:
# the off-diagonal $h_{kl}$ stay in.
#
# **Removing weight $q$.** Removing $q$ is now a constraint on the move,
# $e_q^\top \delta w + w_q = 0$, with $e_q$ the unit vector of coordinate
# $q$. The other coordinates of $\delta w$ are free, and OBS takes the move
# that costs least:
#
# $$
# \min_{\delta w}\ \frac12\, \delta w^\top H\, \delta w
# \quad \text{subject to} \quad e_q^\top \delta w + w_q = 0 .
# $$
#
# With a Lagrange multiplier $\mu$, the stationary point of
# $\frac12 \delta w^\top H \delta w + \mu\,(e_q^\top \delta w + w_q)$
# satisfies $H \delta w + \mu e_q = 0$, so $\delta w = -\mu H^{-1} e_q$.
# The constraint then reads $-\mu [H^{-1}]_{qq} + w_q = 0$, which fixes
# $\mu = w_q / [H^{-1}]_{qq}$. This gives the **compensating update**
# (docs/methods.md#obs-update, `pynncomp.compress.obs.obs_update`) and,
# substituted into $\frac12 \delta w^\top H \delta w = \frac12 \mu^2 [H^{-1}]_{qq}$,
# the **saliency** (docs/methods.md#obs-saliency,
# `pynncomp.compress.obs.obs_saliency`):
#
# $$
# \delta w = -\frac{w_q}{[H^{-1}]_{qq}}\, H^{-1} e_q ,
# \qquad
# L_q = \frac{w_q^2}{2\, [H^{-1}]_{qq}} .
# $$
#
# **OBD is the diagonal case.** If $H$ is diagonal, $[H^{-1}]_{qq} = 1/h_{qq}$,
# $L_q = \frac12 h_{qq} w_q^2$, and $\delta w = -w_q e_q$ moves no other
# weight. In general, split the coordinates into $q$ and the rest, $K$. The
# block inverse gives $1 / [H^{-1}]_{qq} = h_{qq} - H_{qK} H_{KK}^{-1} H_{Kq}$,
# the Schur complement, which is at most $h_{qq}$ because $H_{KK}$ is
# positive definite. So $L_q \le \frac12 h_{qq} w_q^2$. On the quadratic,
# a removal with the others moving never costs more than the same removal
# with the others held still. The difference is the part of $w_q$'s work
# that weights correlated with it can take over.
#
# **One weight at a time.** After the removal, $w_q$ stays 0, and the other
# weights $K$ see the same quadratic with coordinate $q$ held fixed. Its
# Hessian is $H_{KK}$, and by the same block inverse
#
# $$
# H^{-1} \leftarrow H^{-1} - \frac{H^{-1} e_q\, e_q^\top H^{-1}}{[H^{-1}]_{qq}}
# $$
#
# has row and column $q$ equal to 0 and $(H_{KK})^{-1}$ everywhere else. OBS
# repeats: it computes the saliencies of the new $w$ with the new $H^{-1}$,
# removes the cheapest weight, applies its update, and eliminates it from
# $H^{-1}$ (`pynncomp.compress.obs.greedy_order`, which runs to the last
# weight). Removing a set $Q$ this way ends, in any order, at the minimum of
# the quadratic with $w_Q = 0$,
# $\delta w = -H^{-1}_{:,Q} (H^{-1}_{QQ})^{-1} w_Q$, at the cost
# $\delta L = \frac12 w_Q^\top (H^{-1}_{QQ})^{-1} w_Q$, which is the sum of
# the saliencies met on the way (`pynncomp.compress.obs.joint_update`).
#
# **The inverse Hessian of a net** (docs/methods.md#obs-hessian). For
# softmax cross-entropy over $N$ samples with probabilities $p_n$ and logit
# Jacobians $J_n$, the outer-product (Gauss–Newton) approximation keeps
#
# $$
# H \approx \frac1N \sum_n J_n^\top \left(\operatorname{diag}(p_n) - p_n p_n^\top\right) J_n
#   = \sum_{r} g_r\, g_r^\top ,
# \qquad g_r = \sqrt{p_{nc} / N}\; \nabla_w \left(-\log p_{nc}\right) ,
# $$
#
# one row $r$ per sample $n$ and class $c$
# (`pynncomp.compress.obs.gauss_newton_factors`). It leaves out the terms
# of the exact Hessian that hold second derivatives of the logits in the
# weights, weighted by the residuals $p_n - e_{y_n}$. What is left is
# positive semi-definite, and it holds no label. Hassibi & Stork do not
# form $H$ and invert it. They build $H^{-1}$ one outer product at a time
# by the Sherman–Morrison identity, from $H_0^{-1} = \alpha^{-1} I$:
#
# $$
# H_r^{-1} = H_{r-1}^{-1}
#   - \frac{H_{r-1}^{-1} g_r\, g_r^\top H_{r-1}^{-1}}{1 + g_r^\top H_{r-1}^{-1} g_r}
# $$
#
# (`pynncomp.compress.obs.outer_product_inverse`). The result is
# $(\alpha I + \sum_r g_r g_r^\top)^{-1}$. The start $\alpha I$ is a
# *damping*, $\alpha = \lambda \cdot \operatorname{mean}(\operatorname{diag} H)$
# with $\lambda = 0.1$ by default, and section 2 shows why it is needed.
# Whole-net OBS (`pynncomp.compress.obs_prune`) does all of the above on
# every kept weight of a net. $H^{-1}$ takes $8 m^2$ bytes, so pynncomp
# refuses nets of more than `OBS_MAX_WEIGHTS` = 4 096 weights.
#
# **Layer-wise OBS** (Dong, Chen & Pan 2017, L-OBS; Frantar & Alistarh 2022,
# OBC; docs/methods.md#lobs). For 784-100-10 the whole-net $H^{-1}$ would
# take 47 GiB. L-OBS prunes each layer $l$ on its own, so that it
# reproduces its outputs on its inputs $X$ ($n$ samples $\times$ $d$
# inputs):
#
# $$
# E_l = \frac{1}{2n} \left\lVert X \hat W - X W \right\rVert_F^2
#     = \sum_j \frac12 \left(\hat w_j - w_j\right)^\top H \left(\hat w_j - w_j\right),
# \qquad H = \frac1n X^\top X .
# $$
#
# This error is exactly quadratic, with its minimum ($E_l = 0$, gradient
# 0) at the trained $W$, so every bet of OBS holds exactly for it. Each
# output unit $j$ (column $w_j$) is its own OBS problem, and all of them
# share one $H$. While a layer is dense, they also share one $H^{-1}$: one
# inversion per layer, not one per unit.
# (`pynncomp.compress.lobs.reconstruction_hessians` computes $H$,
# `pynncomp.compress.lobs.damped` adds $\lambda \cdot \operatorname{mean}(\operatorname{diag} H) \cdot I$
# with $\lambda = 0.01$, and `pynncomp.compress.lobs_prune` prunes.)

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np

from pynncomp import course, experiment
from pynncomp.compress import lobs_prune, magnitude_saliency, obs_prune, prune
from pynncomp.compress.lobs import LOBS_DAMPING, damped, reconstruction_hessians
from pynncomp.compress.obs import (OBS_DAMPING, gauss_newton_factors, greedy_order, joint_update, obs_saliency,
                                   obs_update, outer_product_inverse)
from pynncomp.gradcheck import numerical_second_derivative, rel_error
from pynncomp.nn import SGD, Dense, ReLU, Sequential, obd_hessian, obd_saliency
from pynncomp.train import Protocol

LESSON = "05_optimal_brain_surgeon"
data = course.load_data("mnist")

# %% [markdown]
# ## 1. Exact on a quadratic: a linear least-squares model
#
# On a linear model with a squared loss,
# $E(w) = \frac{1}{2n} \lVert X w - t \rVert^2$, the Hessian is
# $H = X^\top X / n$ exactly, the least-squares $w$ is an exact minimum,
# and there is no cubic term. So OBS's predictions are not approximations
# here: they must match the loss to rounding. The model below has 8
# inputs of unequal scales on 200 samples. Input 1 is mostly a copy of
# input 0, and input 5 overlaps input 4, so some weights can stand in for
# others.
#
# For each weight $q$, the run prints:
#
# - the rise of $E$ when $w_q$ is set to 0 and the others are held still,
#   $\frac12 h_{qq} w_q^2$ (OBD's saliency, which is exact on this model);
# - OBS's $L_q$ (`obs_saliency`);
# - the actual rise after the update $\delta w$ (`obs_update`);
# - how far $w + \delta w$ is from the other weights re-fitted from scratch
#   by `np.linalg.lstsq` with input $q$ left out.

# %%
rng = np.random.default_rng(0)
n, d = 200, 8
X_lin = rng.standard_normal((n, d)) * rng.uniform(0.3, 2.0, d)
X_lin[:, 1] += 0.9 * X_lin[:, 0]
X_lin[:, 5] -= 0.7 * X_lin[:, 4]
t_lin = X_lin @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)


def squared_error(w):
    """E(w) = ‖Xw − t‖² / 2n, whose Hessian is XᵀX / n."""
    return 0.5 * np.mean((X_lin @ w - t_lin) ** 2)


def refit(kept):
    """The least-squares weights when only the inputs ``kept`` may be used (the others 0)."""
    w = np.zeros(d)
    w[kept] = np.linalg.lstsq(X_lin[:, kept], t_lin, rcond=None)[0]
    return w


w_lin = refit(np.ones(d, dtype=bool))
H_lin = X_lin.T @ X_lin / n
hinv_lin = np.linalg.inv(H_lin)
E_min = squared_error(w_lin)
L_lin = obs_saliency(w_lin, np.diag(hinv_lin))
print(f"least-squares model: {n} samples, {d} inputs, E(w*) = {E_min:.4f}, condition number of H "
      f"{np.linalg.cond(H_lin):.0f}")
print(f"{'q':>2} {'w_q':>7} {'½h_qq·w_q²':>12} {'OBS L_q':>10} {'actual rise':>12} {'max |w+δw − re-fit|':>21}")
for q in range(d):
    delta = obs_update(w_lin[q], hinv_lin[:, q], hinv_lin[q, q])
    actual = squared_error(w_lin + delta) - E_min
    kept = np.arange(d) != q
    print(f"{q:>2} {w_lin[q]:>+7.3f} {0.5 * H_lin[q, q] * w_lin[q] ** 2:>12.5f} {L_lin[q]:>10.5f} {actual:>12.5f} "
          f"{np.abs(w_lin + delta - refit(kept)).max():>21.1e}")

# %% [markdown]
# $L_q$ and the actual rise agree to every printed digit, and $w + \delta w$
# is the re-fit to rounding ($10^{-14}$ or so). OBS's $\delta w$ *is* the
# re-optimisation of the other weights, computed from $H^{-1}$ alone. For
# the correlated inputs 0, 1, 4 and 5, $L_q$ is well below
# $\frac12 h_{qq} w_q^2$, because the partner takes over. For an input with
# no partner the two are close.
#
# **Many removals.** `greedy_order(hinv, w)` runs OBS to the end, one weight
# at a time. It works on a batch of problems, hence the `[None]`. It
# returns the order and each removal's $L$. After $k$ removals, the run
# prints the sum of the $L$ so far, the rise that `joint_update` predicts
# for removing those $k$ weights together, the actual rise after re-fitting
# the rest with `lstsq`, and the rise when the same $k$ weights are simply
# set to 0 with the others held still.

# %%
order, saliency = greedy_order(hinv_lin[None], w_lin[None])
print(f"OBS removes the inputs in the order {order[0].tolist()}")
print(f"{'k':>2} {'removed':>7} {'L of it':>9} {'Σ L':>9} {'joint_update':>13} {'re-fit':>9} "
      f"{'zeroed, no update':>18}")
for k in range(1, d + 1):
    removed = np.zeros(d, dtype=bool)
    removed[order[0, :k]] = True
    delta, predicted = joint_update(hinv_lin, w_lin, removed)
    zeroed = np.where(removed, 0.0, w_lin)
    print(f"{k:>2} {order[0, k - 1]:>7} {saliency[0, k - 1]:>9.4f} {saliency[0, :k].sum():>9.4f} {predicted:>13.4f} "
          f"{squared_error(refit(~removed)) - E_min:>9.4f} {squared_error(zeroed) - E_min:>18.4f}")

# %% [markdown]
# The saliencies add up: after each step, $\sum L$ equals both the joint
# prediction and the actual rise after re-fitting. This holds because each
# step's $L$ is measured on the quadratic *after* the earlier updates, and
# the eliminated $H^{-1}$ is the inverse of the Hessian of the weights that
# are left. Here the $L$ happen to increase, but they need not: a removal
# can make a later one cheaper, and the keys that pynncomp hands the
# pruning engine account for that (docs/methods.md#obs-ranking). The last
# column shows what the updates are worth. The same weights, set to 0
# without moving the others, cost more at every $k$ after the first, and
# about four times more at $k = 4$.

# %% [markdown]
# ## 2. The inverse Hessian of a net
#
# The tiny net of lesson 4 again: the digits shrunk to 7×7 by averaging
# 4×4 blocks, 49 → 16 → 10 (944 weights), in float64, trained on 1 000
# images with full-batch SGD with momentum and no penalty. OBS needs $H$
# over all 944 weights.
#
# `gauss_newton_factors(model, X, positions)` returns the rows $g_r$, one
# per image and class, over the weights at `positions` (here all of them).
# Their outer products sum to the Gauss–Newton $H$. The run prints its
# eigenvalues: how many are zero to rounding, and the condition number once
# damped. Then it checks that Hassibi & Stork's recursion
# (`outer_product_inverse`) gives the inverse of the damped $H$ that
# `np.linalg.inv` computes directly.
#
# A link back to lesson 4. For a ReLU net the logits are linear in each
# single weight, so the terms that the Gauss–Newton approximation drops
# vanish on the diagonal: its diagonal should equal the exact second
# derivatives $\partial^2 L / \partial w_k^2$. OBD's $h$ misses those for
# the hidden layer. The run compares both with finite differences
# (`pynncomp.gradcheck.numerical_second_derivative`), as lesson 4 did: the
# quantiles of the ratio to the exact value.

# %%
n_tiny = 1000
X_tiny = (data.X_train[:n_tiny].reshape(n_tiny, 7, 4, 7, 4).mean(axis=(2, 4))
          .reshape(n_tiny, 49).astype(np.float64))
y_tiny = data.y_train[:n_tiny]

tiny = Sequential([Dense(49, 16, seed=2, dtype=np.float64), ReLU(), Dense(16, 10, seed=3, dtype=np.float64)])
optimizer = SGD(0.1, momentum=0.9)
for _ in range(course.scaled(600, 300)):
    tiny.loss_and_grads(X_tiny, y_tiny)
    optimizer.step(tiny)
loss_tiny = tiny.loss(X_tiny, y_tiny)[0]
print(f"tiny net 49-16-10: training loss {loss_tiny:.4f}, training accuracy {tiny.accuracy(X_tiny, y_tiny):.3f}")

positions = [np.arange(layer.params[name].size) for _, layer, name in tiny.parameters(prunable_only=True)]
factors = gauss_newton_factors(tiny, X_tiny, positions)
H_gn = factors.T @ factors
eigenvalues = np.linalg.eigvalsh(H_gn)
alpha = OBS_DAMPING * np.mean(np.diag(H_gn))
H_damped = H_gn + alpha * np.eye(H_gn.shape[0])
print(f"Gauss–Newton H: {factors.shape[0]} rows g_r of {factors.shape[1]} weights; "
      f"{np.sum(eigenvalues < 1e-10 * eigenvalues.max())} of {eigenvalues.size} eigenvalues below 1e-10 × the largest")
print(f"damped by α = {OBS_DAMPING} × mean(diag H) = {alpha:.2e}: condition number {np.linalg.cond(H_damped):.0f}")
hinv_tiny = outer_product_inverse(factors, alpha)
print(f"rank-one recursion against np.linalg.inv(H + αI): relative error "
      f"{rel_error(hinv_tiny, np.linalg.inv(H_damped)):.1e}")

exact_hidden = numerical_second_derivative(lambda: tiny.loss(X_tiny, y_tiny)[0], tiny[0].params["W"]).ravel()
h_obd = obd_hessian(tiny, X_tiny, y_tiny)
compared = exact_hidden > 1e-7  # above the rounding noise of the second differences (lesson 4)
print(f"hidden layer, ratio to the exact diagonal (finite differences) over {compared.sum()} of "
      f"{compared.size} weights, quantiles 5 %, 50 %, 95 %:")
for label, diagonal in (("Gauss–Newton diag(H)", np.diag(H_gn)[:exact_hidden.size]),
                        ("OBD's h", h_obd[(0, "W")].ravel())):
    q05, q50, q95 = np.quantile(diagonal[compared] / exact_hidden[compared], [0.05, 0.5, 0.95])
    print(f"  {label:>20}: {q05:.4f}, {q50:.4f}, {q95:.4f}")

# %% [markdown]
# A large share of $H$'s eigenvalues are zero. Without damping there is no
# $H^{-1}$ at all. Some of the zero directions are plain facts about the
# net. A dead hidden unit, or a pixel black on every image, gives weights
# that change no output. Adding one constant to all ten last-layer weights
# that leave a hidden unit shifts every logit of an image by the same
# amount, and leaves $p$ unchanged. In such directions the quadratic says a
# move is free: with little damping, $[H^{-1}]_{qq}$ is huge and
# $L_q \approx 0$. The damping caps those promises at a cost of
# $\frac12 \alpha \lVert \delta w \rVert^2$.
# It also keeps the moves from going far past where the loss stops being
# quadratic.
#
# The recursion gives the same matrix as direct inversion, to rounding.
# Its appeal is that $H$ never has to be formed: the samples are folded
# into $H^{-1}$ one at a time.
#
# The Gauss–Newton diagonal matches the exact second derivatives: its
# ratios are 1 to within a fraction of a percent. OBD's $h$ is off by the
# scatter that lesson 4 showed. (A few weights, outside the quantiles,
# can disagree for both. When an image's pre-activation sits within the
# finite difference's nudge of 0, the nudge crosses the ReLU's kink, and
# the second difference is no longer a second derivative.) OBS's $H$ is a
# better curvature than OBD's, even before its off-diagonal entries come
# into play.

# %% [markdown]
# ## 3. Magnitude, OBD and OBS in one shot on the tiny net
#
# Copies of the tiny net are pruned to each sparsity $S$ in one step and
# measured on their 1 000 training images, with no retraining. Each copy is
# ranked one of three ways:
#
# - by $\lvert w \rvert$ (`magnitude_saliency`);
# - by OBD's $\frac12 h w^2$, with $h$ from `obd_hessian` on the same
#   images;
# - by whole-net OBS, `obs_prune(model, X, S)`.
#
# `obs_prune` builds the damped Gauss–Newton $H^{-1}$ on `X` (here, the
# same 1 000 images), runs OBS to the end, hands the engine `prune` a key
# per weight so that it keeps exactly $\operatorname{round}((1 - S)\, m)$
# weights (docs/methods.md#obs-ranking), and moves the kept ones by
# `joint_update`. Its report holds `predicted_increase`, the rise of the
# loss that the damped quadratic predicts,
# $\frac12 \delta w^\top (H + \alpha I)\, \delta w$. The run prints that
# next to the actual rise, and the part of it that is the damping,
# $\frac12 \alpha \lVert \delta w \rVert^2$, with $\delta w$ the change
# of all the weights and $\alpha$ that of section 2.

# %%
tiny_levels = course.scaled([0.3, 0.5, 0.7, 0.8, 0.9, 0.95], [0.5, 0.8, 0.9])
tiny_saliency = {"magnitude |w|": magnitude_saliency(tiny), "OBD ½hw²": obd_saliency(tiny, hessian=h_obd)}
tiny_loss = {label: [] for label in (*tiny_saliency, "OBS")}
tiny_accuracy = {label: [] for label in tiny_loss}


def all_weights(net):
    """Both weight matrices of a 49-16-10 net, flattened into one vector."""
    return np.concatenate([net[index].params["W"].ravel() for index in (0, 2)])


print(f"{'S':>5} " + " ".join(f"{label + ': loss, acc':>24}" for label in tiny_loss)
      + "   OBS rise: predicted (of it damping), actual")
for S in tiny_levels:
    nets = {}
    for label, saliency_map in tiny_saliency.items():
        nets[label] = copy.deepcopy(tiny)
        prune(nets[label], saliency_map, S)
    nets["OBS"] = copy.deepcopy(tiny)
    report = obs_prune(nets["OBS"], X_tiny, S)
    line = f"{S:>5} "
    for label, net in nets.items():
        tiny_loss[label].append(net.loss(X_tiny, y_tiny)[0])
        tiny_accuracy[label].append(net.accuracy(X_tiny, y_tiny))
        line += f"{tiny_loss[label][-1]:>16.4f}, {tiny_accuracy[label][-1]:.3f}"
    damping_term = 0.5 * alpha * np.sum((all_weights(nets["OBS"]) - all_weights(tiny)) ** 2)
    print(line + f"   {report['predicted_increase']:.4f} ({damping_term:.4f}), {tiny_loss['OBS'][-1] - loss_tiny:.4f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.3))
for label, style in zip(tiny_loss, ("s--", "^:", "o-")):
    left.plot(tiny_levels, tiny_loss[label], style, label=label)
    right.plot(tiny_levels, tiny_accuracy[label], style, label=label)
left.axhline(loss_tiny, color="grey", lw=1, ls=":", label="unpruned net")
right.axhline(tiny.accuracy(X_tiny, y_tiny), color="grey", lw=1, ls=":", label="unpruned net")
left.set_yscale("log")
left.set_ylabel("training loss after pruning (cross-entropy, log scale)")
left.set_title("Loss on the 1 000 training images")
right.set_ylabel("training accuracy after pruning (fraction correct)")
right.set_title("Accuracy on the same images")
for ax in (left, right):
    ax.set_xlabel("sparsity S (fraction of the 944 weights removed)")
    ax.legend()
    ax.grid(alpha=0.3)
fig.suptitle("Tiny net 49-16-10 pruned in one shot, no retraining")
course.save_figure(fig, LESSON, "tiny_net_one_shot")

# %% [markdown]
# At low sparsity OBD and OBS are alike. Both first remove the weights with
# no curvature (dead units, black pixels), which cost nothing, while
# magnitude pruning already pays. From about 70 % on, OBS pulls away: its
# updates move the kept weights to cover for the removed ones, and the loss
# after pruning stays well below OBD's and magnitude's. With MNIST, this
# lesson printed training losses of 0.328 (OBS), 0.879 (OBD) and 0.850
# (magnitude) at 80 %, from 0.254 unpruned.
#
# The predicted rise tells you how far to trust the quadratic. Up to 80 %
# it is larger than the actual rise, and most of it is the damping term,
# which is in the prediction but not in the loss. At 90 % and beyond it is
# far smaller than the actual rise. Removing most of the weights in one
# step is no small move, and there the loss is no longer the quadratic. At
# 95 % no method keeps the net working, and OBS's long moves can even do
# worse than magnitude pruning, which leaves the kept weights alone.

# %% [markdown]
# ## 4. Layer-wise OBS on 784-100-10
#
# Now the study's network on the full-size digits, in float32. Its 79 400
# weights are far beyond whole-net OBS: `obs_prune` refuses it with a
# message that points to `lobs_prune`. One dense net is trained with
# `experiment.run("dense", ...)`, with the L2 penalty that all three
# pruning methods train with. Copies of it are then pruned to each $S$ in
# one step, without retraining:
#
# - by magnitude;
# - by OBD, with $h$ from `obd_hessian` on 5 000 training images, as the
#   `obd` method does;
# - by `lobs_prune(model, X, S)`, with `X` 1 000 training images, as the
#   `lobs` method does.
#
# `lobs_prune` computes each layer's $H = X^\top X / n$ on the net as it
# is before the step. For the first layer that is the $784 \times 784$
# matrix of pixel products; for the second, the $100 \times 100$ matrix of
# hidden activations. It damps $H$ with $\lambda = 0.01$, runs OBS to the
# end for every unit, and lets the engine take the lowest keys over both
# layers (scope `global`). Each key is a rise of its own layer's $E_l$.
# Then it re-fits every unit's kept weights. The run prints the first
# layer's $H$: how many pixels are black on all 1 000 images (each makes
# $H$ singular), and the condition number before and after damping.
#
# **What is shortened.** The dense net trains for 8 epochs on all the
# training images, 45 000 with MNIST (with `PYNNCOMP_LESSON_FAST=1`, 1
# epoch on 3 000 images, and fewer sparsities). pynncomp's default protocol
# (docs/protocol.md) pre-trains for 10 epochs and then prunes in 20 steps
# with retraining, 30 to 59 epochs in all. There is no retraining here at
# all: the only difference between the three nets is the pruning step. The
# table in docs/methods.md#lobs-oneshot was made the same way, one run per
# method with `pynncomp train ... --schedule oneshot --finetune-max 0`.
# This lesson shares one dense training between the three methods instead;
# with MNIST, its magnitude column reproduces that table's `magl2` column.

# %%
train = course.subset(data, course.scaled(45000, 3000))
protocol = Protocol(pretrain_epochs=course.scaled(8, 1), steps=1, finetune_max=0)
dense_net, dense_record = experiment.run("dense", train, hidden=100, seed=0, protocol=protocol)
print(f"dense 784-100-10 on {train.X_train.shape[0]} training images, {dense_record['epochs']} epochs: "
      f"test accuracy {dense_record['test_accuracy']:.4f}")
try:
    obs_prune(copy.deepcopy(dense_net), train.X_train[:10], 0.9)
except ValueError as refusal:
    print("obs_prune refuses:", refusal)

rows = np.random.default_rng(0).choice(train.X_train.shape[0], size=min(5000, train.X_train.shape[0]),
                                       replace=False)
X_obd, y_obd = train.X_train[rows], train.y_train[rows]
X_rec = X_obd[:1000]  # the images every layer's H = XᵀX/n is taken on
h_dense = obd_hessian(dense_net, X_obd, y_obd)
H_first = reconstruction_hessians(dense_net, X_rec)[0]
black = int(np.sum(np.all(X_rec == 0, axis=0)))
print(f"first layer's H = XᵀX/n: {H_first.shape}, {black} pixels black on all {X_rec.shape[0]} images; "
      f"condition number {np.linalg.cond(H_first):.1e}, damped by {LOBS_DAMPING}: "
      f"{np.linalg.cond(damped(H_first, LOBS_DAMPING)):.1e}")

# %% [markdown]
# The pruning sweep. For each method and each $S$, the run prints the test
# accuracy and the reconstruction error $\lVert X W - X \hat W \rVert_F^2$
# of each layer, summed over the 1 000 images. $X$ is the layer's input in
# the *dense* net, which is what L-OBS minimises, and the bias cancels out
# of it. For scale, the run also prints $\lVert X W \rVert_F^2$ of each
# layer. At 95 % it prints how each method shares its kept weights between
# the two layers.

# %%
levels = course.scaled([0.5, 0.7, 0.8, 0.9, 0.95, 0.98], [0.5, 0.9, 0.98])
layer_inputs = {0: X_rec.astype(np.float64)}
layer_inputs[2] = dense_net[1].forward(dense_net[0].forward(X_rec)[0])[0].astype(np.float64)
dense_outputs = {index: x @ dense_net[index].params["W"].astype(np.float64) for index, x in layer_inputs.items()}
print("‖XW‖² of the dense net: " + ", ".join(f"layer {index} {np.sum(out ** 2):.3e}"
                                            for index, out in dense_outputs.items()))


def reconstruction_error(net, index):
    """‖XW − XŴ‖²_F of layer ``index`` of ``net``, on its input in the dense net."""
    return float(np.sum((dense_outputs[index] - layer_inputs[index] @ net[index].params["W"]) ** 2))


def pruned_copy(label, S):
    net = copy.deepcopy(dense_net)
    if label == "magnitude":
        prune(net, magnitude_saliency(net), S)
    elif label == "OBD":
        prune(net, obd_saliency(net, hessian=h_dense), S)
    else:
        lobs_prune(net, X_rec, S)
    return net


methods_shown = ("magnitude", "OBD", "L-OBS")
accuracy = {label: [] for label in methods_shown}
errors = {label: {0: [], 2: []} for label in methods_shown}
print(f"{'S':>5} {'method':>9} {'test acc':>9} {'‖XW − XŴ‖² layer 0':>20} {'layer 2':>10}")
for S in levels:
    for label in methods_shown:
        net = pruned_copy(label, S)
        accuracy[label].append(net.accuracy(train.X_test, train.y_test))
        for index in (0, 2):
            errors[label][index].append(reconstruction_error(net, index))
        print(f"{S:>5} {label:>9} {accuracy[label][-1]:>9.4f} {errors[label][0][-1]:>20.3e} "
              f"{errors[label][2][-1]:>10.3e}")
        if S == 0.95:
            kept = [int(net[index].masks["W"].sum()) for index in (0, 2)]
            print(f"{'':>15} kept: {kept[0]} of 78400 in layer 0, {kept[1]} of 1000 in layer 2")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
for label, style in zip(methods_shown, ("s--", "^:", "o-")):
    left.plot(levels, accuracy[label], style, label=label)
    right.plot(levels, [e / np.sum(dense_outputs[0] ** 2) for e in errors[label][0]], style, label=label)
left.axhline(dense_record["test_accuracy"], color="grey", lw=1, ls=":", label="dense net")
left.set_ylabel("test accuracy (fraction correct)")
left.set_title(f"784-100-10 on {train.name}, one shot, no retraining")
right.set_yscale("log")
right.set_ylabel(r"$\|XW - X\hat W\|^2 / \|XW\|^2$, first layer (log scale)")
right.set_title("First layer: how well the pruned layer reproduces its outputs")
for ax in (left, right):
    ax.set_xscale("logit")
    ax.set_xticks(levels, [f"{S:.0%}" for S in levels])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel("sparsity S (% of weights removed, logit scale)")
    ax.legend()
    ax.grid(alpha=0.3)
course.save_figure(fig, LESSON, "layerwise_one_shot")

# %% [markdown]
# Magnitude and OBD fall apart past 90 %, while L-OBS holds on. With
# MNIST, this lesson printed test accuracies of 0.970 for L-OBS at 95 %,
# against 0.814 for magnitude and 0.767 for OBD, and 0.936 against 0.479
# and 0.368 at 98 %. L-OBS never looks at the labels or the loss. It only
# asks each layer to keep computing what it computed. With MNIST its
# reconstruction errors were the smallest of the three in both layers at
# every $S$; in the first layer they were 150 times smaller than
# magnitude's at 50 %, and 6 times smaller at 98 %. It also shares its
# weights differently: at 95 % it kept 590 of the last layer's 1 000
# weights, where magnitude kept 676 and OBD 745.
#
# Two things buy that. The *choice* of weights: a pixel that is always
# black, or whose information a neighbour also carries, is cheap to lose.
# And the *update*: the kept weights of each unit are re-solved to carry
# what was removed. Exercise 4 separates the two.
#
# Each layer is pruned against its inputs in the *dense* net. In the
# pruned net, the second layer receives the first layer's slightly wrong
# outputs, and the errors compound through depth. Later methods such as
# SparseGPT (Frantar & Alistarh 2023) therefore take each layer's inputs
# from the layers below as already pruned. pynncomp's `lobs` method takes
# them from the net as it is before each step, so on an iterative schedule
# every step sees the layers as the earlier steps left them.

# %% [markdown]
# ## Exercises
#
# **Graded.** Write the bodies in `tutorials/exercises/ex05_obs.py` with
# NumPy only, then run `python -m pytest tutorials/grading -k ex05`.
#
# 1. `obs_update(w, hinv, q)` returns the saliency $L_q$ and the
#    compensating update $\delta w$. `remove_coordinate(hinv, q)` returns
#    $H^{-1}$ with coordinate $q$ eliminated. The grader compares them with
#    `pynncomp.compress.obs.obs_saliency` and `obs_update`, and with
#    brute-force answers on small least-squares problems: a constrained
#    re-fit by `np.linalg.lstsq`, and `np.linalg.inv` of $H$ with row and
#    column $q$ deleted.
# 2. `obs_greedy(w, hinv, n_remove)` puts the two together: OBS one weight
#    at a time, as section 1 ran it. The grader compares it with
#    `pynncomp.compress.obs.greedy_order` and `joint_update`, and with
#    least-squares re-fits.
#
# **To think about or try.**
#
# 3. *Why damp, and what if $H$ is ill-conditioned?* Section 2 printed how
#    many eigenvalues of the Gauss–Newton $H$ are zero. Work out what
#    $L_q$ and $\delta w$ become as the damping $\lambda \to 0$, for a
#    weight with a component along such a direction. Then let
#    $\lambda \to \infty$: to which method of lesson 3 does OBS's ranking
#    tend, and what becomes of $\delta w$? Check it in section 3 with
#    `obs_prune(..., damping=...)` at 0.01, 10 and 1000, at 80 % and 90 %.
#    Compare the losses, and the keep-masks with magnitude pruning's.
#    Which $\lambda$ is best, and does the answer depend on $S$?
# 4. *One inverse per layer, and what it buys.* In section 4 all 100 units
#    of the first layer shared one $H^{-1}$. Why may they? Why can they no
#    longer share it at the second step of an iterative schedule, when each
#    unit has lost different weights? For LeNet-300-100's first layer (784
#    inputs, 300 units), count the inversions and the memory of each case,
#    and say why whole-net OBS cannot be split by unit at all. Then
#    separate the choice of weights from the update. Prune a copy of
#    `dense_net` by magnitude to 95 %, and re-fit every unit's kept weights
#    with `pynncomp.compress.lobs.refit_kept(H, w, kept, removed)`, where
#    `H = damped(reconstruction_hessians(dense_net, X_rec)[index], LOBS_DAMPING)`
#    for layer `index`. Predict where its test accuracy lands between
#    magnitude's and L-OBS's, then measure it.
