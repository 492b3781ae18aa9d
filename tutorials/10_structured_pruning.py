# %% [markdown]
# # Lesson 10 — Structured pruning: whole neurons and filters
#
# Every method of lessons 3 to 7 removes single weights. The net keeps its shape: a pruned
# weight is a 0 in a full matrix, and only sparse storage and sparse kernels (lesson 8) turn
# those zeros into bytes and time saved. Structured pruning removes whole *units*, hidden
# neurons or convolution filters, and leaves a smaller network that is dense again: fewer
# columns, fewer rows, no mask, no index arrays.
#
# **Learning goals.** After this lesson you can
#
# 1. say which numbers make up a unit of a dense layer and of a convolution, and which rows
#    or input channels of the next layer carry its output, a Flatten in between included;
# 2. compute the usual criteria of a unit (the norm of its incoming weights, its mean
#    activation, its fraction of zero outputs, the first-order Taylor estimate) and say what
#    each one measures;
# 3. cut units out of a trained net and check that the smaller dense net computes what the
#    masked net computes;
# 4. compare, at the same fraction of weights removed, removing neurons with removing single
#    weights by magnitude: in test accuracy, and in the time of a forward pass;
# 5. say when each kind of pruning is the better tool.
#
# **A unit.** A `Dense` layer of pynncomp computes $Y = X W + b$ with $W$ of shape
# $(n_{in}, n_{out})$: sample $n$'s output $j$ is $\sum_i X_{ni} W_{ij} + b_j$. Everything
# neuron $j$ receives sits in *column* $j$ of $W$, and its own constant is $b_j$. After a
# ReLU, $h_{nj} = \max(0, \cdot)$, the next dense layer, with weights $V$ of shape
# $(n_{out}, n_{next})$, computes
#
# $$ z_{nk} = \sum_{j} h_{nj} V_{jk} + c_k , $$
#
# so neuron $j$'s output reaches the rest of the net through *row* $j$ of $V$, and only
# there. A neuron of a 784-100-10 net therefore owns $784 + 10 = 794$ weights and one bias,
# and removing a fraction $f$ of the 100 hidden neurons removes exactly the fraction $f$ of
# the 79 400 weights.
#
# A `Conv2D` layer's weight is $(F, C, k_h, k_w)$: filter $f$ is the block $W_f$ of shape
# $(C, k_h, k_w)$, with its bias $b_f$, and produces one feature map of $H \times W$ positions.
# A following convolution reads that map as its input channel $f$, through $W'_{:, f}$. A
# following dense layer reads it through a `Flatten`, which lays the $(B, C, H, W)$ batch out
# channel by channel: position $(i, j)$ of channel $c$ lands in column $c H W + i W + j$. So
# filter $f$ feeds the block of $P = H W$ consecutive rows $f P, \dots, f P + P - 1$ of the
# dense layer's weight.
#
# **The surgery.** Removing neuron $j$ means deleting column $j$ of $W$, entry $j$ of $b$
# and row $j$ of $V$. With $K$ the neurons kept, in increasing order,
#
# $$ W \leftarrow W_{:, K}, \qquad b \leftarrow b_K, \qquad V \leftarrow V_{K, :} , $$
#
# and the sum $\sum_{j \in K} h_{nj} V_{jk}$ is the old one without the terms of the removed
# neurons. For filters, $W \leftarrow W_K$ and $W' \leftarrow W'_{:, K}$ (next layer a
# convolution) or the rows of every kept filter's block (next layer dense after a Flatten).
# pynncomp first removes units *by masks*, which keeps the net's shape while it trains: the
# column and the row (the filter and the channel or block of rows) are masked, the bias is left
# in place but reaches nothing. The surgery then cuts out every unit whose outgoing weights are
# all masked; the smaller net computes the same numbers, up to the rounding of sums that no
# longer add the zeros.
#
# **The criteria.** Each gives a unit a score; the lowest go first. For a neuron $j$, over
# $N$ samples, with $a_{nj}$ its output after the ReLU (for a filter, also summed or averaged
# over the $P$ positions $p$ of its map):
#
# - norm of the incoming weights (Li et al. 2017 rank filters by it):
#   $s_j = \sum_i \lvert W_{ij} \rvert$ (L1) or $\big(\sum_i W_{ij}^2\big)^{1/2}$ (L2), masked
#   weights counted as 0 and the bias left out;
# - mean activation: $s_j = \frac{1}{N P} \sum_{n, p} a_{njp}$;
# - APoZ, the average percentage of zeros (Hu et al. 2016): the share of outputs that are
#   exactly 0, $\mathrm{APoZ}_j = \frac{1}{N P} \sum_{n, p} [a_{njp} = 0]$; a unit that is
#   mostly silent goes first, so the score is $1 - \mathrm{APoZ}_j$;
# - first-order Taylor (Molchanov et al. 2017): setting $a_{nj\cdot}$ to 0 changes sample $n$'s
#   loss by about $-t_{nj}$ with $t_{nj} = \sum_p a_{njp}\, \partial \ell_n / \partial a_{njp}$,
#   and the score is the mean size of that change, $\Theta_j = \frac{1}{N} \sum_n \lvert t_{nj} \rvert$;
# - OBD extended to a unit: the sum of $\frac12 h w^2$ over the unit's incoming weights and its
#   bias (lesson 4), which ignores how strongly those weights interact through their shared
#   pre-activation.
#
# A pruning step keeps exactly $\operatorname{round}\big((1 - S)\, n\big)$ of the $n$ units in
# its scope, every layer keeping at least one, with the ranking and tie rule of lesson 3.
#
# These are stated in `docs/methods.md`, section 12 (`#structured`, `#structured-units`,
# `#structured-criteria`, `#structured-taylor`, `#structured-engine`, `#surgery`), with the
# function of `pynncomp/compress/structured.py` that computes each.

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

