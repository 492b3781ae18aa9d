# %% [markdown]
# # Lesson 7 — Han et al. (2015): train, prune, retrain
#
# **Learning goals.** After this lesson you can
#
# - state Han et al.'s pruning rule, a threshold $q\,\sigma_l$ per layer, and say
#   which $\sigma_l$ pynncomp uses and why;
# - explain why ranking all weights by $|w| / \sigma_l$ with one $q$ *is* that rule,
#   and how it lets pynncomp hit an exact sparsity;
# - run a sensitivity analysis (one layer pruned at a time, no retraining) and
#   read from it which layer should keep more of its weights;
# - retrain a pruned net the way Han et al. do: surviving weights kept, a tenth
#   of the learning rate, dropout rescaled to the layer's new size;
# - compare iterative pruning with one-shot pruning on the same retraining budget,
#   and explain where the gap comes from.
#
# **The paper.** Han, Pool, Tran & Dally (2015), *Learning both Weights and
# Connections for Efficient Neural Networks* (NIPS), cut LeNet-300-100 on MNIST
# to a twelfth of its weights at the same error in three moves: *train* the dense
# net, *prune* the small weights, *retrain* what is left, and repeat the last two.
#
# **The equations of this lesson** (all in `docs/methods.md`, section 8).
#
# *The threshold* (`#q-sigma`). A weight of layer $l$ survives a step when its
# magnitude reaches a quality parameter $q$ times the spread of that layer's
# weights. The spread is taken over the weights still kept ($M_k$ true), as a
# population standard deviation (divide by $n_l$, the number kept):
#
# $$
# M_k \leftarrow M_k \wedge \big(|w_k| \ge q\,\sigma_l\big), \qquad
# \sigma_l = \sqrt{\frac{1}{n_l} \sum_{k:\,M_k} (w_k - \bar w_l)^2}, \qquad
# \bar w_l = \frac{1}{n_l} \sum_{k:\,M_k} w_k .
# $$
#
# *One ranking for all layers* (`#han-exact`). Divide by $\sigma_l$: the rule
# prunes the weights whose **layer-normalised magnitude**
# $s_k = |w_k| / \sigma_{l(k)}$ is below $q$. So ranking every weight of the net
# by $s_k$ and keeping exactly $\operatorname{round}((1 - S)\,m)$ of them is Han
# et al.'s rule with the one $q$ that lands on sparsity $S$.
#
# *Sensitivity* (`#sensitivity`). $A_l(S)$ is the accuracy of the trained net
# with only layer $l$ pruned to sparsity $S$ by magnitude, nothing retrained.
#
# *Retraining* (`#han-retraining`, `#dropout-rescaling`). The kept weights keep
# their values; the learning rate drops to $\eta_0 / 10$; and a layer that went
# from $C_{io}$ connections ($n_{in} n_{out}$) to $C_{ir}$ kept ones gets the
# dropout rate (their eq. 2)
#
# $$
# D_r = D_o \sqrt{\frac{C_{ir}}{C_{io}}} ,
# $$
#
# less dropout for a layer that has lost capacity already.

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np

from pynncomp import experiment, models
from pynncomp.compress import (
    han_prune,
    kept_weight_std,
    layer_normalised_magnitude,
    prune,
    pruning_report,
    rescaled_dropout,
)
from pynncomp.compress.sensitivity import layer_label, sensitivity, sensitivity_table
from pynncomp.course import load_data, save_figure, scaled, subset
from pynncomp.nn import L2, SGD, Dropout
from pynncomp.reproduce.han import PAPER
from pynncomp.train import Protocol, train_epoch

LESSON = "07_han_et_al"
ds = load_data(split="standard")

