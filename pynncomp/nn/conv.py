"""2-D convolution and max pooling on NCHW batches, with their OBD curvature.

Both layers read their input through the same *window view*: with x̃ the
input zero-padded by (p_h, p_w), kernel (k_h, k_w) and stride (s_h, s_w),

.. math::

    \\mathrm{windows}[u, v, c, i, j, n] = \\tilde x_{n, c, i s_h + u, j s_w + v},
    \\qquad
    H_{out} = \\left\\lfloor \\frac{H + 2 p_h - k_h}{s_h} \\right\\rfloor + 1, \\quad
    W_{out} = \\left\\lfloor \\frac{W + 2 p_w - k_w}{s_w} \\right\\rfloor + 1 .

When the stride does not divide ``H + 2 p_h - k_h`` the last rows (columns)
of x̃ fall in no window and are ignored, as in Caffe and PyTorch.

:func:`window_view` builds this view without copying
(``numpy.lib.stride_tricks.sliding_window_view``); :func:`sum_windows` is
its adjoint (the "col2im" step), adding every window-shaped gradient back
onto the input positions it was read from, so that overlapping windows
accumulate.  A backward pass through either layer is "the gradient of each
window entry, then :func:`sum_windows`".  The kernel offset (u, v) comes
first: ``windows[u, v]`` is the (C, H_out, W_out, B) image of every
window's (u, v) entry, which max pooling and col2im loop over.

Memory layout
-------------
The arrays in and out are indexed NCHW, (batch, channel, height, width), but
internally both layers work on the *CHWN* layout (batch innermost, as in
cuda-convnet, Krizhevsky 2012): every strided slice that :func:`sum_windows`
adds then moves runs of ``W_out·B`` contiguous numbers instead of ``W_out``
(for LeNet-5's conv2, W_out = 8 and B = 64: runs of 512 instead of 8; its
time is in docs/performance.md, ``python benchmarks/bench_conv.py``).  Outputs and input
gradients are returned as NCHW-indexed *views* of CHWN memory
(``a.transpose(1, 2, 3, 0)`` is C-contiguous), so that a conv followed by a
pool, or a pool by a conv, passes them on without a copy; call
``np.ascontiguousarray`` where C order is needed.
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import FLOAT_DTYPES, as_generator, check_dtype, check_positive_int
from .base import Layer
from .init import initial_weights


def _pair(name, value, low):
    """An int or a pair of ints, each ``>= low``, returned as a tuple of two ints."""
    items = value if isinstance(value, (tuple, list)) and len(value) == 2 else (value,)
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{name} must be an integer or a pair of integers, got {value!r}")
        if item < low:
            raise ValueError(f"{name} must be an integer >= {low} or a pair of such integers, got {value!r}")
    return (int(items[0]), int(items[-1]))


def _check_batch(x, dtype, channels, min_size, why):
    """``x`` must be a 4-D (B, C, H, W) float ndarray with room for one window.

    ``dtype`` None accepts float32 and float64; ``channels`` None any C;
    ``min_size`` is the smallest (H, W), ``why`` says where it comes from.
    """
    if not isinstance(x, np.ndarray) or x.dtype not in FLOAT_DTYPES:
        got = f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(f"x must be a numpy.ndarray of float32 or float64, got {got}")
    if dtype is not None and x.dtype != dtype:
        raise TypeError(f"x must have dtype {dtype} (the layer's dtype; cast the input or call "
                        f"astype on the model), got {x.dtype}")
    if x.ndim != 4:
        raise ValueError(f"x must be 4-D (batch, channels, height, width), got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"x must have {channels} channels (x.shape[1]), got shape {x.shape}")
    if x.shape[2] < min_size[0] or x.shape[3] < min_size[1]:
        raise ValueError(f"x must be at least {min_size[0]}x{min_size[1]} in (height, width) {why}, "
                         f"got shape {x.shape}")


def _check_upstream(name, d, shape):
    if not isinstance(d, np.ndarray) or d.shape != shape:
        got = d.shape if isinstance(d, np.ndarray) else type(d).__name__
        raise ValueError(f"{name} must be an ndarray of the forward output's shape {shape}, got {got}")


def output_size(size, kernel, stride, padding=0):
    """``⌊(size + 2·padding − kernel) / stride⌋ + 1``: windows along one axis."""
    return (size + 2 * padding - kernel) // stride + 1


def window_view(x_chwn, kernel, stride):
    """Every kernel-sized window of an input that the stride visits, as a view.

    Parameters
    ----------
    x_chwn : ndarray (C, H_p, W_p, B), padded, batch innermost
    kernel, stride : pairs (k_h, k_w) and (s_h, s_w)

    Returns
    -------
    windows : ndarray view (k_h, k_w, C, H_out, W_out, B)
        ``windows[u, v, c, i, j, n] = x_chwn[c, i·s_h + u, j·s_w + v, n]``;
        no data is copied.
    """
    s_h, s_w = stride
    windows = sliding_window_view(x_chwn, kernel, axis=(1, 2))[:, ::s_h, ::s_w]
    return windows.transpose(4, 5, 0, 1, 2, 3)


def sum_windows(window_grad, padded_shape, stride):
    """The adjoint of :func:`window_view` ("col2im").

    .. math::

        g_{c p q n} = \\sum_{(i, u):\\, i s_h + u = p} \\;
                      \\sum_{(j, v):\\, j s_w + v = q} G_{u v c i j n}

    Parameters
    ----------
    window_grad : ndarray (k_h, k_w, C, H_out, W_out, B), any strides
        a gradient (or second derivative) for each window entry.
    padded_shape : tuple (C, H_p, W_p, B), the shape of the padded input.
    stride : pair (s_h, s_w)

    Returns
    -------
    g : ndarray ``padded_shape``, dtype of ``window_grad``
        Positions in no window (the ignored last rows/columns) get 0.

    Notes
    -----
    One vectorised add per kernel offset (u, v), k_h·k_w in all: for a fixed
    offset the windows read the strided slice ``x[:, u::s_h, v::s_w]``, whose
    positions are all distinct, so a plain ``+=`` is exact; windows overlap
    only through different offsets, which accumulate across the loop,
    without ``np.add.at``'s unbuffered scatter over flat indices.
    """
    k_h, k_w, _, H_out, W_out, _ = window_grad.shape
    s_h, s_w = stride
    g = np.zeros(padded_shape, dtype=window_grad.dtype)
    for u in range(k_h):
        rows = slice(u, u + s_h * (H_out - 1) + 1, s_h)
        for v in range(k_w):
            cols = slice(v, v + s_w * (W_out - 1) + 1, s_w)
            g[:, rows, cols, :] += window_grad[u, v]
    return g


def _to_chwn(x):
    """(B, C, H, W) -> C-contiguous (C, H, W, B); free for the views these layers return."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