from pynncomp import course, kernels, models
from pynncomp.compress import (
    apoz,
    compact,
    magnitude_saliency,
    mask_units,
    masked_units,
    mean_activation,
    prune,
    prune_units,
    remove_units,
    taylor_saliency,
    unit_layers,
    unit_norm,
    unit_report,
)
from pynncomp.nn import L2, SGD, Dense, Flatten, SparseDense
from pynncomp.train import Protocol, train_epoch

LESSON = "10_structured_pruning"
# BLAS on one thread even where OPENBLAS_NUM_THREADS asks for more, as in lesson 8: section 5 compares
# dense BLAS with the single-threaded C kernels, one core against one core.
threadpool_limits(limits=1, user_api="blas")
data = course.load_data("mnist")
PROTOCOL = Protocol()
print(f"SGD: lr {PROTOCOL.lr}, momentum {PROTOCOL.momentum}, L2 {PROTOCOL.l2}, batch {PROTOCOL.batch_size}")


def train(model, epochs, seed=0):
    """``epochs`` passes of SGD (momentum, L2 penalty) over the training images; the last epoch's loss."""
    sgd = SGD(PROTOCOL.lr, PROTOCOL.momentum, penalty=L2(PROTOCOL.l2))
    rng = np.random.default_rng(seed)
    loss = float("nan")
    for _ in range(epochs):
        loss = train_epoch(model, sgd, data.X_train, data.y_train, PROTOCOL.batch_size, rng)
    return loss


# %% [markdown]
# ## 1. Which layers have units to remove, and where their outputs go
#
# `pynncomp.compress.unit_layers(model)` lists the layers whose units can be removed: a
# `Dense` or `Conv2D` layer whose output reaches another weighted layer (the *consumer*)
# through ReLU, Dropout, max pooling and at most one Flatten. The output layer never
# qualifies: its units are the classes. For each it gives the consumer's position and, for a
# dense consumer, how many of its rows one unit feeds (`rows_per_unit`: 1 after a dense layer,
# $P$ after a Flatten; None when the consumer is a convolution, which reads one input channel
# per unit). The run prints them for 784-300-100-10 and for LeNet-5, untrained (only the
# shapes matter here).

