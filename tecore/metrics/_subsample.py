"""The class-stratified subsample on which the iterative estimators of N-LEEP (Gaussian
mixture), S_LP (NCA) and PACTran's mixture variants are *fitted* at large N; the fitted model
is then applied to all N samples (see ``max_fit_samples`` of :func:`tecore.metrics.nleep.nleep`,
:func:`tecore.metrics.nca.lp` and :func:`tecore.metrics.pactran.gmm_posteriors`)."""
from __future__ import annotations

import numpy as np

__all__ = ["stratified_subsample", "MAX_FIT_SAMPLES"]

#: the default ``max_fit_samples`` of those estimators: above it they are fitted on a
#: stratified subsample of this many samples
MAX_FIT_SAMPLES = 5000


def stratified_subsample(y: np.ndarray, n_classes: int, m: int | None, per_class_min: int,
                         random_state) -> np.ndarray | None:
    """Sorted indices of a class-stratified random subsample of about ``m`` of the ``N =
    len(y)`` samples, or ``None`` when no subsample is needed (``m`` is ``None`` or N <= m).

    Class j keeps ``round(n_j m / N)`` samples, at least ``per_class_min`` (or all n_j if it
    has fewer), drawn with ``numpy.random.default_rng(random_state)``: deterministic for a
    given seed. ``y`` holds codes 0..n_classes-1.
    """
    n = len(y)
    if m is None or n <= m:
        return None
    rng = np.random.default_rng(random_state)
    counts = np.bincount(y, minlength=n_classes)
    take = np.minimum(counts, np.maximum(np.round(counts * (m / n)).astype(int), per_class_min))
    order = np.argsort(y, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    idx = [rng.permutation(order[starts[j]:starts[j + 1]])[:take[j]] for j in range(n_classes)]
    return np.sort(np.concatenate(idx))
