/*
 * pynncomp C core: the single declaration of the C API.
 *
 * This header is read twice: by the C compiler, and by cffi's cdef (see
 * csrc/build_ffi.py, which drops the preprocessor lines before handing the
 * rest to cdef).  Keep everything between the guards plain C declarations.
 *
 * Every kernel has a NumPy twin with the same signature in
 * pynncomp/kernels/reference.py; the twin is the specification and the test
 * oracle.  The Python wrappers in pynncomp/kernels/__init__.py validate every
 * argument (dtype, contiguity, shapes, index ranges) before calling here, so
 * these functions trust their inputs.  All arrays are C-contiguous.
 */
#ifndef PYNNCOMP_H
#define PYNNCOMP_H
#include <stdint.h>

/* ---- HashedNet hash (Chen et al. 2015; METHODS.md section 4) ----------------
 * xxHash32 of the 8-byte message (uint32 LE i, uint32 LE j):
 *   bucket[i, j] = xxh32(i, j; seed)              mod K
 *   sign[i, j]   = +1 if xxh32(i, j; seed ^ 0x9E3779B9) has its top bit 0, else -1
 * for 0 <= i < n_in, 0 <= j < n_out, written row-major (n_in x n_out).
 */
uint32_t pnc_xxh32_pair(uint32_t i, uint32_t j, uint32_t seed);
void pnc_hash_buckets(int64_t n_in, int64_t n_out, int64_t K, uint32_t seed,
                      int32_t *bucket, int8_t *sign);

/* ---- hashed lookup: V[t] = sign[t] * w[bucket[t]], t over the n entries --- */
void pnc_hashed_lookup_f32(const float *w, const int32_t *bucket,
                           const int8_t *sign, int64_t n, float *V);
void pnc_hashed_lookup_f64(const double *w, const int32_t *bucket,
                           const int8_t *sign, int64_t n, double *V);

/* ---- bucket-gradient accumulation:
 *   dw[k] = sum over t with bucket[t] == k of sign[t] * dV[t],  k in [0, K)
 * summed in the order t = 0, 1, ..., n-1 in the output's precision. */
void pnc_bucket_accumulate_f32(const float *dV, const int32_t *bucket,
                               const int8_t *sign, int64_t n, int64_t K,
                               float *dw);
void pnc_bucket_accumulate_f64(const double *dV, const int32_t *bucket,
                               const int8_t *sign, int64_t n, int64_t K,
                               double *dw);

/* ---- sparse masked matmul --------------------------------------------------
 * The kept weights of W (n_in x n_out) in CSR over the rows of W:
 * row i holds W[i, indices[p]] = data[p] for p in [indptr[i], indptr[i+1]).
 *
 *   forward      Y  = X  (W*M)      X (B x n_in),  Y  (B x n_out)
 *   backward     dX = dY (W*M)^T    dY (B x n_out), dX (B x n_in)
 *   weight grad  dW[i, indices[p]] = sum_b X[b, i] dY[b, indices[p]]
 *                only at kept positions: ddata (nnz)
 *
 * Each output entry is one sum taken in a fixed order: over i ascending
 * (forward), over p ascending (backward), over b ascending (weight grad), in
 * the output's precision.  Zero inputs X[b, i] may be skipped; for finite
 * values that changes no bit (with an inf or NaN kept weight, a zero input
 * may give 0 where the dense product X (W*M) gives NaN).  So a row of Y or dX does not depend on the
 * other rows of its batch.
 */
void pnc_sparse_matmul_f32(const float *X, int64_t B, int64_t n_in,
                           const int64_t *indptr, const int32_t *indices,
                           const float *data, int64_t n_out, float *Y);
void pnc_sparse_matmul_f64(const double *X, int64_t B, int64_t n_in,
                           const int64_t *indptr, const int32_t *indices,
                           const double *data, int64_t n_out, double *Y);
void pnc_sparse_matmul_t_f32(const float *dY, int64_t B, int64_t n_out,
                             const int64_t *indptr, const int32_t *indices,
                             const float *data, int64_t n_in, float *dX);
void pnc_sparse_matmul_t_f64(const double *dY, int64_t B, int64_t n_out,
                             const int64_t *indptr, const int32_t *indices,
                             const double *data, int64_t n_in, double *dX);
void pnc_sparse_weight_grad_f32(const float *X, const float *dY, int64_t B,
                                int64_t n_in, int64_t n_out,
                                const int64_t *indptr, const int32_t *indices,
                                float *ddata);
void pnc_sparse_weight_grad_f64(const double *X, const double *dY, int64_t B,
                                int64_t n_in, int64_t n_out,
                                const int64_t *indptr, const int32_t *indices,
                                double *ddata);

#endif
