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

/* ---- HashedNet hash (Chen et al. 2015; docs/methods.md#hash) ----------------
 * xxHash32 of the 8-byte message (uint32 LE i, uint32 LE j):
 *   bucket[i, j] = xxh32(i, j; seed)              mod K
 *   sign[i, j]   = +1 if xxh32(i, j; seed ^ 0x9E3779B9) has its top bit 0, else -1
 * for 0 <= i < n_in, 0 <= j < n_out, written row-major (n_in x n_out).
 */
uint32_t pnc_xxh32_pair(uint32_t i, uint32_t j, uint32_t seed);
void pnc_hash_buckets(int64_t n_in, int64_t n_out, int64_t K, uint32_t seed,
                      int32_t *bucket, int8_t *sign);

/* ---- hashed lookup: V[t] = sign[t] * w[bucket[t]], t over the n entries ---
 * Exact (a product by +1 or -1), so equal to the twin for every value,
 * inf and NaN included. */
void pnc_hashed_lookup_f32(const float *w, const int32_t *bucket,
                           const int8_t *sign, int64_t n, float *V);
void pnc_hashed_lookup_f64(const double *w, const int32_t *bucket,
                           const int8_t *sign, int64_t n, double *V);

/* ---- bucket-gradient accumulation:
 *   dw[k] = sum over t with bucket[t] == k of sign[t] * dV[t],  k in [0, K)
 * summed in the order t = 0, 1, ..., n-1 in the output's precision.  The
 * float32 twin sums in float64 and rounds once, so a float32 partial sum
 * that overflows to inf here (and stays inf) may be finite in the twin. */
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
 * the output's precision.  With finite operands every path gives the same
 * bits (see kernels_real.h), so a row of Y or dX does not depend on the
 * other rows of its batch, and the results equal the twins' dense products
 * up to rounding.
 *
 * Non-finite operands.  Two shortcuts change no finite result but do change
 * what an inf or NaN gives, because 0 * inf and 0 * NaN are NaN:
 *
 * 1. Pruned weights are not stored, so they are never multiplied.  The
 *    twins of the forward and the backward multiply the dense W*M, a
 *    pruned weight as an explicit 0: an inf or NaN X[b, i] (forward) or
 *    dY[b, j] (backward) with (i, j) pruned makes the twin's Y[b, j]
 *    (dX[b, i]) NaN, while here it is the sum over the kept weights only.
 *    (The weight grad is taken at kept positions only, in the twin too.)
 * 2. The forward and the weight grad skip products whose input X[b, i] is
 *    zero (+0 or -0; a NaN input is never skipped).  Such a product is
 *    w * 0 (forward) or 0 * dY[b, j] (weight grad): +-0 when the other
 *    factor is finite, NaN when it is inf or NaN, and the twins always
 *    include it.  Whether it is skipped depends on the batch.  Rows go in
 *    blocks of 16 (float32) or 8 (float64) rows, a last partial block of at
 *    least 4 (float32) or 2 (float64) rows padded with zero rows, and the
 *    remaining rows one by one (all rows one by one where the compiler has
 *    no vector extensions); see kernels_real.h.  A row taken alone skips
 *    every zero input; a block skips input i only when X[k, i] is zero in
 *    every row k of the block.  So with an inf or NaN kept weight in row i
 *    of W, Y[b, j] of a row b with X[b, i] == 0 is NaN when b is in a block
 *    with a row k where X[k, i] != 0, and not made NaN by that weight when
 *    b is computed alone: a row's result can depend on its batch.  With an
 *    inf or NaN dY[b, j] and X[b, i] == 0, ddata at the kept (i, j) is NaN
 *    or not in the same way.  The backward skips nothing but pruned
 *    weights, so its rows never depend on each other.
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

/* ---- fused SGD step (docs/methods.md#optimizer) ----------------------------
 * One pass over n entries of a parameter p, in place:
 *
 *   t = lr * (R'(p) + g)         penalty 0: t = lr * g
 *                                penalty 1 (L1): R'(p) = lam * sign(p)
 *                                penalty 2 (L2): R'(p) = lam * p
 *   v = (mu * v - t) * keep      keep NULL: no factor
 *   p = p + v
 *
 * or, with momentum 0 (v not read nor written, may be NULL):
 *
 *   p = p - t * keep
 *
 * keep holds the keep-mask as REAL factors, 0.0 (pruned) or 1.0 (kept).
 * lr, mu and lam are rounded to REAL first, and each line is evaluated in
 * REAL in the order written, with no fused multiply-add, so the results are
 * bit for bit those of the NumPy twin (sign(NaN) = NaN, sign(+-0) = 0),
 * except for the sign and payload of a NaN result, which IEEE 754 leaves to
 * the order of the operands (x86 keeps the first one's).  p, v and g must
 * not overlap: the public wrapper copies a g or keep that shares memory with
 * p or v. */
void pnc_sgd_step_f32(float *p, float *v, const float *g, const float *keep,
                      int64_t n, double lr, double mu, int penalty, double lam);
void pnc_sgd_step_f64(double *p, double *v, const double *g, const double *keep,
                      int64_t n, double lr, double mu, int penalty, double lam);

#endif
