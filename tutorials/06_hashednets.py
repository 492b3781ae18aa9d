# %% [markdown]
# # Lesson 6 — HashedNets: the hashing trick against pruning
#
# **Learning goals.** After this lesson you can
#
# 1. say how a HashedNet layer builds a full weight matrix from a few real weights, and compute it;
# 2. derive the gradient of a real weight as a sum over the virtual weights that share it;
# 3. predict how many virtual weights share a bucket, and check the prediction on pynncomp's hash;
# 4. explain why the random sign makes the collisions harmless on average;
# 5. compare a HashedNet with a magnitude-pruned net holding the same number of real weights.
#
# **The layer** (Chen, Wilson, Tyree, Weinberger & Chen 2015, *Compressing Neural Networks with the
# Hashing Trick*, section 4). A fully connected layer needs a weight matrix of shape
# $(n_{in}, n_{out})$. A HashedNet layer stores only $K \ll n_{in} n_{out}$ real weights
# $w_0, \dots, w_{K-1}$; every entry of the *virtual* matrix $V$ is one of them, chosen by a hash
# $h(i, j) \in \lbrace 0, \dots, K-1 \rbrace$, with a sign chosen by a second hash
# $\xi(i, j) \in \lbrace -1, +1 \rbrace$:
#
# $$
# V_{ij} = \xi(i, j)\, w_{h(i, j)}, \qquad Y = X V + b, \qquad K = \lceil c\, n_{in} n_{out} \rceil ,
# $$
#
# with $c$ the compression factor. Nothing about which entry uses which weight is stored: both hashes
# are recomputed from $(i, j)$ and a seed. pynncomp hashes the 8 bytes of $(i, j)$ with xxHash32:
# $h(i, j) = \mathrm{xxh32}(i, j; s) \bmod K$, and $\xi(i, j) = +1$ when the top bit of
# $\mathrm{xxh32}(i, j; s \oplus \mathtt{0x9E3779B9})$ is 0, else $-1$.
#
# **The gradient.** The loss sees $w_k$ only through the entries of $V$ that use it, so by the chain
# rule, with $dV = \partial L / \partial V = X^\top dY$,
#
# $$
# \frac{\partial L}{\partial w_k} = \sum_{(i, j):\ h(i, j) = k} \xi(i, j)\, dV_{ij} .
# $$
#
# **Collisions.** With $n = n_{in} n_{out}$ entries thrown into $K$ buckets by a good hash, the number
# of entries sharing bucket $k$ (its *load*) is binomial, $\mathrm{Bin}(n, 1/K)$, close to a Poisson
# law of mean $\lambda = n / K = 1/c$. Seen from one output unit $j$, the layer is a linear model on
# *hashed features* $\phi_k(x) = \sum_{i: h(i, j) = k} \xi(i, j)\, x_i$, and the random sign makes
# their inner products unbiased: $\mathbb{E}_\xi\left[\phi(x) \cdot \phi(x')\right] = x \cdot x'$.
#
# All of these are stated in `docs/methods.md` under [#hashed-layer](../docs/methods.md#hashed-layer),
# [#hash](../docs/methods.md#hash) and [#hashed-budget](../docs/methods.md#hashed-budget), each with
# the function that computes it.

# %%
import numpy as np
import matplotlib.pyplot as plt
from scipy import stats

from pynncomp import course, experiment, kernels
from pynncomp.compress import matched_hashed_buckets
from pynncomp.gradcheck import GRAD_RTOL, check_layer
from pynncomp.kernels import reference
from pynncomp.nn import HashedDense
from pynncomp.train import Protocol

LESSON = "06_hashednets"
rng = np.random.default_rng(0)
print(f"kernel backend: {kernels.ACTIVE_BACKEND}")
dataset = course.load_data("mnist")

# %% [markdown]
# ## 1. The hash: which real weight each virtual weight uses
#
# `pynncomp.kernels.hash_buckets(n_in, n_out, K, seed)` returns the bucket array $h$ (int32) and the
# sign array $\xi$ (int8), both of shape $(n_{in}, n_{out})$ (docs/methods.md#hash). Here is a small
# 4 × 6 layer with $K = 5$. The NumPy specification of the hash,
# `pynncomp.kernels.reference.xxh32_pair`, recomputes one entry by the formula above.