# %% [markdown]
# ## 1. Train
#
# Han et al.'s LeNet-300-100 is 784 → 300 → 100 → 10 with ReLUs, 266 200 weights
# (`pynncomp.models.build("lenet300")`, `docs/methods.md#mlp`), on MNIST's own
# split: 60 000 training images, of which 6 000 are held out for validation, and
# 10 000 test images (the first line printed says what this run loaded). It fits
# this lesson's two-minute budget at batch 64, where an epoch takes a second or
# two on one core (the cell prints the time), if we train 5 epochs with a
# learning rate that decays each epoch: far fewer than the paper, so expect a
# higher error than theirs (the cell prints both).
#
# The loop is pynncomp's pieces as a user would call them: `SGD` with momentum
# and the L2 penalty (`pynncomp.nn.SGD`, `docs/methods.md#optimizer`), one pass
# over the shuffled images per call of `pynncomp.train.train_epoch`.

# %%
BATCH, LR, DECAY, MOMENTUM, L2_LAMBDA = 64, 0.05, 0.6, 0.9, 3e-4
DENSE_EPOCHS = scaled(5, 3)
RETRAIN_LR = LR / 10  # Han et al.: retrain at a tenth of the original learning rate
order = np.random.default_rng(0)  # the batch order of every epoch below

dense = models.build("lenet300", seed=0)
optimizer = SGD(LR, MOMENTUM, L2(L2_LAMBDA))
started = time.perf_counter()
for epoch in range(DENSE_EPOCHS):
    optimizer.lr = LR * DECAY ** epoch
    loss = train_epoch(dense, optimizer, ds.X_train, ds.y_train, BATCH, order)
    print(f"epoch {epoch + 1}: lr {optimizer.lr:.4f}, loss {loss:.4f}, "
          f"validation accuracy {100 * dense.accuracy(ds.X_val, ds.y_val):.2f} %")
seconds = time.perf_counter() - started
dense_accuracy = dense.accuracy(ds.X_test, ds.y_test)
print(f"{DENSE_EPOCHS} epochs in {seconds:.1f} s ({seconds / DENSE_EPOCHS:.1f} s per epoch)")
print(f"dense LeNet-300-100: {dense.n_weights} weights, test error {100 * (1 - dense_accuracy):.2f} % "
      f"(Han et al.: {PAPER['lenet300']['error_dense']} %)")

PRUNABLE = [(index, name) for index, _, name in dense.parameters(prunable_only=True)]
LABELS = {key: layer_label(dense, *key) for key in PRUNABLE}

# %% [markdown]
# ## 2. The threshold $q\,\sigma_l$, and one ranking for all layers
#
# `pynncomp.compress.kept_weight_std(W, mask)` is $\sigma_l$: the population
# standard deviation (`ddof=0`) of the weights the mask keeps
# (`docs/methods.md#q-sigma`). On the dense net it is the spread of the whole
# layer. `pynncomp.compress.han_prune(model, q)` applies the rule literally,
# every layer at its own threshold $q\,\sigma_l$, and returns each layer's kept
# fraction. One $q$ gives each layer a different threshold, because each layer
# has its own $\sigma_l$. Dividing by $\sigma_l$ puts the layers on one scale:
# compare, at one $q$, the thresholds and the fractions kept of the three layers.
# To spare a sensitive layer, Han et al. give it a smaller $q$ of its own
# (section 3 says how to find which).

# %%
QUALITIES = (0.5, 1.0, 1.5)
kept_fraction = {q: han_prune(copy.deepcopy(dense), q) for q in QUALITIES}  # each q on its own copy
print(f"{'layer':<24} {'sigma_l':>8}" + "".join(f"  q={q}: q*sigma_l, kept" for q in QUALITIES))
for key in PRUNABLE:
    index, name = key
    sigma = kept_weight_std(dense.layers[index].params[name], dense.layers[index].masks.get(name))
    print(f"{LABELS[key]:<24} {sigma:8.4f}"
          + "".join(f"  {q * sigma:11.4f}, {100 * kept_fraction[q][key]:5.1f} %" for q in QUALITIES))

