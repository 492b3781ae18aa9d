"""Parameter-free layers: ReLU, inverted dropout, flatten.

Each follows the layer contract of :mod:`pynncomp.nn.base`.  For an
elementwise y = f(a) the two backward passes are (docs/methods.md#obd)

.. math::
    \\frac{\\partial L}{\\partial a} = f'(a)\\, \\frac{\\partial L}{\\partial y},
    \\qquad
    \\frac{\\partial^2 L}{\\partial a^2} \\approx f'(a)^2\\, \\frac{\\partial^2 L}{\\partial y^2}

the second in the Levenberg–Marquardt form of OBD's second-derivative
backpropagation (LeCun, Denker & Solla 1989; docs/methods.md#obd), which
drops the term f''(a)·∂L/∂y.
"""
import math

import numpy as np

from .._checks import as_generator, check_input, check_real
from .base import Layer


class ReLU(Layer):
    """Rectified linear unit ``y = max(a, 0)``, elementwise, any shape.

    .. math:: f(a) = \\max(a, 0), \\qquad f'(a) = [a > 0], \\qquad f'(a)^2 = [a > 0]

    (f'(0) is taken as 0.)
    """

    def forward(self, x, train=False):
        """Returns ``(max(x, 0), cache = [x > 0])``; ``x`` any float ndarray (B, ...)."""
        x = check_input(x, None, contiguous=False)
        return np.maximum(x, 0), x > 0

    def backward(self, dout, cache):
        """``dx = f'(a) ⊙ dout``."""
        return dout * cache

    def curvature(self, d2out, cache):
        """``d2x = f'(a)² ⊙ d2out``; f'² = f' for the 0/1 derivative of ReLU."""
        return d2out * cache


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014, with the rescaling at training time).

    In training each entry is kept with probability 1 − p and scaled by
    1 / (1 − p), so evaluation is the identity:

    .. math:: y = x \\odot m, \\qquad m_t = \\frac{[u_t \\ge p]}{1 - p},
              \\quad u_t \\sim \\mathcal{U}[0, 1)

    and the backward passes are ``dx = m ⊙ dy``, ``d2x = m² ⊙ d2y``.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability.  It may be changed between steps (Han et al. 2015
        rescale it when retraining a pruned net, docs/methods.md#dropout-rescaling).
    seed : None, int >= 0 or numpy.random.Generator
        The layer's own source of masks, kept as ``self.rng``; replacing
        ``self.rng`` by a freshly seeded generator before each forward
        replays one mask (how the gradient check fixes it).
    """

    def __init__(self, p, seed=None):
        super().__init__()
        self.p = check_real("p", p, 0.0, 1.0, high_open=True)
        self.rng = as_generator(seed)

    def forward(self, x, train=False):
        """``x ⊙ m`` in training (cache m), ``x`` at evaluation (cache None)."""
        x = check_input(x, None, contiguous=False)
        if not train or self.p == 0.0:
            return x, None
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p
        scaled_mask = keep * x.dtype.type(1.0 / (1.0 - self.p))
        return x * scaled_mask, scaled_mask

    def backward(self, dout, cache):
        """``dx = m ⊙ dout`` (``dout`` at evaluation)."""
        return dout if cache is None else dout * cache

    def curvature(self, d2out, cache):
        """``d2x = m² ⊙ d2out`` (``d2out`` at evaluation)."""
        return d2out if cache is None else d2out * (cache * cache)

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Flatten(Layer):
    """Reshape (B, d1, d2, ...) to (B, d1·d2·...); derivatives reshape back."""

    def forward(self, x, train=False):
        """Returns ``(x.reshape(B, -1), cache = x.shape)``; ``x`` float ndarray (B, ...)."""
        x = check_input(x, None, contiguous=False)
        return x.reshape(x.shape[0], math.prod(x.shape[1:])), x.shape

    def backward(self, dout, cache):
        """``dx = dout.reshape(input shape)``."""
        return dout.reshape(cache)

    def curvature(self, d2out, cache):
        """``d2x = d2out.reshape(input shape)``."""
        return d2out.reshape(cache)