# %%
for arch in ("lenet300", "lenet5"):
    model = models.build(arch, seed=0)
    print(f"{arch}: " + " -> ".join(type(layer).__name__ for layer in model.layers))
    for entry in unit_layers(model):
        print(f"  layer {entry.index} ({entry.kind}s, {entry.n_units} units) -> consumer layer {entry.consumer}, "
              f"rows per unit {entry.rows_per_unit}, ReLU after it: {entry.relu}")
lenet5 = models.build("lenet5", seed=0)
P = unit_layers(lenet5)[1].rows_per_unit
print(f"LeNet-5: the dense layer after the Flatten has {lenet5.layers[5].n_in} inputs = "
      f"{lenet5.layers[2].out_channels} filters x P = {P} positions (a 4 x 4 map after pooling)")

# %% [markdown]
# The channel-major layout of `Flatten` is what fixes those blocks of rows. The cell feeds
# `pynncomp.nn.Flatten` a batch of 3 channels of 2 × 2 maps in which every entry holds its own
# channel number, and prints the flattened row: the 4 columns of channel $c$ are $4c$ to
# $4c + 3$.

# %%
maps = np.broadcast_to(np.arange(3.0)[None, :, None, None], (1, 3, 2, 2)).copy()
flat, _ = Flatten().forward(maps)
print("channel of each flattened column:", flat[0].astype(int))

# %% [markdown]
# ## 2. The surgery, checked on a trained net
#
# A small MLP, 784-40-20-10, trains for one epoch. Then one neuron, $j$, of its first hidden
# layer is removed twice: by masks (`pynncomp.compress.mask_units(model, {0: [j]})`, which masks
# column $j$ of layer 0's $W$ and row $j$ of layer 2's) and by surgery
# (`pynncomp.compress.remove_units(model, {0: [j]})`, which deletes them and $b_j$). The run
# prints the shapes, checks that the cut arrays are the old ones with column (row, entry) $j$
# left out, and prints the largest difference between the outputs of the two nets on test
# images. It also prints what the masked neuron still outputs: $\max(0, b_j)$ for every image,
# since its incoming weights are 0, which reaches nothing because its row of $V$ is masked.

# %%
small = models.build("mlp", (40, 20), seed=0)
print(f"784-40-20-10 after one epoch: loss {train(small, 1):.3f}, test accuracy "
      f"{100 * small.accuracy(data.X_test, data.y_test):.2f} %")
X_check = data.X_test[:1000]
j = 7
one_masked = copy.deepcopy(small)
mask_units(one_masked, {0: [j]})
one_cut = remove_units(small, {0: [j]})
kept = np.arange(40) != j
W_in, b_in, W_out = small.layers[0].params["W"], small.layers[0].params["b"], small.layers[2].params["W"]
cut_in, cut_b, cut_out = one_cut.layers[0].params["W"], one_cut.layers[0].params["b"], one_cut.layers[2].params["W"]
print(f"layer 0 W {W_in.shape} -> {cut_in.shape}, b {b_in.shape} -> {cut_b.shape}; layer 2 W {W_out.shape} -> "
      f"{cut_out.shape}")
print("cut arrays equal the old ones without column / entry / row j:",
      np.array_equal(cut_in, W_in[:, kept]) and np.array_equal(cut_b, b_in[kept])
      and np.array_equal(cut_out, W_out[kept]))
hidden_out, _ = one_masked.layers[1].forward(one_masked.layers[0].forward(X_check)[0])
print(f"masked neuron {j}: b_j = {b_in[j]:+.4f}, its output over {X_check.shape[0]} images lies in "
      f"[{hidden_out[:, j].min():.4f}, {hidden_out[:, j].max():.4f}]")
print(f"max |masked net - cut net| over the logits: "
      f"{np.abs(one_masked.forward(X_check)[0] - one_cut.forward(X_check)[0]).max():.2e}")

