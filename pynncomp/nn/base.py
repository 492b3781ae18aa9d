"""The layer contract every pynncomp layer follows.

A layer is a forward/backward pair in the style of the CS231n assignments,
with its parameters and gradients in named dicts (numpy-ml style):

``forward(x, train=False) -> (out, cache)``
    computes the output; ``cache`` holds what the backward passes need.
``backward(dout, cache) -> dx``
    returns dL/dx and writes dL/dp into ``self.grads[name]`` for every
    parameter ``name`` in ``self.params``.
``backward_params(dout, cache)``
    fills ``grads`` as ``backward`` does without computing dx (used by the
    first layer of a model, whose dx nobody needs).
``curvature(d2out, cache) -> d2x``
    the second backward pass of Optimal Brain Damage (LeCun, Denker & Solla
    1989; docs/methods.md#obd): from the diagonal second derivatives
    ∂²L/∂out² it returns ∂²L/∂x² and writes the diagonal second derivative
    h of every parameter into ``self.hessian[name]``.  The Levenberg–Marquardt
    form drops f''-terms and off-diagonal terms, so every h >= 0.

Conventions
-----------
* ``params[name]`` are trained in place by the optimiser; ``grads[name]`` and
  ``hessian[name]`` have the same shape and dtype.
* ``prunable`` names the parameters that are *weights*: they can carry a
  keep-mask in ``masks[name]`` (bool, same shape) and are the only ones the
  L1/L2 penalties touch.  Biases are never pruned nor penalised.
* Mask semantics (docs/methods.md#pruning): a pruned weight is exactly 0, gets
  no gradient, no momentum, no penalty and is never revived.  Layers use
  ``W * mask`` in the forward pass and mask their weight gradient and h.
* The loss L is the *mean* over the batch, so the 1/B factor enters once,
  at the loss, and every gradient or h below it is already averaged.
* Layers compute in the dtype of their parameters: float32 for training,
  float64 for gradient checks (``astype``).
"""
import numpy as np


class Layer:
    """Base class: empty parameter dicts and the mask/dtype helpers."""

    prunable = ()

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.hessian = {}
        self.masks = {}

    def forward(self, x, train=False):
        raise NotImplementedError

    def backward(self, dout, cache):
        raise NotImplementedError

    def curvature(self, d2out, cache):
        raise NotImplementedError

    def backward_params(self, dout, cache):
        """Fill ``grads`` like :meth:`backward` but skip dL/dx.

        A model's first layer calls this in training: nothing uses the
        gradient of the input images, and for a 784-input dense layer it is
        a sixth of a step's arithmetic.  Layers with parameters override it;
        the default runs :meth:`backward` and drops dx.
        """
        self.backward(dout, cache)

    def masked(self, name):
        """The parameter as the layer uses it: ``params[name] * masks[name]``."""
        p = self.params[name]
        factor = self.keep_factor(name)
        return p if factor is None else p * factor

    def keep_factor(self, name):
        """The keep-mask of ``name`` as 0/1 numbers of the parameter's dtype, or None.

        The hot paths (forward, gradients, the SGD step) multiply by this
        rather than by the bool mask: NumPy then multiplies two float arrays
        instead of casting every bool on every step.  It is cached per mask
        object; masks installed by :meth:`set_mask` are read-only, so the
        cache cannot go stale behind an in-place edit (assign a new array to
        ``masks[name]`` instead, or call :meth:`set_mask`).
        """
        mask = self.masks.get(name)
        if mask is None:
            return None
        dtype = self.params[name].dtype
        cache = self.__dict__.setdefault("_keep_factors", {})
        cached = cache.get(name)
        if cached is None or cached[0] is not mask or cached[1].dtype != dtype:
            cached = (mask, mask.astype(dtype))
            cache[name] = cached
        return cached[1]

    def set_mask(self, name, keep_mask):
        """Install a keep-mask on a prunable parameter and zero what it prunes.

        Parameters
        ----------
        name : str, one of ``self.prunable``
        keep_mask : bool ndarray of the parameter's shape; False = pruned.
        """
        if name not in self.prunable:
            raise ValueError(f"name must be one of the prunable parameters {self.prunable}, got {name!r}")
        p = self.params[name]
        keep_mask = np.asarray(keep_mask)
        if keep_mask.dtype != np.bool_:
            raise TypeError(f"keep_mask must be a bool array, got dtype {keep_mask.dtype}")
        if keep_mask.shape != p.shape:
            raise ValueError(f"keep_mask must have the shape of {name} {p.shape}, got {keep_mask.shape}")
        keep_mask = keep_mask.copy()
        keep_mask.flags.writeable = False
        self.masks[name] = keep_mask
        p *= keep_mask

    def astype(self, dtype):
        """Cast parameters (and clear gradients) to float32 or float64, in place."""
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        for name, p in self.params.items():
            self.params[name] = p.astype(dtype)
        self.grads = {}
        self.hessian = {}
        return self

    @property
    def dtype(self):
        for p in self.params.values():
            return p.dtype
        return None

    def __repr__(self):
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes})"