# %%
SEED = 1691  # the default hash seed (Chen et al.'s released code)
bucket, sign = kernels.hash_buckets(4, 6, 5, SEED)
print("h(i, j):\n", bucket)
print("xi(i, j):\n", sign)
i, j, K = 2, 3, 5
by_formula = int(reference.xxh32_pair(i, j, SEED)) % K
print(f"h({i}, {j}) by the formula: xxh32({i}, {j}; {SEED}) mod {K} = {by_formula}; "
      f"hash_buckets gives {bucket[i, j]}")

# %% [markdown]
# ## 2. The virtual matrix and the gradient of a real weight
#
# `pynncomp.nn.HashedDense` is the layer. Its virtual matrix, `HashedDense.virtual_weights()`, is the
# kernel `pynncomp.kernels.hashed_lookup(w, bucket, sign)`, $V = \xi \odot w[h]$
# (docs/methods.md#hashed-layer). We build the first layer of a 784-100-10 net with compression
# $c = 1/10$: 78 400 virtual weights from 7 840 real ones.

# %%
layer = HashedDense(784, 100, compression=0.1, seed=0)
w = layer.params["w"]
V = layer.virtual_weights()
print(f"K = {layer.K} real weights for {V.size} virtual ones (c = {layer.compression:.3f})")
print("V equals hashed_lookup(w, bucket, sign):",
      np.array_equal(V, kernels.hashed_lookup(w, layer.bucket, layer.sign)))
print("distinct |V| values:", np.unique(np.abs(V)).size, "(at most K)")
print("buckets equal hash_buckets(784, 100, K, hash_seed):",
      np.array_equal(layer.bucket, kernels.hash_buckets(784, 100, layer.K, layer.hash_seed)[0]))

# %% [markdown]
# The backward pass treats $V$ as an ordinary weight, $dV = X^\top dY$, then sums each bucket:
# `pynncomp.kernels.bucket_accumulate(dV, bucket, sign, K)` computes
# $\partial L / \partial w_k = \sum_{h(i,j)=k} \xi(i,j)\, dV_{ij}$, and
# `HashedDense.backward` calls it (docs/methods.md#hashed-layer). We check the layer's gradient
# against the kernel, then against centred finite differences (`pynncomp.gradcheck.check_layer`,
# in float64 on a small layer, as finite differences need).

# %%
x = rng.random((16, 784), dtype=np.float32)
dY = rng.standard_normal((16, 100)).astype(np.float32)
out, cache = layer.forward(x)
layer.backward(dY, cache)
dw = kernels.bucket_accumulate(x.T @ dY, layer.bucket, layer.sign, layer.K)
print("layer's grads['w'] equals bucket_accumulate(X^T dY):", np.allclose(layer.grads["w"], dw, rtol=1e-5))

small = HashedDense(7, 5, K=6, seed=1, dtype=np.float64)
errors = check_layer(small, rng.standard_normal((4, 7)))
print("relative error against finite differences:", {k: f"{v:.1e}" for k, v in errors.items()},
      f"(tolerance {GRAD_RTOL:.0e})")

# %% [markdown]
# ## 3. Collisions: how many virtual weights share a bucket
#
# The study compares a HashedNet and a pruned net *at the same number of real weights*: for a target
# sparsity $S$, pruning keeps $\operatorname{round}((1 - S) m)$ of the $m$ weights, and
# `pynncomp.compress.matched_hashed_buckets(layer_shapes, S)` splits the same number of real weights
# over the hashed layers in proportion to their sizes (docs/methods.md#hashed-budget). Each bucket of
# the 784 × 100 layer then serves $\lambda = 784 \cdot 100 / K$ virtual weights on average. Below, the
# loads of pynncomp's hash (a histogram, `np.bincount` of the bucket array) against the binomial law
# $\mathrm{Bin}(n, 1/K)$ that an ideal hash gives.

