"""Exercises of lesson 2: the loss every network trains on, and one step of SGD with momentum.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex02

Each function must compute its result with NumPy from its arguments alone
(no pynncomp loss or optimiser inside): the grader compares it with
``pynncomp.nn.SoftmaxCrossEntropy``, with finite differences and with
several steps of ``pynncomp.nn.SGD``.  The equations are those of
docs/methods.md#loss and docs/methods.md#optimizer.
"""


def softmax_cross_entropy(z, y):
    """Mean softmax cross-entropy of a batch of logits, and its gradient.

    .. math::
        p_{bc} = \\frac{e^{z_{bc}}}{\\sum_{c'} e^{z_{bc'}}}, \\qquad
        L = -\\frac{1}{B} \\sum_b \\log p_{b y_b}, \\qquad
        \\frac{\\partial L}{\\partial z_{bc}} = \\frac{p_{bc} - [c = y_b]}{B}

    It must stay finite for logits in the thousands (e^1000 overflows):
    subtracting each row's largest logit first changes no p.

    Parameters
    ----------
    z : float64 ndarray (B, C)
        Logits, one row per sample.
    y : int ndarray (B,)
        The label of each sample, in [0, C).

    Returns
    -------
    loss : float
        L.
    dz : float64 ndarray (B, C)
        dL/dz.
    """
    raise NotImplementedError


def sgd_momentum_step(w, grad, velocity, lr, momentum, l2, keep=None):
    """One step of SGD with momentum and an L2 penalty on one parameter.

    .. math::
        v' = \\big(\\mu v - \\eta\\, (g + \\lambda w)\\big) \\odot M, \\qquad
        w' = w + v'

    with η = ``lr``, μ = ``momentum``, λ = ``l2`` and M = ``keep`` (all
    ones when ``keep`` is None).  The penalty (λ/2)·Σw² is a weight's: the
    caller passes ``l2=0`` for a bias.  The mask multiplies the whole new
    velocity, the old velocity included, so that a pruned entry moves
    neither now nor later.

    Parameters
    ----------
    w : float64 ndarray, any shape
        The parameter before the step.
    grad : float64 ndarray, the shape of ``w``
        g, the gradient of the batch's mean loss (without the penalty).
    velocity : float64 ndarray, the shape of ``w``
        v, the velocity after the previous step (zeros before the first).
    lr : float > 0
    momentum : float in [0, 1)
    l2 : float >= 0
    keep : None or bool ndarray, the shape of ``w``
        True = kept, False = pruned.

    Returns
    -------
    new_w : float64 ndarray, the shape of ``w``
        w'.
    new_velocity : float64 ndarray, the shape of ``w``
        v'.
    """
    raise NotImplementedError
