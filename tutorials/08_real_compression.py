# %% [markdown]
# # Lesson 8 — Real compression: bytes on disk and sparse inference
#
# **Learning goals.** After this lesson you can
#
# 1. store a pruned weight matrix in CSR form and count its bytes, index widths included;
# 2. predict the size of a pruned model's file from its sparsity, and say where pruning starts to
#    save space at all;
# 3. compute $Y = X (W \odot M)$ from the kept weights only, and read a timing comparison of
#    pynncomp's C kernel, `scipy.sparse` and dense BLAS;
# 4. say when sparsity pays in time, not just in the parameter count.
#
# A pruned weight is exactly 0 (lesson 3), but a matrix full of zeros takes as many bytes as before,
# and a dense matrix product multiplies the zeros too. Compression is real only when the zeros are
# neither stored nor computed.
#
# **CSR** (compressed sparse row). Row $r$ of a 2-D weight $W$ of shape $(n_{rows}, n_{cols})$ keeps its
# kept entries in three arrays: `data` (the values), `indices` (their column numbers, increasing
# within a row) and `indptr` ($n_{rows} + 1$ offsets), so that
#
# $$
# W_{r,\,\mathrm{indices}[t]} = \mathrm{data}[t] \quad \text{for } \mathrm{indptr}[r] \le t < \mathrm{indptr}[r+1],
# $$
#
# and every other entry is 0. pynncomp stores each index array in the smallest unsigned integer type
# holding its largest value: $\beta_{col}$ bytes per column index (enough for $n_{cols} - 1$) and
# $\beta_{ptr}$ per offset (enough for $n_{kept}$). A layer with $n_{kept}$ float32 weights and
# $n_{out}$ biases then takes
#
# $$
# \underbrace{4 n_{kept}}_{\text{data}} + \underbrace{\beta_{col}\, n_{kept}}_{\text{indices}}
# + \underbrace{\beta_{ptr} (n_{rows} + 1)}_{\text{indptr}} + \underbrace{4 n_{out}}_{\text{bias}}
# \quad \text{bytes, against } 4 n_{rows} n_{cols} + 4 n_{out} \text{ dense.}
# $$
#
# A keep-mask stored as packed bits takes $\lceil n / 8 \rceil$ bytes whatever the sparsity, and a
# HashedNet layer (lesson 6, Chen et al. 2015) stores only its $K$ real weights, $4K + 4 n_{out}$
# bytes, since its hash is recomputed from a seed. These rules are `docs/methods.md`
# [#storage](../docs/methods.md#storage) and [#csr](../docs/methods.md#csr), implemented by
# `pynncomp.io.save_model` and `pynncomp.io.index_dtype`.
#
# **Sparse inference.** With $W$ in CSR over its rows (the inputs $i$), the forward pass is
#
# $$
# Y_{bj} = \sum_{t:\ \mathrm{indices}[t] = j} X_{b,\,r(t)}\ \mathrm{data}[t],
# $$
#
# $r(t)$ the row holding entry $t$: $2 B n_{kept}$ floating-point operations instead of
# $2 B n_{in} n_{out}$ (docs/methods.md#dense; `pynncomp.kernels.sparse_matmul`). Fewer operations
# is not yet less time: the sparse product reads scattered entries, while dense BLAS runs at close to
# the processor's peak. Han et al. (2015) prune to save storage and the energy of memory accesses;
# section 4 measures when pruning also saves time.

# %%
import copy
import time

import numpy as np
import matplotlib.pyplot as plt
import scipy.sparse
from threadpoolctl import threadpool_limits

from pynncomp import course, experiment, io, kernels, models
from pynncomp.compress import kept_count, magnitude_saliency, matched_hashed_buckets, prune
from pynncomp.nn import SparseDense
from pynncomp.train import Protocol

LESSON = "08_real_compression"
OUT = course.output_dir(LESSON)
# BLAS on one thread even where OPENBLAS_NUM_THREADS asks for more (lesson 2; docs/performance.md#blas-threads):
# on shared cores extra BLAS threads spin and slow small products down; and the C kernels are
# single-threaded, so section 4 compares one core with one core.
threadpool_limits(limits=1, user_api="blas")
print(f"kernel backend: {kernels.ACTIVE_BACKEND}")
dataset = course.load_data("mnist")

