# %% [markdown]
# # Lesson 3 — Magnitude pruning
#
# **Learning goals.** After this lesson you can
#
# - say what a keep-mask does to a weight while the net trains, and check it;
# - work out how many weights a pruning step keeps, and which ones go when magnitudes tie;
# - predict where global and per-layer ranking keep their weights in a 784-100-10 net;
# - compare one-shot with iterative pruning, and the comparative study's schedule with Zhu & Gupta's;
# - explain what an L1 and an L2 penalty do to the distribution of the weights, and why that
#   matters for a cut made without retraining.
#
# **The method.** Magnitude pruning (Han, Pool, Tran & Dally 2015; the MagL1 and MagL2 of
# Baktash, Natale & Viennot 2019, "the study" below) takes the size of a weight as its
# importance: the *saliency* of weight $k$ is $s_k = \lvert w_k \rvert$, and a pruning step
# removes the weights of lowest saliency.
#
# A removed weight is not deleted from the array: a boolean keep-mask $M$ of the weight's
# shape records it, and the layer computes with $W \odot M$. For a dense layer
#
# $$ Y = X (W \odot M) + b, \qquad \frac{\partial L}{\partial W} = (X^\top dY) \odot M , $$
#
# and the momentum step of SGD, with penalty $R$, multiplies the whole update by $M$:
#
# $$ v \leftarrow \big(\mu v - \eta (g + \nabla R(w))\big) \odot M, \qquad w \leftarrow w + v . $$
#
# So a pruned weight is exactly 0 and stays 0: it gets no gradient, no momentum and no penalty.
#
# A step to sparsity $S$ (the fraction of weights removed) over $m$ weights keeps exactly
#
# $$ n_{kept} = \operatorname{round}\big((1 - S)\, m\big) $$
#
# weights, rounding half to even. Weights are removed in ascending order of the key
# (saliency, position of the layer, row-major index in the layer), with the weights already
# pruned first of all, so ties are broken the same way every time.
#
# Iterative pruning reaches $S$ in $k$ steps. The study's schedule takes big steps first,
#
# $$ S_i = S \left(\frac{i}{k}\right)^{1/c}, \qquad i = 1, \dots, k, \quad c \ge 1 , $$
#
# and Zhu & Gupta (2018) proposed a cubic one, $S_i = S\,\big(1 - (1 - i/k)^3\big)$.
#
# The net trains with one of two penalties on its weights (never on its biases):
#
# $$ R_{L1}(w) = \lambda \sum_k \lvert w_k \rvert, \quad \nabla R_{L1} = \lambda \operatorname{sign}(w), \qquad
#    R_{L2}(w) = \frac{\lambda}{2} \sum_k w_k^2, \quad \nabla R_{L2} = \lambda w . $$
#
# All of these are stated in `docs/methods.md`, section 2 (`#masks`, `#magnitude`, `#penalties`,
# `#scope`, `#exact-sparsity`, `#schedules`), with the function that computes each.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np

from pynncomp import course, experiment, models
from pynncomp.compress import cubic_schedule, kept_count, magnitude_saliency, power_schedule, prune
from pynncomp.nn import L1, L2, SGD, Dense, Sequential
from pynncomp.reproduce.paper import TABLE1
from pynncomp.train import Protocol

LESSON = "03_magnitude_pruning"
data = course.load_data("mnist")

# %% [markdown]
# ## The runs of this lesson are short
#
# pynncomp's default `Protocol()`, its reading of the study's protocol (`docs/protocol.md`),
# trains 10 epochs, prunes in 20 steps one epoch apart, then fine-tunes for up to 30 epochs
# (stopping after 3 without a better validation accuracy), on 45 000 training images: 30 to 59
# epochs per run. To keep the lesson
# to a minute or two, every run here trains on the first 15 000 training images and follows a
# much shorter timetable, printed below: about 10 epochs per run. Every method still gets the
# same budget, so the comparisons are fair, but the accuracies are a point or more below the
# study's, and the highest sparsities suffer most. Validation and test images are the full sets.

