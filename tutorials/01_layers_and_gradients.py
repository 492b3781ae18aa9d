"""Tutorial 1: a layer is a forward/backward pair, and finite differences keep it honest.

Run it:  python tutorials/01_layers_and_gradients.py

It builds each kind of layer pynncomp has, checks its hand-written gradients
against centred finite differences, shows what a keep-mask does to a dense
layer, how HashedNet ties virtual weights to a few real ones, and what
Optimal Brain Damage's curvature pass computes.  Everything is float64,
because finite differences need it; training uses float32.
"""
import numpy as np

from pynncomp import kernels
from pynncomp.gradcheck import GRAD_RTOL, check_layer, numerical_second_derivative, rel_error
from pynncomp.nn import (
    SGD,
    Conv2D,
    Dense,
    Flatten,
    HashedDense,
    L2,
    MaxPool2D,
    ReLU,
    Sequential,
    obd_hessian,
    obd_saliency,
)

rng = np.random.default_rng(0)
print(f"kernel backend: {kernels.ACTIVE_BACKEND}\n")

# 1. Y = X W + b, and its three gradients, checked one by one.
dense = Dense(6, 4, seed=0, dtype=np.float64)
x = rng.standard_normal((5, 6))
errors = check_layer(dense, x)
print("Dense: relative error of each gradient vs finite differences")
for name, err in errors.items():
    print(f"  d{name:<2} {err:.1e}   (tolerance {GRAD_RTOL:.0e})")

# 2. A keep-mask: Y = X (W ⊙ M) + b.  Pruned weights become exactly 0 and
#    their gradient is exactly 0 too, so no optimiser can revive them.
keep = rng.random((6, 4)) > 0.5
dense.set_mask("W", keep)
out, cache = dense.forward(x)
dense.backward(np.ones_like(out), cache)
print(f"\nmasked Dense: {keep.sum()} of {keep.size} weights kept; "
      f"largest |W| pruned = {np.abs(dense.params['W'][~keep]).max():.1f}, "
      f"largest |dW| pruned = {np.abs(dense.grads['W'][~keep]).max():.1f}")

# 3. HashedNet: a 6x4 virtual matrix V from K = 6 real weights, V_ij = ξ(i,j) w[h(i,j)].
hashed = HashedDense(6, 4, K=6, seed=0, dtype=np.float64)
V = hashed.virtual_weights()
print(f"\nHashedDense: {V.size} virtual weights from K = {hashed.params['w'].size} real ones")
print("  virtual |V| values:", np.unique(np.round(np.abs(V), 6)).size, "distinct")
print("  gradient errors:", {k: f"{v:.1e}" for k, v in check_layer(hashed, x).items()})

# 4. A small conv net, trained for a few steps, then OBD's curvature.
model = Sequential([
    Conv2D(1, 3, 3, seed=1, dtype=np.float64), ReLU(), MaxPool2D(2), Flatten(),
    Dense(3 * 3 * 3, 3, seed=2, dtype=np.float64),
])
images = rng.standard_normal((30, 1, 8, 8))
labels = rng.integers(0, 3, size=30)
opt = SGD(lr=0.05, momentum=0.9, penalty=L2(1e-3))
for step in range(50):
    loss = model.loss_and_grads(images, labels)
    opt.step(model)
print(f"\nconv net: loss after 50 steps {loss:.3f}")

# OBD's h for the last layer is the exact second derivative of the loss:
h = obd_hessian(model, images, labels)
last = model.layers[-1]
exact = numerical_second_derivative(lambda: model.loss(images, labels)[0], last.params["W"])
print(f"OBD h of the last layer vs finite differences: relative error {rel_error(h[(4, 'W')], exact):.1e}")
saliency = obd_saliency(model, images, labels)
print("smallest OBD saliency ½·h·w² per prunable layer:",
      {f"layer {i} {n}": f"{s.min():.2e}" for (i, n), s in saliency.items()})