# %% [markdown]
# ## 1. A trained net to compress
#
# The accuracy is not the subject here, so we train a dense 784-100-10 briefly with
# `pynncomp.experiment.run("dense", ...)` on a short timetable and later prune copies of it in one
# step with `pynncomp.compress.prune`, without retraining.

# %%
PROTOCOL = course.scaled(Protocol(pretrain_epochs=3, steps=1, finetune_max=2, patience=1),
                         Protocol(pretrain_epochs=1, steps=1, finetune_max=1, patience=1))
dense_model, record = experiment.run("dense", dataset, hidden=100, seed=0, protocol=PROTOCOL)
print(f"dense 784-100-10: {record['weights_kept']} weights, {record['biases']} biases, "
      f"test accuracy {record['test_accuracy']:.2%} after {record['epochs']} epochs ({record['wall_s']:.1f} s)")

# %% [markdown]
# ## 2. CSR on a small matrix
#
# `pynncomp.nn.SparseDense.from_weights(W, b, keep_mask)` builds the sparse layer from a weight, its
# bias and its keep-mask; its `indptr`, `indices` and `params["data"]` are the three CSR arrays.
# Note that a *kept* weight equal to 0 is still stored: the mask, not the value, decides.

# %%
W = np.array([[0.5, 0.0, -1.2, 0.0, 0.3],
              [0.0, 0.0, 0.0, 0.0, 0.0],
              [2.0, 0.7, 0.0, 0.0, -0.4]], dtype=np.float32)
keep = W != 0
keep[0, 1] = True  # a kept weight that happens to be 0
small = SparseDense.from_weights(W, np.zeros(5, dtype=np.float32), keep)
print("keep-mask:\n", keep.astype(int))
print("indptr ", small.indptr, "  (row r holds entries indptr[r] .. indptr[r+1]-1; row 1 is empty)")
print("indices", small.indices)
print("data   ", small.params["data"])
for largest in (99, 255, 256, 7940, 65535, 65536, 78400):
    print(f"index_dtype({largest}) = {io.index_dtype(largest)}")

# %% [markdown]
# For the 784 × 100 layer the column indices run to 99, one byte each; the offsets run to
# $n_{kept}$, two bytes as soon as fewer than 65 536 weights are kept.
#
# ## 3. Bytes on disk against sparsity
#
# For each sparsity we prune a copy of the trained net, every layer to the same $S$
# (`prune(model, magnitude_saliency(model), S, scope="layer")`), save it with
# `pynncomp.io.save_model` and compare the file with the dense float32 model through
# `pynncomp.io.storage_report` (docs/methods.md#storage). Beside it: the CSR formula above; a
# bitmap format (the kept values plus a packed mask, $4 n_{kept} + \lceil n / 8 \rceil$, which
# pynncomp does not use for pruned layers); and HashedNets with the same number of real weights
# (`pynncomp.models.hashed_mlp` with the $K_l$ of `matched_hashed_buckets`, untrained: the size does
# not depend on the values).

# %%
SHAPES = [(784, 100), (100, 10)]
DENSE_BYTES = io.dense_float32_nbytes(dense_model)  # 4 bytes per weight and bias


def csr_bytes(S):
    """The CSR formula of the introduction, summed over the layers, each pruned to S."""
    total = 0
    for n_rows, n_cols in SHAPES:
        n_kept = kept_count(S, n_rows * n_cols)
        beta_col = io.index_dtype(n_cols - 1).itemsize
        beta_ptr = io.index_dtype(n_kept).itemsize
        total += 4 * n_kept + beta_col * n_kept + beta_ptr * (n_rows + 1) + 4 * n_cols
    return total


def bitmap_bytes(S):
    """Kept values plus a packed keep-mask, per layer."""
    return sum(4 * kept_count(S, n_rows * n_cols) + -(-n_rows * n_cols // 8) + 4 * n_cols
               for n_rows, n_cols in SHAPES)


SPARSITIES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995)
pruned, measured, hashed = {}, {}, {}
print(f"dense float32 model: {DENSE_BYTES} bytes")
print("    S   file bytes  file/dense  CSR formula  file - formula   HashedNet/dense  test accuracy (no retraining)")
for S in SPARSITIES:
    model = copy.deepcopy(dense_model)
    prune(model, magnitude_saliency(model), S, scope="layer")
    path = OUT / f"pruned_S{S:g}.npz"
    io.save_model(path, model)
    report = io.storage_report(path, model)
    pruned[S], measured[S] = model, report["ratio"]
    hashed_model = models.hashed_mlp(100, matched_hashed_buckets(SHAPES, S), seed=0)
    hashed_path = OUT / f"hashed_S{S:g}.npz"
    io.save_model(hashed_path, hashed_model)
    hashed[S] = io.storage_report(hashed_path, hashed_model)["ratio"]
    formula = csr_bytes(S) if S > 0 else DENSE_BYTES  # nothing pruned: save_model stores W in full
    print(f"{S:6.1%} {report['file_bytes']:11d} {report['ratio']:11.3f} {formula:12d} "
          f"{report['file_bytes'] - formula:15d} {hashed[S]:17.3f}  "
          f"{model.accuracy(dataset.X_test, dataset.y_test):.2%}")