# %%
train_data = course.subset(data, course.scaled(15_000, 6_000))
SHORT = Protocol(pretrain_epochs=course.scaled(3, 1), steps=course.scaled(5, 3),
                 finetune_max=course.scaled(3, 1), patience=1)
STUDY = Protocol()
print(f"training images: here {train_data.X_train.shape[0]}, study 45000")
for field in ("pretrain_epochs", "steps", "prune_every", "power", "finetune_max", "patience"):
    print(f"  {field:<16} here {getattr(SHORT, field):>4}   study {getattr(STUDY, field):>4}")
print(f"fixed epochs before fine-tuning: here {SHORT.fixed_epochs}, study {STUDY.fixed_epochs}")

# %% [markdown]
# ## 1. The keep-mask during training
#
# `pynncomp.compress.magnitude_saliency(model)` returns $s = \lvert w \rvert$ for every prunable
# weight (`docs/methods.md#magnitude`), and `pynncomp.compress.prune(model, saliency, S)`
# installs the keep-masks through `Layer.set_mask` (`pynncomp/nn/base.py`), which zeroes the
# weights it removes (`docs/methods.md#masks`). Below, a fresh 784-100-10 net takes 10 SGD
# steps with momentum and an L1 penalty, is pruned to 90 % *while its velocities are nonzero*,
# and takes 10 more steps. `SGD.step` (`pynncomp/nn/optim.py`) multiplies the update, old
# velocity included, by $M$; the run prints, over the pruned entries, the largest weight,
# gradient and velocity (all three must be exactly 0), and how far the kept weights moved.

# %%
net = models.build("mlp", 100, seed=0)
sgd = SGD(lr=STUDY.lr, momentum=STUDY.momentum, penalty=L1(STUDY.l1))
X, y = train_data.X_train, train_data.y_train


def sgd_steps(model, optimizer, n, start):
    for b in range(start, start + n):
        model.loss_and_grads(X[16 * b:16 * (b + 1)], y[16 * b:16 * (b + 1)])
        optimizer.step(model)


sgd_steps(net, sgd, 10, 0)
report = prune(net, magnitude_saliency(net), 0.9)
print(f"pruned to S = 0.9: {report['kept']} of {report['total']} weights kept")
before = {i: net.layers[i].params["W"].copy() for i in (0, 2)}
sgd_steps(net, sgd, 10, 10)
for i in (0, 2):
    layer = net.layers[i]
    pruned = ~layer.masks["W"]
    velocity = sgd.velocity[(layer, "W")]
    moved = np.abs(layer.params["W"] - before[i])[~pruned].mean()
    print(f"layer {i}: {pruned.sum():>5} pruned; over them max |w| = {np.abs(layer.params['W'][pruned]).max()}, "
          f"max |dL/dw| = {np.abs(layer.grads['W'][pruned]).max()}, max |v| = {np.abs(velocity[pruned]).max()}; "
          f"kept weights moved by {moved:.1e} on average")

# %% [markdown]
# A pruned weight is never revived. Asking for a *lower* sparsity than the net has now would
# need weights back, and `prune` refuses before it changes any mask:

# %%
try:
    prune(net, magnitude_saliency(net), 0.5)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ## 2. Exact sparsity and the tie rule
#
# `pynncomp.compress.kept_count(S, m)` is $\operatorname{round}((1 - S) m)$ with Python's `round`,
# which rounds halves to the even neighbour (`docs/methods.md#exact-sparsity`). Every part of
# pynncomp counts with it, so a run that asks for $S$ ends with exactly that many weights. The
# run prints the counts for the 79 400 weights of 784-100-10, and two cases where
# $(1 - S) m$ is exactly a half, where rounding half up would keep one weight more.

# %%
m = 784 * 100 + 100 * 10
for S in (0.9, 0.99, 0.998):
    print(f"S = {S}: keep round({(1 - S) * m:.2f}) = {kept_count(S, m)} of {m}")
for S, n in ((0.375, 4), (0.125, 12)):
    print(f"S = {S}, m = {n}: (1 - S) m = {(1 - S) * n}, kept_count = {kept_count(S, n)}, "
          f"half up would give {int(np.floor((1 - S) * n + 0.5))}")