# %%
SHAPES = [(784, 100), (100, 10)]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, S in zip(axes, (0.9, 0.98)):
    K_layers = matched_hashed_buckets(SHAPES, S)
    K = K_layers[0]
    n = 784 * 100
    bucket, _ = kernels.hash_buckets(784, 100, K, SEED)
    load = np.bincount(bucket.ravel(), minlength=K)
    lam = n / K
    print(f"S = {S:.0%}: K per layer {K_layers}; first layer: mean load {load.mean():.2f} (lambda = {lam:.2f}), "
          f"variance {load.var():.2f} (binomial {n / K * (1 - 1 / K):.2f}), largest load {load.max()}, "
          f"empty buckets {np.count_nonzero(load == 0)} (expected {K * (1 - 1 / K) ** n:.1f})")
    values = np.arange(load.max() + 2)
    ax.hist(load, bins=values - 0.5, density=True, color="tab:blue", alpha=0.6, label="pynncomp's hash")
    ax.plot(values, stats.binom.pmf(values, n, 1 / K), "k.-", label=f"Bin({n}, 1/{K})")
    ax.set_title(f"784×100 layer matched to S = {S:.0%}: K = {K}")
    ax.set_xlabel("virtual weights sharing a bucket (load)")
    ax.set_ylabel("fraction of buckets")
    ax.legend()
course.save_figure(fig, LESSON, "bucket_loads")

# %% [markdown]
# Every real weight is shared: at $S = 98\,\%$ a weight serves about 50 connections of the first
# layer, which is what lets a HashedNet keep *all* connections with 2 % of the parameters. The
# histogram follows the binomial law: xxHash32 spreads the entries like an ideal random hash
# (the `mod K` bias is at most $K / 2^{32}$, docs/methods.md#hash).
#
# ## 4. Why the sign hash: unbiased collisions
#
# Output unit $j$ computes $\sum_i V_{ij} x_i = \sum_k w_k \phi_k(x)$ with the hashed features
# $\phi_k(x) = \sum_{i:\,h(i,j)=k} \xi(i,j)\, x_i$. Two inputs are compared through
#
# $$
# \phi(x) \cdot \phi(x') = \sum_i x_i x'_i
# + \sum_{i \ne i':\ h(i, j) = h(i', j)} \xi(i, j)\, \xi(i', j)\, x_i x'_{i'} .
# $$
#
# The second sum is the collisions. With independent random signs each of its terms has mean 0, so
# $\mathbb{E}[\phi(x) \cdot \phi(x')] = x \cdot x'$. Without signs every term counts positively: for
# images, whose pixels are all $\ge 0$, two pixels share a bucket with probability $1/K$ and the
# collisions add on average $\left((\sum_i x_i)(\sum_i x'_i) - x \cdot x'\right) / K$.
#
# $\phi(x)$ is exactly what `bucket_accumulate` computes from $x$ for one column: the gradient of the
# real weights of unit $j$ is $dY_j \, \phi(x)$. Below, two digit images, $K = 78$ buckets for the 784
# pixels ($c = 1/10$), and each of 500 columns of `hash_buckets(784, 500, 78, seed)` as an independent
# hash function; "no sign" uses the same buckets with $\xi \equiv +1$.

# %%
x1, x2 = dataset.X_test[0].astype(np.float64), dataset.X_test[1].astype(np.float64)
K_FEATURES, N_HASHES = 78, 500
bucket, sign = kernels.hash_buckets(784, N_HASHES, K_FEATURES, SEED)
plus = np.ones_like(sign[:, 0])
signed, unsigned = [], []
for column in range(N_HASHES):
    h, s = bucket[:, column], sign[:, column]
    phi1, phi2 = (kernels.bucket_accumulate(v, h, s, K_FEATURES) for v in (x1, x2))
    signed.append(phi1 @ phi2)
    phi1, phi2 = (kernels.bucket_accumulate(v, h, plus, K_FEATURES) for v in (x1, x2))
    unsigned.append(phi1 @ phi2)
