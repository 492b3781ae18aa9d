"""HashedNet layer (Chen et al. 2015, "Compressing Neural Networks with the
Hashing Trick"; docs/methods.md#hashednet).

A virtual weight matrix V (n_in, n_out) is tied to K real weights w by a
hash h(i, j) in [0, K) and a sign hash ξ(i, j) in {-1, +1}:

.. math:: V_{ij} = \\xi(i, j)\\; w_{h(i, j)}

The layer computes ``Y = X V + b`` (the bias is not hashed).  The hash is
xxHash32 of (i, j) with the layer's ``hash_seed`` (see
:func:`pynncomp.kernels.hash_buckets`).
"""
import math
import numbers

import numpy as np

from .. import kernels
from .._checks import (FLOAT_DTYPES, UINT32_MAX, as_generator, c_array, check_dtype, check_input,
                       check_output_gradient, check_positive_int, check_real)
from .base import Layer
from .init import check_init, initial_weights

DEFAULT_HASH_SEED = 1691  # the seed of Chen et al.'s released code


def _check_hash_seed(hash_seed):
    if isinstance(hash_seed, (bool, np.bool_)) or not isinstance(hash_seed, numbers.Integral):
        raise TypeError(
            f"hash_seed must be an integer in [0, {UINT32_MAX}], got {type(hash_seed).__name__} {hash_seed!r}"
        )
    if not 0 <= hash_seed <= UINT32_MAX:
        raise ValueError(f"hash_seed must be an integer in [0, {UINT32_MAX}], got {hash_seed}")
    return int(hash_seed)


def buckets_for(compression, n_virtual):
    """K = ceil(c · n_virtual), the number of real weights (docs/methods.md#hashednet).

    ``c · n_virtual`` is computed in floating point, where e.g. 0.1 · 1000
    may land just above 100; a product within 1e-9 (relative) of an integer
    is taken as that integer, so the ceiling does not add a spurious bucket.
    """
    product = compression * n_virtual
    nearest = round(product)
    if abs(product - nearest) <= 1e-9 * product:
        return max(1, int(nearest))
    return max(1, math.ceil(product))


