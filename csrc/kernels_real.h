/*
 * The floating-point kernels, written once for a type REAL and included by
 * pynncomp.c for float (suffix _f32) and double (suffix _f64).
 */

/* V[t] = sign[t] * w[bucket[t]] */
void SUFFIX(pnc_hashed_lookup)(const REAL *w, const int32_t *bucket,
                               const int8_t *sign, int64_t n, REAL *V)
{
    for (int64_t t = 0; t < n; t++)
        V[t] = (REAL)sign[t] * w[bucket[t]];
}

/* dw[k] = sum_{t : bucket[t] = k} sign[t] * dV[t], in order of t */
void SUFFIX(pnc_bucket_accumulate)(const REAL *dV, const int32_t *bucket,
                                   const int8_t *sign, int64_t n, int64_t K,
                                   REAL *dw)
{
    memset(dw, 0, (size_t)K * sizeof(REAL));
    for (int64_t t = 0; t < n; t++)
        dw[bucket[t]] += (REAL)sign[t] * dV[t];
}

/* Y = X (W*M): each nonzero input X[b, i] scatters along the kept row i of W.
 * Zero inputs are skipped (common after ReLU and on MNIST's background). */
void SUFFIX(pnc_sparse_matmul)(const REAL *X, int64_t B, int64_t n_in,
                               const int64_t *indptr, const int32_t *indices,
                               const REAL *data, int64_t n_out, REAL *Y)
{
    for (int64_t b = 0; b < B; b++) {
        const REAL *x = X + b * n_in;
        REAL *y = Y + b * n_out;
        memset(y, 0, (size_t)n_out * sizeof(REAL));
        for (int64_t i = 0; i < n_in; i++) {
            const REAL xi = x[i];
            if (xi == 0)
                continue;
            for (int64_t p = indptr[i]; p < indptr[i + 1]; p++)
                y[indices[p]] += xi * data[p];
        }
    }
}

/* dX = dY (W*M)^T: dX[b, i] gathers dY[b, j] along the kept row i of W. */
void SUFFIX(pnc_sparse_matmul_t)(const REAL *dY, int64_t B, int64_t n_out,
                                 const int64_t *indptr, const int32_t *indices,
                                 const REAL *data, int64_t n_in, REAL *dX)
{
    for (int64_t b = 0; b < B; b++) {
        const REAL *dy = dY + b * n_out;
        REAL *dx = dX + b * n_in;
        for (int64_t i = 0; i < n_in; i++) {
            REAL acc = 0;
            for (int64_t p = indptr[i]; p < indptr[i + 1]; p++)
                acc += data[p] * dy[indices[p]];
            dx[i] = acc;
        }
    }
}

/* ddata[p] = sum_b X[b, i] dY[b, indices[p]] for the kept weights p of row i. */
void SUFFIX(pnc_sparse_weight_grad)(const REAL *X, const REAL *dY, int64_t B,
                                    int64_t n_in, int64_t n_out,
                                    const int64_t *indptr, const int32_t *indices,
                                    REAL *ddata)
{
    memset(ddata, 0, (size_t)indptr[n_in] * sizeof(REAL));
    for (int64_t b = 0; b < B; b++) {
        const REAL *x = X + b * n_in;
        const REAL *dy = dY + b * n_out;
        for (int64_t i = 0; i < n_in; i++) {
            const REAL xi = x[i];
            if (xi == 0)
                continue;
            for (int64_t p = indptr[i]; p < indptr[i + 1]; p++)
                ddata[p] += xi * dy[indices[p]];
        }
    }
}
