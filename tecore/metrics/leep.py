"""LEEP and NCE: transferability from the source model's class probabilities.

Nguyen et al., *LEEP: a new measure to evaluate transferability of learned representations*,
ICML 2020 (supplement: ``../shared/papers/003_cbb8a031b46efa3f.txt``); Tran et al.,
*Transferability and hardness of supervised classification tasks*, ICCV 2019 (NCE).
Reference implementations: thuml/Transfer-Learning-Library ``tllib/ranking/leep.py`` and
``nce.py``.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from tecore.metrics._checks import check_probs

__all__ = ["leep", "nce"]


#: elements per block of rows in :func:`leep`'s second pass (4 MiB of float32); also the
#: largest dense class indicator (C x N) it builds
_BLOCK = 1 << 20


def leep(probs, labels) -> float:
    """Log Expected Empirical Prediction (Nguyen et al. 2020, eq. 2).

    .. math:: T = \\frac1n \\sum_i \\log \\sum_z \\hat P(y_i \\mid z)\\, \\theta(x_i)_z,
              \\qquad \\hat P(y \\mid z) = \\hat P(y, z) / \\hat P(z),
              \\quad \\hat P(y, z) = \\frac1n \\sum_{i: y_i = y} \\theta(x_i)_z

    Parameters
    ----------
    probs : (N, K) source-class probabilities θ(x) of the pre-trained classifier (softmax
        outputs, rows summing to 1) on the target images.
    labels : (N,) target labels (any hashable values; encoded internally).

    Returns a float ≤ 0; higher = transfers better (the log of the average likelihood a
    re-used head gives the true target label). A source class that no sample puts mass on
    has P(z) = 0 and is skipped, as in the medical repository's guarded version (the tllib
    code divides by zero there). Equals tllib's ``log_expected_empirical_prediction`` to
    floating-point precision. O(N K).

    Speed: ``probs`` is validated and read in place (float32 stays float32; no N x K copy,
    nothing written): the joint is one sparse class-indicator product, the expected
    empirical predictions a row-wise dot product, both in the dtype of ``probs`` with the
    logs and the mean in float64 (relative difference to the float64 computation ~1e-8 on
    float32 inputs).
    """
    c = check_probs(probs, labels, method="leep")
    P, (n, k) = c.P, c.P.shape
    # The caller's array is read in place, in its dtype (float32 from most extractions), and
    # never copied: the renormalisation 1/sum_z theta(x_i)_z is folded into the weights of a
    # sparse class-indicator product (the joint, one pass), and the true-class expected
    # prediction is a row-wise dot product with P(y_i|z) over blocks of rows (a second pass).
    inv = 1.0 / c.sums
    if n * c.n_classes <= _BLOCK:  # small: a dense indicator is cheaper to build
        W = np.zeros((c.n_classes, n), dtype=P.dtype)
        W[c.y, np.arange(n)] = inv
    else:
        W = sparse.csr_array((inv.astype(P.dtype), (c.y, np.arange(n))), shape=(c.n_classes, n))
    joint = np.asarray(W @ P, dtype=np.float64) / n
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0).astype(P.dtype)  # P(y|z), C_t x K
    eep = np.empty(n)
    step = max(1, _BLOCK // k)
    for a in range(0, n, step):  # blocks of rows: no N x K temporary
        eep[a:a + step] = np.einsum("ij,ij->i", P[a:a + step], cond[c.y[a:a + step]])
    log_eep = float(np.log(eep * inv).sum())
    return log_eep / n


def nce(probs, labels) -> float:
    """Negative Conditional Entropy (Tran et al. 2019) as compared in the LEEP paper:
    -H(Y | Z) with Z = the source model's argmax class ("dummy labels").

    .. math:: \\mathrm{NCE} = \\sum_{y, z} \\hat P(y, z) \\log \\hat P(y \\mid z)

    ``probs`` are the source-class probabilities (their argmax is Z) and ``labels`` the
    target labels. Returns a float ≤ 0; higher = better. The LEEP paper does *not*
    prove LEEP ≥ NCE: its Property 2 (supplement, Sec. 1.2) is
    :math:`\\mathrm{LEEP} \\ge \\mathrm{NCE} + \\frac1n \\sum_i \\log \\theta(x_i)_{z_i}`, and the
    extra term is ≤ 0, so LEEP can be below NCE (e.g. a task where the source model's top
    class has low probability). Same value as tllib's
    ``negative_conditional_entropy`` (which adds 1e-20 inside the log; tecore uses the exact
    convention 0 log 0 = 0).

    Speed: ``probs`` is read in place (no copy) and streamed from memory once: in cached
    blocks of rows, the argmax of its unsigned-integer view (which also proves every entry
    finite and non-negative, :func:`tecore.metrics._checks.check_probs`) and the row sums
    checked by the validation; the joint counts are one ``bincount``.
    """
    c = check_probs(probs, labels, method="nce", argmax=True)  # argmax in the checking pass
    K, n = c.P.shape[1], len(c.y)
    # joint counts of (y, z); the sums run over the non-zero ones only (at most N of C K)
    counts = np.bincount(c.y * K + c.argmax, minlength=c.n_classes * K)
    nz = np.flatnonzero(counts)
    cnt, z = counts[nz].astype(np.float64), nz % K
    pz = np.bincount(z, weights=cnt, minlength=K)  # counts of z
    return float(np.sum(cnt / n * np.log(cnt / pz[z])))
