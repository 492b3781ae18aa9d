# %% [markdown]
# # Lesson 2 — Training the 784-100-10 network from scratch
#
# **Learning goals.** After this lesson you can
#
# 1. write down what one training step of the comparative study's network does: the softmax
#    cross-entropy of a batch, its gradient, and the update of stochastic gradient descent with momentum
#    and an L2 penalty on the weights (not the biases);
# 2. run the epoch loop yourself with `pynncomp.train.train_epoch`, measure the validation accuracy after
#    each epoch, and keep the test images for one measurement at the end;
# 3. say what an epoch costs (seconds, images per second, arithmetic per image) and what decides it;
# 4. predict what momentum and the L2 penalty change, including on weights that never get a gradient.
#
# **The network.** The comparative study (Baktash, Natale & Viennot 2019) compresses a multilayer
# perceptron 784 → 100 → 10 trained on MNIST (LeCun et al. 1998): for a batch $X$ of $B$ images of
# $28 \times 28 = 784$ pixels,
#
# $$
# H = \max\left(X W_1 + b_1, 0\right), \qquad z = H W_2 + b_2 ,
# $$
#
# with $W_1$ $(784, 100)$, $W_2$ $(100, 10)$ and one logit $z_{bc}$ per image and digit. Training minimises
# the mean softmax cross-entropy of the batch, whose gradient at the logits starts backpropagation
# (lesson 1):
#
# $$
# L = -\frac{1}{B} \sum_b \log \frac{e^{z_{b y_b}}}{\sum_{c} e^{z_{bc}}}, \qquad
# \frac{\partial L}{\partial z_{bc}} = \frac{p_{bc} - [c = y_b]}{B} .
# $$
#
# **The update.** For every parameter $p$ with gradient $g = \partial L / \partial p$ of the batch, SGD with
# (heavy-ball) momentum (Polyak 1964; Rumelhart, Hinton & Williams 1986) keeps a velocity $v$, starting at 0.
# The L2 penalty, or weight decay (Krogh & Hertz 1992), $R(w) = \frac{\lambda}{2} \sum_k w_k^2$ with gradient
# $\lambda w$, acts on the weights $W_1, W_2$ only, never on the biases. A keep-mask $M$ (all ones until
# something is pruned) multiplies the whole update:
#
# $$
# v \leftarrow \big(\mu v - \eta\, (g + \nabla R(p))\big) \odot M, \qquad p \leftarrow p + v ,
# \qquad \nabla R(p) = \begin{cases} \lambda p & p \text{ a weight} \\ 0 & p \text{ a bias.} \end{cases}
# $$
#
# $\eta$ is the learning rate and $\mu$ the momentum. If the gradient stayed the same from step to step,
# $v$ would settle at $-\eta g / (1 - \mu)$: momentum 0.9 moves ten times as far per step as plain SGD with
# the same $\eta$, and averages out the noise of small batches. An **epoch** visits the training images
# once, in a fresh random order, in batches of $B$; after each epoch the network is measured on the
# **validation** images, which it never trains on. These are the equations of `docs/methods.md#mlp`,
# `docs/methods.md#loss`, `docs/methods.md#penalties` and `docs/methods.md#optimizer`.

# %%
import math
import os
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from threadpoolctl import threadpool_limits

from pynncomp import models
from pynncomp.course import load_data, save_figure, scaled
from pynncomp.nn import L2, SGD
from pynncomp.train import Protocol, train_epoch

LESSON = "02_training"
EPOCHS = scaled(10, 2)        # epochs of each training run below

data = load_data("mnist")
protocol = Protocol()         # the defaults every pynncomp run trains with
print(f"protocol: batch size B = {protocol.batch_size}, learning rate η = {protocol.lr}, "
      f"momentum μ = {protocol.momentum}, L2 λ = {protocol.l2}")

