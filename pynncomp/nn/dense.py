"""Fully connected layers: dense with a keep-mask, and its sparse storage.

A dense layer computes, for a batch X (B, n_in) and keep-mask M
(docs/methods.md#dense),

.. math:: Y = X\\,(W \\odot M) + b

``Dense`` keeps all of W and multiplies by M; ``SparseDense`` stores only
the kept weights of a pruned layer (canonical CSR over the rows of W) and
computes the same Y through the sparse kernels of :mod:`pynncomp.kernels`.
"""
import numpy as np

from .. import kernels
from .._checks import (INT32_MAX, as_generator, c_array, check_csr, check_dtype, check_input, check_int,
                       check_output_gradient, check_positive_int)
from .base import Layer
from .init import check_init, initial_weights


class Dense(Layer):
    """Fully connected layer ``Y = X (W ⊙ M) + b``.

    Parameters
    ----------
    n_in, n_out : int >= 1
        Inputs and outputs.
    seed : None, int >= 0 or numpy.random.Generator
        Randomness of the initial weights.
    dtype : float32 or float64
    init : {"he", "glorot"}
        Initial distribution of W (see :mod:`pynncomp.nn.init`); b starts at 0.

    Attributes
    ----------
    params : ``{"W": (n_in, n_out), "b": (n_out,)}``; ``prunable = ("W",)``.

    Notes
    -----
    Forward and backward (CS231n ``affine_forward``/``affine_backward``, with
    the mask of docs/methods.md#pruning):

    .. math::
        Y = X (W \\odot M) + b, \\qquad
        \\frac{\\partial L}{\\partial W} = (X^\\top\\, dY) \\odot M, \\qquad
        \\frac{\\partial L}{\\partial b} = \\sum_b dY_b, \\qquad
        dX = dY\\, (W \\odot M)^\\top

    Curvature (LeCun, Denker & Solla 1989; docs/methods.md#obd),
    with :math:`d2Y = \\partial^2 L / \\partial Y^2` elementwise:

    .. math::
        h_W = \\big((X \\odot X)^\\top\\, d2Y\\big) \\odot M, \\qquad
        h_b = \\sum_b d2Y_b, \\qquad
        d2X = d2Y\\, \\big((W \\odot M) \\odot (W \\odot M)\\big)^\\top
    """

    prunable = ("W",)

    def __init__(self, n_in, n_out, *, seed=None, dtype=np.float32, init="he"):
        super().__init__()
        n_in = check_positive_int("n_in", n_in)
        n_out = check_positive_int("n_out", n_out)
        dtype = check_dtype(dtype)
        init = check_init(init)
        rng = as_generator(seed)
        self.params["W"] = initial_weights(rng, (n_in, n_out), n_in, n_out, init, dtype)
        self.params["b"] = np.zeros(n_out, dtype=dtype)

    @property
    def n_in(self):
        return self.params["W"].shape[0]

    @property
    def n_out(self):
        return self.params["W"].shape[1]

    def forward(self, x, train=False):
        """``Y = X (W ⊙ M) + b``.

        Parameters
        ----------
        x : ndarray (B, n_in) of the layer's dtype
        train : bool
            Unused (the layer behaves the same in training and evaluation).

        Returns
        -------
        out : ndarray (B, n_out)
        cache : (x, W ⊙ M)
        """
        W = self.params["W"]
        x = check_input(x, W.dtype, W.shape[:1], contiguous=False)
        W_used = self.masked("W")
        out = x @ W_used + self.params["b"]
        return out, (x, W_used)

    def backward(self, dout, cache):
        """Gradients of ``W`` (masked) and ``b``; returns dX (B, n_in).

        ``dout`` is dL/dY, shape (B, n_out).
        """
        self.backward_params(dout, cache)
        return dout @ cache[1].T

    def backward_params(self, dout, cache):
        """``grads["W"] = (Xᵀ dY) ⊙ M`` and ``grads["b"] = Σ_b dY_b``; no dX."""
        x, _ = cache
        check_output_gradient("dout", dout, x, self.n_out)
        dW = x.T @ dout
        factor = self.keep_factor("W")
        if factor is not None:
            dW *= factor
        self.grads["W"] = dW
        self.grads["b"] = dout.sum(axis=0)

    def curvature(self, d2out, cache):
        """OBD's h of ``W`` (masked) and ``b``; returns d2X (B, n_in).

        ``d2out`` is ∂²L/∂Y², shape (B, n_out).
        """
        x, W_used = cache
        check_output_gradient("d2out", d2out, x, self.n_out)
        h_W = (x * x).T @ d2out
        factor = self.keep_factor("W")
        if factor is not None:
            h_W *= factor
        self.hessian["W"] = h_W
        self.hessian["b"] = d2out.sum(axis=0)
        return d2out @ (W_used * W_used).T