class HashedDense(Layer):
    """Fully connected layer whose weights are hashed into K buckets.

    Parameters
    ----------
    n_in, n_out : int >= 1
        Shape of the virtual weight matrix V.
    compression : float in (0, 1], optional
        Fraction c of real to virtual weights; K = ceil(c · n_in · n_out).
    K : int in [1, n_in · n_out], optional
        Number of real weights, instead of ``compression`` (give exactly one).
    hash_seed : int in [0, 2**32 - 1]
        Seed of h and ξ (default 1691, as in Chen et al.'s code).  Give each
        hashed layer of a network its own ``hash_seed`` (e.g. 1691 + layer
        index) so that layers of equal shape do not share one hash pattern.
    seed : None, int >= 0 or numpy.random.Generator
        Randomness of the initial weights, independent of ``hash_seed``.
    dtype : float32 or float64
    init : {"he", "glorot"}
        Distribution of the real weights, that of a dense ``(n_in, n_out)``
        layer's weights (every V_ij is ± one w_k); b starts at 0.

    Attributes
    ----------
    params : ``{"w": (K,), "b": (n_out,)}``; ``prunable = ("w",)``.
    bucket : int32 ndarray (n_in, n_out), h(i, j)
    sign : int8 ndarray (n_in, n_out), ξ(i, j)
        Computed once from ``hash_seed``; never stored (see :meth:`state`).

    Notes
    -----
    Forward and backward (Chen et al. 2015, section 4; docs/methods.md#hashednet):

    .. math::
        V_{ij} = \\xi(i, j)\\, w_{h(i,j)}, \\qquad Y = X V + b

    .. math::
        dV = X^\\top dY, \\qquad
        \\frac{\\partial L}{\\partial w_k} = \\sum_{(i,j):\\,h(i,j)=k} \\xi(i,j)\\, dV_{ij},
        \\qquad dX = dY\\, V^\\top

    Curvature (OBD for shared weights, docs/methods.md#obd: a shared weight
    sums the h of every connection that uses it; ξ² = 1 so the signs drop out):

    .. math::
        h_V = (X \\odot X)^\\top d2Y, \\qquad
        h_{w_k} = \\sum_{(i,j):\\,h(i,j)=k} (h_V)_{ij}, \\qquad
        d2X = d2Y\\, (V \\odot V)^\\top
    """

    prunable = ("w",)

    def __init__(self, n_in, n_out, *, compression=None, K=None, hash_seed=DEFAULT_HASH_SEED,
                 seed=None, dtype=np.float32, init="he"):
        super().__init__()
        n_in = check_positive_int("n_in", n_in)
        n_out = check_positive_int("n_out", n_out)
        if (compression is None) == (K is None):
            raise ValueError(
                f"give exactly one of compression (in (0, 1]) and K (in [1, {n_in * n_out}]), "
                f"got compression={compression!r} and K={K!r}"
            )
        if compression is not None:
            compression = check_real("compression", compression, 0.0, 1.0, low_open=True)
            K = buckets_for(compression, n_in * n_out)
        else:
            K = check_positive_int("K", K)
            if K > n_in * n_out:
                raise ValueError(f"K must be in [1, n_in * n_out = {n_in * n_out}], got {K}")
        hash_seed = _check_hash_seed(hash_seed)
        dtype = check_dtype(dtype)
        init = check_init(init)
        rng = as_generator(seed)
        self.n_in, self.n_out, self.K, self.hash_seed = n_in, n_out, K, hash_seed
        self.bucket, self.sign = kernels.hash_buckets(n_in, n_out, K, hash_seed)
        self.params["w"] = initial_weights(rng, (K,), n_in, n_out, init, dtype)
        self.params["b"] = np.zeros(n_out, dtype=dtype)

    @property
    def compression(self):
        """Achieved fraction K / (n_in · n_out)."""
        return self.K / (self.n_in * self.n_out)

    def virtual_weights(self):
        """V (n_in, n_out), ``V_ij = ξ(i, j) · w[h(i, j)]`` (with w's mask applied)."""
        w = self.params["w"]
        # the buckets were checked against K once; w must still hold K weights
        # (a shape comparison per step: C reads w[bucket] unchecked)
        if not isinstance(w, np.ndarray) or w.shape != (self.K,) or w.dtype not in FLOAT_DTYPES:
            raise ValueError(f"params['w'] must be a float32 or float64 array of shape ({self.K},) (K,), got "
                             + (f"{w.dtype} {w.shape}" if isinstance(w, np.ndarray) else type(w).__name__))
        return kernels._unchecked().hashed_lookup(c_array(self.masked("w")), self.bucket, self.sign)

    def forward(self, x, train=False):
        """``Y = X V + b``.

        Parameters
        ----------
        x : ndarray (B, n_in) of the layer's dtype
        train : bool
            Unused.

        Returns
        -------
        out : ndarray (B, n_out)
        cache : (x, V)
        """
        x = check_input(x, self.params["w"].dtype, (self.n_in,), contiguous=False)
        V = self.virtual_weights()
        out = x @ V + self.params["b"]
        return out, (x, V)

    def backward(self, dout, cache):
        """Gradients of ``w`` (bucket sums of dV) and ``b``; returns dX (B, n_in)."""
        self.backward_params(dout, cache)
        return dout @ cache[1].T

    def backward_params(self, dout, cache):
        """Gradients of ``w`` and ``b`` only; no dX."""
        x, _ = cache
        # dV = Xᵀ dY must have the shape of the bucket array C walks
        check_output_gradient("dout", dout, x, self.n_out)
        dV = x.T @ dout
        dw = kernels._unchecked().bucket_accumulate(dV, self.bucket, self.sign, self.K)
        factor = self.keep_factor("w")
        if factor is not None:
            dw *= factor
        self.grads["w"] = dw
        self.grads["b"] = dout.sum(axis=0)

    def curvature(self, d2out, cache):
        """OBD's h of ``w`` (bucket sums of h_V) and ``b``; returns d2X (B, n_in)."""
        x, V = cache
        check_output_gradient("d2out", d2out, x, self.n_out)
        h_V = (x * x).T @ d2out
        all_plus = np.ones_like(self.sign)
        h_w = kernels._unchecked().bucket_accumulate(h_V, self.bucket, all_plus, self.K)
        factor = self.keep_factor("w")
        if factor is not None:
            h_w *= factor
        self.hessian["w"] = h_w
        self.hessian["b"] = d2out.sum(axis=0)
        return d2out @ (V * V).T

    def state(self):
        """What a trained layer needs to be stored (docs/methods.md#hashednet).

        Returns
        -------
        dict
            ``n_in``, ``n_out``, ``K``, ``hash_seed`` (ints), ``w`` (K,) and
            ``b`` (n_out,) (copies), and ``w_mask`` (K,) bool or None.  The
            index arrays are not stored: :meth:`from_state` recomputes them.
        """
        mask = self.masks.get("w")
        return {
            "n_in": self.n_in,
            "n_out": self.n_out,
            "K": self.K,
            "hash_seed": self.hash_seed,
            "w": self.params["w"].copy(),
            "b": self.params["b"].copy(),
            "w_mask": None if mask is None else mask.copy(),
        }

    @classmethod
    def from_state(cls, state):
        """The layer :meth:`state` describes, hash recomputed from its seed.

        Every size and array is checked before the hash is computed: the
        hash allocates n_in·n_out bucket indices and signs (5 bytes each),
        so a state whose ``w``, ``b`` or ``w_mask`` does not fit its ``K``
        and ``n_out`` is refused before that cost.
        """
        missing = {"n_in", "n_out", "K", "hash_seed", "w", "b"} - set(state)
        if missing:
            raise ValueError(f"state is missing the keys {sorted(missing)}")
        n_in = check_positive_int("state['n_in']", state["n_in"])
        n_out = check_positive_int("state['n_out']", state["n_out"])
        K = check_positive_int("state['K']", state["K"])
        if K > n_in * n_out:
            raise ValueError(f"state['K'] must be in [1, n_in * n_out = {n_in * n_out}], got {K}")
        w = check_input(state["w"], None, name="state['w']")
        if w.shape != (K,):
            raise ValueError(f"state['w'] must have shape ({K},) (K,), got {w.shape}")
        b = check_input(state["b"], w.dtype, name="state['b']")
        if b.shape != (n_out,):
            raise ValueError(f"state['b'] must have shape ({n_out},) (n_out,), got {b.shape}")
        w_mask = state.get("w_mask")
        if w_mask is not None:
            w_mask = np.asarray(w_mask)
            if w_mask.dtype != np.bool_:
                raise TypeError(f"state['w_mask'] must be None or a bool array, got dtype {w_mask.dtype}")
            if w_mask.shape != (K,):
                raise ValueError(f"state['w_mask'] must have shape ({K},) (K,), got {w_mask.shape}")
        layer = cls(n_in, n_out, K=K, hash_seed=state["hash_seed"], seed=0, dtype=w.dtype)
        layer.params["w"] = w.copy()
        layer.params["b"] = b.copy()
        if w_mask is not None:
            layer.set_mask("w", w_mask)
        return layer

    def __repr__(self):
        return (f"HashedDense(n_in={self.n_in}, n_out={self.n_out}, K={self.K}, "
                f"hash_seed={self.hash_seed})")
