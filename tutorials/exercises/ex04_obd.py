"""Exercises of lesson 4: Optimal Brain Damage's curvature and saliency.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex04

Each function must compute its result with NumPy from its arguments alone
(no pynncomp function inside). The grader compares it with pynncomp's
curvature pass (``Sequential.curvature``), with finite-difference second
derivatives of the loss (``pynncomp.gradcheck``) and with
``pynncomp.nn.obd_saliency``. Shapes: a batch ``x`` is (B, n_in), the
logits are (B, C), and a last-layer weight ``W`` is (n_in, C).
"""


def last_layer_obd_h(x, logits):
    """OBD's h for the weights of the last dense layer, the one that outputs the logits.

    The layer computes the logits z = x W + b, and the loss is the softmax
    cross-entropy averaged over the batch,
    L = −(1/B) Σ_b log p_{b y_b}, with p_bc = exp(z_bc) / Σ_c' exp(z_bc').
    The second derivative of L in one weight W_ij is

        h_ij = ∂²L/∂W_ij² = (1/B) Σ_b x_bi² · p_bj (1 − p_bj)

    (docs/methods.md#softmax-curvature and #obd-exactness). For this layer
    OBD's h is the exact second derivative, and it does not depend on the
    labels y. Compute p stably: subtract each row's largest logit before
    exponentiating. That changes no p, and without it logits of a few
    hundred overflow.

    Parameters
    ----------
    x : ndarray (B, n_in)
        The input of the last dense layer (the activations of the layer below).
    logits : ndarray (B, C)
        Its output z.

    Returns
    -------
    h : ndarray (n_in, C)
        h[i, j] = ∂²L/∂W_ij², a batch mean, every entry >= 0.
    """
    raise NotImplementedError


def obd_saliency(w, h):
    """OBD's saliency of every weight: the loss rise predicted for deleting it.

    From a second-order Taylor expansion of the loss at a minimum (the
    gradient term vanishes), with the off-diagonal terms dropped, deleting
    weight k (δw_k = −w_k) raises the loss by about

        s_k = ½ · h_k · w_k²

    (LeCun, Denker & Solla 1989; docs/methods.md#obd-saliency).

    Parameters
    ----------
    w : ndarray, any shape
        The weights (pruned ones are 0).
    h : ndarray, the shape of ``w``
        Their diagonal second derivatives ∂²L/∂w_k².

    Returns
    -------
    s : ndarray, the shape of ``w``
    """
    raise NotImplementedError
