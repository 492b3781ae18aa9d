/*
 * The floating-point kernels, written once for a type REAL and included by
 * pynncomp.c for float (suffix _f32) and double (suffix _f64).
 *
 * The sparse kernels have two paths that compute the same numbers:
 *
 * - row by row (plain C): each row of X or dY on its own, skipping zero
 *   inputs.  Used for small batches and where the compiler has no vector
 *   extensions.
 * - a block of BLOCK rows at a time (GCC/Clang vector extensions): the
 *   block is transposed, 4 x 4 (or 2 x 2) tiles at a time, so that the
 *   block's values for one input i or output j sit side by side in a few
 *   vectors; the update for one kept weight is then a few vector
 *   multiply-adds, and the CSR pattern is walked once per block instead of
 *   once per row.  Inputs that are zero in every row of the block are
 *   skipped.  A last partial block is padded with zero rows.
 *
 * Both paths form every output entry as the same sum in the same order (over
 * i, p or b ascending; no reassociation: no -ffast-math, and no fused
 * multiply-add contraction, -ffp-contract=off), so with finite operands a
 * sample gets the same bits whatever batch it comes in and whichever path
 * ran.  The block path adds the products of zero inputs that the row path
 * skips; for finite operands such a product is +0 or -0, which leaves a sum
 * unchanged (a sum that starts at +0 never becomes -0 under
 * round-to-nearest).  With an inf or NaN weight (forward) or dY entry
 * (weight gradient) that product is NaN, so there the paths differ: see
 * "Non-finite operands" in pynncomp.h.
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

/* ---- row-by-row paths ------------------------------------------------------ */

/* y = x (W*M): each nonzero input x[i] scatters along the kept row i of W.
 * Zero inputs are skipped (common after ReLU and on MNIST's background). */
static void SUFFIX(matmul_row)(const REAL *x, int64_t n_in,
                               const int64_t *indptr, const int32_t *indices,
                               const REAL *data, int64_t n_out, REAL *y)
{
    memset(y, 0, (size_t)n_out * sizeof(REAL));
    for (int64_t i = 0; i < n_in; i++) {
        const REAL xi = x[i];
        if (xi == 0)
            continue;
        for (int64_t p = indptr[i], end = indptr[i + 1]; p < end; p++)
            y[indices[p]] += xi * data[p];
    }
}

/* dx = dy (W*M)^T: dx[i] gathers dy[j] along the kept row i of W. */
static void SUFFIX(matmul_t_row)(const REAL *dy, const int64_t *indptr,
                                 const int32_t *indices, const REAL *data,
                                 int64_t n_in, REAL *dx)
{
    for (int64_t i = 0; i < n_in; i++) {
        REAL acc = 0;
        for (int64_t p = indptr[i], end = indptr[i + 1]; p < end; p++)
            acc += dy[indices[p]] * data[p];
        dx[i] = acc;
    }
}

/* ddata[p] += x[i] dy[indices[p]] for the kept weights p of row i; zero
 * inputs are skipped. */
static void SUFFIX(weight_grad_row)(const REAL *x, const REAL *dy,
                                    int64_t n_in, const int64_t *indptr,
                                    const int32_t *indices, REAL *ddata)
{
    for (int64_t i = 0; i < n_in; i++) {
        const REAL xi = x[i];
        if (xi == 0)
            continue;
        for (int64_t p = indptr[i], end = indptr[i + 1]; p < end; p++)
            ddata[p] += xi * dy[indices[p]];
    }
}

/* ---- block paths ----------------------------------------------------------- */
#ifdef PNC_VECTOR_BLOCKS

/* A block holds BLOCK rows.  The block's values of one column are PARTS
 * vectors of the machine's width, 16 bytes (LANES = 4 floats or 2 doubles),
 * 16 floats or 8 doubles in all, kept in a small array of vectors
 * (REAL_VECTOR x[PARTS]) that the compiler holds in registers; a vector type
 * as wide as the whole block would live in memory. */
typedef REAL SUFFIX(vector) __attribute__((vector_size(16)));
typedef INT_REAL SUFFIX(bits_vector) __attribute__((vector_size(16)));
#define REAL_VECTOR SUFFIX(vector)
#define BITS_VECTOR SUFFIX(bits_vector)
#define LANES ((int64_t)REAL_LANES)
#define PARTS ((int64_t)(BLOCK_BYTES / 16))
#define BLOCK (PARTS * LANES)

