"""Per-class subsampling (platform-stable) and the official MedMNIST folds of Juodelyte et al."""
from __future__ import annotations

import warnings

import numpy as np

from tecore.metrics._checks import check_positive_int

# --------------------------------------------------------------------------------------
# subsampling
# --------------------------------------------------------------------------------------
def subsample_per_class(labels, per_class: int, seed: int = 0) -> np.ndarray:
    """Sorted positions keeping ``min(per_class, n_c)`` samples of every class.

    Deterministic across platforms and NumPy versions: for the classes in increasing
    order, ``rng = np.random.default_rng(seed)`` draws ``rng.random(n_c)`` keys for the
    class's positions (ascending) and the ``per_class`` smallest keys are kept (a stable
    argsort). Classes with fewer samples are kept whole (with a warning).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError("per-class subsampling needs single-label data (labels of shape (N,))")
    per_class = check_positive_int(per_class, "per_class")
    rng = np.random.default_rng(seed)
    keep, short = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        keys = rng.random(len(idx))
        if len(idx) <= per_class:
            if len(idx) < per_class:
                short.append((c.item() if hasattr(c, "item") else c, len(idx)))
            keep.append(idx)
        else:
            keep.append(idx[np.argsort(keys, kind="stable")[:per_class]])
    if short:
        warnings.warn(f"per_class={per_class}: classes with fewer samples are kept whole: "
                      + ", ".join(f"class {c} ({n})" for c, n in short), stacklevel=3)
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, np.int64)


def official_fold_indices(n_train: int, n_val: int, n_classes: int, fold: int = 1):
    """Indices of fold ``fold`` (1-5) of Juodelyte et al.'s official MedMNIST split.

    Reproduces ``make_splits`` in ``src/data_split.py`` of
    DovileDo/transferability-in-medical-imaging exactly: ``np.random.seed(24)``, then for
    folds 1..5 in turn ``choice(n_train, 100 * n_classes, replace=False)`` for training and,
    when the validation split has more than ``25 * n_classes`` images,
    ``choice(n_val, 25 * n_classes, replace=False)`` (else the whole validation split).
    The indices are in the official (random) order. Returns ``(train_idx, val_idx)``.
    """
    if not 1 <= int(fold) <= 5:
        raise ValueError(f"fold must be 1..5 (the official split has five folds), got {fold}")
    if n_train < 100 * n_classes:
        raise ValueError(f"the official split draws {100 * n_classes} training images but the "
                         f"split has only {n_train}")
    rs = np.random.RandomState(24)  # identical stream to np.random.seed(24) + np.random.choice
    for k in range(1, int(fold) + 1):
        tr = rs.choice(n_train, n_classes * 100, replace=False)
        if n_val > n_classes * 25:
            va = rs.choice(n_val, n_classes * 25, replace=False)
        else:
            va = np.arange(n_val)
        if k == fold:
            return tr.astype(np.int64), va.astype(np.int64)
    raise AssertionError("unreachable")