# %% [markdown]
# Which weights go when magnitudes tie? `prune` sorts by (saliency, layer position, row-major
# index) and removes the first $m - n_{kept}$, so among equal $\lvert w \rvert$ the *earlier*
# entry goes first. In the 3×4 layer below, four weights have $\lvert w \rvert = 0.2$; at
# $S = 0.5$ the step keeps 6 of 12, so all three weights of magnitude 0.1 and three of the four
# of magnitude 0.2 must go: the first three in row-major order. (NumPy prints a pruned negative
# weight as `-0.`: it is exactly zero, with the sign bit of the weight it replaced.)

# %%
tiny = Dense(3, 4, dtype=np.float64)
tiny.params["W"][...] = [[0.2, -0.1, 0.4, 0.2],
                         [-0.2, 0.3, 0.1, -0.4],
                         [0.3, 0.2, -0.1, 0.4]]
print("W =\n", tiny.params["W"])
prune(Sequential([tiny]), magnitude_saliency(Sequential([tiny])), 0.5)
print("keep-mask after the step to S = 0.5 =\n", tiny.masks["W"].astype(int))
print("W after =\n", tiny.params["W"])

# %% [markdown]
# ## 3. Global or per-layer ranking
#
# `prune(..., scope="global")`, the study's choice, ranks all 79 400 weights together;
# `scope="layer"` prunes each layer to $S$ on its own, with $m$ its own size
# (`docs/methods.md#scope`). They keep very different nets. First a dense 784-100-10, trained
# with `pynncomp.experiment.run("dense", ...)` on the short timetable (L2 penalty, as in the
# study); then copies of it are cut to each level, once per scope, and measured right away,
# without retraining. The run prints, for each level, the weights each layer keeps (layer 0 is
# the 784×100 weight, layer 1 the ReLU, layer 2 the 100×10 weight) and the test accuracy.

# %%
dense_l2, record = experiment.run("dense", train_data, hidden=100, seed=0, protocol=SHORT)
dense_accuracy = record["test_accuracy"]
print(f"dense 784-100-10 (L2): {record['epochs']} epochs, test accuracy {100 * dense_accuracy:.2f} %")
for i in (0, 2):
    print(f"  layer {i}: std of the weights {dense_l2.layers[i].params['W'].std():.3f}")

CUT_LEVELS = [0.5, 0.8, 0.9, 0.95, 0.98, 0.99]


def cut_accuracy(model, S, scope):
    """Test accuracy and kept weights per layer of a copy of ``model`` cut to S, not retrained."""
    cut = copy.deepcopy(model)
    report = prune(cut, magnitude_saliency(cut), S, scope)
    kept = [entry["kept"] for entry in report["layers"].values()]
    return cut.accuracy(data.X_test, data.y_test), kept


def kept_axis(ax, levels):
    """Put 100·(1 − S), the percentage of weights kept, on a reversed log axis: sparser to the right."""
    kept = [100 * (1 - S) for S in levels]
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xticks(kept, [f"{k:g}" for k in kept])
    ax.minorticks_off()
    ax.set_xlabel("weights kept, 100·(1 − S) (%, log scale)")
    return kept


cut = {scope: [] for scope in ("global", "layer")}
print(f"\n{'S':>5} | {'global: kept in layer 0, layer 2':>33} {'acc':>6} | {'layer: kept in 0, 2':>20} {'acc':>6}")
for S in CUT_LEVELS:
    line = f"{S:>5} |"
    for scope in ("global", "layer"):
        acc, kept = cut_accuracy(dense_l2, S, scope)
        cut[scope].append(acc)
        width = 33 if scope == "global" else 20
        line += f" {f'{kept[0]} + {kept[1]}':>{width}} {100 * acc:6.2f} |"
    print(line)

# %% [markdown]
# Read the kept counts. Per-layer ranking keeps the same *fraction* of every layer, so at 99 %
# the output layer keeps 10 of its 1 000 weights: at most 10 hidden-to-class connections for
# 10 classes. Global ranking uses one threshold for all weights. The first layer's weights
# start smaller (He initialisation draws them with variance $2/n_{in}$, and $n_{in}$ is 784
# against 100) and they stay smaller (the standard deviations printed above), so as $S$ grows
# global ranking empties the first layer and spares the small output layer. The figure shows
# what that does to the accuracy of the cut net.