/* Scratch for one call of a block path: the block of the output or of dY
 * transposed, n_out x BLOCK with column j's block values side by side; NULL
 * when it cannot be had. */
static REAL *SUFFIX(columns_alloc)(int64_t n_out)
{
    return (REAL *)malloc((size_t)(n_out * BLOCK + 1) * sizeof(REAL));
}

/* A partial last block of `rows` rows is worth padding to a full block when
 * it holds at least a quarter of one; fewer rows go row by row. */
static int SUFFIX(worth_a_block)(int64_t rows) { return 4 * rows >= BLOCK; }

/* A BLOCK x n copy of the `rows` rows of A (row stride n) padded with zero
 * rows, or NULL. */
static REAL *SUFFIX(padded)(const REAL *A, int64_t rows, int64_t n)
{
    REAL *pad = (REAL *)calloc((size_t)(BLOCK * n + 1), sizeof(REAL));
    if (pad != NULL)
        memcpy(pad, A, (size_t)(rows * n) * sizeof(REAL));
    return pad;
}

/* Vectors go between memory and registers with memcpy: unaligned loads and
 * stores. */
static REAL_VECTOR SUFFIX(load)(const REAL *a)
{
    REAL_VECTOR v;
    memcpy(&v, a, sizeof v);
    return v;
}

static void SUFFIX(store)(REAL *a, REAL_VECTOR v) { memcpy(a, &v, sizeof v); }

/* The rows r[0 .. LANES-1] of a LANES x LANES tile become its columns. */
static void SUFFIX(transpose_tile)(REAL_VECTOR r[LANES])
{
#if REAL_LANES == 4
    const REAL_VECTOR t0 = SHUFFLE4(r[0], r[1], 0, 4, 1, 5);
    const REAL_VECTOR t1 = SHUFFLE4(r[0], r[1], 2, 6, 3, 7);
    const REAL_VECTOR t2 = SHUFFLE4(r[2], r[3], 0, 4, 1, 5);
    const REAL_VECTOR t3 = SHUFFLE4(r[2], r[3], 2, 6, 3, 7);
    r[0] = SHUFFLE4(t0, t2, 0, 1, 4, 5);
    r[1] = SHUFFLE4(t0, t2, 2, 3, 6, 7);
    r[2] = SHUFFLE4(t1, t3, 0, 1, 4, 5);
    r[3] = SHUFFLE4(t1, t3, 2, 3, 6, 7);
#else
    const REAL_VECTOR t0 = SHUFFLE2(r[0], r[1], 0, 2);
    const REAL_VECTOR t1 = SHUFFLE2(r[0], r[1], 1, 3);
    r[0] = t0;
    r[1] = t1;
#endif
}

/* The block's values of the LANES columns i .. i + LANES - 1 of X (row
 * stride n): x[m][q] is part q of column i + m, and live[m] is nonzero when
 * that column holds a value other than +0 or -0 (NaN counts): the OR of the
 * bit patterns, sign bits cleared. */
static void SUFFIX(load_columns)(const REAL *X, int64_t n, int64_t i,
                                 REAL_VECTOR x[LANES][PARTS],
                                 INT_REAL live[LANES])
{
    const INT_REAL magnitude = (INT_REAL)(~(uint64_t)0 >> (65 - 8 * sizeof(REAL)));
    BITS_VECTOR any = {0};
    for (int64_t q = 0; q < PARTS; q++) {
        REAL_VECTOR tile[LANES];
        for (int64_t m = 0; m < LANES; m++) {
            tile[m] = SUFFIX(load)(X + (q * LANES + m) * n + i);
            any |= (BITS_VECTOR)tile[m];
        }
        SUFFIX(transpose_tile)(tile);
        for (int64_t m = 0; m < LANES; m++)
            x[m][q] = tile[m];
    }
    any &= magnitude;
    memcpy(live, &any, sizeof any);
}

