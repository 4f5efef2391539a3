"""Exact leave-one-out Euclidean nearest neighbours, screened in float32 and certified.

:func:`loo_neighbours` returns, for every row of ``X``, its ``k`` nearest *other* rows by the
float64 squared Euclidean distance ``sum((x_i - x_j) ** 2)``, ties broken by the smaller
index. The answer is exact, not approximate; only the work is cheaper:

1. **Screening, float32, half the products.** The distance matrix is symmetric, so each pair
   of row blocks (I <= J) is computed once, as ``|x_i|^2 + |x_j|^2 - 2 x_i . x_j`` with one
   float32 matrix product, and updates the running candidates of both blocks (the rows of I
   and, transposed, of J). Every row keeps its ``K = 2k + 8`` smallest screened distances;
   after the first blocks only a few entries per block beat a row's current K-th, and only
   those are merged (``np.nonzero`` of one comparison). Against scikit-learn's brute force
   (float64, every pair twice) this is 1/4 of the floating-point work, at twice the rate.
2. **Exact re-ranking.** The K candidates of every row get their float64 distances computed
   directly (differences, not the Gram trick) and are sorted by (distance, index).
3. **Certificate.** A float32 screened distance is within ``err_i = c (r_i + R)^2`` of the
   exact one (r_i the row's norm after centring, R the largest; c = (2D + 20) 2^-24: the
   float32 rounding of the features, the D-term dot product, the three additions; Higham,
   *Accuracy and Stability of Numerical Algorithms*, 2nd ed., eq. 3.5). A row whose
   excluded samples all have screened distances >= tau_i (its K-th) is certified when
   ``tau_i - err_i`` exceeds the k-th exact candidate distance: then no excluded sample can
   be as near. Rows that fail (near-ties at the K-th place; duplicated samples) are redone
   against all samples: a float64 product screens them with the float64 bound, and every
   sample within it of the k-th distance is measured exactly.

The features are scaled by a power of two (exact: the same differences, scaled) so that
no squared distance overflows, and for the screening centred (distances do not change) and
scaled again, so the float32 copy neither overflows nor loses small rows to underflow
beyond the bound.
"""
from __future__ import annotations

import numpy as np

__all__ = ["loo_neighbours"]

_U32 = 2.0 ** -24
_U64 = 2.0 ** -53


def _block_rows(n: int, d: int, K: int) -> int:
    """Row block: a b x b float32 distance block of about 16 MB, the products large enough
    for the BLAS to run at full rate; more than K columns, so a row's first block fills its
    candidates."""
    return int(min(n, max(2048, K + 1)))


def _merge(cand_d, cand_i, tau, g_rows, d_vals, cols):
    """Merge new screened distances into the kept candidates (each row's K smallest so far,
    ``tau`` the K-th): entry t is the distance ``d_vals[t]`` of row ``g_rows[t]`` to sample
    ``cols[t]``. One sort by (row, distance) of the rows' K kept plus their new entries."""
    K = cand_d.shape[1]
    hit = np.flatnonzero(np.bincount(g_rows, minlength=cand_d.shape[0]))
    pos = np.searchsorted(hit, g_rows)
    all_r = np.concatenate([np.repeat(np.arange(hit.size), K), pos])
    all_d = np.concatenate([cand_d[hit].ravel(), d_vals])
    all_i = np.concatenate([cand_i[hit].ravel(), cols])
    order = np.lexsort((all_d, all_r))
    starts = np.searchsorted(all_r[order], np.arange(hit.size))
    take = order[(starts[:, None] + np.arange(K)).ravel()]
    new_d = all_d[take].reshape(hit.size, K)
    cand_d[hit] = new_d
    cand_i[hit] = all_i[take].reshape(hit.size, K)
    tau[hit] = new_d[:, -1]


def _first(cand_d, cand_i, tau, r0, D, c0):
    """The first block a row meets: its K smallest entries (by ``argpartition``)."""
    K = cand_d.shape[1]
    part = np.argpartition(D, K - 1, axis=1)[:, :K]
    dd = np.take_along_axis(D, part, axis=1)
    o = np.argsort(dd, axis=1, kind="stable")
    rows = slice(r0, r0 + D.shape[0])
    cand_d[rows] = np.take_along_axis(dd, o, axis=1)
    cand_i[rows] = np.take_along_axis(part, o, axis=1) + c0
    tau[rows] = cand_d[rows, -1]


def _nonzero_sparse(mask):
    """``np.nonzero`` of a C-contiguous boolean matrix that is almost all False: the non-zero
    8-byte words first (8x fewer elements to scan), then the entries within them."""
    flat = mask.reshape(-1)
    if flat.size % 8:
        return np.nonzero(mask)
    words = np.flatnonzero(flat.view(np.uint64))
    idx = (words[:, None] * 8 + np.arange(8)).ravel()
    idx = idx[flat[idx]]
    return np.divmod(idx, mask.shape[1])


