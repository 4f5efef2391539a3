"""Shared input validation for every metric.

Every public metric calls one of these once, at the top, and works on what they return:
fresh float64 (or float32 on request) arrays — never views of the caller's arrays — and
labels encoded as ``0..C-1``. Errors are ``ValueError`` with a message that says what is
wrong and what to do, in the scikit-learn style.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "Checked",
    "check_features_labels",
    "check_probs_labels",
    "encode_labels",
    "check_positive_int",
    "check_features_targets",
    "MetricUnavailable",
    "CONTINUOUS_TARGET_METRICS",
]


class Checked(NamedTuple):
    """Validated metric input: ``X`` (N, D) float copy, ``y`` (N,) int in 0..C-1,
    ``classes`` the original label values (sorted), ``n_classes`` = C."""

    X: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    n_classes: int


#: registered metrics that accept continuous (regression) or multi-label targets
CONTINUOUS_TARGET_METRICS = ("logme_regression", "logme_multilabel")
_CONTINUOUS_HINT = (
    "for continuous (regression) or multi-label targets use a metric that accepts them: "
    + ", ".join(CONTINUOUS_TARGET_METRICS)
    + " (= logme(features, targets, regression=True); a multi-label target is its 0/1 indicator "
    "matrix, as thuml/LogME issue #9 suggests)."
)


def encode_labels(labels, *, name: str = "labels") -> tuple[np.ndarray, np.ndarray]:
    """Encode arbitrary hashable labels (ints, strings, floats that are whole numbers)
    to ``0..C-1`` in sorted order of the original values. Returns ``(y, classes)``."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:  # MedMNIST-style (N, 1) labels
        y = y[:, 0]
    if y.ndim != 1:
        if y.ndim == 2 and y.dtype.kind in "biuf":  # one-hot, multi-label indicator or N x K regression
            raise ValueError(
                f"{name} must be a 1-D array of class labels, got shape {y.shape}: a one-hot, "
                "multi-label indicator or multi-output regression target. This metric is "
                f"classification-only; {_CONTINUOUS_HINT}"
            )
        raise ValueError(
            f"{name} must be a 1-D array of class labels, got shape {y.shape}; "
            "pass integer or string class labels, one per sample (not one-hot)."
        )
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contain NaN or inf; every sample needs a class label.")
        if not np.all(y == np.round(y)):
            raise ValueError(
                f"{name} are non-integer floats (e.g. {float(y[y != np.round(y)][0])!r}); "
                "these look like regression targets — pass class labels. This metric is "
                f"classification-only; {_CONTINUOUS_HINT}"
            )
    elif y.dtype.kind == "O":
        try:
            y = y.astype(str)
        except Exception as exc:  # pragma: no cover - exotic objects
            raise ValueError(f"{name} could not be read as class labels: {exc}") from None
    elif y.dtype.kind not in "iubUS":
        raise ValueError(f"{name} have unsupported dtype {y.dtype}; pass integer or string labels.")
    classes, encoded = np.unique(y, return_inverse=True)
    return encoded.astype(np.int64).reshape(-1), classes


def _as_2d_float(a, *, name: str, dtype) -> np.ndarray:
    try:
        X = np.array(a, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_dims), got shape {X.shape}; "
            "flatten or pool each sample's features into one vector first."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}).")
    if not np.all(np.isfinite(X)):
        bad = int(np.count_nonzero(~np.isfinite(X).all(axis=1)))
        raise ValueError(
            f"{name} contain NaN or inf in {bad} sample(s); remove those samples or fix the "
            "extraction (an overflow in float16 is a common cause)."
        )
    return X


def check_features_labels(
    features,
    labels,
    *,
    min_classes: int = 2,
    min_per_class: int = 1,
    dtype=np.float64,
    method: str = "this metric",
) -> Checked:
    """Validate ``features`` (N, D) and ``labels`` (N,) for a feature-based metric.

    Returns a :class:`Checked` with a float copy of the features (the caller's array is
    never touched) and labels encoded to ``0..C-1``.
    """
    X = _as_2d_float(features, name="features", dtype=dtype)
    y, classes = encode_labels(labels)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"features and labels have different lengths ({X.shape[0]} vs {y.shape[0]}); "
            "pass one label per feature row."
        )
    _check_classes(y, classes, min_classes=min_classes, min_per_class=min_per_class, method=method)
    return Checked(X, y, classes, len(classes))