# %% [markdown]
# ## 1. The network and its loss before training
#
# `pynncomp.models.build("mlp", 100)` builds the 784-100-10 network as a `pynncomp.nn.Sequential` of
# `Dense`, `ReLU` and `Dense` layers, with He et al.'s initial weights $W_{ij} \sim \mathcal{N}(0, 2/n_{in})$
# and zero biases (`docs/methods.md#mlp`). Before any training the ten logits of an image are of similar
# size, each digit gets a probability near $1/10$, and the loss, computed by `Sequential.loss` through
# `pynncomp.nn.SoftmaxCrossEntropy`, should be near $\log 10 \approx 2.303$. A first loss far from
# $\log C$ is a classic sign of a bug (a missing $1/B$, labels off by one, inputs in 0–255 instead of 0–1).

# %%
model = models.build("mlp", 100, seed=0)
print(model)
print(f"{model.n_weights} weights and {model.n_biases} biases")
initial_loss, _ = model.loss(data.X_train[:1000], data.y_train[:1000])
print(f"loss of the untrained network on 1000 training images: {initial_loss:.3f} (log 10 = {math.log(10):.3f})")

# %% [markdown]
# ## 2. One step, and where the penalty enters
#
# `Sequential.loss_and_grads` runs forward and backward on one batch and leaves $g$ in every layer's
# `grads`; `pynncomp.nn.SGD.step` then applies the update above to every parameter (`SGD.step`,
# `docs/methods.md#optimizer`). The penalty is given to the optimiser, `SGD(lr, momentum, penalty=L2(λ))`,
# which adds $\lambda w$ to the gradient of each weight (`L2.grad`, `docs/methods.md#penalties`); so the loss
# that `loss_and_grads` returns, and that the epochs below print, is the cross-entropy alone.
#
# The velocity starts at 0, so after the first step $v = -\eta (g + \nabla R)$. The cell compares the velocity
# `SGD` keeps for the first layer with $-\eta g$: for the bias they agree exactly, for the weights they
# differ by the penalty's $-\eta \lambda W$.

# %%
first = model.layers[0]
batch = slice(0, protocol.batch_size)
model.loss_and_grads(data.X_train[batch], data.y_train[batch])
W_before, g_W, g_b = first.params["W"].copy(), first.grads["W"].copy(), first.grads["b"].copy()
optimizer = SGD(protocol.lr, protocol.momentum, penalty=L2(protocol.l2))
optimizer.step(model)
v_W, v_b = optimizer.velocity[(first, "W")], optimizer.velocity[(first, "b")]
print(f"bias:    largest |v - (-η g)|          = {np.abs(v_b + protocol.lr * g_b).max():.1e}")
print(f"weights: largest |v - (-η g)|          = {np.abs(v_W + protocol.lr * g_W).max():.1e}"
      f"   (η λ max|W| = {protocol.lr * protocol.l2 * np.abs(W_before).max():.1e})")
with_penalty = -protocol.lr * (g_W + protocol.l2 * W_before)
print(f"weights: largest |v - (-η (g + λ W))|  = {np.abs(v_W - with_penalty).max():.1e}   (up to float32 rounding)")

# %% [markdown]
# ## 3. What an epoch costs
#
# With the paper split's training images less the validation subset, an epoch is
# $\lceil N / B \rceil$ steps. Each image costs a forward pass, $784 \cdot 100 + 100 \cdot 10 = 79\,400$
# multiply-adds, and about as much backward: the two weight gradients $X^\top dY$ ($78\,400 + 1\,000$) and
# $dX$ of the second layer ($1\,000$), but not $dX$ of the first layer, because nobody needs the gradient
# of the input pixels (`train_epoch` asks for none). That is about $160\,000$ multiply-adds, or
# $0.32$ million floating-point operations (FLOP) per image; the SGD step adds a few operations per
# parameter once per batch of 16, under a tenth of that.
#
# The batches are small (16 × 784 times 784 × 100), so the time goes as much into the per-step overhead of
# Python and NumPy as into arithmetic, and multithreading a product this small gains little: the BLAS
# library's threads spend much of a step waiting for each other, and on a machine whose cores are busy
# with other work they can make a step many times slower. The `pynncomp` command and the lessons
# (`pynncomp.course`, on import) therefore run BLAS on one thread unless `OPENBLAS_NUM_THREADS` says
# otherwise. The cell times `train_epoch` on part of the training set with one BLAS thread per core and
# with one thread (through `threadpoolctl`, which pynncomp depends on); the lesson then goes on with one.