# %% [markdown]
# Now half of the neurons of *both* hidden layers, those of least L1 norm
# (`pynncomp.compress.unit_norm(model, order=1)`), chosen per layer by the engine
# `pynncomp.compress.prune_units(model, saliency, 0.5, scope="layer")`, which installs the
# masks. `pynncomp.compress.unit_report` counts units and weights; `pynncomp.compress.compact`
# finds the units whose outgoing weights are all masked (`masked_units`) and cuts them all
# out at once. Layer 2 is both the consumer of layer 0 (it loses rows) and a producer (it
# loses columns). The run prints the layer shapes, the counts of weights and biases of the
# original, the masked and the cut net, and the largest difference of their outputs.

# %%
half = copy.deepcopy(small)
prune_units(half, unit_norm(half, order=1), 0.5, scope="layer")
report = unit_report(half)
cut_half = compact(half)
print(f"units kept {report['units_kept']} of {report['units_total']}, weights kept {report['weights_kept']} of "
      f"{report['weights_total']} (weight sparsity {100 * report['weight_sparsity']:.1f} %)")
for name, net in (("original", small), ("masked", half), ("cut", cut_half)):
    shapes = ", ".join(str(layer.params["W"].shape) for layer in net.layers if "W" in layer.params)
    print(f"{name:>8}: W shapes {shapes}; {net.n_weights} weights, {net.n_kept_weights} kept, "
          f"{net.n_biases} biases")
print(f"max |masked net - cut net| over the logits: "
      f"{np.abs(half.forward(X_check)[0] - cut_half.forward(X_check)[0]).max():.2e}; "
      f"same predictions: {np.array_equal(half.predict(X_check), cut_half.predict(X_check))}")

# %% [markdown]
# The same for filters, on the untrained LeNet-5 of section 1 (the two nets must agree whatever
# the weights are, and training LeNet-5 would take minutes): half of the filters of each
# convolution go, by L1 norm (`kind="filter"`). The run prints, for the first removed filters
# of the second convolution, the block of rows of the dense layer 5 whose mask is now all
# False, then the shapes after `compact` and the difference of the outputs on test images
# laid out as $(B, 1, 28, 28)$.

# %%
filters = copy.deepcopy(lenet5)
prune_units(filters, unit_norm(filters, order=1, kind="filter"), 0.5, scope="layer", kind="filter")
removed_filters = np.flatnonzero(masked_units(filters, "filter")[2])
dead_rows = np.flatnonzero(~filters.layers[5].masks["W"].any(axis=1))
for f, rows in list(zip(removed_filters, dead_rows.reshape(-1, P)))[:3]:
    print(f"filter {f} of layer 2 removed: rows {rows[0]} ... {rows[-1]} of layer 5 masked ({rows.size} rows)")
cut_filters = compact(filters)
print("W shapes:", [str(layer.params["W"].shape) for layer in filters.layers if "W" in layer.params], "->",
      [str(layer.params["W"].shape) for layer in cut_filters.layers if "W" in layer.params])
images = data.X_test[:100].reshape(-1, 1, 28, 28)
print(f"max |masked LeNet-5 - cut LeNet-5| over the logits: "
      f"{np.abs(filters.forward(images)[0] - cut_filters.forward(images)[0]).max():.2e}")

# %% [markdown]
# ## 3. The criteria on a trained 784-100-10
#
# The net of the rest of the lesson: a dense 784-100-10 trained for a few epochs with SGD,
# momentum and the L2 penalty (lesson 2). On 2 000 training images, as the `neurons-*` methods
# do (`pynncomp/methods/structured.py`), the run computes each criterion of its 100 hidden
# neurons: `unit_norm(model, order=1)` and `order=2`, `mean_activation(model, X)`,
# `apoz(model, X)` and `taylor_saliency(model, X, y)`. Each returns `{layer_index: scores}`;
# here the only layer is 0.
#
# Do the criteria agree? The run prints, for each pair, the rank correlation of the scores
# (Spearman's: the correlation of the ranks, 1 when they order the neurons alike), and how many
# of the 50 neurons each criterion would remove first it shares with the L1 norm.

