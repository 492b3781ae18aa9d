"""Worked solutions of lesson 2's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numpy as np


def softmax_cross_entropy(z, y):
    """Mean softmax cross-entropy and dL/dz; see tutorials/exercises/ex02_training.py."""
    B = z.shape[0]
    rows = np.arange(B)
    shifted = z - z.max(axis=1, keepdims=True)   # the largest exponent is e^0: no overflow, same p
    exp_shifted = np.exp(shifted)
    sum_exp = exp_shifted.sum(axis=1)
    # -log p_{b y_b} = log Σ_c exp(shifted_bc) - shifted_{b y_b}, without forming a p that may round to 0
    loss = float(np.mean(np.log(sum_exp) - shifted[rows, y]))
    dz = exp_shifted / sum_exp[:, None]
    dz[rows, y] -= 1.0
    dz /= B                                        # the 1/B of the mean, the only place it enters
    return loss, dz


def sgd_momentum_step(w, grad, velocity, lr, momentum, l2, keep=None):
    """v' = (μ v − η (g + λ w)) ⊙ M, w' = w + v'."""
    new_velocity = momentum * velocity - lr * (grad + l2 * w)   # the penalty's gradient joins g before η
    if keep is not None:
        new_velocity = new_velocity * keep   # also clears the old velocity of an entry pruned since
    return w + new_velocity, new_velocity