# %%
grid = np.linspace(0.0, 0.995, 400)
fig, ax = plt.subplots(figsize=(7.5, 4.5))
ax.plot(100 * grid, [csr_bytes(S) / DENSE_BYTES for S in grid], "-",
        label="CSR formula (data + indices + indptr + bias)")
ax.plot(100 * grid, [bitmap_bytes(S) / DENSE_BYTES for S in grid], ":",
        label="kept values + packed bit mask (formula)")
ax.plot([100 * S for S in SPARSITIES], [measured[S] for S in SPARSITIES], "o", label="pruned net, save_model file")
ax.plot([100 * S for S in SPARSITIES], [hashed[S] for S in SPARSITIES], "s", mfc="none",
        label="HashedNet, same real weights, file")
ax.axhline(1.0, color="gray", linestyle="--", label="dense float32")
ax.set_yscale("log")
ax.set_xlabel("sparsity S (% of weights removed)")
ax.set_ylabel("bytes / dense float32 bytes (log scale)")
ax.set_title("784-100-10: size on disk against sparsity")
ax.legend(fontsize=8)
course.save_figure(fig, LESSON, "bytes_vs_sparsity")

# %% [markdown]
# Read the table and the figure together.
#
# * CSR costs $4 + \beta_{col}$ bytes per **kept** weight against 4 per weight dense: with one-byte
#   column indices it saves space only once more than a fifth of the weights are gone, and at
#   $S = 50\,\%$ it still takes more than half of the dense size. Below a fifth, storing $W$ in full
#   would be smaller (`save_model` stores a layer in full only when nothing in it is pruned).
# * The bitmap costs an eighth of a byte per weight, kept or not: it beats CSR at moderate sparsity,
#   and loses once so few weights are kept that $\beta_{col}$ bytes each cost less than one bit for
#   every weight.
# * At high sparsity the measured file stays above the formula by a roughly constant amount, the
#   column `file - formula`: the `.npz` archive's headers and the architecture text. For a model of a
#   few kilobytes that overhead is no longer negligible.
# * A HashedNet with the same real weights is smaller than the CSR file at every $S > 0$: it stores no
#   indices at all.
# * The last column is a reminder that these nets were cut in one step without retraining: the bytes
#   do not care, the accuracy does (lesson 3 retrains after the cuts).
#
# A saved pruned model loads back as `SparseDense` layers with `pynncomp.io.load_model(path,
# sparse=True)`, and predicts what the masked dense model predicts:

# %%
S_LOAD = 0.95
sparse_model = io.load_model(OUT / f"pruned_S{S_LOAD:g}.npz", sparse=True)
print(sparse_model)
same = np.array_equal(sparse_model.predict(dataset.X_test), pruned[S_LOAD].predict(dataset.X_test))
print(f"S = {S_LOAD:.0%}: the sparse model predicts the same classes as the masked dense one: {same}")

# %% [markdown]
# ## 4. Sparse inference: when does sparsity pay in time?
#
# We time the forward product of the 784 × 100 first layer, pruned to each sparsity, five ways:
#
# * `SparseDense.forward`: pynncomp's sparse layer, which calls the C kernel without re-checking the
#   pattern it validated once (plus the bias);
# * `kernels.sparse_matmul(X, indptr, indices, data, n_out)`: the same C kernel through its public
#   entry, which validates every argument on every call (docs/methods.md#dense);
# * `scipy.sparse`: `X @ csr` with the CSR matrix built once;
# * dense BLAS `X @ (W*M)`: the mask applied on every call, as the masked `Dense` layer does;
# * dense BLAS `X @ W_M`: the masked matrix stored once, zeros and all.
#
# The inputs are test images (most MNIST pixels are exactly 0, which the C kernel skips; the run
# prints the fraction) in batches of 1 and 64. Timing follows `benchmarks/bench_kernels.py` (docs/performance.md): all
# implementations of one case run in the same process, interleaved round by round, each sample is a
# loop of calls long enough for the clock, and we print the **median** over the rounds. One
# difference: we read the CPU time of this process (`time.process_time`) rather than the wall clock,
# so that the time spent waiting while other programs hold the cores is not counted. That is valid
# here because everything runs on one thread (BLAS was limited to one above; the C kernels have one).
# Absolute times depend on the machine and on what else runs on it (caches are shared too); **read
# the ratios**, which carry over far better, and expect some noise even in the medians.

