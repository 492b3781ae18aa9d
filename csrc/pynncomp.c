/*
 * pynncomp C core.  Declarations and the contract of every function are in
 * pynncomp.h; the NumPy twins in pynncomp/kernels/reference.py are the
 * specification.  Arguments are validated in Python before they reach here.
 *
 * The float32 and float64 kernels are one text: kernels_real.h is included
 * twice, once per REAL type.
 */
#include <string.h>
#include "pynncomp.h"

/* ---- xxHash32 (Y. Collet, BSD-2) for an 8-byte message ------------------ */
#define PRIME32_1 2654435761U
#define PRIME32_2 2246822519U
#define PRIME32_3 3266489917U
#define PRIME32_4 668265263U
#define PRIME32_5 374761393U
#define SIGN_SEED_XOR 0x9E3779B9U

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t pnc_xxh32_pair(uint32_t i, uint32_t j, uint32_t seed)
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

void pnc_hash_buckets(int64_t n_in, int64_t n_out, int64_t K, uint32_t seed,
                      int32_t *bucket, int8_t *sign)
{
    const uint32_t sign_seed = seed ^ SIGN_SEED_XOR;
    for (int64_t i = 0; i < n_in; i++) {
        for (int64_t j = 0; j < n_out; j++) {
            const int64_t t = i * n_out + j;
            bucket[t] = (int32_t)(pnc_xxh32_pair((uint32_t)i, (uint32_t)j, seed) % (uint32_t)K);
            sign[t] = (pnc_xxh32_pair((uint32_t)i, (uint32_t)j, sign_seed) >> 31) ? -1 : 1;
        }
    }
}

#define REAL float
#define SUFFIX(name) name##_f32
#include "kernels_real.h"
#undef REAL
#undef SUFFIX

#define REAL double
#define SUFFIX(name) name##_f64
#include "kernels_real.h"
#undef REAL
#undef SUFFIX
