/*
 * pynncomp C core.  Declarations and the contract of every function are in
 * pynncomp.h; the NumPy twins in pynncomp/kernels/reference.py are the
 * specification.  Arguments are validated in Python before they reach here.
 *
 * The float32 and float64 kernels are one text: kernels_real.h is included
 * twice, once per REAL type.
 */
#include <stdlib.h>
#include <string.h>
#include "pynncomp.h"

/* The block paths of the sparse kernels (kernels_real.h) use the vector
 * extensions of GCC and Clang with 16-byte vectors (SSE2 on x86-64, NEON on
 * ARM).  A block is BLOCK_BYTES of one column, 16 floats or 8 doubles, i.e.
 * four vector registers; the transposed block of the output or of dY
 * (n_out x block) stays in the L1 cache for layers up to several hundred
 * units wide.  Other compilers get the row-by-row paths: same results. */
#if defined(__GNUC__)
#define PNC_VECTOR_BLOCKS 1
#define BLOCK_BYTES 64
/* Lane permutations of two vectors (tile transposes): the builtin of Clang
 * and GCC >= 12, or GCC's older spelling. */
#if defined(__clang__) || __GNUC__ >= 12
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#define SHUFFLE2(a, b, i, j) __builtin_shufflevector(a, b, i, j)
#else
typedef int32_t shuffle4_mask __attribute__((vector_size(16)));
typedef int64_t shuffle2_mask __attribute__((vector_size(16)));
#define SHUFFLE4(a, b, i, j, k, l) __builtin_shuffle(a, b, (shuffle4_mask){i, j, k, l})
#define SHUFFLE2(a, b, i, j) __builtin_shuffle(a, b, (shuffle2_mask){i, j})
#endif
#endif

/* ---- xxHash32 (Y. Collet, BSD-2) for an 8-byte message ------------------ */
#define PRIME32_1 2654435761U
#define PRIME32_2 2246822519U
#define PRIME32_3 3266489917U
#define PRIME32_4 668265263U
#define PRIME32_5 374761393U
#define SIGN_SEED_XOR 0x9E3779B9U

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* Static, so that pnc_hash_buckets inlines it: in the shared library, calls
 * to the exported function would go through the PLT. */
static inline uint32_t xxh32_pair(uint32_t i, uint32_t j, uint32_t seed)
{
    /* Messages shorter than 16 bytes skip the four-lane stripe loop:
     * start, mix each 4-byte word, avalanche. */
    uint32_t h = seed + PRIME32_5 + 8U;
    h = rotl32(h + i * PRIME32_3, 17) * PRIME32_4;
    h = rotl32(h + j * PRIME32_3, 17) * PRIME32_4;
    h ^= h >> 15;
    h *= PRIME32_2;
    h ^= h >> 13;
    h *= PRIME32_3;
    h ^= h >> 16;
    return h;
}

uint32_t pnc_xxh32_pair(uint32_t i, uint32_t j, uint32_t seed)
{
    return xxh32_pair(i, j, seed);
}

void pnc_hash_buckets(int64_t n_in, int64_t n_out, int64_t K, uint32_t seed,
                      int32_t *bucket, int8_t *sign)
{
    const uint32_t sign_seed = seed ^ SIGN_SEED_XOR;
    for (int64_t i = 0; i < n_in; i++) {
        for (int64_t j = 0; j < n_out; j++) {
            const int64_t t = i * n_out + j;
            bucket[t] = (int32_t)(xxh32_pair((uint32_t)i, (uint32_t)j, seed) % (uint32_t)K);
            sign[t] = (xxh32_pair((uint32_t)i, (uint32_t)j, sign_seed) >> 31) ? -1 : 1;
        }
    }
}

#define REAL float
#define INT_REAL int32_t /* an integer as wide as REAL, for bit tests */
#define REAL_LANES 4     /* REALs in a 16-byte vector */
#define SUFFIX(name) name##_f32
#include "kernels_real.h"
#undef REAL
#undef INT_REAL
#undef REAL_LANES
#undef SUFFIX

#define REAL double
#define INT_REAL int64_t
#define REAL_LANES 2
#define SUFFIX(name) name##_f64
#include "kernels_real.h"
#undef REAL
#undef INT_REAL
#undef REAL_LANES
#undef SUFFIX