# %% [markdown]
# Han et al. turn $q$ until the net is as small as they want. pynncomp asks
# the other way round: *which* $q$ keeps exactly $\operatorname{round}((1 - S)\,m)$
# weights? It hands the layer-normalised magnitude
# $s_k = |w_k| / \sigma_{l(k)}$ (`pynncomp.compress.layer_normalised_magnitude`,
# `docs/methods.md#han-exact`) to the exact pruning engine
# (`pynncomp.compress.prune`, `docs/methods.md#exact-sparsity`). The largest $s$
# pruned is the $q$ the step implies. The cell checks that `han_prune` with a $q$
# between the largest pruned and the smallest kept $s$ removes exactly the same
# weights. (Only two tied weights of one layer straddling the cut could make
# them differ: the ranking's tie rule can split a tie, a threshold cannot.)

# %%
def han_step(model, sparsity):
    """One of Han et al.'s pruning steps, to an exact sparsity; returns the q it implies and the saliency.

    The largest pruned s = |w|/σ_l is the q (as pynncomp.methods.han records it):
    every kept weight lies at or above it.
    """
    saliency = layer_normalised_magnitude(model)  # σ_l from the weights kept now
    prune(model, saliency, sparsity)
    pruned = [s[~model.layers[index].masks[name]] for (index, name), s in saliency.items()]
    return max((float(p.max()) for p in pruned if p.size), default=0.0), saliency


S_CHECK = 0.9
ranked = copy.deepcopy(dense)
q_implied, saliency = han_step(ranked, S_CHECK)
smallest_kept = min(float(s[ranked.layers[i].masks[n]].min()) for (i, n), s in saliency.items())
# any q between the largest pruned s and the smallest kept s draws the same line
q_between = (q_implied + smallest_kept) / 2
thresholded = copy.deepcopy(dense)
han_prune(thresholded, q_between)
differ = sum(int(np.count_nonzero(ranked.layers[i].masks[n] != thresholded.layers[i].masks[n])) for i, n in PRUNABLE)
print(f"S = {S_CHECK}: the ranking keeps {ranked.n_kept_weights} of {ranked.n_weights} weights "
      f"(round((1 - S) m) = {round((1 - S_CHECK) * ranked.n_weights)})")
print(f"largest pruned s = {q_implied:.6f} (the implied q), smallest kept s = {smallest_kept:.6f}")
print(f"han_prune at q = {q_between:.6f} keeps {thresholded.n_kept_weights}; masks that differ: {differ} weights")

# %% [markdown]
# ## 3. Sensitivity: which layer can lose the most?
#
# Han et al. pick each layer's $q$ from a sensitivity analysis: prune one layer
# alone, measure, put it back.
# `pynncomp.compress.sensitivity.sensitivity(model, X, y, levels)` does exactly
# this with magnitude ranking inside the layer, on the validation
# images (never the test images: the analysis chooses something, so it must
# not see the images that grade the result), and leaves the model as it was
# (`docs/methods.md#sensitivity`). `sensitivity_table` prints it; the command
# line does the same (`pynncomp sensitivity MODEL`), and
# `pynncomp.compress.sensitivity.plot_sensitivity` draws the curves into a file.
# Below we draw them ourselves.

# %%
LEVELS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99)
result = sensitivity(dense, ds.X_val, ds.y_val, LEVELS)
print(sensitivity_table(result))

fig, ax = plt.subplots(figsize=(6.4, 4.2))
kept_percent = [100 * (1 - s) for s in result["sparsities"]]
for label, entry in result["layers"].items():
    ax.plot(kept_percent, [100 * a for a in entry["accuracy"]], marker="o",
            label=f"{label}, {entry['weights']} weights")
ax.axhline(100 * result["baseline"], color="grey", linestyle=":", label="unpruned net")
ax.set_xscale("log")
ax.invert_xaxis()  # more pruning to the right, as in Han et al.'s figure
ax.minorticks_off()
ax.set_xticks(kept_percent, [f"{k:g}" for k in kept_percent])
ax.set_xlabel("weights kept in that one layer (%, log scale; pruning more to the right)")
ax.set_ylabel("validation accuracy (%)")
ax.set_title("Sensitivity of LeNet-300-100: one layer pruned, no retraining", fontsize=10)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
save_figure(fig, LESSON, "sensitivity")

