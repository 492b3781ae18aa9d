"""Initial weights of the dense-like layers.

``"he"`` (He et al. 2015, "Delving deep into rectifiers", section 2.2) keeps
the variance of ReLU activations constant through the layers:

.. math:: W_{ij} \\sim \\mathcal{N}\\left(0,\\; \\frac{2}{n_\\mathrm{in}}\\right)

``"glorot"`` (Glorot & Bengio 2010, eq. 16) balances forward and backward
variance for symmetric activations:

.. math:: W_{ij} \\sim \\mathcal{U}\\left(-\\sqrt{\\frac{6}{n_\\mathrm{in} + n_\\mathrm{out}}},\\;
          \\sqrt{\\frac{6}{n_\\mathrm{in} + n_\\mathrm{out}}}\\right)

A HashedNet layer draws its K real weights from the distribution of its
*virtual* matrix, since every virtual weight is ±one real weight.
"""
import numpy as np

INITS = ("he", "glorot")


def check_init(init):
    """``init`` must be one of :data:`INITS`."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return init


def initial_weights(rng, shape, fan_in, fan_out, init, dtype):
    """Draw initial weights.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
        Shape of the array drawn (``(n_in, n_out)``, or ``(K,)`` for HashedNet).
    fan_in, fan_out : int
        Inputs and outputs of one unit of the layer (of its virtual matrix).
    init : {"he", "glorot"}
    dtype : float32 or float64

    Returns
    -------
    ndarray of ``shape`` and ``dtype``
    """
    if init == "he":
        weights = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    else:
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights = rng.uniform(-limit, limit, size=shape)
    return weights.astype(dtype)