/* The same for one column i (used for the last n mod LANES columns). */
static INT_REAL SUFFIX(load_column)(const REAL *X, int64_t n, int64_t i,
                                    REAL_VECTOR x[PARTS])
{
    REAL lanes[BLOCK];
    int nonzero = 0;
    for (int64_t k = 0; k < BLOCK; k++) {
        lanes[k] = X[k * n + i];
        nonzero |= lanes[k] != 0;
    }
    for (int64_t q = 0; q < PARTS; q++)
        x[q] = SUFFIX(load)(lanes + q * LANES);
    return nonzero;
}

/* At[j * BLOCK + k] = A[k * n + j]: the block's rows of A (row stride n)
 * transposed, column j's values side by side. */
static void SUFFIX(transpose_block)(const REAL *A, int64_t n, REAL *At)
{
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int64_t q = 0; q < PARTS; q++) {
            REAL_VECTOR tile[LANES];
            for (int64_t m = 0; m < LANES; m++)
                tile[m] = SUFFIX(load)(A + (q * LANES + m) * n + j);
            SUFFIX(transpose_tile)(tile);
            for (int64_t m = 0; m < LANES; m++)
                SUFFIX(store)(At + (j + m) * BLOCK + q * LANES, tile[m]);
        }
    for (; j < n; j++)
        for (int64_t k = 0; k < BLOCK; k++)
            At[j * BLOCK + k] = A[k * n + j];
}

/* The inverse: A[k * n + j] = At[j * BLOCK + k]. */
static void SUFFIX(untranspose_block)(const REAL *At, int64_t n, REAL *A)
{
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int64_t q = 0; q < PARTS; q++) {
            REAL_VECTOR tile[LANES];
            for (int64_t m = 0; m < LANES; m++)
                tile[m] = SUFFIX(load)(At + (j + m) * BLOCK + q * LANES);
            SUFFIX(transpose_tile)(tile);
            for (int64_t m = 0; m < LANES; m++)
                SUFFIX(store)(A + (q * LANES + m) * n + j, tile[m]);
        }
    for (; j < n; j++)
        for (int64_t k = 0; k < BLOCK; k++)
            A[k * n + j] = At[j * BLOCK + k];
}

/* Yt[j] += x w_ij along the kept row i of W (Yt: n_out x BLOCK). */
static void SUFFIX(scatter_input)(REAL *Yt, const int64_t *indptr,
                                const int32_t *indices, const REAL *data,
                                int64_t i, const REAL_VECTOR x[PARTS])
{
    for (int64_t p = indptr[i], end = indptr[i + 1]; p < end; p++) {
        REAL *yt = Yt + indices[p] * BLOCK;
        const REAL w = data[p];
        for (int64_t q = 0; q < PARTS; q++)
            SUFFIX(store)(yt + q * LANES, SUFFIX(load)(yt + q * LANES) + x[q] * w);
    }
}

/* Y = X (W*M) for one block: Yt[j] accumulates the block's values of
 * Y[:, j] over i ascending, skipping inputs that are zero in every row of
 * the block; then Yt is transposed back into Y. */
static void SUFFIX(matmul_block)(const REAL *X, int64_t n_in,
                                 const int64_t *indptr, const int32_t *indices,
                                 const REAL *data, int64_t n_out, REAL *Y,
                                 REAL *Yt)
{
    int64_t i = 0;
    memset(Yt, 0, (size_t)(n_out * BLOCK) * sizeof(REAL));
    for (; i + LANES <= n_in; i += LANES) {
        REAL_VECTOR x[LANES][PARTS];
        INT_REAL live[LANES];
        SUFFIX(load_columns)(X, n_in, i, x, live);
        for (int64_t m = 0; m < LANES; m++)
            if (live[m])
                SUFFIX(scatter_input)(Yt, indptr, indices, data, i + m, x[m]);
    }
    for (; i < n_in; i++) {
        REAL_VECTOR x[PARTS];
        if (SUFFIX(load_column)(X, n_in, i, x))
            SUFFIX(scatter_input)(Yt, indptr, indices, data, i, x);
    }
    SUFFIX(untranspose_block)(Yt, n_out, Y);
}

/* acc = the block's dX[:, i] = sum over the kept weights p of row i, p
 * ascending, of w dY[:, j] (dY transposed in dYt). */