def _exact_sq(X, rows, cols):
    """float64 squared distances ``sum((X[rows] - X[cols]) ** 2)`` for rows (m,) and
    cols (m, K), in chunks of ~32 MB."""
    m, K = cols.shape
    out = np.empty((m, K))
    step = max(1, (4 << 20) // max(1, K * X.shape[1]))
    for s in range(0, m, step):
        diff = X[cols[s:s + step]] - X[rows[s:s + step], None, :]
        out[s:s + step] = np.einsum("ikd,ikd->ik", diff, diff)
    return out


def _rank(dist, idx, k):
    """The k smallest of each row by (distance, index)."""
    order = np.lexsort((idx, dist), axis=1)[:, :k]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(dist, order, axis=1)


def loo_neighbours(X: np.ndarray, k: int) -> np.ndarray:
    """(N, k) indices of each row's k nearest other rows of the float64 array ``X`` (N, D)
    by exact squared Euclidean distance, nearest first, ties to the smaller index (see the
    module docstring for how it is computed and certified). Requires ``k < N``."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    K = min(2 * k + 8, n - 1)
    top = float(np.abs(X).max())
    if top > 0.0:  # a power of two: the same rounding, no overflow of the squared distances
        X = X * 2.0 ** -np.ceil(np.log2(top))
    Xc = X - X.mean(axis=0)
    rc = np.sqrt(np.einsum("ij,ij->i", Xc, Xc))
    R = float(rc.max())
    if R == 0.0:  # every sample identical: all distances 0, neighbours by index
        others = np.broadcast_to(np.arange(n), (n, n))[~np.eye(n, dtype=bool)].reshape(n, n - 1)
        return np.ascontiguousarray(others[:, :k])
    scale = 2.0 ** -np.ceil(np.log2(R))  # exact: R scaled into (1/2, 1]
    Xs = Xc * scale
    X32 = Xs.astype(np.float32)
    r = rc * scale  # the norms of Xs (a power-of-two scale is exact)
    nrm = np.einsum("ij,ij->i", X32, X32, dtype=np.float64).astype(np.float32)
    # augmented so that one product is the screened distance: [-2x_i, |x_i|^2, 1] . [x_j, 1, |x_j|^2]
    A = np.empty((n, d + 2), dtype=np.float32)
    np.multiply(X32, -2.0, out=A[:, :d])
    A[:, d] = nrm
    A[:, d + 1] = 1.0
    B = np.empty((n, d + 2), dtype=np.float32)
    B[:, :d] = X32
    B[:, d] = 1.0
    B[:, d + 1] = nrm
    del X32

    cand_d = np.full((n, K), np.inf, dtype=np.float32)
    cand_i = np.full((n, K), -1, dtype=np.int64)
    tau = np.full(n, np.inf, dtype=np.float32)
    seen = np.zeros(n, dtype=bool)  # rows whose candidates are filled
    b = _block_rows(n, d, K)
    starts = range(0, n, b)
    for i0 in starts:
        for j0 in starts:
            if j0 < i0:
                continue
            D = A[i0:i0 + b] @ B[j0:j0 + b].T
            bi, bj = D.shape
            if i0 == j0:
                np.fill_diagonal(D, np.inf)
            fresh_i, fresh_j = not seen[i0], j0 != i0 and not seen[j0]
            if fresh_i:
                _first(cand_d, cand_i, tau, i0, D, j0)
                seen[i0:i0 + bi] = True
            if fresh_j:
                _first(cand_d, cand_i, tau, j0, np.ascontiguousarray(D.T), i0)
                seen[j0:j0 + bj] = True
            if fresh_i and (fresh_j or i0 == j0):
                continue
            # the entries below a row's K-th (rows of I) or a column's K-th (rows of J)
            ti, tj = tau[i0:i0 + bi], tau[j0:j0 + bj]
            lim = np.maximum.outer(ti, tj) if (i0 != j0 and not fresh_j) else np.broadcast_to(ti[:, None], D.shape)
            r_, c_ = _nonzero_sparse(D < lim)
            if r_.size == 0:
                continue
            v = D[r_, c_]
            if not fresh_i:
                m = v < ti[r_]
                if m.any():
                    _merge(cand_d, cand_i, tau, r_[m] + i0, v[m], c_[m] + j0)
            if i0 != j0 and not fresh_j:
                m = v < tj[c_]
                if m.any():
                    _merge(cand_d, cand_i, tau, c_[m] + j0, v[m], r_[m] + i0)

    rows = np.arange(n)
    exact = _exact_sq(X, rows, cand_i)
    nb, nb_d = _rank(exact, cand_i, k)
    if K == n - 1:  # every other sample is a candidate: nothing was excluded
        return nb
    # certificate, in the scaled units of the screening (exact distances scale by scale^2)
    c = (2 * d + 20) * _U32
    err = c * (r + R * scale) ** 2 + d * 2.0 ** -120
    ok = tau.astype(np.float64) - err > nb_d[:, -1] * scale ** 2
    bad = np.flatnonzero(~ok)
    if bad.size:
        nb[bad] = _redo(X, Xs, r, R * scale, scale, bad, nb_d[bad, -1], k)
    return nb


def _redo(X, Xs, r, R, scale, rows, kth, k):
    """Rows whose screening could not be certified: every sample whose float64 screened
    distance is within the float64 bound of the row's k-th exact candidate distance is
    measured exactly (at least the k candidates themselves)."""
    n, d = Xs.shape
    out = np.empty((rows.size, k), dtype=np.int64)
    nrm = np.einsum("ij,ij->i", Xs, Xs)
    c = (2 * d + 20) * _U64
    step = 256
    for s in range(0, rows.size, step):
        rr = rows[s:s + step]
        D = nrm[rr, None] + nrm[None, :] - 2.0 * (Xs[rr] @ Xs.T)
        lim = kth[s:s + step, None] * scale ** 2 + c * (r[rr, None] + R) ** 2 + d * 2.0 ** -1000
        near = D <= lim
        near[np.arange(rr.size), rr] = False
        for t, i in enumerate(rr):
            js = np.flatnonzero(near[t])
            if js.size < k:  # cannot happen within the bound; measure everything rather than fail
                js = np.delete(np.arange(n), i)
            e = _exact_sq(X, np.array([i]), js[None, :])
            idx, _ = _rank(e, js[None, :], k)
            out[s + t] = idx[0]
    return out
