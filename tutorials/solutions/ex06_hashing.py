"""Worked solutions of lesson 6's exercises (grade them with PYNNCOMP_EXERCISES=solutions)."""
import numpy as np


def hashed_lookup(w, bucket, sign):
    """V = ξ ⊙ w[h]; see tutorials/exercises/ex06_hashing.py."""
    # fancy indexing gathers w[h(i, j)] in the shape of bucket; the sign is cast so V keeps w's dtype
    return sign.astype(w.dtype) * w[bucket]


def bucket_gradient(dV, bucket, sign, K):
    """dw_k = Σ_{h(i,j)=k} ξ(i,j) dV_ij; see tutorials/exercises/ex06_hashing.py."""
    signed = (sign * dV).ravel()
    # bincount adds every entry into its bucket (w[h] += ... would keep only the last of repeated
    # indices); minlength keeps the buckets no virtual weight uses, at the end, as zeros
    return np.bincount(bucket.ravel(), weights=signed, minlength=K)