# %%
EPOCHS = course.scaled(3, 1)
net = models.build("mlp", 100, seed=0)
for epoch in range(EPOCHS):
    loss = train(net, 1, seed=epoch)
    print(f"epoch {epoch + 1}: training loss {loss:.3f}")
dense_accuracy = net.accuracy(data.X_test, data.y_test)
print(f"dense 784-100-10: test accuracy {100 * dense_accuracy:.2f} %")

X_units, y_units = data.X_train[:2000], data.y_train[:2000]
zeros = apoz(net, X_units)[0]
criteria = {
    "L1 norm": unit_norm(net, order=1)[0],
    "L2 norm": unit_norm(net, order=2)[0],
    "mean activation": mean_activation(net, X_units)[0],
    "1 - APoZ": 1.0 - zeros,
    "Taylor": taylor_saliency(net, X_units, y_units)[0],
}


def ranks(scores):
    return np.argsort(np.argsort(scores, kind="stable"), kind="stable")


names = list(criteria)
print(f"\n{'Spearman':>16} " + " ".join(f"{name:>16}" for name in names))
for a in names:
    print(f"{a:>16} " + " ".join(f"{np.corrcoef(ranks(criteria[a]), ranks(criteria[b]))[0, 1]:16.2f}"
                                 for b in names))
first_l1 = set(np.argsort(criteria["L1 norm"], kind="stable")[:50])
for name in names[1:]:
    shared = len(first_l1 & set(np.argsort(criteria[name], kind="stable")[:50]))
    print(f"{name:>16}: {shared} of its first 50 neurons to go are also among the L1 norm's")
print(f"\nAPoZ: {np.sum(zeros == 1.0)} neurons never fire on these images, {np.sum(zeros > 0.9)} are zero on more "
      f"than 90 % of them, {np.sum(zeros == 0.0)} are never zero; median APoZ {np.median(zeros):.2f}")

# %%
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.8))
left.hist(zeros, bins=np.linspace(0, 1, 21), color="tab:blue", edgecolor="white")
left.set_xlabel("APoZ: fraction of images on which the neuron outputs 0")
left.set_ylabel("hidden neurons")
left.set_title("APoZ of the 100 hidden neurons")
middle.hist(criteria["mean activation"], bins=20, color="tab:orange", edgecolor="white")
middle.set_xlabel("mean ReLU output")
middle.set_ylabel("hidden neurons")
middle.set_title("Mean activation")
points = right.scatter(criteria["L1 norm"], criteria["Taylor"], c=zeros, cmap="viridis", s=18)
right.set_xlabel("L1 norm of the incoming weights")
right.set_ylabel("Taylor criterion Θ")
right.set_title("Two criteria, coloured by APoZ")
fig.colorbar(points, ax=right, label="APoZ")
for ax in (left, middle, right):
    ax.grid(alpha=0.3)
fig.suptitle(f"Trained 784-100-10, criteria on {X_units.shape[0]} training images ({data.name})")
course.save_figure(fig, LESSON, "criteria")

# %% [markdown]
# The norms see only the weights; the mean activation and APoZ see only what the neuron
# outputs; the Taylor criterion also sees how much the loss cares about that output, through
# $\partial \ell / \partial a$, which depends on the neuron's outgoing row as well. A neuron with
# APoZ 1 outputs 0 on every image measured: removing it changes nothing on them, and every
# criterion but the norms gives it the lowest possible score. Read the printed correlations: the
# two norms order the neurons almost alike, and the activation-based criteria can disagree with
# them a lot.

