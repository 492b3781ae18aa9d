"""Optimal Brain Damage: diagonal curvature and saliency of every weight.

LeCun, Denker & Solla (1989), "Optimal Brain Damage"; docs/methods.md#obd-saliency.
The saliency of a weight is the loss increase a second-order Taylor
expansion predicts for deleting it, when the net sits at a minimum (so the
gradient term vanishes) and off-diagonal terms are neglected:

.. math:: s_k = \\tfrac{1}{2}\\, h_{kk}\\, w_k^2

h is the diagonal second derivative of the training loss, obtained by the
second backward pass of every layer (``Layer.curvature``), started from the
softmax cross-entropy's :math:`p(1 - p)/B` and averaged over the samples
given.  For the last layer h is exact; for hidden layers it is OBD's
Levenberg–Marquardt approximation (h >= 0).  Compute it where training has
(roughly) converged, as the paper does.
"""
import numpy as np

from .._checks import check_input, check_positive_int


def obd_hessian(model, X, y, batch_size=256):
    """h of every parameter of ``model``, averaged over the samples (X, y).

    The samples are taken ``batch_size`` at a time in evaluation mode; the
    batch means are combined with weights B_t / N, so the result is the mean
    over all N samples whatever the batching:

    .. math:: h = \\sum_t \\frac{B_t}{N}\\, h^{(t)}

    Parameters
    ----------
    model : Sequential
    X : ndarray (N, ...) of the model's dtype, N >= 1
    y : integer ndarray (N,)
    batch_size : int >= 1

    Returns
    -------
    dict
        ``{(layer_index, name): h}``, h float64 of the parameter's shape
        (accumulated in float64), for every parameter, biases included;
        pruned entries are 0.  The layers' ``hessian`` dicts are left
        holding the last batch's h.
    """
    batch_size = check_positive_int("batch_size", batch_size)
    X = check_input(X, None, name="X", contiguous=False)
    n_samples = X.shape[0]
    if n_samples == 0:
        raise ValueError(f"X must hold at least one sample, got shape {X.shape}")
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise ValueError(f"y must have shape ({n_samples},) (one label per row of X), got {y.shape}")
    totals = {}
    for start in range(0, n_samples, batch_size):
        X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
        model.curvature(X_batch, y_batch)
        weight = X_batch.shape[0] / n_samples
        for index, layer, name in model.parameters():
            h = weight * layer.hessian[name].astype(np.float64)
            key = (index, name)
            totals[key] = h if key not in totals else totals[key] + h
    return totals


def obd_saliency(model, X=None, y=None, batch_size=256, hessian=None):
    """OBD saliency ``s = ½ h w²`` of every prunable parameter (LeCun et al. 1989).

    Parameters
    ----------
    model : Sequential
    X, y : the samples h is averaged over (see :func:`obd_hessian`);
        not needed when ``hessian`` is given.
    batch_size : int >= 1
    hessian : dict, optional
        A result of :func:`obd_hessian` to reuse.

    Returns
    -------
    dict
        ``{(layer_index, name): s}``, s float64 of the weight's shape, for the
        prunable parameters only.  Pruned weights are 0 and so have s = 0: a
        ranking must leave them out by their mask, not by their saliency.
    """
    if hessian is None:
        if X is None or y is None:
            raise ValueError("give X and y (the samples h is averaged over), or a precomputed hessian")
        hessian = obd_hessian(model, X, y, batch_size)
    saliency = {}
    for index, layer, name in model.parameters(prunable_only=True):
        key = (index, name)
        if key not in hessian:
            raise ValueError(f"hessian has no entry for layer {index}, parameter {name!r}")
        w = layer.masked(name).astype(np.float64)
        if hessian[key].shape != w.shape:
            raise ValueError(f"hessian[{key}] must have the shape of the parameter {w.shape}, got {hessian[key].shape}")
        saliency[key] = 0.5 * hessian[key] * w * w
    return saliency