static void SUFFIX(gather_input)(const REAL *dYt, const int64_t *indptr,
                               const int32_t *indices, const REAL *data,
                               int64_t i, REAL_VECTOR acc[PARTS])
{
    for (int64_t q = 0; q < PARTS; q++)
        acc[q] = (REAL_VECTOR){0};
    for (int64_t p = indptr[i], end = indptr[i + 1]; p < end; p++) {
        const REAL *dyt = dYt + indices[p] * BLOCK;
        const REAL w = data[p];
        for (int64_t q = 0; q < PARTS; q++)
            acc[q] += SUFFIX(load)(dyt + q * LANES) * w;
    }
}

/* dX = dY (W*M)^T for one block, LANES inputs i at a time, each gathered
 * into registers and written to dX through one tile transpose. */
static void SUFFIX(matmul_t_block)(const REAL *dY, int64_t n_out,
                                   const int64_t *indptr, const int32_t *indices,
                                   const REAL *data, int64_t n_in, REAL *dX,
                                   REAL *dYt)
{
    int64_t i = 0;
    SUFFIX(transpose_block)(dY, n_out, dYt);
    for (; i + LANES <= n_in; i += LANES) {
        REAL_VECTOR acc[LANES][PARTS];
        for (int64_t m = 0; m < LANES; m++)
            SUFFIX(gather_input)(dYt, indptr, indices, data, i + m, acc[m]);
        for (int64_t q = 0; q < PARTS; q++) {
            REAL_VECTOR tile[LANES];
            for (int64_t m = 0; m < LANES; m++)
                tile[m] = acc[m][q];
            SUFFIX(transpose_tile)(tile);
            for (int64_t m = 0; m < LANES; m++)
                SUFFIX(store)(dX + (q * LANES + m) * n_in + i, tile[m]);
        }
    }
    for (; i < n_in; i++) {
        REAL_VECTOR acc[PARTS];
        REAL lanes[BLOCK];
        SUFFIX(gather_input)(dYt, indptr, indices, data, i, acc);
        for (int64_t q = 0; q < PARTS; q++)
            SUFFIX(store)(lanes + q * LANES, acc[q]);
        for (int64_t k = 0; k < BLOCK; k++)
            dX[k * n_in + i] = lanes[k];
    }
}

/* sum + the block's products x[k] dY[k, j] added in row order k: the BLOCK
 * products are vector multiplies, the sum stays sequential. */
static REAL SUFFIX(add_products)(REAL sum, const REAL_VECTOR x[PARTS],
                                 const REAL *dyt)
{
    REAL terms[BLOCK];
    for (int64_t q = 0; q < PARTS; q++)
        SUFFIX(store)(terms + q * LANES, x[q] * SUFFIX(load)(dyt + q * LANES));
    for (int64_t k = 0; k < BLOCK; k++)
        sum += terms[k];
    return sum;
}

/* ddata[p] += the block's terms for the kept weights p of row i; two at a
 * time, so that the two chains of dependent additions overlap. */
static void SUFFIX(weight_grad_input)(const REAL *dYt, const int64_t *indptr,
                                      const int32_t *indices, int64_t i,
                                      const REAL_VECTOR x[PARTS], REAL *ddata)
{
    int64_t p = indptr[i];
    const int64_t end = indptr[i + 1];
    for (; p + 1 < end; p += 2) {
        const REAL sum = SUFFIX(add_products)(ddata[p], x, dYt + indices[p] * BLOCK);
        const REAL sum1 = SUFFIX(add_products)(ddata[p + 1], x, dYt + indices[p + 1] * BLOCK);
        ddata[p] = sum;
        ddata[p + 1] = sum1;
    }
    if (p < end)
        ddata[p] = SUFFIX(add_products)(ddata[p], x, dYt + indices[p] * BLOCK);
}

