"""A stack of layers trained with softmax cross-entropy.

``Sequential`` chains the layer contract of :mod:`pynncomp.nn.base`:
forward through the layers, backward (and OBD's curvature pass) through
them in reverse, starting from :class:`~pynncomp.nn.loss.SoftmaxCrossEntropy`.
"""
import numpy as np

from .._checks import check_dtype, check_input, check_positive_int
from .base import Layer
from .loss import SoftmaxCrossEntropy, check_labels
from .penalties import Penalty


class Sequential:
    """Layers applied in order, ending in logits for softmax cross-entropy.

    Parameters
    ----------
    layers : sequence of :class:`~pynncomp.nn.base.Layer`, at least one

    Attributes
    ----------
    layers : list of Layer
    loss_layer : SoftmaxCrossEntropy
    grads_penalty : Penalty or None
        The penalty whose gradient the last :meth:`loss_and_grads` added to
        the layers' grads (so an optimiser can refuse to add it twice).
    """

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("layers must hold at least one layer, got an empty sequence")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{index}] must be a pynncomp Layer, got {type(layer).__name__}")
        self.layers = layers
        self.loss_layer = SoftmaxCrossEntropy()
        self.grads_penalty = None

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner},\n])"

    # ---- the passes -------------------------------------------------------

    def forward(self, x, train=False):
        """Logits of a batch.

        Parameters
        ----------
        x : ndarray (B, ...) of the model's dtype
        train : bool
            Training mode (dropout active).

        Returns
        -------
        out : ndarray (B, C)
        caches : list, one cache per layer
        """
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x, train)
            caches.append(cache)
        return x, caches

    def backward(self, dout, caches, input_grad=True):
        """Backpropagate ``dout`` = dL/d(out); fills every layer's grads.

        Returns dL/dx, or None with ``input_grad=False`` (the first layer
        then fills its grads by ``backward_params`` and skips dx).
        """
        for layer, cache in zip(reversed(self.layers[1:]), reversed(caches[1:])):
            dout = layer.backward(dout, cache)
        if not input_grad:
            self.layers[0].backward_params(dout, caches[0])
            return None
        return self.layers[0].backward(dout, caches[0])

    def loss(self, x, y, train=False):
        """Mean cross-entropy of a batch.

        Parameters
        ----------
        x : ndarray (B, ...)
        y : integer ndarray (B,)
        train : bool

        Returns
        -------
        loss : float
        caches : (list of layer caches, loss cache)
        """
        logits, layer_caches = self.forward(x, train)
        loss, loss_cache = self.loss_layer.forward(logits, y)
        return loss, (layer_caches, loss_cache)

    def loss_and_grads(self, x, y, train=True, penalty=None, input_grad=True):
        """Loss of a batch and its gradient in every layer's ``grads``.

        With a penalty R the objective is ``L + Σ R(w ⊙ M)`` over the
        prunable parameters, and ``∂R/∂w ⊙ M`` is added to their grads
        (biases and pruned entries get none).  Give a penalty here *or* to
        the optimiser, not to both.  ``input_grad=False`` skips dL/dx of the
        first layer, which training never uses.

        Returns
        -------
        float
            The loss (plus the penalty, if given).
        """
        if penalty is not None and not isinstance(penalty, Penalty):
            raise TypeError(f"penalty must be None or a Penalty (L1, L2), got {type(penalty).__name__}")
        loss, (layer_caches, loss_cache) = self.loss(x, y, train)
        self.backward(self.loss_layer.backward(loss_cache), layer_caches, input_grad)
        self.grads_penalty = penalty
        if penalty is not None:
            for _, layer, name in self.parameters(prunable_only=True):
                w = layer.masked(name)
                loss += penalty.value(w)
                penalty_grad = penalty.grad(w)
                factor = layer.keep_factor(name)
                if factor is not None:
                    penalty_grad *= factor
                layer.grads[name] = layer.grads[name] + penalty_grad
        return loss

    def curvature(self, x, y):
        """OBD's second backward pass (docs/methods.md#obd) over one batch.

        Runs in evaluation mode, starts from the softmax cross-entropy's
        ``p (1 − p) / B`` and fills every layer's ``hessian`` with the
        batch-mean diagonal second derivative h of each parameter.

        Returns
        -------
        float
            The loss of the batch.
        """
        loss, (layer_caches, loss_cache) = self.loss(x, y, train=False)
        d2out = self.loss_layer.curvature(loss_cache)
        for layer, cache in zip(reversed(self.layers), reversed(layer_caches)):
            d2out = layer.curvature(d2out, cache)
        return loss

    # ---- using the model --------------------------------------------------

    def predict(self, x, batch_size=1024):
        """Predicted classes (B,) int64, in evaluation mode, ``batch_size`` rows at a time."""
        return self._predict(x, batch_size)[0]

    def accuracy(self, x, y, batch_size=1024):
        """Fraction of the samples of ``x`` whose predicted class is ``y`` (B,)."""
        predicted, n_classes = self._predict(x, batch_size)
        y = check_labels(y, predicted.shape[0], n_classes)
        return float(np.mean(predicted == y))

    def _predict(self, x, batch_size):
        """Predicted classes and the number of classes C."""
        batch_size = check_positive_int("batch_size", batch_size)
        x = check_input(x, None, contiguous=False)
        if x.shape[0] == 0:
            raise ValueError("x must hold at least one sample, got shape " + str(x.shape))
        labels = []
        for start in range(0, x.shape[0], batch_size):
            logits = self.forward(x[start:start + batch_size])[0]
            labels.append(np.argmax(logits, axis=1))
        return np.concatenate(labels), logits.shape[1]

    def astype(self, dtype):
        """Cast every layer's parameters to float32 or float64 in place; returns self."""
        dtype = check_dtype(dtype)
        for layer in self.layers:
            layer.astype(dtype)
        return self

    # ---- parameters and their counts --------------------------------------

    def parameters(self, prunable_only=False):
        """Iterate over ``(layer_index, layer, name)`` for every parameter.

        ``layer.params[name]`` is the array; with ``prunable_only`` only the
        weights (``name in layer.prunable``) are listed.
        """
        for index, layer in enumerate(self.layers):
            for name in layer.params:
                if not prunable_only or name in layer.prunable:
                    yield index, layer, name

    @property
    def n_weights(self):
        """Number of stored weights (prunable parameters), pruned ones included."""
        return sum(layer.params[name].size for _, layer, name in self.parameters(prunable_only=True))

    @property
    def n_kept_weights(self):
        """Number of weights not pruned by a mask (the "edges" of docs/methods.md#parameter-count)."""
        kept = 0
        for _, layer, name in self.parameters(prunable_only=True):
            mask = layer.masks.get(name)
            kept += layer.params[name].size if mask is None else int(mask.sum())
        return kept

    @property
    def n_biases(self):
        """Number of non-prunable parameters (biases)."""
        return sum(layer.params[name].size for _, layer, name in self.parameters()
                   if name not in layer.prunable)