# %% [markdown]
# Read the curves from left to right: the layer whose accuracy falls first is
# the one to prune least. Han et al. keep 26 % of LeNet-300-100's small output
# layer (1 000 weights, each carrying part of one class's evidence) against 8 %
# and 9 % of the two hidden layers, and in pynncomp's reproduction
# (`docs/reproduction-han.md`) the output layer is the most sensitive one. Check
# whether the curves above put the layers in that order, and note that without
# retraining a curve need not fall steadily.
#
# ## 4. Prune and retrain, iteratively and in one shot
#
# One pruning step is `han_step` above; retraining is more epochs of the same
# SGD at $\eta_0 / 10$ on the surviving weights (the mask keeps the pruned ones
# at exactly 0: they get no gradient and no momentum, `docs/methods.md#masks`).
#
# *Iterative*: prune to 50 %, retrain one epoch, prune to 75 %, retrain, … up to
# 98 %, recording the test accuracy after each retraining. *One shot*: from the
# dense net, prune once straight to the level, then retrain **as many epochs as
# the iterative path had spent to get there** — the same budget, only the
# pruning differs. Because $\sigma_l$ is recomputed from the kept weights at
# every step, it grows as the small weights go, and the threshold
# $q\,\sigma_l$ with it: the table prints both.

# %%
CHAIN = (0.5, 0.75, 0.9, 0.95, 0.97, 0.98)
COMPARED = (0.9, 0.95, 0.97, 0.98)


def retrain(model, epochs):
    """Han et al.'s retraining: the surviving weights as they are, a tenth of the learning rate."""
    optimizer = SGD(RETRAIN_LR, MOMENTUM, L2(L2_LAMBDA))
    for _ in range(epochs):
        train_epoch(model, optimizer, ds.X_train, ds.y_train, BATCH, order)


def kept_per_layer(model):
    return {key: entry["kept"] for key, entry in pruning_report(model)["layers"].items()}


iterative = copy.deepcopy(dense)  # the surviving weights start from the trained ones
accuracy = {"iterative": {}, "one-shot": {}}
kept = {"iterative": {}, "one-shot": {}}
print(f"{'S':>5} {'q':>6}" + "".join(f"{f'{i}.{n}: sigma_l, q*sigma_l':>24}" for i, n in PRUNABLE)
      + "   kept per layer          test accuracy")
for steps, level in enumerate(CHAIN, start=1):
    # σ_l of the weights kept before this step: the step's threshold is q·σ_l
    sigmas = [kept_weight_std(iterative.layers[i].params[n], iterative.layers[i].masks.get(n)) for i, n in PRUNABLE]
    q, _ = han_step(iterative, level)
    retrain(iterative, 1)
    accuracy["iterative"][level] = iterative.accuracy(ds.X_test, ds.y_test)
    kept["iterative"][level] = kept_per_layer(iterative)
    print(f"{level:5.2f} {q:6.3f}" + "".join(f"{sigma:16.4f}, {q * sigma:.4f}" for sigma in sigmas)
          + f"   {list(kept['iterative'][level].values())!s:<24} {100 * accuracy['iterative'][level]:.2f} %")
    if level in COMPARED:
        one_shot = copy.deepcopy(dense)
        han_step(one_shot, level)
        retrain(one_shot, steps)  # the same number of retraining epochs as the iterative path so far
        accuracy["one-shot"][level] = one_shot.accuracy(ds.X_test, ds.y_test)
        kept["one-shot"][level] = kept_per_layer(one_shot)

print(f"\n{'S':>5} {'iterative':>10} {'one-shot':>10}   output-layer weights kept, iterative / one-shot")
for level in COMPARED:
    out = PRUNABLE[-1]
    print(f"{level:5.2f} {100 * accuracy['iterative'][level]:9.2f} % {100 * accuracy['one-shot'][level]:9.2f} %"
          f"   {kept['iterative'][level][out]} / {kept['one-shot'][level][out]}")