static void SUFFIX(weight_grad_block)(const REAL *X, const REAL *dY,
                                      int64_t n_in, int64_t n_out,
                                      const int64_t *indptr,
                                      const int32_t *indices, REAL *ddata,
                                      REAL *dYt)
{
    int64_t i = 0;
    SUFFIX(transpose_block)(dY, n_out, dYt);
    for (; i + LANES <= n_in; i += LANES) {
        REAL_VECTOR x[LANES][PARTS];
        INT_REAL live[LANES];
        SUFFIX(load_columns)(X, n_in, i, x, live);
        for (int64_t m = 0; m < LANES; m++)
            if (live[m])
                SUFFIX(weight_grad_input)(dYt, indptr, indices, i + m, x[m], ddata);
    }
    for (; i < n_in; i++) {
        REAL_VECTOR x[PARTS];
        if (SUFFIX(load_column)(X, n_in, i, x))
            SUFFIX(weight_grad_input)(dYt, indptr, indices, i, x, ddata);
    }
}

#endif /* PNC_VECTOR_BLOCKS */

/* ---- the kernels ------------------------------------------------------------
 * Each runs its whole blocks, then the last partial block padded with zero
 * rows when it is large enough, then any remaining rows one by one.  Without
 * vector extensions, or when scratch memory cannot be had, rows go one by
 * one: the results are the same. */

void SUFFIX(pnc_sparse_matmul)(const REAL *X, int64_t B, int64_t n_in,
                               const int64_t *indptr, const int32_t *indices,
                               const REAL *data, int64_t n_out, REAL *Y)
{
    int64_t b = 0;
#ifdef PNC_VECTOR_BLOCKS
    REAL *columns = SUFFIX(worth_a_block)(B) ? SUFFIX(columns_alloc)(n_out) : NULL;
    if (columns != NULL) {
        for (; b + BLOCK <= B; b += BLOCK)
            SUFFIX(matmul_block)(X + b * n_in, n_in, indptr, indices, data,
                                 n_out, Y + b * n_out, columns);
        if (b < B && SUFFIX(worth_a_block)(B - b)) {
            REAL *X_pad = SUFFIX(padded)(X + b * n_in, B - b, n_in);
            REAL *Y_pad = (REAL *)malloc((size_t)(BLOCK * n_out + 1) * sizeof(REAL));
            if (X_pad != NULL && Y_pad != NULL) {
                SUFFIX(matmul_block)(X_pad, n_in, indptr, indices, data, n_out,
                                     Y_pad, columns);
                memcpy(Y + b * n_out, Y_pad, (size_t)((B - b) * n_out) * sizeof(REAL));
                b = B;
            }
            free(X_pad);
            free(Y_pad);
        }
        free(columns);
    }
#endif
    for (; b < B; b++)
        SUFFIX(matmul_row)(X + b * n_in, n_in, indptr, indices, data, n_out,
                           Y + b * n_out);
}

void SUFFIX(pnc_sparse_matmul_t)(const REAL *dY, int64_t B, int64_t n_out,
                                 const int64_t *indptr, const int32_t *indices,
                                 const REAL *data, int64_t n_in, REAL *dX)
{
    int64_t b = 0;
#ifdef PNC_VECTOR_BLOCKS
    REAL *columns = SUFFIX(worth_a_block)(B) ? SUFFIX(columns_alloc)(n_out) : NULL;
    if (columns != NULL) {
        for (; b + BLOCK <= B; b += BLOCK)
            SUFFIX(matmul_t_block)(dY + b * n_out, n_out, indptr, indices,
                                   data, n_in, dX + b * n_in, columns);
        if (b < B && SUFFIX(worth_a_block)(B - b)) {
            REAL *dY_pad = SUFFIX(padded)(dY + b * n_out, B - b, n_out);
            REAL *dX_pad = (REAL *)malloc((size_t)(BLOCK * n_in + 1) * sizeof(REAL));
            if (dY_pad != NULL && dX_pad != NULL) {
                SUFFIX(matmul_t_block)(dY_pad, n_out, indptr, indices, data,
                                       n_in, dX_pad, columns);
                memcpy(dX + b * n_in, dX_pad, (size_t)((B - b) * n_in) * sizeof(REAL));
                b = B;
            }
            free(dY_pad);
            free(dX_pad);
        }
        free(columns);
    }
#endif
    for (; b < B; b++)
        SUFFIX(matmul_t_row)(dY + b * n_out, indptr, indices, data, n_in,
                             dX + b * n_in);
}