# %%
REPEAT = course.scaled(15, 5)
SAMPLE_SECONDS = 0.002
TIME_SPARSITIES = course.scaled((0.5, 0.8, 0.9, 0.95, 0.99), (0.5, 0.9, 0.99))
BATCHES = (1, 64)


def median_seconds(candidates):
    """``{name: median seconds per call}``: interleaved rounds of loops of calls (``course.median_seconds``)."""
    return course.median_seconds(candidates, REPEAT, SAMPLE_SECONDS, clock=time.process_time)


if kernels.ACTIVE_BACKEND != "c":
    print("The C core is not built (or PYNNCOMP_BACKEND=numpy): the sparse layer runs the NumPy twin, "
          "which multiplies by the dense matrix, so the sparse columns below cannot beat dense BLAS.")
NAMES = ("SparseDense.forward", "kernels.sparse_matmul", "scipy.sparse", "dense X @ (W*M)", "dense X @ W_M")
timings = {}
print(f"{np.mean(dataset.X_test[:max(BATCHES)] == 0):.0%} of the input pixels are exactly 0")
print("median CPU microseconds per call (784 x 100 layer); ratios: time / SparseDense.forward")
print("batch  S      " + "  ".join(f"{name:>22}" for name in NAMES))
for B in BATCHES:
    X = np.ascontiguousarray(dataset.X_test[:B])
    for S in TIME_SPARSITIES:
        model = copy.deepcopy(dense_model)
        prune(model, magnitude_saliency(model), S, scope="layer")
        first = model.layers[0]
        W_full, keep_mask, b = first.params["W"], first.masks["W"], first.params["b"]
        mask_factor = keep_mask.astype(np.float32)
        W_masked = W_full * mask_factor
        layer = SparseDense.from_weights(W_full, b, keep_mask)
        indptr, indices, data = layer.indptr, layer.indices, layer.params["data"]
        csr = scipy.sparse.csr_matrix(W_masked)
        # the five compute one product (up to rounding; SparseDense adds the bias)
        assert np.allclose(layer.forward(X)[0] - b, X @ W_masked, atol=1e-4)
        t = median_seconds({
            "SparseDense.forward": lambda: layer.forward(X),
            "kernels.sparse_matmul": lambda: kernels.sparse_matmul(X, indptr, indices, data, 100),
            "scipy.sparse": lambda: X @ csr,
            "dense X @ (W*M)": lambda: X @ (W_full * mask_factor),
            "dense X @ W_M": lambda: X @ W_masked,
        })
        timings[B, S] = t
        base = t["SparseDense.forward"]
        print(f"{B:5d}  {S:4.0%}  " + "  ".join(f"{1e6 * t[name]:9.1f} us ({t[name] / base:5.2f}x)" for name in NAMES))

# %%
for B in BATCHES:
    wins = [f"{S:.0%}" for S in TIME_SPARSITIES
            if timings[B, S]["SparseDense.forward"] < timings[B, S]["dense X @ W_M"]]
    print(f"batch {B}: SparseDense.forward is faster than the stored dense product at S = "
          + (", ".join(wins) if wins else "none of the sparsities measured"))

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
styles = {"SparseDense.forward": "o-", "kernels.sparse_matmul": "o--", "scipy.sparse": "s-",
          "dense X @ (W*M)": "^-", "dense X @ W_M": "v--"}
backend = "C" if kernels.ACTIVE_BACKEND == "c" else "NumPy twin"
labels = {"SparseDense.forward": f"SparseDense.forward ({backend} kernel)",
          "kernels.sparse_matmul": f"kernels.sparse_matmul ({backend}, checked per call)",
          "scipy.sparse": "scipy.sparse X @ csr", "dense X @ (W*M)": "dense BLAS X @ (W*M)",
          "dense X @ W_M": "dense BLAS X @ W_M (stored)"}