# %% [markdown]
# ## 4. The trade-off: neurons against single weights
#
# From the trained net, copies lose 50 %, 80 % and 90 % of the hidden neurons, those of least L1
# norm, with `prune_units` and `compact`: one step of what the method `neurons-l1` does
# (`pynncomp.methods.structured.NeuronsL1`, which repeats such steps on the common schedule,
# with retraining, through `pynncomp train --method neurons-l1`). Since each neuron owns 794 of
# the 79 400 weights, that removes the same fraction of the weights, which the run checks. Other
# copies lose that same fraction of weights by global magnitude (`prune` with
# `magnitude_saliency`, lesson 3), wherever those weights are. Each is measured on the test set
# right after the cut, and again after one epoch of retraining: the cut-down net trains as the
# ordinary dense net it now is; the magnitude-pruned net trains with its masks.

# %%
FRACTIONS = (0.5, 0.8, 0.9)
FINETUNE = 1
results = {}
for f in FRACTIONS:
    masked = copy.deepcopy(net)
    prune_units(masked, unit_norm(masked, order=1), f, scope="layer")
    structured_oneshot = masked.accuracy(data.X_test, data.y_test)
    cut = compact(masked)
    removed = 1.0 - cut.n_weights / net.n_weights
    train(cut, FINETUNE, seed=10)
    magnitude = copy.deepcopy(net)
    prune(magnitude, magnitude_saliency(magnitude), removed)
    magnitude_oneshot = magnitude.accuracy(data.X_test, data.y_test)
    magnitude_tuned = copy.deepcopy(magnitude)
    train(magnitude_tuned, FINETUNE, seed=10)
    results[f] = dict(removed=removed, masked=masked, cut=cut, magnitude=magnitude,
                      accuracy={"neurons, one-shot": structured_oneshot,
                                "neurons, + 1 epoch": cut.accuracy(data.X_test, data.y_test),
                                "magnitude, one-shot": magnitude_oneshot,
                                "magnitude, + 1 epoch": magnitude_tuned.accuracy(data.X_test, data.y_test)})
    keep_in, keep_out = magnitude.layers[0].masks["W"], magnitude.layers[2].masks["W"]
    in_use = int(np.sum(keep_in.any(axis=0) & keep_out.any(axis=1)))
    print(f"{100 * f:.0f} % of the neurons removed: cut net 784-{cut.layers[0].n_out}-10, "
          f"{cut.n_weights} weights + {cut.n_biases} biases; weights removed {100 * removed:.1f} %; "
          f"magnitude keeps {magnitude.n_kept_weights} weights ({int(keep_in.sum())} in layer 0), and "
          f"{in_use} hidden neurons with an incoming and an outgoing weight")
    print("   test accuracy: " + ", ".join(f"{name} {100 * a:.2f} %" for name, a in results[f]["accuracy"].items()))

# %% [markdown]
# ## 5. What the cut buys: the time of a forward pass
#
# A forward pass of 784-100-10 costs $B \cdot 79\,400$ multiply-adds for a batch of $B$ images.
# The candidates below compute the same kind of output with very different work:
#
# * the dense original: all $79\,400$ weights;
# * the masked net of section 4 (neurons removed by masks): still all $79\,400$, and every call
#   first multiplies $W$ by its mask ($W \odot M$);
# * the cut net: $k \cdot 794$ multiply-adds per image for $k$ kept neurons, by the same dense
#   BLAS product as the original, on smaller matrices;
# * the magnitude-pruned net, masked: as the masked net above;
# * the magnitude-pruned net with its layers as `pynncomp.nn.SparseDense` (`SparseDense.from_dense`):
#   only the kept weights, by pynncomp's C kernel (lesson 8), at a lower rate of operations per
#   second than BLAS.
#
# Each is timed on test images in batches of 1 and 256 with `time.perf_counter`: the candidates
# run interleaved, round after round, each sample is a loop of calls long enough for the clock,
# and the run prints the median over the rounds and the ratio to the dense original. This is
# wall time, so other programs on the same cores add noise; the medians damp it, and the ratios
# carry over to another machine far better than the microseconds.

# %%
REPEAT = course.scaled(15, 5)
SAMPLE_SECONDS = 0.002
BATCHES = (1, 256)


