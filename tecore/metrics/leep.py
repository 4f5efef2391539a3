"""LEEP and NCE: transferability from the source model's class probabilities.

Nguyen et al., *LEEP: a new measure to evaluate transferability of learned representations*,
ICML 2020 (supplement: ``../shared/papers/003_cbb8a031b46efa3f.txt``); Tran et al.,
*Transferability and hardness of supervised classification tasks*, ICCV 2019 (NCE).
Reference implementations: thuml/Transfer-Learning-Library ``tllib/ranking/leep.py`` and
``nce.py``.
"""
from __future__ import annotations

import numpy as np

from tecore.metrics._checks import check_probs_labels

__all__ = ["leep", "nce"]


def _class_blocks(y: np.ndarray, n_classes: int) -> list[np.ndarray]:
    """Positions of each class's samples (one stable sort, O(N log N))."""
    order = np.argsort(y, kind="stable")
    return np.split(order, np.cumsum(np.bincount(y, minlength=n_classes))[:-1])


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
    """
    c = check_probs_labels(probs, labels, method="leep")
    blocks = _class_blocks(c.y, c.n_classes)
    parts = [c.X[b] for b in blocks]  # each class's rows, gathered once
    joint = np.stack([p.sum(axis=0) for p in parts]) / c.X.shape[0]
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)  # P(y|z), C_t x K
    # sum_z theta(x_i)_z P(y_i|z), class by class: O(N K), no N x K temporary
    log_eep = sum(float(np.log(p @ cond[k]).sum()) for k, p in enumerate(parts))
    return log_eep / c.X.shape[0]


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
    """
    c = check_probs_labels(probs, labels, method="nce")
    z = np.argmax(c.X, axis=1)
    K = c.X.shape[1]
    joint = np.zeros((c.n_classes, K))
    np.add.at(joint, (c.y, z), 1.0 / len(z))
    pz = joint.sum(axis=0)
    nz = joint > 0
    cond = np.divide(joint, pz, out=np.ones_like(joint), where=pz > 0)
    return float(np.sum(joint[nz] * np.log(cond[nz])))