# %%
fig, ax = plt.subplots(figsize=(6, 4))
kept_percent = kept_axis(ax, CUT_LEVELS)
for scope, style in (("global", "o-"), ("layer", "s--")):
    ax.plot(kept_percent, [100 * a for a in cut[scope]], style, label=f"scope = {scope!r}")
ax.axhline(100 * dense_accuracy, color="grey", lw=0.8, ls=":", label="dense net")
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"784-100-10 cut once by magnitude, no retraining ({data.name})")
ax.legend()
ax.grid(alpha=0.3)
course.save_figure(fig, LESSON, "scope")

# %% [markdown]
# ## 4. Schedules
#
# `pynncomp.compress.power_schedule(S, k, c)` computes the study's $S_i = S (i/k)^{1/c}$ and
# `pynncomp.compress.cubic_schedule(S, k)` Zhu & Gupta's $S\,(1 - (1 - i/k)^3)$
# (`docs/methods.md#schedules`). Both end on $S$ exactly. What a step does to the net is better
# read as a ratio: a step from $S_{i-1}$ to $S_i$ divides the number of kept weights by
# $(1 - S_{i-1}) / (1 - S_i)$, with $S_0 = 0$. For $S = 0.99$ and the study's $k = 20$ the run
# prints, for each schedule, its first target $S_1$, the largest of these ratios (and at which
# step) and the ratio of the last step. A big ratio late in the schedule hits a net that has
# little left to spare; the measurements behind pynncomp's default $c = 10$ point the same way
# (`docs/protocol.md#power`).

# %%
S_FINAL, K = 0.99, 20
schedules = {f"power, c = {c}": power_schedule(S_FINAL, K, c) for c in (1, 3, 10)}
schedules["cubic (Zhu & Gupta)"] = cubic_schedule(S_FINAL, K)
for name, targets in schedules.items():
    kept = [m] + [kept_count(S_i, m) for S_i in targets]
    ratios = [before / after for before, after in zip(kept[:-1], kept[1:])]
    worst = int(np.argmax(ratios))
    print(f"{name:<20} S_1 = {targets[0]:.3f}; largest ratio {ratios[worst]:.2f} at step {worst + 1:>2}; "
          f"last step {ratios[-1]:.2f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
steps = np.arange(1, K + 1)
for name, targets in schedules.items():
    left.plot(steps, [100 * S_i for S_i in targets], "o-", ms=3, label=name)
    right.plot(steps, [kept_count(S_i, m) for S_i in targets], "o-", ms=3, label=name)
left.set_xlabel("pruning step i")
left.set_ylabel("sparsity $S_i$ after the step (%)")
left.set_title(f"Schedules to S = {S_FINAL}, k = {K}")
right.set_yscale("log")
right.set_xlabel("pruning step i")
right.set_ylabel("weights kept of 79 400 (log scale)")
right.set_title("The same, as weights kept")
for ax in (left, right):
    ax.set_xticks(steps[::2] if K > 10 else steps)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
course.save_figure(fig, LESSON, "schedules")

# %% [markdown]
# ## 5. One-shot against iterative pruning
#
# Now with retraining. `pynncomp.experiment.run` trains a method on the common timetable
# (`docs/methods.md#timetable`): `magl2` prunes by magnitude in $k$ steps on the power schedule,
# `oneshot` prunes once to $S$ at the first pruning epoch and spends the rest of the same budget
# retraining. Both rank globally; a third curve runs `magl2` with `scope="layer"`. Runs that
# differ only in $S$ share their pre-training through the `pretrained` cache (`experiment.run`'s
# docstring), so each method pre-trains once. One seed per point: differences of a few tenths
# of a point are within the spread between seeds. On MNIST the figure adds the study's own
# MagL2 results (its Table 1, `pynncomp.reproduce.paper.TABLE1`: the full protocol, mean of 5
# runs), to show what the short timetable costs.

# %%
LEVELS = course.scaled([0.9, 0.95, 0.98, 0.99, 0.995], [0.9, 0.99])
VARIANTS = {"iterative (magl2), global": ("magl2", SHORT),
            "one-shot, global": ("oneshot", SHORT),
            "iterative (magl2), per layer": ("magl2", SHORT.replace(scope="layer"))}
accuracy = {}
for label, (method, protocol) in VARIANTS.items():
    pretrained = {}
    accuracy[label] = []
    for S in LEVELS:
        model, record = experiment.run(method, train_data, hidden=100, sparsity=S, seed=0, protocol=protocol,
                                       pretrained=pretrained)
        accuracy[label].append(record["test_accuracy"])
        kept = " + ".join(str(entry["kept"]) for entry in record["layers"].values())
        print(f"{label:<29} S = {S:<5}: kept {kept:>11} = {record['weights_kept']:>5}, "
              f"{record['epochs']:>2} epochs, test accuracy {100 * record['test_accuracy']:.2f} %")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
kept_percent = kept_axis(ax, LEVELS)
for (label, values), style in zip(accuracy.items(), ("o-", "s--", "^:")):
    ax.plot(kept_percent, [100 * a for a in values], style, label=label)
ax.axhline(100 * dense_accuracy, color="grey", lw=0.8, ls=":", label="dense net")
if data.name == "mnist":
    study = [TABLE1[S][0][0] for S in LEVELS]      # MagL2, the mnist column: (mean, std) in %
    print("the study's MagL2 (Table 1, full protocol):", ", ".join(f"{a:.2f} %" for a in study))
    ax.plot(kept_percent, study, "x-", color="grey", label="the study's MagL2, full protocol")
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"Pruned and retrained 784-100-10, short timetable ({data.name})")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
course.save_figure(fig, LESSON, "oneshot_vs_iterative")