# %%
def time_training(X, y, seed=0):
    """Seconds for one train_epoch over (X, y) from a fresh network."""
    net = models.build("mlp", 100, seed=seed)
    sgd = SGD(protocol.lr, protocol.momentum, penalty=L2(protocol.l2))
    start = time.perf_counter()
    train_epoch(net, sgd, X, y, protocol.batch_size, np.random.default_rng(seed))
    return time.perf_counter() - start


n_timed = min(scaled(4500, 1000), data.X_train.shape[0])
flops_per_image = 2 * (2 * 784 * 100 + 3 * 100 * 10)   # forward + backward, 2 FLOP per multiply-add
cores = os.cpu_count() or 1
print(f"timing train_epoch on {n_timed} images, batch size {protocol.batch_size}:")
for label, threads in ((f"{cores} BLAS threads (one per core)", cores), ("one BLAS thread", 1)):
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds = time_training(data.X_train[:n_timed], data.y_train[:n_timed])
    rate = n_timed / seconds
    print(f"  {label:<34} {seconds:6.2f} s, {rate:8.0f} images/s, {rate * flops_per_image / 1e9:5.2f} GFLOP/s, "
          f"a full epoch of {data.X_train.shape[0]} images ≈ {data.X_train.shape[0] / rate:.1f} s")

steps_per_epoch = math.ceil(data.X_train.shape[0] / protocol.batch_size)
print(f"an epoch: {steps_per_epoch} steps of {protocol.batch_size} images")

# %% [markdown]
# ## 4. The epoch loop
#
# `pynncomp.train.train_epoch(model, optimizer, X, y, batch_size, rng)` is one epoch: it draws a random order
# of the training images from `rng`, and for each batch calls `loss_and_grads` and `optimizer.step`
# (`train_epoch`, `docs/methods.md#optimizer`); it returns the epoch's mean training loss. After each epoch
# we measure the validation accuracy with `Sequential.accuracy` (the fraction of images whose largest logit
# is the right digit) and time the epoch.
#
# Three runs, identical except for one setting each: the protocol's defaults (momentum 0.9, L2 with
# λ = 3e-4), the same without momentum, and the same without the penalty. All three start from the same
# initial weights (`seed=0`) and visit the images in the same order, so any difference between them comes
# from the setting changed.

# %%
def train(settings, label, epochs=EPOCHS):
    """Train a fresh 784-100-10 for ``epochs`` epochs; print and return what each epoch measured."""
    net = models.build("mlp", 100, seed=0)
    sgd = SGD(settings.lr, settings.momentum, penalty=L2(settings.l2) if settings.l2 > 0 else None)
    order = np.random.default_rng(1)
    W1_initial = net.layers[0].params["W"].copy()
    history = {"loss": [], "val_accuracy": [], "seconds": []}
    print(f"{label}: {sgd}")
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        loss = train_epoch(net, sgd, data.X_train, data.y_train, settings.batch_size, order)
        seconds = time.perf_counter() - start
        val_accuracy = net.accuracy(data.X_val, data.y_val)
        for key, value in (("loss", loss), ("val_accuracy", val_accuracy), ("seconds", seconds)):
            history[key].append(value)
        print(f"  epoch {epoch:2d}: training loss {loss:.4f}, validation accuracy {100 * val_accuracy:.2f} %, "
              f"{seconds:.2f} s, {data.X_train.shape[0] / seconds:.0f} images/s")
    return net, history, W1_initial