def median_seconds(candidates):
    """``{name: median seconds per call}``: interleaved rounds of loops of calls (``course.median_seconds``)."""
    return course.median_seconds(candidates, REPEAT, SAMPLE_SECONDS, clock=time.perf_counter)


def as_sparse(model):
    """A copy of ``model`` whose masked Dense layers are SparseDense: the kept weights only, in CSR."""
    model = copy.deepcopy(model)
    for index, layer in enumerate(model.layers):
        if type(layer) is Dense and "W" in layer.masks:
            model.layers[index] = SparseDense.from_dense(layer)
    return model


if kernels.ACTIVE_BACKEND != "c":
    print("The C core is not built (or PYNNCOMP_BACKEND=numpy): SparseDense runs the NumPy twin, which "
          "multiplies by the dense matrix, so its column below cannot show what sparsity saves.")
CANDIDATES = ("dense original", "neurons masked", "neurons cut", "magnitude masked", "magnitude sparse")
timings = {}
print("median wall microseconds per forward pass; in brackets the ratio to the dense original")
print(f"{'batch':>5} {'removed':>8} " + " ".join(f"{name:>22}" for name in CANDIDATES))
for B in BATCHES:
    X = np.ascontiguousarray(data.X_test[:B])
    for f in FRACTIONS:
        run = results[f]
        sparse = as_sparse(run["magnitude"])
        # the sparse twin computes what the masked net computes, to rounding
        assert np.allclose(sparse.forward(X)[0], run["magnitude"].forward(X)[0], atol=1e-4)
        nets = dict(zip(CANDIDATES, (net, run["masked"], run["cut"], run["magnitude"], sparse)))
        t = median_seconds({name: (lambda model=model: model.forward(X)) for name, model in nets.items()})
        timings[B, f] = t
        base = t["dense original"]
        print(f"{B:5d} {100 * run['removed']:7.0f}% " + " ".join(f"{1e6 * t[name]:10.1f} us ({base / t[name]:5.2f}x)"
                                                                 for name in CANDIDATES))
print("(Nx: N times as fast as the dense original)")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
removed_percent = [100 * results[f]["removed"] for f in FRACTIONS]
for (name, style) in zip(results[FRACTIONS[0]]["accuracy"], ("o--", "o-", "s--", "s-")):
    left.plot(removed_percent, [100 * results[f]["accuracy"][name] for f in FRACTIONS], style, label=name,
              color="tab:green" if name.startswith("neurons") else "tab:purple")
left.axhline(100 * dense_accuracy, color="grey", lw=0.8, ls=":", label="dense net")
left.set_xlabel("weights removed (%)")
left.set_ylabel("test accuracy (%)")
left.set_title("Accuracy: whole neurons or single weights")
left.set_xticks(removed_percent)
left.legend(fontsize=8)
B_SHOWN = max(BATCHES)
for name, style in zip(CANDIDATES, ("k:", "^--", "o-", "s--", "s-")):
    right.plot(removed_percent, [1e6 * timings[B_SHOWN, f][name] for f in FRACTIONS], style, label=name)
right.set_yscale("log")
right.set_xlabel("weights removed (%)")
right.set_ylabel("median wall time per forward pass (µs, log scale)")
right.set_title(f"Forward pass of a batch of {B_SHOWN}")
right.set_xticks(removed_percent)
right.legend(fontsize=8)
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.suptitle(f"784-100-10 trained {EPOCHS} epoch(s), cut once ({data.name})")
course.save_figure(fig, LESSON, "tradeoff")