# %% [markdown]
# Han et al. report that pruning in several rounds beats one cut followed by retraining; compare
# the first two curves, which the run above prints point by point. The per-layer curve pays for
# starving the output layer, as section 3 predicted.

# %% [markdown]
# ## 6. L1 against L2: what the penalty does to the weights
#
# The L2 gradient $\lambda w$ shrinks a weight in proportion to its size, so a weight that the
# data does not support decays ever more slowly and never reaches 0. The L1 gradient
# $\lambda \operatorname{sign}(w)$ is the same pull for every weight, so such a weight is driven
# all the way to 0 and then jitters around it. `L1.grad` and `L2.grad` in `pynncomp.nn`
# (`pynncomp/nn/penalties.py`, `docs/methods.md#penalties`) compute the two gradients; the run
# prints them for a few weights, with the default λ of each (`Protocol().l1`, `Protocol().l2`).
# MNIST has many weights the data hardly supports: the pixels near the border are 0 in almost
# every image, so their weights get almost no gradient from the loss.
#
# Then a second dense net is trained with `Protocol(penalty="l1")` (λ = 5·10⁻⁵, the default of
# MagL1) and otherwise exactly like the L2 net of section 3. The left panel shows the histograms
# of their first layer's weights, with log-scaled counts; the right one cuts both nets by global
# magnitude, without retraining, as in section 3.

# %%
l1_penalty, l2_penalty = L1(STUDY.l1), L2(STUDY.l2)
w = np.array([-0.3, -0.03, -0.003, 0.0, 0.003, 0.03, 0.3])
print(f"{'w':<18}", w)
print(f"{f'L1({STUDY.l1:g}).grad(w)':<18}", l1_penalty.grad(w))
print(f"{f'L2({STUDY.l2:g}).grad(w)':<18}", l2_penalty.grad(w))

# %%
dense_l1, record_l1 = experiment.run("dense", train_data, hidden=100, seed=0, protocol=SHORT.replace(penalty="l1"))
print(f"dense 784-100-10 (L1): {record_l1['epochs']} epochs, test accuracy {100 * record_l1['test_accuracy']:.2f} %")
trained = {"L2": dense_l2, "L1": dense_l1}
for name, model in trained.items():
    W = model.layers[0].params["W"]
    print(f"{name}: first layer, {100 * np.mean(np.abs(W) < 1e-3):5.1f} % of the weights have |w| < 1e-3, "
          f"largest |w| {np.abs(W).max():.2f}")

