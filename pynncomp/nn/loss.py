"""Softmax cross-entropy, the loss of every pynncomp classifier.

For logits z (B, C) and integer labels y (B,), with the mean over the batch
(the only place the 1/B enters; see :mod:`pynncomp.nn.base`):

.. math::
    p_{bc} = \\frac{e^{z_{bc}}}{\\sum_{c'} e^{z_{bc'}}}, \\qquad
    L = -\\frac{1}{B} \\sum_b \\log p_{b y_b}
"""
import numpy as np

from .._checks import check_input


def check_labels(y, n_samples, n_classes, name="y"):
    """Integer class labels: 1-D, one per sample, each in [0, n_classes)."""
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},) (one label per sample), got {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"{name} must have values in [0, {n_classes}) (the number of classes), "
            f"got values in [{y.min()}, {y.max()}]"
        )
    return y


class SoftmaxCrossEntropy:
    """Mean softmax cross-entropy with its first and second derivatives.

    Notes
    -----
    Stable log-sum-exp: subtracting :math:`m_b = \\max_c z_{bc}` changes no p.

    .. math::
        \\log p_{bc} = (z_{bc} - m_b) - \\log \\sum_{c'} e^{z_{bc'} - m_b}

    Gradient and OBD curvature (the diagonal of the per-sample Hessian
    :math:`\\mathrm{diag}(p_b) - p_b p_b^\\top`; docs/methods.md#softmax-curvature):

    .. math::
        \\frac{\\partial L}{\\partial z_{bc}} = \\frac{p_{bc} - [c = y_b]}{B},
        \\qquad
        \\frac{\\partial^2 L}{\\partial z_{bc}^2} = \\frac{p_{bc}(1 - p_{bc})}{B}
    """

    def forward(self, z, y):
        """Loss of logits ``z`` for labels ``y``.

        Parameters
        ----------
        z : float32 or float64 ndarray (B, C), B >= 1
        y : integer array-like (B,), values in [0, C)

        Returns
        -------
        loss : float
        cache : (p (B, C), y (B,))
        """
        z = check_input(z, None, name="z", contiguous=False)
        if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
            raise ValueError(f"z must have shape (B, C) with B >= 1 and C >= 1, got {z.shape}")
        B = z.shape[0]
        y = check_labels(y, B, z.shape[1])
        shifted = z - z.max(axis=1, keepdims=True)
        exp_shifted = np.exp(shifted)
        sum_exp = exp_shifted.sum(axis=1)
        # -log p_{b y_b} = log Σ_c' exp(z_bc' - m_b) - (z_{b y_b} - m_b)
        loss = (np.log(sum_exp) - shifted[np.arange(B), y]).sum() / B
        return float(loss), (exp_shifted / sum_exp[:, None], y)

    def backward(self, cache):
        """``dz = (p − onehot(y)) / B``, shape (B, C)."""
        p, y = cache
        B = p.shape[0]
        dz = p.copy()
        dz[np.arange(B), y] -= 1
        dz /= B
        return dz

    def curvature(self, cache):
        """``d2z = p (1 − p) / B``, shape (B, C)."""
        p, _ = cache
        return p * (1 - p) / p.shape[0]