runs = {}
for label, settings in (
    (f"momentum {protocol.momentum}, L2 λ = {protocol.l2} (the defaults)", protocol),
    ("no momentum (μ = 0)", protocol.replace(momentum=0.0)),
    ("no L2 penalty (λ = 0)", protocol.replace(l2=0.0)),
):
    runs[label] = train(settings, label)

# %%
fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(10, 4))
for label, (_, history, _) in runs.items():
    epochs = range(1, len(history["loss"]) + 1)
    ax_loss.plot(epochs, history["loss"], "o-", label=label)
    ax_val.plot(epochs, [100 * a for a in history["val_accuracy"]], "o-", label=label)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("mean training cross-entropy (nats, log scale)")
ax_loss.set_title("Training loss per epoch")
ax_val.set_xlabel("epoch")
ax_val.set_ylabel(f"validation accuracy (%, {data.X_val.shape[0]} images)")
ax_val.set_title("Validation accuracy per epoch")
for ax in (ax_loss, ax_val):
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle(f"784-100-10 on {data.name}, batch {protocol.batch_size}, η = {protocol.lr}")
save_figure(fig, LESSON, "loss_and_validation_per_epoch")

default_label = next(iter(runs))
default_model = runs[default_label][0]
print(f"test accuracy of the default run after {EPOCHS} epochs, measured once: "
      f"{100 * default_model.accuracy(data.X_test, data.y_test):.2f} % on {data.X_test.shape[0]} test images")

# %% [markdown]
# Compare the curves with what the equations predict. Without momentum the same $\eta$ takes steps about
# ten times shorter, and the loss falls more slowly: find in the printout the epoch of the default run that
# had already reached the loss the run without momentum ends with. Without the penalty nothing pulls the
# weights back, so the training loss can go lower; that need not make the validation accuracy better, and
# the printout shows how much of a difference it made here. The seconds per epoch of the three runs differ
# by little more than the noise of the machine: momentum and the penalty cost a few operations per
# parameter and step, far less than the matrix products of the forward and backward passes.
#
# The test accuracy is printed once, for one network, at the end. The validation images are the ones to look
# at while choosing (how many epochs, which λ): once the test images have been used to choose, they no
# longer measure how the network does on images it was not tuned on. pynncomp's runs follow the same rule:
# `pynncomp.experiment.run` fine-tunes until the validation accuracy stops improving, restores the weights
# of the best validation epoch, and measures the test images once, on those (`docs/methods.md#fine-tuning`).
#
# ## 5. What the L2 penalty does to a weight with no gradient
#
# Some MNIST pixels are 0 in every training image (the corners and the border). The weights leaving such a
# pixel get exactly zero gradient: row $i$ of $X^\top dY$ is $\sum_b X_{bi}\, dY_b = 0$. Without a penalty
# they never move from their initial values. With the penalty the update of such a weight is
# $v \leftarrow \mu v - \eta \lambda w$, $w \leftarrow w + v$, the same linear recurrence for every one of them,
# so after $T$ steps each is its initial value times one number $r_T$, close to
# $e^{-\eta \lambda T / (1 - \mu)}$. The cell finds these pixels, computes $r_T$ by running the recurrence
# for $T$ steps on a single number, and compares it with the ratio final/initial of those weights in the two
# trained networks. This is the pull towards zero that magnitude pruning relies on: weights that do not
# help the loss shrink, and are the first to go (lesson 3).

# %%
blank = data.X_train.max(axis=0) == 0
T = EPOCHS * steps_per_epoch
w, v = 1.0, 0.0
for _ in range(T):
    v = protocol.momentum * v - protocol.lr * protocol.l2 * w
    w += v
print(f"{int(blank.sum())} of {blank.size} pixels are 0 in every training image; T = {T} steps")
print(f"predicted ratio final/initial of their weights: recurrence r_T = {w:.4f}, "
      f"exp(-ηλT/(1-μ)) = {math.exp(-protocol.lr * protocol.l2 * T / (1 - protocol.momentum)):.4f}")