for ax, B in zip(axes, BATCHES):
    for name in NAMES:
        ax.plot(TIME_SPARSITIES, [1e6 * timings[B, S][name] for S in TIME_SPARSITIES], styles[name],
                label=labels[name])
    ax.set_xscale("logit")
    ax.set_xticks(TIME_SPARSITIES, [f"{S:.0%}" for S in TIME_SPARSITIES])
    ax.minorticks_off()
    ax.set_yscale("log")
    ax.set_xlabel("sparsity S of the layer (logit scale)")
    ax.set_title(f"784×100 forward, batch {B}")
axes[0].set_ylabel("median CPU time per call (µs, log scale)")
axes[1].legend(fontsize=8)
fig.suptitle(f"When sparsity pays: median of {REPEAT} interleaved rounds on this machine")
course.save_figure(fig, LESSON, "time_vs_sparsity")

# %% [markdown]
# How to read the table the run printed (the ratios are to `SparseDense.forward`: above 1, the sparse
# layer is faster):
#
# * The dense products take the same time at every sparsity: a zero costs as much as any other
#   number. The sparse ones fall with $n_{kept}$, until a fixed cost per call remains (checking the
#   input, the call into C, allocating $Y$, adding the bias: a few microseconds).
# * Applying the mask on every call, `X @ (W*M)`, costs an elementwise product over the whole matrix:
#   at batch 1 that is more than the matrix–vector product itself.
# * `kernels.sparse_matmul` computes the same product as `SparseDense.forward` but checks its
#   arguments (index ranges, sortedness) on every call, which costs more than the product at small
#   batches. This is why pynncomp's layers validate their CSR pattern once, when they are built.
# * `scipy.sparse` is general-purpose: its dispatch costs more per call, and it does not skip the
#   zero pixels of the input.
# * At batch 1 this layer is small: the stored dense matrix–vector product takes only a few
#   microseconds, about the sparse layer's fixed cost. At batch 64 the fixed costs are spread over
#   64 images and the number of multiplications decides, so sparsity pays once enough weights are
#   gone to make up for BLAS's higher rate of operations per second. The two lines printed above the
#   figure say at which sparsities the sparse layer won in this run. When this lesson was run with
#   MNIST on a shared 2-core machine, the stored dense product matched or beat the sparse layer at
#   batch 1 at every sparsity, while at batch 64 the sparse layer won from about 90 % on, by 4–6× at
#   99 %. docs/performance.md reports the same effect on the larger 784 × 300 layer with
#   `benchmarks/bench_kernels.py`: at 50 % and batch 256 dense BLAS is 2–5× faster than the C kernel;
#   at 99 % and batch 16 the C kernel is 15–21× faster than `X @ (W*M)`.
#
# So prune first, then switch to sparse storage and kernels: at high sparsity they are smaller *and*
# faster; at low sparsity keep the dense layer.
#
# ## Exercises
#
# 1. **Graded.** In `tutorials/exercises/ex08_sparse.py` write `csr_from_mask(W, keep_mask)`, the
#    canonical CSR arrays `(indptr, indices, data)` of the kept weights, and
#    `csr_matvec(x, indptr, indices, data, n_out)`, $Y = X (W \odot M)$ from the CSR arrays without
#    building the dense matrix. Grade them with `python -m pytest tutorials/grading -k ex08`: they are
#    compared with `SparseDense.from_weights`, the arrays `save_model` writes and
#    `pynncomp.kernels.sparse_matmul`.
# 2. **Predict.** Ignoring `indptr` and the bias, at which sparsity does CSR with 2-byte column
#    indices (a layer with 300 outputs, as in LeNet-300-100) take fewer bytes than the dense float32
#    matrix? With 4-byte indices? Check your answers by changing `SHAPES` and plotting `csr_bytes`.
# 3. **Predict, then try.** At which sparsity does the bitmap format of section 3 become larger than
#    CSR with one-byte indices? Find it on the figure, then derive it.
# 4. **Try.** Replace the MNIST batch in section 4 by random normal inputs
#    (`np.random.default_rng(0).standard_normal((B, 784)).astype(np.float32)`), which have no zeros to
#    skip. Which implementations slow down, and why do the dense ones not?
