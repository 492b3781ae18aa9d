"""Thin wrappers around the compiled C core (``pynncomp._pynncomp_c``).

Each function has the signature of its NumPy twin in
:mod:`pynncomp.kernels.reference`.  They allocate the output, hand C-contiguous
buffers to C with ``ffi.from_buffer`` and return.  They trust their arguments:
the public functions in :mod:`pynncomp.kernels` validate before calling here.
Importing this module raises ImportError when the extension was not built.
"""
import numpy as np

from .._pynncomp_c import ffi, lib

_CTYPE = {np.dtype(np.float32): "float[]", np.dtype(np.float64): "double[]"}
_SUFFIX = {np.dtype(np.float32): "_f32", np.dtype(np.float64): "_f64"}


def _buf(a, ctype=None):
    return ffi.from_buffer(ctype or _CTYPE[a.dtype], a)


def _ints(a, ctype):
    return ffi.from_buffer(ctype, a)


def hash_buckets(n_in, n_out, K, seed):
    bucket = np.empty((n_in, n_out), dtype=np.int32)
    sign = np.empty((n_in, n_out), dtype=np.int8)
    lib.pnc_hash_buckets(n_in, n_out, K, seed, _ints(bucket, "int32_t[]"), _ints(sign, "int8_t[]"))
    return bucket, sign


def hashed_lookup(w, bucket, sign):
    V = np.empty(bucket.shape, dtype=w.dtype)
    kernel = getattr(lib, "pnc_hashed_lookup" + _SUFFIX[w.dtype])
    kernel(_buf(w), _ints(bucket, "int32_t[]"), _ints(sign, "int8_t[]"), bucket.size, _buf(V))
    return V


def bucket_accumulate(dV, bucket, sign, K):
    dw = np.empty(K, dtype=dV.dtype)
    kernel = getattr(lib, "pnc_bucket_accumulate" + _SUFFIX[dV.dtype])
    kernel(_buf(dV), _ints(bucket, "int32_t[]"), _ints(sign, "int8_t[]"), dV.size, K, _buf(dw))
    return dw


def sparse_matmul(X, indptr, indices, data, n_out):
    B, n_in = X.shape
    Y = np.empty((B, n_out), dtype=X.dtype)
    kernel = getattr(lib, "pnc_sparse_matmul" + _SUFFIX[X.dtype])
    kernel(_buf(X), B, n_in, _ints(indptr, "int64_t[]"), _ints(indices, "int32_t[]"),
           _buf(data), n_out, _buf(Y))
    return Y


def sparse_matmul_t(dY, indptr, indices, data, n_in):
    B, n_out = dY.shape
    dX = np.empty((B, n_in), dtype=dY.dtype)
    kernel = getattr(lib, "pnc_sparse_matmul_t" + _SUFFIX[dY.dtype])
    kernel(_buf(dY), B, n_out, _ints(indptr, "int64_t[]"), _ints(indices, "int32_t[]"),
           _buf(data), n_in, _buf(dX))
    return dX


def sparse_weight_grad(X, dY, indptr, indices):
    B, n_in = X.shape
    ddata = np.empty(indices.shape[0], dtype=X.dtype)
    kernel = getattr(lib, "pnc_sparse_weight_grad" + _SUFFIX[X.dtype])
    kernel(_buf(X), _buf(dY), B, n_in, dY.shape[1], _ints(indptr, "int64_t[]"),
           _ints(indices, "int32_t[]"), _buf(ddata))
    return ddata