print(f"dense: {100 * dense_accuracy:.2f} %")

# %%
fig, ax = plt.subplots(figsize=(6.4, 4.2))
for path, marker in (("iterative", "o"), ("one-shot", "s")):
    ax.plot([100 * s for s in COMPARED], [100 * accuracy[path][s] for s in COMPARED], marker=marker,
            label=f"{path}, retrained at lr/10")
ax.axhline(100 * dense_accuracy, color="grey", linestyle=":", label="dense net")
ax.set_xlabel("weights removed from the whole net (%)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("LeNet-300-100: iterative against one-shot pruning\n(the same retraining epochs at each level)",
             fontsize=10)
ax.grid(alpha=0.3)
ax.legend()
save_figure(fig, LESSON, "iterative_vs_one_shot")

# %% [markdown]
# Two things to read in the printout. First, the threshold grows: $\sigma_l$ of
# the weights kept before each step rises from step to step, so the threshold
# $q\,\sigma_l$ climbs even when the implied $q$ does not. Second, look at the
# output layer's kept weights. One $q$ for all layers judges a weight small
# *relative to its layer*: in one cut from the dense net, the output layer loses
# about the same fraction as the others (the table of section 2 showed it).
# Between iterative steps, retraining lets the surviving output weights grow
# against their layer's $\sigma_l$, so later steps spare them; and the
# sensitivity curves say this is the layer that can least afford to lose
# weights. A pruned connection never comes back, so a bad first cut cannot be
# repaired.
#
# ## 5. The weights before and after
#
# Han et al. show the weight distribution of a layer before pruning and after
# pruning and retraining: a bell around 0 becomes two humps with a hole in the
# middle, where the threshold was. Here is LeNet-300-100's first layer, dense and
# after the iterative path (the kept weights only; a log scale, as the kept
# weights are few).

# %%
first = PRUNABLE[0]
before = dense.layers[first[0]].params[first[1]].ravel()
layer = iterative.layers[first[0]]
after = layer.params[first[1]][layer.masks[first[1]]]
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
edge = max(np.abs(before).max(), np.abs(after).max())
bins = np.linspace(-edge, edge, 121)
axes[0].hist(before, bins=bins, color="tab:blue", label=f"dense, {before.size} weights")
axes[1].hist(after, bins=bins, color="tab:orange",
             label=f"net pruned to {100 * CHAIN[-1]:g} %, retrained:\n{after.size} of this layer's weights kept")
for ax, title, where in zip(axes, ("before pruning", "after pruning + retraining"), ("upper left", "upper center")):
    ax.set_yscale("log")
    ax.set_xlabel("weight value")
    ax.set_ylabel("number of weights (log scale)")
    ax.set_title(f"{LABELS[first]}: {title}", fontsize=10)
    ax.legend(fontsize=8, loc=where)  # where the bars leave room
save_figure(fig, LESSON, "first_layer_weights")
print(f"first layer: {after.size} of {before.size} weights kept; smallest kept |w| = {np.abs(after).min():.4f}, "
      f"largest |w| before = {np.abs(before).max():.4f}, after = {np.abs(after).max():.4f}")

# %% [markdown]
# ## 6. The same method inside pynncomp: `--method han`
#
# Our LeNet has no dropout (`models.build` adds none unless asked, and
# `Protocol.dropout` defaults to 0), so the dropout rule never acted above.
# `pynncomp.methods.han` is the method that `pynncomp train --method han` and
# `pynncomp.experiment.run("han", ...)` run on the common timetable
# (`docs/methods.md#timetable`). Its `saliency` is `layer_normalised_magnitude`,
# and after every step its `after_prune` sets the learning rate to
# `han_lr_factor` × lr (a tenth by default) and rescales every `Dropout` layer by
# `pynncomp.compress.rescaled_dropout(D_o, C_io, C_ir)`, $C$ counted on the
# weighted layer just before the dropout (the one whose outputs it drops),
# always from the original $D_o$ (`docs/methods.md#dropout-rescaling`).
#
# A short run on a few thousand training images shows the mechanics (its
# accuracy is not the point): the learning rate of each epoch, the $q$ each step
# implied, and the dropout rates at the end against the formula.