no_l2_label = list(runs)[2]
for label in (default_label, no_l2_label):
    trained, _, W1_initial = runs[label]
    if blank.any():
        ratio = trained.layers[0].params["W"][blank] / W1_initial[blank]
        print(f"  {label}: measured ratio {ratio.mean():.4f} (from {ratio.min():.4f} to {ratio.max():.4f})")
if not blank.any():
    print("  (no pixel of these images is 0 everywhere, so there is nothing to compare here)")


def pixel_rms_ratio(label):
    """RMS of each pixel's 100 outgoing weights after training over before, as a 28x28 image."""
    trained, _, W1_initial = runs[label]
    W1 = trained.layers[0].params["W"]
    return (np.sqrt((W1 ** 2).mean(axis=1)) / np.sqrt((W1_initial ** 2).mean(axis=1))).reshape(28, 28)


# a logarithmic colour scale centred on 1: blue shrank, white unchanged, red grew
norm = LogNorm(vmin=0.25, vmax=4.0)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
panels = ((default_label, f"with L2, λ = {protocol.l2}"), (no_l2_label, "without L2, λ = 0"))
for ax, (label, title) in zip(axes, panels):
    image = ax.imshow(pixel_rms_ratio(label), cmap="RdBu_r", norm=norm)
    ax.set_title(title)
    ax.set_xlabel("pixel column")
    ax.set_ylabel("pixel row")
    colourbar = fig.colorbar(image, ax=ax, label="RMS of the pixel's 100 weights,\nafter / before training (ratio)")
    colourbar.set_ticks([0.25, 0.5, 1.0, 2.0, 4.0], labels=["0.25", "0.5", "1", "2", "4"])
    colourbar.minorticks_off()
fig.suptitle(f"First-layer weights of each input pixel after {EPOCHS} epochs (momentum {protocol.momentum})")
save_figure(fig, LESSON, "first_layer_weight_change_per_pixel")

# %% [markdown]
# In the map of the run with the penalty, the pixels that are 0 in every image (the blue border) all have
# the same shade, the ratio $r_T$ the cell printed; without the penalty they keep exactly their initial
# weights (white, ratio 1). In the middle of the image, where the digits are, the data drives the weights
# in both runs, and the penalty holds them to a smaller size. A network trained with L2 therefore arrives
# at pruning with its useless weights already small; one trained without keeps them at their random
# initial size, where a magnitude criterion cannot tell them from useful ones.
#
# ## Exercises
#
# 1. **Graded: the loss and the update.** Open `tutorials/exercises/ex02_training.py` and write
#    `softmax_cross_entropy(z, y)`, which returns the loss and its gradient $\partial L / \partial z$, and
#    `sgd_momentum_step(w, grad, velocity, lr, momentum, l2, keep=None)`, one update of a single parameter,
#    with NumPy alone. Grade them with `python -m pytest tutorials/grading -k ex02`: the grader compares them
#    with `pynncomp.nn.SoftmaxCrossEntropy`, with finite differences and with several steps of
#    `pynncomp.nn.SGD`, with the penalty on a weight and none on a bias, and with a keep-mask installed
#    halfway.
# 2. **Predict, then try: momentum or a larger step?** If momentum only multiplied the step by
#    $1/(1-\mu)$, plain SGD with $\eta = 0.1$ would train like the default run. Predict the two curves, then
#    add a run `protocol.replace(momentum=0.0, lr=0.1)` to section 4. What does momentum do that a larger
#    step does not?
# 3. **The cost of a batch size.** Time `train_epoch` in section 3 with batch sizes 16, 64 and 256. Predict
#    first: the arithmetic per image does not change, the number of steps does. Which of the two decides the
#    seconds per epoch, and what happens to the validation accuracy after the same number of epochs?
# 4. **Think:** how many steps does it take for the L2 penalty to halve a weight that gets no gradient, with
#    the default $\eta$, $\mu$ and $\lambda$? How many epochs is that on MNIST?