signed, unsigned = np.array(signed), np.array(unsigned)
exact = x1 @ x2
print(f"x·x' = {exact:.1f}")
print(f"with the sign hash:    mean over {N_HASHES} hashes {signed.mean():.1f} ± {signed.std():.1f}")
print(f"without the sign hash: mean {unsigned.mean():.1f} ± {unsigned.std():.1f}, {unsigned.mean() - exact:.1f} "
      f"above x·x'; predicted (Σx Σx' − x·x')/K = {(x1.sum() * x2.sum() - exact) / K_FEATURES:.1f}")

fig, ax = plt.subplots(figsize=(7, 3.8))
bins = np.linspace(min(signed.min(), unsigned.min()), max(signed.max(), unsigned.max()), 60)
ax.hist(signed, bins=bins, alpha=0.6, label="with sign hash ξ")
ax.hist(unsigned, bins=bins, alpha=0.6, label="without (ξ ≡ +1)")
ax.axvline(exact, color="k", linestyle="--", label="exact x·x'")
ax.set_title(f"Hashed inner product of two digits, {N_HASHES} hash functions, K = {K_FEATURES}")
ax.set_xlabel("φ(x)·φ(x') (pixel intensity², dimensionless)")
ax.set_ylabel("number of hash functions")
ax.legend()
course.save_figure(fig, LESSON, "sign_hash")

# %% [markdown]
# With the sign the hashed inner product scatters around the exact one; without it, every hash
# function overestimates it by the predicted bias. A HashedNet still learns its $w$, so a bias is not
# fatal, but with signs the collisions act as zero-mean noise rather than as a systematic coupling of
# every pair of inputs sharing a bucket.
#
# ## 5. Equal parameters: a HashedNet against magnitude pruning
#
# `pynncomp.experiment.run("hashednet", dataset, hidden=100, sparsity=S)` builds a 784-100-10
# HashedNet with the $K_l$ of `matched_hashed_buckets` (layer seeds $1691 + l$) and trains it with the
# L2 penalty; `run("magl2", ...)` trains the dense net and prunes it by magnitude to the same number of
# kept weights on the common timetable (docs/methods.md#timetable). The default timetable
# (`Protocol()`, docs/protocol.md) is 10 epochs of pre-training, 20 pruning steps one epoch apart and
# up to 30 epochs of fine-tuning; to keep this lesson under two minutes we shorten it (below; the
# data are not cut) and train one seed, so the accuracies are not the study's, and differences of a
# few tenths of a percent between two runs here are within the noise of a single seed. Pre-training
# is shared between the magl2 levels (`pretrained=` cache), which changes no number.

# %%
LEVELS = course.scaled((0.9, 0.95, 0.98), (0.9, 0.98))
PROTOCOL = course.scaled(Protocol(pretrain_epochs=2, steps=2, prune_every=1, finetune_max=2, patience=1),
                         Protocol(pretrain_epochs=1, steps=1, finetune_max=1, patience=1))
print(f"timetable: {PROTOCOL.pretrain_epochs} epochs of pre-training, {PROTOCOL.steps} pruning steps "
      f"{PROTOCOL.prune_every} epoch apart, at most {PROTOCOL.finetune_max} of fine-tuning "
      f"(patience {PROTOCOL.patience})")

results = {}
_, dense_record = experiment.run("dense", dataset, hidden=100, seed=0, protocol=PROTOCOL)
print(f"    dense: {dense_record['weights_kept']} weights, test accuracy {dense_record['test_accuracy']:.2%}, "
      f"{dense_record['epochs']} epochs, {dense_record['wall_s']:.1f} s")
cache = {}
for method in ("magl2", "hashednet"):
    for S in LEVELS:
        _, record = experiment.run(method, dataset, hidden=100, sparsity=S, seed=0, protocol=PROTOCOL,
                                   pretrained=cache)
        results[method, S] = record
        print(f"{method:>9} S = {S:.0%}: {record['weights_kept']:5d} real weights + {record['biases']} biases, "
              f"test accuracy {record['test_accuracy']:.2%}, {record['epochs']} epochs, {record['wall_s']:.1f} s")