def check_probs_labels(
    probs,
    labels,
    *,
    min_classes: int = 2,
    atol: float = 1e-3,
    method: str = "this metric",
) -> Checked:
    """Validate source-class probabilities ``probs`` (N, K) and target ``labels`` (N,).

    Rows must be non-negative and sum to 1 (within ``atol``); pass softmax outputs, not
    logits (``scipy.special.softmax(logits, axis=1)``). The returned ``X`` is the
    renormalised float64 copy.
    """
    P = _as_2d_float(probs, name="probs", dtype=np.float64)
    if np.any(P < 0):
        raise ValueError(
            "probs contain negative values: these look like logits. Pass source-class "
            "probabilities, e.g. scipy.special.softmax(logits, axis=1)."
        )
    sums = P.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > atol):
        raise ValueError(
            f"rows of probs must sum to 1 (found sums from {sums.min():.4g} to {sums.max():.4g}); "
            "pass softmax probabilities over the source classes, not logits or scores."
        )
    P /= sums[:, None]
    y, classes = encode_labels(labels)
    if P.shape[0] != y.shape[0]:
        raise ValueError(
            f"probs and labels have different lengths ({P.shape[0]} vs {y.shape[0]}); "
            "pass one label per row of probabilities."
        )
    _check_classes(y, classes, min_classes=min_classes, min_per_class=1, method=method)
    return Checked(P, y, classes, len(classes))


def _check_classes(y, classes, *, min_classes: int, min_per_class: int, method: str) -> None:
    if len(classes) < min_classes:
        raise ValueError(
            f"{method} needs at least {min_classes} classes, got {len(classes)} "
            f"({list(classes[:5])}); transferability is undefined for a single-class target."
        )
    if min_per_class > 1:
        counts = np.bincount(y, minlength=len(classes))
        small = np.flatnonzero(counts < min_per_class)
        if small.size:
            shown = ", ".join(f"{classes[i]!r}: {counts[i]}" for i in small[:5])
            raise ValueError(
                f"{method} needs at least {min_per_class} samples per class; too few in "
                f"{shown}{' …' if small.size > 5 else ''}. Drop or merge those classes, or "
                "sample more images per class."
            )


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``; else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


class MetricUnavailable(ValueError):
    """A metric has no value for this model (e.g. no published ImageNet top-1). Scoring a pool
    records NaN with this message as the note instead of failing
    (:func:`tecore.pool.score_pool`)."""


def check_features_targets(features, targets, *, multilabel: bool = False,
                           method: str = "this metric") -> tuple[np.ndarray, np.ndarray]:
    """Validate ``features`` (N, D) and continuous ``targets`` (N,) or (N, K) for a metric in
    regression mode; ``multilabel=True`` also requires a 0/1 indicator matrix.

    Returns float64 copies ``(X, Y)`` with ``Y`` of shape (N, K) (a 1-D target becomes one
    column). The caller's arrays are never touched.
    """
    X = _as_2d_float(features, name="features", dtype=np.float64)
    t = np.asarray(targets)
    if t.dtype.kind not in "biuf":
        raise ValueError(
            f"{method} in regression mode needs numeric targets, got dtype {t.dtype}; pass "
            "continuous values (N,) or (N, K), or a 0/1 multi-label indicator matrix."
        )
    if t.ndim not in (1, 2) or t.size == 0:
        raise ValueError(
            f"targets must have shape (n_samples,) or (n_samples, n_targets), got {t.shape}."
        )
    Y = np.array(t, dtype=np.float64, copy=True).reshape(t.shape[0], -1)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"features and targets have different lengths ({X.shape[0]} vs {Y.shape[0]}); "
            "pass one target row per feature row."
        )
    if not np.all(np.isfinite(Y)):
        bad = int(np.count_nonzero(~np.isfinite(Y).all(axis=1)))
        raise ValueError(f"targets contain NaN or inf in {bad} sample(s); drop those samples.")
    if multilabel and not np.all((Y == 0) | (Y == 1)):
        raise ValueError(
            "a multi-label target must be a 0/1 indicator matrix (n_samples, n_labels), e.g. "
            "sklearn.preprocessing.MultiLabelBinarizer().fit_transform(label_sets)."
        )
    if X.shape[0] < 2:
        raise ValueError(f"{method} needs at least 2 samples, got {X.shape[0]}.")
    return X, Y