def _to_nchw(x_chwn):
    """(C, H, W, B) -> the (B, C, H, W)-indexed view of the same memory."""
    return x_chwn.transpose(3, 0, 1, 2)


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in Caffe) on NCHW batches.

    .. math::

        a_{n f i j} = b_f + \\sum_{c=1}^{C} \\sum_{u=0}^{k_h-1} \\sum_{v=0}^{k_w-1}
                      (W \\odot M)_{f c u v} \\; \\tilde x_{n, c, i s_h + u, j s_w + v}

    with x̃ the input zero-padded by (p_h, p_w) and M the keep-mask of W
    (all ones until pruned).  Written as one matrix product over the
    *columns* ("im2col", Chellapilla, Puri & Simard 2006)

    .. math::

        X_{col}[(c, u, v), (i, j, n)] = \\tilde x_{n, c, i s_h + u, j s_w + v},
        \\qquad A = W_{mat} X_{col} + b ,

    with :math:`W_{mat}` the (F, C·k_h·k_w) reshape of W ⊙ M and
    A[f, (i, j, n)] = a[n, f, i, j], the three passes are

    .. math::

        \\text{backward:} \\quad
        dW_{mat} = \\delta \\, X_{col}^T, \\qquad dX_{col} = W_{mat}^T \\, \\delta

        \\text{curvature (OBD):} \\quad
        h_{W, mat} = \\delta^2 \\, (X_{col}^2)^T, \\qquad
        \\delta^2 X_{col} = (W_{mat}^2)^T \\, \\delta^2

    where δ = ∂L/∂A and δ² = ∂²L/∂A² share A's layout, squares are
    elementwise, and the column gradients go back to the input through
    :func:`sum_windows`.  The curvature pass is the backward pass with
    squared operands because a is linear in both W and x (docs/methods.md#obd).

    Parameters
    ----------
    in_channels, out_channels : int >= 1
        C and F.
    kernel_size : int or (int, int), >= 1
        (k_h, k_w).
    stride : int or (int, int), >= 1, default 1
    padding : int or (int, int), >= 0, default 0
        zeros added on both sides of the height (p_h) and the width (p_w).
    seed : None, int >= 0 or numpy.random.Generator
        randomness of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    params : ``W`` (F, C, k_h, k_w) and ``b`` (F,)
        W is He-initialised, :math:`W \\sim \\mathcal N(0, 2 / (C k_h k_w))`
        (He et al. 2015; the fan-in of an output unit is C·k_h·k_w); b = 0.
    prunable : ("W",)
    """

    prunable = ("W",)

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, padding=0, seed=None, dtype=np.float32):
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        self.out_channels = check_positive_int("out_channels", out_channels)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        dtype = check_dtype(dtype)
        rng = as_generator(seed)
        k_h, k_w = self.kernel_size
        shape = (self.out_channels, self.in_channels, k_h, k_w)
        fan_in, fan_out = self.in_channels * k_h * k_w, self.out_channels * k_h * k_w
        self.params["W"] = initial_weights(rng, shape, fan_in, fan_out, "he", dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)

    def output_shape(self, input_shape):
        """(B, F, H_out, W_out) for an input of shape (B, C, H, W)."""
        B, _, H, W = input_shape
        (k_h, k_w), (s_h, s_w), (p_h, p_w) = self.kernel_size, self.stride, self.padding
        return (B, self.out_channels, output_size(H, k_h, s_h, p_h), output_size(W, k_w, s_w, p_w))

    def forward(self, x, train=False):
        """Convolve a batch.

        Parameters
        ----------
        x : ndarray (B, C, H, W) of the layer's dtype, with
            H + 2·p_h >= k_h and W + 2·p_w >= k_w.
        train : bool
            Unused (the layer behaves the same in training and evaluation).

        Returns
        -------
        a : ndarray (B, F, H_out, W_out), a view of CHWN memory
        cache : (x.shape, X_col (C·k_h·k_w, H_out·W_out·B), W ⊙ M)
        """
        (k_h, k_w), (p_h, p_w) = self.kernel_size, self.padding
        _check_batch(x, self.dtype, self.in_channels, (k_h - 2 * p_h, k_w - 2 * p_w),
                     f"for kernel_size {self.kernel_size} and padding {self.padding}")
        W_used = self.masked("W")
        x_pad = _to_chwn(x)
        if p_h or p_w:
            x_pad = np.pad(x_pad, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)))
        windows = window_view(x_pad, self.kernel_size, self.stride)
        C, H_out, W_out, B = windows.shape[2:]
        # Reshaping this transposed view is the im2col copy: rows (c, u, v), columns (i, j, n).
        X_col = windows.transpose(2, 0, 1, 3, 4, 5).reshape(C * k_h * k_w, H_out * W_out * B)
        A = W_used.reshape(self.out_channels, -1) @ X_col
        A += self.params["b"][:, None]
        a = _to_nchw(A.reshape(self.out_channels, H_out, W_out, B))
        return a, (x.shape, X_col, W_used)

    def backward(self, dout, cache):
        """Gradients of the loss through the convolution.

        .. math::

            \\frac{\\partial L}{\\partial W_{fcuv}} = M_{fcuv} \\sum_{n,i,j} \\delta_{nfij}\\,
                \\tilde x_{n, c, i s_h + u, j s_w + v}, \\qquad
            \\frac{\\partial L}{\\partial b_f} = \\sum_{n,i,j} \\delta_{nfij}, \\qquad
            \\frac{\\partial L}{\\partial \\tilde x_{ncpq}} =
                \\sum_{f} \\sum_{i s_h + u = p} \\; \\sum_{j s_w + v = q} (W \\odot M)_{fcuv}\\, \\delta_{nfij}

        (a shared kernel weight sums the gradients of all the connections it
        makes); ∂L/∂x is the un-padded centre of ∂L/∂x̃.

        Parameters
        ----------
        dout : ndarray (B, F, H_out, W_out), δ = ∂L/∂a
        cache : from :meth:`forward`

        Returns
        -------
        dx : ndarray (B, C, H, W), a view of CHWN memory
            and ``grads["W"]`` (F, C, k_h, k_w), zero where pruned,
            ``grads["b"]`` (F,).
        """
        x_shape, _, W_used = cache
        delta = self._param_grads(dout, cache)
        return self._input_gradient(delta, W_used, x_shape)

    def backward_params(self, dout, cache):
        """``grads["W"]`` and ``grads["b"]`` only; no dx (no col2im)."""
        self._param_grads(dout, cache)

    def _param_grads(self, dout, cache):
        """Fill the parameter gradients; returns δ in column layout (F, H_out·W_out·B)."""
        x_shape, X_col, _ = cache
        _check_upstream("dout", dout, self.output_shape(x_shape))
        delta = self._as_columns(dout)
        self.grads["W"] = self._mask_like_W(self._weight_gradient(delta, X_col))
        self.grads["b"] = delta.sum(axis=1)
        return delta

    def curvature(self, d2out, cache):
        """Diagonal second derivatives: Optimal Brain Damage's second backward pass.

        a is linear in W, b and x̃, so (LeCun, Denker & Solla 1989, eqs. 7-8;
        docs/methods.md#obd, Levenberg–Marquardt form)

        .. math::

            h_{W, fcuv} = M_{fcuv} \\sum_{n,i,j} \\frac{\\partial^2 L}{\\partial a_{nfij}^2}\\,
                \\tilde x_{n, c, i s_h + u, j s_w + v}^2, \\qquad
            h_{b, f} = \\sum_{n,i,j} \\frac{\\partial^2 L}{\\partial a_{nfij}^2}, \\qquad
            \\frac{\\partial^2 L}{\\partial \\tilde x_{ncpq}^2} =
                \\sum_{f} \\sum_{i s_h + u = p} \\; \\sum_{j s_w + v = q} (W \\odot M)_{fcuv}^2\\,
                \\frac{\\partial^2 L}{\\partial a_{nfij}^2}

        A kernel weight shared by many connections sums their h.  These are
        the exact diagonal second derivatives when ∂²L/∂a² is diagonal (a
        loss ½·Σ c·a², say); otherwise the off-diagonal terms are dropped,
        as OBD does.

        Parameters
        ----------
        d2out : ndarray (B, F, H_out, W_out), ∂²L/∂a² (>= 0)
        cache : from :meth:`forward`

        Returns
        -------
        d2x : ndarray (B, C, H, W), ∂²L/∂x², a view of CHWN memory
            and ``hessian["W"]`` (zero where pruned), ``hessian["b"]``.
        """
        x_shape, X_col, W_used = cache
        _check_upstream("d2out", d2out, self.output_shape(x_shape))
        delta2 = self._as_columns(d2out)
        self.hessian["W"] = self._mask_like_W(self._weight_gradient(delta2, X_col * X_col))
        self.hessian["b"] = delta2.sum(axis=1)
        return self._input_gradient(delta2, W_used * W_used, x_shape)

    # Shared by backward and curvature: curvature passes δ², X_col² and
    # (W ⊙ M)² where backward passes δ, X_col and W ⊙ M.

    def _as_columns(self, dout):
        """(B, F, H_out, W_out) -> (F, H_out·W_out·B) in the layer's dtype, the layout of A."""
        return _to_chwn(dout.astype(self.dtype, copy=False)).reshape(self.out_channels, -1)

    def _weight_gradient(self, delta, X_col):
        """``delta @ X_col.T``, (F, C·k_h·k_w) reshaped to W's shape."""
        return (delta @ X_col.T).reshape(self.params["W"].shape)

    def _input_gradient(self, delta, W_used, x_shape):
        """``W_matᵀ @ delta`` summed back onto the input positions, padding cropped."""
        B, C, H, W = x_shape
        (k_h, k_w), (p_h, p_w) = self.kernel_size, self.padding
        H_out, W_out = self.output_shape(x_shape)[2:]
        dX_col = W_used.reshape(self.out_channels, -1).T @ delta
        window_grad = dX_col.reshape(C, k_h, k_w, H_out, W_out, B).transpose(1, 2, 0, 3, 4, 5)
        dx_pad = sum_windows(window_grad, (C, H + 2 * p_h, W + 2 * p_w, B), self.stride)
        return _to_nchw(dx_pad[:, p_h:p_h + H, p_w:p_w + W])

    def _mask_like_W(self, grad):
        """Zero the entries of a W-shaped gradient (or h) where W is pruned."""
        factor = self.keep_factor("W")
        return grad if factor is None else grad * factor


class MaxPool2D(Layer):
    """Max pooling over (possibly overlapping) windows of an NCHW batch.

    .. math::

        y_{n c i j} = \\max_{0 \\le u < k_h,\\; 0 \\le v < k_w} x_{n, c, i s_h + u, j s_w + v}

    No padding; the last rows/columns are ignored when the stride does not
    divide ``H - k_h`` (``W - k_w``).  The derivative of the max is 1 at the
    window's argmax and 0 elsewhere, so

    .. math::

        \\frac{\\partial L}{\\partial x_{ncpq}} = \\sum_{(i, j):\\, (p, q) = \\arg\\max_{ij}}
            \\frac{\\partial L}{\\partial y_{ncij}}, \\qquad
        \\frac{\\partial^2 L}{\\partial x_{ncpq}^2} = \\sum_{(i, j):\\, (p, q) = \\arg\\max_{ij}}
            \\frac{\\partial^2 L}{\\partial y_{ncij}^2}

    (OBD's f'² is the same 0/1 routing).  With overlapping windows
    (stride < pool) an input that is the max of several windows collects
    all their gradients.  **Ties**: the gradient goes to the *first*
    maximum in row-major window order (smallest u, then smallest v), the
    choice of ``numpy.argmax``, Caffe and PyTorch.

    Parameters
    ----------
    pool_size : int or (int, int), >= 1
        (k_h, k_w).
    stride : None, int or (int, int), >= 1
        (s_h, s_w); None (default) means ``pool_size``: non-overlapping windows.

    Notes
    -----
    No parameters: ``params``, ``grads`` and ``hessian`` stay empty.
    """

    def __init__(self, pool_size, stride=None):
        super().__init__()
        self.pool_size = _pair("pool_size", pool_size, 1)
        self.stride = self.pool_size if stride is None else _pair("stride", stride, 1)

    def output_shape(self, input_shape):
        """(B, C, H_out, W_out) for an input of shape (B, C, H, W)."""
        B, C, H, W = input_shape
        (k_h, k_w), (s_h, s_w) = self.pool_size, self.stride
        return (B, C, output_size(H, k_h, s_h), output_size(W, k_w, s_w))

    def forward(self, x, train=False):
        """Pool a batch.

        Parameters
        ----------
        x : ndarray (B, C, H, W), float32 or float64, H >= k_h, W >= k_w
        train : bool
            Unused.

        Returns
        -------
        y : ndarray (B, C, H_out, W_out), dtype of x, a view of CHWN memory
        cache : (x.shape, argmax (C, H_out, W_out, B) int32)
            ``argmax = u·k_w + v``, the flat position of the max in its window.
        """
        _check_batch(x, None, None, self.pool_size, f"for pool_size {self.pool_size}")
        k_h, k_w = self.pool_size
        windows = window_view(_to_chwn(x), self.pool_size, self.stride)
        # A running max over the k_h·k_w offsets in row-major order, each step
        # vectorised over all windows.  The strict ">" keeps the first of equal
        # maxima; "argmax <- offset where larger" is written as arithmetic
        # because masked assignment (np.where, np.copyto) is slower.
        y = windows[0, 0].copy()
        argmax = np.zeros(y.shape, dtype=np.int32)
        for u in range(k_h):
            for v in range(k_w):
                is_larger = windows[u, v] > y
                argmax += is_larger * (np.int32(u * k_w + v) - argmax)
                np.maximum(y, windows[u, v], out=y)
        return _to_nchw(y), (x.shape, argmax)

    def backward(self, dout, cache):
        """Route each ∂L/∂y to the argmax of its window.

        Parameters
        ----------
        dout : ndarray (B, C, H_out, W_out)
        cache : from :meth:`forward`

        Returns
        -------
        dx : ndarray (B, C, H, W), a view of CHWN memory
        """
        x_shape, argmax = cache
        _check_upstream("dout", dout, self.output_shape(x_shape))
        return self._route(dout, argmax, x_shape)

    def curvature(self, d2out, cache):
        """Route each ∂²L/∂y² to the argmax of its window (f'² = f' = 0 or 1).

        Parameters
        ----------
        d2out : ndarray (B, C, H_out, W_out)
        cache : from :meth:`forward`

        Returns
        -------
        d2x : ndarray (B, C, H, W), a view of CHWN memory
        """
        x_shape, argmax = cache
        _check_upstream("d2out", d2out, self.output_shape(x_shape))
        return self._route(d2out, argmax, x_shape)

    def _route(self, dout, argmax, x_shape):
        """``dout`` at each window's argmax and 0 elsewhere, then :func:`sum_windows`."""
        B, C, H, W = x_shape
        k_h, k_w = self.pool_size
        offset = np.arange(k_h * k_w, dtype=np.int32).reshape(k_h, k_w, 1, 1, 1, 1)
        # (argmax == offset) is the 0/1 derivative of the max for every window entry.
        window_grad = (argmax == offset) * dout.transpose(1, 2, 3, 0)
        return _to_nchw(sum_windows(window_grad, (C, H, W, B), self.stride))