void SUFFIX(pnc_sparse_weight_grad)(const REAL *X, const REAL *dY, int64_t B,
                                    int64_t n_in, int64_t n_out,
                                    const int64_t *indptr, const int32_t *indices,
                                    REAL *ddata)
{
    int64_t b = 0;
    memset(ddata, 0, (size_t)indptr[n_in] * sizeof(REAL));
#ifdef PNC_VECTOR_BLOCKS
    REAL *columns = SUFFIX(worth_a_block)(B) ? SUFFIX(columns_alloc)(n_out) : NULL;
    if (columns != NULL) {
        for (; b + BLOCK <= B; b += BLOCK)
            SUFFIX(weight_grad_block)(X + b * n_in, dY + b * n_out, n_in, n_out,
                                      indptr, indices, ddata, columns);
        if (b < B && SUFFIX(worth_a_block)(B - b)) {
            /* Padded rows have x = 0 and dy = 0: their products are +0. */
            REAL *X_pad = SUFFIX(padded)(X + b * n_in, B - b, n_in);
            REAL *dY_pad = SUFFIX(padded)(dY + b * n_out, B - b, n_out);
            if (X_pad != NULL && dY_pad != NULL) {
                SUFFIX(weight_grad_block)(X_pad, dY_pad, n_in, n_out, indptr,
                                          indices, ddata, columns);
                b = B;
            }
            free(X_pad);
            free(dY_pad);
        }
        free(columns);
    }
#endif
    for (; b < B; b++)
        SUFFIX(weight_grad_row)(X + b * n_in, dY + b * n_out, n_in, indptr,
                                indices, ddata);
}

/* The fused SGD step: see pynncomp.h.  The branches on the penalty, the
 * mask and the momentum are taken once, outside the loops. */
static inline REAL SUFFIX(sign_of)(REAL x)
{
    /* selects between REALs only, so that the loops vectorize:
     * sign(+-0) = +0 and sign(NaN) = that NaN, as np.sign */
    const REAL one = 1, zero = 0;
    REAL s = x > zero ? one : zero;
    s = x < zero ? -one : s;
    return x == x ? s : x;
}

/* One loop per (penalty, momentum, mask) case, each simple enough for the
 * compiler to vectorize (the mask comes as REAL 0/1 factors: a uint8_t
 * mask, widened in the loop, kept the masked loops scalar and 7 times
 * slower); restrict tells it that p, v, g and keep do not overlap. */
#define PNC_SGD_LOOPS(T)                                                     \
    do {                                                                     \
        if (mu_ == 0.0 && kp == NULL) {                                      \
            for (int64_t i = 0; i < n; i++)                                  \
                pp[i] -= (T);                                                \
        } else if (mu_ == 0.0) {                                             \
            for (int64_t i = 0; i < n; i++)                                  \
                pp[i] -= (T) * kp[i];                           \
        } else if (kp == NULL) {                                             \
            for (int64_t i = 0; i < n; i++) {                                \
                const REAL vi = mu * vp[i] - (T);                            \
                vp[i] = vi;                                                  \
                pp[i] += vi;                                                 \
            }                                                                \
        } else {                                                             \
            for (int64_t i = 0; i < n; i++) {                                \
                const REAL vi = (mu * vp[i] - (T)) * kp[i];     \
                vp[i] = vi;                                                  \
                pp[i] += vi;                                                 \
            }                                                                \
        }                                                                    \
    } while (0)

void SUFFIX(pnc_sgd_step)(REAL *p, REAL *v, const REAL *g, const REAL *keep,
                          int64_t n, double lr_, double mu_, int penalty, double lam_)
{
    const REAL lr = (REAL)lr_, mu = (REAL)mu_, lam = (REAL)lam_;
    REAL *restrict pp = p;
    REAL *restrict vp = v;
    const REAL *restrict gp = g;
    const REAL *restrict kp = keep;
    if (penalty == 2)
        PNC_SGD_LOOPS((lam * pp[i] + gp[i]) * lr);
    else if (penalty == 1)
        PNC_SGD_LOOPS((lam * SUFFIX(sign_of)(pp[i]) + gp[i]) * lr);
    else
        PNC_SGD_LOOPS(lr * gp[i]);
}
#undef PNC_SGD_LOOPS

#ifdef PNC_VECTOR_BLOCKS
#undef REAL_VECTOR
#undef BITS_VECTOR
#undef LANES
#undef PARTS
#undef BLOCK
#endif