# %%
for S in LEVELS:
    gap = results["magl2", S]["test_accuracy"] - results["hashednet", S]["test_accuracy"]
    print(f"S = {S:.0%}: pruning minus hashing = {100 * gap:+.2f} points of test accuracy")

fig, ax = plt.subplots(figsize=(7, 4))
for method, label, style in (("magl2", "magnitude pruning (magl2)", "o-"), ("hashednet", "HashedNet", "s-")):
    kept = [results[method, S]["weights_kept"] for S in LEVELS]
    accuracy = [100 * results[method, S]["test_accuracy"] for S in LEVELS]
    ax.plot(kept, accuracy, style, label=label)
ax.axhline(100 * dense_record["test_accuracy"], color="gray", linestyle="--",
           label=f"dense ({dense_record['weights_kept']} weights)")
kept = [results["magl2", S]["weights_kept"] for S in LEVELS]
ax.set_xscale("log")
ax.set_xticks(kept, [f"{k}\n(S = {S:.0%})" for k, S in zip(kept, LEVELS)])
ax.minorticks_off()
ax.set_xlabel("real weights (kept or hashed), log scale")
ax.set_ylabel("test accuracy (%)")
ax.set_title(f"784-100-10 on {dataset.name}: equal real weights, shortened timetable")
ax.legend()
course.save_figure(fig, LESSON, "hashed_vs_pruned")

# %% [markdown]
# Read the run above: at every level the two nets store the same number of real weights and biases,
# but not the same network. Pruning removes connections and keeps the weights it finds important;
# hashing keeps every connection and ties their weights at random. The study finds that pruning beats
# HashedNets at an equal number of parameters; pynncomp's own reproduction of its Figures 1 and 2
# (docs/reproduction.md) confirms it from 90 % to 99.5 % of the weights removed, and finds the reverse
# at 99.8 %, where the 159 weights pruning keeps leave most inputs disconnected while a hashed layer
# still connects every input to every unit. (On the generated synthetic-digits, a far easier task
# than MNIST, both nets are close to the dense one and the gap can take either sign.)
#
# Hashing has two other costs. A HashedNet layer is slower per step than the dense layer it replaces,
# because the lookup and the bucket sum run over the whole virtual matrix at every step: compare the
# time of the dense run with the HashedNet runs, which train as many epochs (docs/performance.md
# measures the same per layer). (The magl2 runs after the first reuse its pre-training, so their
# times are not comparable.) On disk it needs only $4K$ bytes of weights plus its
# biases, because the bucket and sign arrays are recomputed from the seed
# (docs/methods.md#hashed-storage); lesson 8 measures file sizes.
#
# ## Exercises
#
# 1. **Graded.** In `tutorials/exercises/ex06_hashing.py` write `hashed_lookup(w, bucket, sign)`,
#    the virtual matrix $V = \xi \odot w[h]$, and `bucket_gradient(dV, bucket, sign, K)`, the
#    gradient $\partial L / \partial w_k = \sum_{h(i,j)=k} \xi(i,j)\, dV_{ij}$, with NumPy only. Grade
#    them with `python -m pytest tutorials/grading -k ex06`: they are compared with
#    `pynncomp.kernels.hashed_lookup` and `bucket_accumulate`, and the gradient with finite
#    differences of $L = \sum G \odot V(w)$.
# 2. **Predict, then try.** What fraction of the buckets is empty when $K$ equals the number of
#    virtual weights ($c = 1$, a Poisson law of mean 1)? What does that mean for a HashedNet with
#    $c = 1$ compared with the dense layer it stands for? Check it with the cell of section 3, looping
#    over `(0.0, 0.9)` instead of `(0.9, 0.98)` ($S = 0$ gives $K = n$).
# 3. **Think.** In section 4 the bias without signs grows with $(\sum_i x_i)(\sum_i x'_i) / K$. Would it
#    matter for inputs of mean zero (standardised pixels)? And for the hidden layer of the net, whose
#    inputs are ReLU outputs?
# 4. **Try.** Add `0.99` and `0.998` to `LEVELS` and predict, before running, the sign of the gap the
#    lesson prints at each (at 99.8 % pruning keeps 159 weights for 784 inputs and 100 hidden units).