class SparseDense(Layer):
    """A pruned dense layer that stores only its kept weights.

    W (n_in, n_out) is kept in canonical CSR over its rows: row i holds
    ``W[i, indices[p]] = data[p]`` for ``p in range(indptr[i], indptr[i+1])``,
    column indices strictly increasing within a row.  The pattern is
    validated once here, so the forward and backward passes call the
    kernels unchecked (``kernels._unchecked()``, private: it trusts its
    arguments); the arrays that change every call (the input, ``dout``) are
    checked here, shape and dtype, and made C-contiguous and aligned.

    Build one with :meth:`from_dense` (from a masked :class:`Dense`) or
    :meth:`from_weights` (from W, b and a keep-mask); :meth:`to_dense`
    goes back.

    Parameters
    ----------
    indptr : integer ndarray (n_in + 1,)
    indices : integer ndarray (nnz,), values in [0, n_out)
    data : float32 or float64 ndarray (nnz,)
        The kept weights (copied).
    b : ndarray (n_out,), the dtype of ``data``
        Bias (copied).
    n_out : int >= 1

    Attributes
    ----------
    params : ``{"data": (nnz,), "b": (n_out,)}``; ``prunable = ("data",)``
        (a mask on ``data`` prunes further without rebuilding the pattern).
    indptr : int64 ndarray (n_in + 1,)
    indices : int32 ndarray (nnz,)

    Notes
    -----
    The equations of :class:`Dense` restricted to the kept weights
    :math:`(i, j) \\in M`:

    .. math::
        Y = X\\,W_M + b, \\qquad
        \\frac{\\partial L}{\\partial W_{ij}} = \\sum_b X_{bi}\\, dY_{bj}, \\qquad
        dX = dY\\, W_M^\\top

    .. math::
        h_{ij} = \\sum_b X_{bi}^2\\, d2Y_{bj}, \\qquad
        d2X = d2Y\\, (W_M \\odot W_M)^\\top

    computed by ``sparse_matmul``, ``sparse_weight_grad`` and
    ``sparse_matmul_t`` (the last two with X² and data² for the curvature).
    """

    prunable = ("data",)

    def __init__(self, indptr, indices, data, b, n_out):
        super().__init__()
        n_out = check_positive_int("n_out", n_out)
        # Before b (n_out,) is looked at, let alone copied: column indices are int32 in C.
        check_int("n_out", n_out, 1, INT32_MAX)
        if not isinstance(indptr, np.ndarray) or indptr.ndim != 1 or indptr.shape[0] < 2:
            raise ValueError(
                "indptr must be a 1-D integer ndarray of length n_in + 1 >= 2, got "
                + (f"shape {indptr.shape}" if isinstance(indptr, np.ndarray) else type(indptr).__name__)
            )
        data = check_input(data, None, name="data")
        if data.ndim != 1:
            raise ValueError(f"data must be 1-D (one entry per kept weight), got shape {data.shape}")
        b = check_input(b, data.dtype, name="b")
        if b.shape != (n_out,):
            raise ValueError(f"b must have shape ({n_out},) (n_out,), got {b.shape}")
        n_in = indptr.shape[0] - 1
        self.indptr, self.indices = check_csr(indptr, indices, n_in, n_out, data)
        self.n_in = n_in
        self.n_out = n_out
        self.params["data"] = data.copy()
        self.params["b"] = b.copy()

    @classmethod
    def from_weights(cls, W, b, keep_mask):
        """The sparse layer holding ``W[keep_mask]`` and ``b``.

        Parameters
        ----------
        W : float32 or float64 ndarray (n_in, n_out)
        b : ndarray (n_out,), the dtype of W
        keep_mask : bool ndarray (n_in, n_out); True = kept
        """
        W = check_input(W, None, name="W")
        if W.ndim != 2:
            raise ValueError(f"W must be 2-D (n_in, n_out), got shape {W.shape}")
        keep_mask = np.asarray(keep_mask)
        if keep_mask.dtype != np.bool_:
            raise TypeError(f"keep_mask must be a bool array, got dtype {keep_mask.dtype}")
        if keep_mask.shape != W.shape:
            raise ValueError(f"keep_mask must have the shape of W {W.shape}, got {keep_mask.shape}")
        # np.nonzero walks row-major, so each row's columns come out increasing:
        # exactly the canonical CSR order.
        rows, cols = np.nonzero(keep_mask)
        indptr = np.zeros(W.shape[0] + 1, dtype=np.int64)
        np.cumsum(keep_mask.sum(axis=1), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), W[rows, cols], b, W.shape[1])

    @classmethod
    def from_dense(cls, layer):
        """The sparse twin of a :class:`Dense` layer (kept = its mask, or all of W)."""
        if not isinstance(layer, Dense):
            raise TypeError(f"layer must be a Dense layer, got {type(layer).__name__}")
        W = layer.params["W"]
        keep_mask = layer.masks.get("W")
        if keep_mask is None:
            keep_mask = np.ones(W.shape, dtype=bool)
        return cls.from_weights(W, layer.params["b"], keep_mask)

    def to_dense(self):
        """The equivalent :class:`Dense`, its mask = the kept (and unmasked) weights."""
        data = self.masked("data")
        dense = Dense(self.n_in, self.n_out, seed=0, dtype=data.dtype)
        rows = np.repeat(np.arange(self.n_in), np.diff(self.indptr))
        W = np.zeros((self.n_in, self.n_out), dtype=data.dtype)
        W[rows, self.indices] = data
        keep_mask = np.zeros((self.n_in, self.n_out), dtype=bool)
        keep_mask[rows, self.indices] = self.masks.get("data", True)
        dense.params["W"] = W
        dense.params["b"] = self.params["b"].copy()
        dense.set_mask("W", keep_mask)
        return dense

    @property
    def nnz(self):
        """Number of stored weights."""
        return self.indices.shape[0]

    def forward(self, x, train=False):
        """``Y = X W_M + b``.

        Parameters
        ----------
        x : ndarray (B, n_in) of the layer's dtype
        train : bool
            Unused.

        Returns
        -------
        out : ndarray (B, n_out)
        cache : (x, data as used)
        """
        data = self.masked("data")
        x = c_array(check_input(x, data.dtype, (self.n_in,), contiguous=False))
        out = kernels._unchecked().sparse_matmul(x, self.indptr, self.indices, data, self.n_out)
        out += self.params["b"]
        return out, (x, data)

    def backward(self, dout, cache):
        """Gradients of the kept weights and ``b``; returns dX (B, n_in).

        ``dout`` is dL/dY, shape (B, n_out), the layer's dtype.
        """
        x, data = cache
        dout = c_array(check_output_gradient("dout", dout, x, self.n_out, data.dtype))
        self.backward_params(dout, cache)
        return kernels._unchecked().sparse_matmul_t(dout, self.indptr, self.indices, data, self.n_in)

    def backward_params(self, dout, cache):
        """Gradients of the kept weights and ``b`` only; no dX."""
        x, data = cache
        dout = c_array(check_output_gradient("dout", dout, x, self.n_out, data.dtype))
        ddata = kernels._unchecked().sparse_weight_grad(x, dout, self.indptr, self.indices)
        factor = self.keep_factor("data")
        if factor is not None:
            ddata *= factor
        self.grads["data"] = ddata
        self.grads["b"] = dout.sum(axis=0)

    def curvature(self, d2out, cache):
        """OBD's h of the kept weights and ``b``; returns d2X (B, n_in)."""
        x, data = cache
        d2out = c_array(check_output_gradient("d2out", d2out, x, self.n_out, data.dtype))
        unchecked = kernels._unchecked()
        h_data = unchecked.sparse_weight_grad(x * x, d2out, self.indptr, self.indices)
        factor = self.keep_factor("data")
        if factor is not None:
            h_data *= factor
        self.hessian["data"] = h_data
        self.hessian["b"] = d2out.sum(axis=0)
        return unchecked.sparse_matmul_t(d2out, self.indptr, self.indices, data * data, self.n_in)

    def __repr__(self):
        return f"SparseDense(n_in={self.n_in}, n_out={self.n_out}, nnz={self.nnz})"