cut_l1 = [cut_accuracy(dense_l1, S, "global")[0] for S in CUT_LEVELS]
print(f"\n{'S':>5}  {'L2 cut':>7}  {'L1 cut':>7}   (test accuracy without retraining, %)")
for S, a2, a1 in zip(CUT_LEVELS, cut["global"], cut_l1):
    print(f"{S:>5}  {100 * a2:7.2f}  {100 * a1:7.2f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
limit = max(np.abs(model.layers[0].params["W"]).max() for model in trained.values())
bins = np.linspace(-limit, limit, 121)
for (name, model), colour in zip(trained.items(), ("tab:blue", "tab:orange")):
    left.hist(model.layers[0].params["W"].ravel(), bins=bins, histtype="step", lw=1.5, color=colour,
              label=f"trained with {name}")
left.set_yscale("log")
left.set_xlabel("weight value w (first layer, 78 400 weights)")
left.set_ylabel("number of weights per bin (log scale)")
left.set_title("Dense 784-100-10 after training")
kept_percent = kept_axis(right, CUT_LEVELS)
right.plot(kept_percent, [100 * a for a in cut["global"]], "o-", color="tab:blue", label="trained with L2")
right.plot(kept_percent, [100 * a for a in cut_l1], "s--", color="tab:orange", label="trained with L1")
right.set_ylabel("test accuracy (%)")
right.set_title("Cut once by global magnitude, no retraining")
for ax in (left, right):
    ax.legend()
    ax.grid(alpha=0.3)
course.save_figure(fig, LESSON, "l1_vs_l2")

# %% [markdown]
# The L1 net has a tall spike at 0 (the run prints the share of weights with
# $\lvert w \rvert < 10^{-3}$) and fewer weights of middling size; the L2 net's weights form one
# smooth bump. A cut removes the smallest weights, and in the L1 net many of them were already
# close to 0, so removing them changes the net less. Han et al. (2015, Fig. 5) find L1 better
# right after a cut without retraining, and L2 better once the net is retrained
# (`docs/methods.md#han-numbers`).
# The study's Fig. 6 (`pynncomp reproduce fig6`) shows the same two penalties *after* iterative
# pruning, where only the large weights are left.

# %% [markdown]
# ## Exercises
#
# 1. **Graded: the keep-mask and the schedules.** In `tutorials/exercises/ex03_magnitude.py`,
#    write `magnitude_mask(W, sparsity, keep=None)`, the keep-mask that keeps exactly
#    $\operatorname{round}((1 - S) m)$ of the largest $\lvert w \rvert$ with pynncomp's tie rule
#    (read the module docstring of `pynncomp/compress/prune.py`), then `power_schedule` and
#    `cubic_schedule`, with NumPy only. Grade them with
#    `python -m pytest tutorials/grading -k ex03`; the grader compares them with
#    `pynncomp.compress.prune` on Dense and Conv2D layers (ties included) and with
#    `pynncomp.compress.power_schedule` and `cubic_schedule`.
# 2. **Which layer empties first?** Before running anything, predict how many of the 79 weights
#    kept at $S = 0.999$ global ranking leaves in the first layer of the dense L2 net, and what
#    the net can still do with them. Add 0.999 to `CUT_LEVELS` and check. Then answer the same
#    question for a 784-300-100-10 net (`hidden=(300, 100)`): which of its three layers goes
#    first, and why?
# 3. **The last step.** Section 4 printed by what factor each schedule's steps divide the kept
#    weights, for $k = 20$. Compute the same ratios for the $k$ of `SHORT`, then predict whether
#    `magl2` at $S = 0.995$ in section 5 gets better or worse with `SHORT.replace(power=1)`, and
#    with `SHORT.replace(schedule="cubic")`; then run them.
# 4. **The size of λ.** Train the L1 net of section 6 with `l1=2e-4` instead of the default
#    5·10⁻⁵. Predict first what happens to the spike at 0, to the dense net's accuracy and to
#    the accuracy after a 95 % cut.
