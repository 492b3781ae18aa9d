"""Exercises of lesson 10: the surgery of one neuron, APoZ, and the rows a filter feeds.

Write the bodies below, then grade them:

    python -m pytest tutorials/grading -k ex10

Each function must compute its result with NumPy (and plain Python) from its
arguments alone, without calling pynncomp: the grader compares it with
``pynncomp.compress.remove_units``, ``mask_units`` and ``apoz`` on small
nets, with ``pynncomp.nn.Flatten``, and with worked examples.  The rules are
stated in docs/methods.md#structured-units, #structured-criteria and
#surgery.
"""


def remove_neuron(W_in, b_in, W_out, j):
    """The two dense layers around a hidden layer of n neurons, without neuron j.

    A dense layer computes Y = X W + b with W of shape (n_in, n_out), so
    neuron j of the hidden layer owns column j of ``W_in`` (its incoming
    weights) and entry j of ``b_in``, and its ReLU output reaches the next
    layer only through row j of ``W_out``.  With K = {0, …, n − 1} \\ {j}
    in increasing order:

        W_in ← W_in[:, K],    b_in ← b_in[K],    W_out ← W_out[K, :]

    The net with the cut arrays computes, for every input, what the net
    with neuron j removed by masks computes (column j of ``W_in`` and row j
    of ``W_out`` masked): the terms of neuron j were exact zeros.

    Parameters
    ----------
    W_in : float ndarray (n_in, n)
    b_in : float ndarray (n,)
    W_out : float ndarray (n, n_next)
    j : int
        The neuron removed, 0 <= j < n.

    Returns
    -------
    tuple of three new float ndarrays
        (W_in without column j: (n_in, n − 1), b_in without entry j: (n − 1,),
        W_out without row j: (n − 1, n_next)).  The arguments are not
        modified.

    Raises
    ------
    ValueError
        When j is not one of 0, …, n − 1 (a negative j names no neuron: it
        must not count from the end), or when n is 1 (a layer keeps at least
        one neuron, or the output would no longer depend on the input).
    """
    raise NotImplementedError


def apoz(activations):
    """The average percentage of zeros of each unit (Hu et al. 2016), as a fraction.

        APoZ_j = (1/B) Σ_n [a_nj = 0]

    the share of the B samples on which unit j's output after its ReLU is
    exactly 0.  Only an exact 0 counts (−0.0 is 0); a tiny positive output
    is not a zero.

    Parameters
    ----------
    activations : float ndarray (B, n_units), B >= 1
        ReLU outputs: row n holds the units' outputs for sample n.

    Returns
    -------
    float64 ndarray (n_units,)
        APoZ_j in [0, 1].
    """
    raise NotImplementedError


def filter_rows(f, P):
    """The rows of a dense layer's W that filter f feeds through a Flatten.

    Flatten lays a (B, C, H, W) batch out channel by channel: position
    (i, j) of channel c becomes column c·H·W + i·W + j of the (B, C·H·W)
    result, the input of the dense layer after it.  Filter f of the
    convolution before it produces channel f, so it feeds the P = H·W
    consecutive rows

        f·P, f·P + 1, …, f·P + P − 1

    of that layer's W, (C·P, n_out): the rows removed with the filter.

    Parameters
    ----------
    f : int >= 0
        The filter.
    P : int >= 1
        The positions of its feature map, H·W.

    Returns
    -------
    int ndarray (P,)
        The rows, in increasing order.
    """
    raise NotImplementedError
