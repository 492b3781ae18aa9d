"""Thin wrappers around the compiled C core (``pynncomp._pynncomp_c``).

Each function has the signature of its NumPy twin in
:mod:`pynncomp.kernels.reference`.  They allocate the output, hand C-contiguous
buffers to C with ``ffi.from_buffer`` and return.  They trust their arguments
(dtypes, shapes, index ranges, and C-contiguous, aligned memory): the public
functions in :mod:`pynncomp.kernels` validate before calling here, and the
layers reach them through the private ``kernels._unchecked()`` only with
arrays they validated (index arrays once, at construction; the shapes of
the per-step arrays at every call).  Importing this module raises ImportError when the
extension was not built.

These wrappers are the hot path of the layers, called
several times per training step, so the per-call Python work is kept small:
the C function and the cffi array type for each dtype are looked up once, at
import, and nothing is computed twice.
"""
import numpy as np

from .._pynncomp_c import ffi, lib

_from_buffer = ffi.from_buffer
_INT8 = ffi.typeof("int8_t[]")
_INT32 = ffi.typeof("int32_t[]")
_INT64 = ffi.typeof("int64_t[]")
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _by_dtype(name):
    """``{dtype: (C function, cffi array type)}`` for the kernel ``name``."""
    return {
        _F32: (getattr(lib, name + "_f32"), ffi.typeof("float[]")),
        _F64: (getattr(lib, name + "_f64"), ffi.typeof("double[]")),
    }


_HASHED_LOOKUP = _by_dtype("pnc_hashed_lookup")
_BUCKET_ACCUMULATE = _by_dtype("pnc_bucket_accumulate")
_SPARSE_MATMUL = _by_dtype("pnc_sparse_matmul")
_SPARSE_MATMUL_T = _by_dtype("pnc_sparse_matmul_t")
_SPARSE_WEIGHT_GRAD = _by_dtype("pnc_sparse_weight_grad")


def hash_buckets(n_in, n_out, K, seed):
    bucket = np.empty((n_in, n_out), dtype=np.int32)
    sign = np.empty((n_in, n_out), dtype=np.int8)
    lib.pnc_hash_buckets(n_in, n_out, K, seed, _from_buffer(_INT32, bucket), _from_buffer(_INT8, sign))
    return bucket, sign


def hashed_lookup(w, bucket, sign):
    kernel, real = _HASHED_LOOKUP[w.dtype]
    V = np.empty(bucket.shape, dtype=w.dtype)
    kernel(_from_buffer(real, w), _from_buffer(_INT32, bucket), _from_buffer(_INT8, sign), V.size,
           _from_buffer(real, V))
    return V


def bucket_accumulate(dV, bucket, sign, K):
    kernel, real = _BUCKET_ACCUMULATE[dV.dtype]
    dw = np.empty(K, dtype=dV.dtype)
    kernel(_from_buffer(real, dV), _from_buffer(_INT32, bucket), _from_buffer(_INT8, sign), dV.size, K,
           _from_buffer(real, dw))
    return dw


def sparse_matmul(X, indptr, indices, data, n_out):
    kernel, real = _SPARSE_MATMUL[X.dtype]
    B, n_in = X.shape
    Y = np.empty((B, n_out), dtype=X.dtype)
    kernel(_from_buffer(real, X), B, n_in, _from_buffer(_INT64, indptr), _from_buffer(_INT32, indices),
           _from_buffer(real, data), n_out, _from_buffer(real, Y))
    return Y


def sparse_matmul_t(dY, indptr, indices, data, n_in):
    kernel, real = _SPARSE_MATMUL_T[dY.dtype]
    B, n_out = dY.shape
    dX = np.empty((B, n_in), dtype=dY.dtype)
    kernel(_from_buffer(real, dY), B, n_out, _from_buffer(_INT64, indptr), _from_buffer(_INT32, indices),
           _from_buffer(real, data), n_in, _from_buffer(real, dX))
    return dX


def sparse_weight_grad(X, dY, indptr, indices):
    kernel, real = _SPARSE_WEIGHT_GRAD[X.dtype]
    B, n_in = X.shape
    ddata = np.empty(indices.shape[0], dtype=X.dtype)
    kernel(_from_buffer(real, X), _from_buffer(real, dY), B, n_in, dY.shape[1], _from_buffer(_INT64, indptr),
           _from_buffer(_INT32, indices), _from_buffer(real, ddata))
    return ddata


_SGD_STEP = _by_dtype("pnc_sgd_step")
_NULL = ffi.NULL


def sgd_step(p, v, g, keep, lr, momentum, penalty, lam):
    kernel, real = _SGD_STEP[p.dtype]
    kernel(_from_buffer(real, p), _NULL if v is None else _from_buffer(real, v), _from_buffer(real, g),
           _NULL if keep is None else _from_buffer(real, keep), p.size, lr, momentum, penalty, lam)
