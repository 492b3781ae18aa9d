"""Worked solutions of lesson 10's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numbers

import numpy as np


def remove_neuron(W_in, b_in, W_out, j):
    """W_in, b_in and W_out without neuron j; see tutorials/exercises/ex10_structured.py."""
    n = np.shape(b_in)[0]
    # a bool is an int to Python, but True is no neuron's name
    if isinstance(j, (bool, np.bool_)) or not isinstance(j, numbers.Integral) or not 0 <= j < n:
        raise ValueError(f"j must be a neuron of the layer, an integer in [0, {n}), got {j!r}")
    if n == 1:
        raise ValueError("the layer has one neuron left; a layer keeps at least one")
    kept = np.arange(n) != j
    # boolean indexing copies, so the arguments are left as they were
    return np.asarray(W_in)[:, kept], np.asarray(b_in)[kept], np.asarray(W_out)[kept, :]


def apoz(activations):
    """The fraction of exact zeros in each column; see tutorials/exercises/ex10_structured.py."""
    a = np.asarray(activations)
    # == 0 is True for 0.0 and -0.0 alike, False for any positive number however small
    return np.mean(a == 0, axis=0, dtype=np.float64)


def filter_rows(f, P):
    """Rows f·P … f·P + P − 1; see tutorials/exercises/ex10_structured.py."""
    return f * P + np.arange(P)