# %%
demo_protocol = Protocol(batch_size=BATCH, lr=LR, pretrain_epochs=2, steps=3, power=3.0, prune_every=1,
                         finetune_max=1, patience=1, dropout=0.5)
demo_model, record = experiment.run("han", subset(ds, scaled(5000, 2000)), arch="lenet300", sparsity=0.9, seed=0,
                                    protocol=demo_protocol)
for entry in record["history"]:
    print(f"epoch {entry['epoch']} ({entry['phase']:<8}): lr {entry['lr']:.4f}, "
          f"{100 * entry['sparsity']:5.1f} % removed")
for step in record["method_notes"]["steps"]:
    print(f"step {step['step']}: q = {step['q']:.3f}, kept per layer",
          {key: f"{100 * f:.1f} %" for key, f in step["kept_fraction"].items()})
for index, layer in enumerate(demo_model.layers):
    if isinstance(layer, Dropout):
        weighted = demo_model.layers[index - 2]  # Dense, ReLU, Dropout: the Dense whose outputs it drops
        c_io, c_ir = weighted.params["W"].size, int(weighted.masks["W"].sum())
        print(f"layer {index} Dropout: p = {layer.p:.4f}; rescaled_dropout(0.5, {c_io}, {c_ir}) = "
              f"{rescaled_dropout(0.5, c_io, c_ir):.4f}")

# %% [markdown]
# With the paper's kept fractions (8 % and 9 % of the two hidden layers), a
# dropout of 0.5 would fall to $0.5\sqrt{0.08} \approx 0.14$ and
# $0.5\sqrt{0.09} = 0.15$: a pruned layer hardly needs dropout any more.
#
# The full reproduction of the paper's LeNet results, with the protocols used and
# how they compare, is in `docs/reproduction-han.md`
# (`pynncomp reproduce han-lenet300`, `han-iterative`, `han-sensitivity`, …).
#
# ## Exercises
#
# 1. **Graded.** In `tutorials/exercises/ex07_han.py`, write
#    `kept_sigma(W, mask)` ($\sigma_l$ of the kept weights),
#    `han_threshold_mask(W, q, mask)` (the keep-mask after one step of the
#    rule) and `rescaled_dropout(p, kept_before, kept_after)` ($D_r$) with NumPy.
#    Grade them with `python -m pytest tutorials/grading -k ex07`: they are
#    compared with `pynncomp.compress.kept_weight_std`, `han_prune` and with what
#    `pynncomp.methods.han` does to the dropout layers over several steps.
# 2. **Predict, then try.** Take $\sigma_l$ over *all* the layer's weights, the
#    pruned zeros included. Does the threshold $q\,\sigma_l$ then grow or shrink
#    from one step to the next at a fixed $q$? What does that do to iterative
#    pruning? (Compute `np.std` of a layer with and without its zeros after the
#    chain above.)
# 3. **Change the budget.** Give the iterative path and the one-shot nets 2
#    epochs of retraining per step instead of 1 (in `retrain(iterative, 1)` and
#    `retrain(one_shot, steps)`). Which gap, at which level, do you expect to
#    close, and which to stay? Then retrain at `LR` instead of `LR / 10`:
#    `docs/reproduction-han.md` found a tenth too slow for short retraining.
# 4. **Per-layer targets.** Prune the dense net with
#    `prune(model, layer_normalised_magnitude(model), {(0, "W"): 0.92, (2, "W"): 0.91, (4, "W"): 0.74}, scope="layer")`,
#    Han et al.'s kept fractions, and compare its accuracy before and after
#    retraining with the 90 % one-shot net above, which removes about as many
#    weights with one $q$.