# %% [markdown]
# Read the two panels together.
#
# **Speed.** The cut net is an ordinary dense net with fewer neurons, so plain BLAS runs it,
# with no mask to apply and no index to follow, and at batch 256 its time falls roughly with
# the neurons kept. The masked nets, structured or not, do all of the original's work, zeros
# included, and multiply $W$ by its mask on every call on top: at batch 256 the products
# dominate and they take about as long as the original, whatever the fraction removed. The
# sparse kernel does only the kept weights' work, but at a lower rate, so it needs a high
# sparsity to win (lesson 8). At batch 1 a forward pass is a few small products, and the fixed
# cost of each call (Python, the checks of each layer) weighs as much as the arithmetic: the cut
# net gains less, and the mask, applied once per call whatever the batch, costs relatively more.
#
# **Accuracy.** Magnitude pruning chooses any of the 79 400 weights: at 90 % it still has
# thousands of connections, spread over many hidden neurons (section 4 prints how many still
# have an incoming and an outgoing weight). Removing 90 % of the neurons leaves 10 hidden
# neurons for 10 classes, a much smaller family of functions, whatever the retraining. Right
# after the cut it is worse still: the neurons kept were trained to work alongside those
# removed, and retraining recovers part of that. Which pruning keeps more accuracy at each
# fraction is printed in section 4; the run prints the gaps below.
#
# So the two answer different questions. Structured pruning buys speed and memory on any
# hardware and library, because what is left is smaller and dense; unstructured pruning keeps
# accuracy at high sparsity, but pays off in time only with sparse kernels and high sparsity.
# What narrows structured pruning's accuracy gap is a better criterion (section 3, exercise 3),
# pruning in several steps with retraining in between (the `neurons-*` and `filters-*` methods,
# `docs/methods.md#structured`), and a wider net to start from.

# %%
for f in FRACTIONS:
    accuracy, t = results[f]["accuracy"], timings[max(BATCHES), f]
    gap = 100 * (accuracy["magnitude, + 1 epoch"] - accuracy["neurons, + 1 epoch"])
    print(f"{100 * results[f]['removed']:.0f} % of the weights removed: after one epoch magnitude is "
          f"{gap:+.2f} points against the neurons; the cut net's forward pass (batch {max(BATCHES)}) takes "
          f"{t['neurons cut'] / t['magnitude masked']:.2f} of the masked net's time and "
          f"{t['neurons cut'] / t['magnitude sparse']:.2f} of the sparse net's")

# %% [markdown]
# ## Exercises
#
# 1. **Graded: the surgery of one neuron.** In `tutorials/exercises/ex10_structured.py`, write
#    `remove_neuron(W_in, b_in, W_out, j)`, which returns $W_{in}$ without column $j$, $b_{in}$
#    without entry $j$ and $W_{out}$ without row $j$, and refuses a $j$ that names no neuron, with
#    NumPy only. Grade it with `python -m pytest tutorials/grading -k ex10`: the grader compares
#    it with `pynncomp.compress.remove_units`, and the net it leaves with the masked net of
#    `pynncomp.compress.mask_units`, through a ReLU.
# 2. **Graded: APoZ and the rows of a filter.** In the same file, write `apoz(activations)`, the
#    fraction of exact zeros of each unit in a $(B, n_{units})$ array of ReLU outputs (graded
#    against `pynncomp.compress.apoz` on small nets and on worked examples), and
#    `filter_rows(f, P)`, the rows of the dense layer after a Flatten that filter $f$ feeds
#    (graded against `pynncomp.nn.Flatten` and the masks `mask_units` installs).
# 3. **Which criterion?** Before running anything, predict which criterion of section 3 keeps the
#    most accuracy at 90 % of the neurons removed, right after the cut and after one epoch. Then
#    replace `unit_norm(masked, order=1)` in section 4 by `taylor_saliency(masked, X_units, y_units)`
#    and by `{0: 1 - apoz(masked, X_units)[0]}`, and check. Why may a criterion that wins right
#    after the cut lose its lead after retraining?
# 4. **Why mask the outgoing row?** `mask_units` masks column $j$ of $W$ *and* row $j$ of the next
#    layer's weight. Suppose only the column were masked. What would neuron $j$ still add to the
#    logits? Would `masked_units` count it as removed, and would `remove_units(model, {0: [j]})`
#    compute the same outputs as that half-masked net? Work it out with section 2's numbers for
#    neuron 7 ($b_j$ and its output are printed), then try it by installing the mask with
#    `Layer.set_mask` yourself.
