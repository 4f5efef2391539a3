"""Shared input validation for every metric.

Every public metric calls one of these once, at the top, and works on what they return:
fresh float64 (or float32 on request) arrays — never views of the caller's arrays — and
labels encoded as ``0..C-1``. Errors are ``ValueError`` with a message that says what is
wrong and what to do, in the scikit-learn style.
"""
from __future__ import annotations

import functools
import inspect
import math
from numbers import Integral, Real
from typing import Callable, Mapping, NamedTuple

import numpy as np

__all__ = [
    "Checked",
    "check_features_labels",
    "check_probs_labels",
    "check_probs",
    "CheckedProbs",
    "encode_labels",
    "check_positive_int",
    "check_features_targets",
    "MetricUnavailable",
    "CONTINUOUS_TARGET_METRICS",
    "Interval",
    "Options",
    "validate_params",
    "check_param",
    "plain",
    "finite_result",
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
    if isinstance(labels, (list, tuple)):
        # np.asarray([1, "1"]) turns both into the string "1" before we can see them
        _refuse_mixed_label_types(labels, name)
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
                f"{name} are non-integer floats (e.g. {plain(y[y != np.round(y)][0])!r}); "
                "these look like regression targets — pass class labels. This metric is "
                f"classification-only; {_CONTINUOUS_HINT}"
            )
    elif y.dtype.kind == "O":
        _refuse_mixed_label_types(y.tolist(), name)
        try:
            y = y.astype(str)
        except Exception as exc:  # pragma: no cover - exotic objects
            raise ValueError(f"{name} could not be read as class labels: {exc}") from None
    elif y.dtype.kind not in "iubUS":
        raise ValueError(f"{name} have unsupported dtype {y.dtype}; pass integer or string labels.")
    if y.dtype.kind in "iu" and y.size and 0 <= y.min() and y.max() < 4 * y.size + 1024:
        # small non-negative integers (the usual case): np.unique's result from one bincount
        # and a lookup table, O(N) instead of a sort
        present = np.bincount(y) > 0
        lut = np.cumsum(present) - 1
        return lut[y].astype(np.int64, copy=False), np.flatnonzero(present).astype(y.dtype)
    classes, encoded = np.unique(y, return_inverse=True)
    return encoded.astype(np.int64).reshape(-1), classes


def _refuse_mixed_label_types(values, name: str) -> None:
    """Labels mixing strings with numbers (``[1, "1", 2, "2"]``) would be merged by their
    string form; refuse them instead of guessing."""
    flat = [v for row in values for v in (row if isinstance(row, (list, tuple)) else [row])]
    has_str = any(isinstance(v, (str, bytes, np.str_, np.bytes_)) for v in flat)
    if has_str and not all(isinstance(v, (str, bytes, np.str_, np.bytes_)) for v in flat):
        num = next(v for v in flat if not isinstance(v, (str, bytes, np.str_, np.bytes_)))
        txt = next(v for v in flat if isinstance(v, (str, bytes, np.str_, np.bytes_)))
        raise ValueError(
            f"{name} mix strings and numbers (e.g. {plain(num)!r} and {plain(txt)!r}); "
            "1 and '1' would be merged into one class. Convert all labels to one type first."
        )


def _as_2d_float(a, *, name: str, dtype, copy: bool = True) -> np.ndarray:
    """``a`` as a 2-D finite float array of ``dtype``: a fresh copy, or with ``copy=False``
    the caller's array itself when it already has that dtype, as a read-only view."""
    try:
        X = np.array(a, dtype=dtype, copy=True) if copy else np.asarray(a, dtype=dtype)
        if not copy and isinstance(a, np.ndarray) and np.shares_memory(X, a):
            X = X.view()
            X.flags.writeable = False
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_dims), got shape {X.shape}; "
            "flatten or pool each sample's features into one vector first."
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}).")
    # one sum over all entries (NaN and inf propagate; no N x D boolean temporary); only
    # when it is not finite (bad entries, or an overflow of the sum) the entries are checked
    if not np.isfinite(np.add.reduce(X, axis=None)) and not np.all(np.isfinite(X)):
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
    copy: bool = True,
) -> Checked:
    """Validate ``features`` (N, D) and ``labels`` (N,) for a feature-based metric.

    Returns a :class:`Checked` with a float copy of the features (the caller's array is
    never touched; with ``copy=False``, for a metric that only reads them, the caller's
    array itself as a read-only view when it already has ``dtype``) and labels encoded to
    ``0..C-1``.
    """
    X = _as_2d_float(features, name="features", dtype=dtype, copy=copy)
    y, classes = encode_labels(labels)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"features and labels have different lengths ({X.shape[0]} vs {y.shape[0]}); "
            "pass one label per feature row."
        )
    _check_classes(y, classes, min_classes=min_classes, min_per_class=min_per_class, method=method)
    return Checked(X, y, classes, len(classes))


class CheckedProbs(NamedTuple):
    """Validated probabilities: ``P`` a read-only view of the caller's (N, K) array when it
    is float32/float64 (otherwise a float64 copy), *not* renormalised; ``sums`` its (N,) row
    sums (float64); ``argmax`` the (N,) row argmax when asked for (else ``None``); ``y``,
    ``classes``, ``n_classes`` as in :class:`Checked`."""

    P: np.ndarray
    sums: np.ndarray
    argmax: np.ndarray | None
    y: np.ndarray
    classes: np.ndarray
    n_classes: int


def check_probs(probs, labels, *, min_classes: int = 2, atol: float = 1e-3,
                method: str = "this metric", argmax: bool = False) -> CheckedProbs:
    """Validate source-class probabilities ``probs`` (N, K) and target ``labels`` (N,)
    without copying them (the cheap metrics' path: an N x K float64 copy costs more than
    LEEP itself).

    Rows must be finite, non-negative and sum to 1 (within ``atol``); pass softmax outputs,
    not logits (``scipy.special.softmax(logits, axis=1)``). Two reductions read the array
    in place: its row sums (in the array's dtype; NaN and inf show there) and its minimum,
    or, with ``argmax=True``, instead of the minimum the row argmax of its unsigned-integer
    view, which also proves every entry non-negative and finite (:func:`_argmax_nonnegative_sums`,
    one pass over the array for both;
    the float argmax is recomputed only when an entry is -0.0). float32 and float64 arrays are returned as read-only
    views (the caller's array is never written); other dtypes are converted to float64.
    """
    P = np.asarray(probs) if isinstance(probs, np.ndarray) else None
    if P is None or P.dtype not in (np.float32, np.float64):
        P = _as_2d_float(probs, name="probs", dtype=np.float64)
    elif P.ndim != 2 or P.size == 0:
        _as_2d_float(P, name="probs", dtype=P.dtype)  # raises the shape/emptiness error
    src, P = P, P.view()
    P.flags.writeable = False
    n = P.shape[0]
    if argmax:  # am None: a sign bit, NaN or inf somewhere
        am, sums = _argmax_nonnegative_sums(src)
    else:
        am, sums = None, P.sum(axis=1).astype(np.float64)  # NaN and inf show here
    if not np.all(np.isfinite(sums)):
        _as_2d_float(P, name="probs", dtype=P.dtype)  # raises the NaN/inf error
    if am is None and P.min() < 0:  # (a proven argmax already excludes negatives)
        raise ValueError(
            "probs contain negative values: these look like logits. Pass source-class "
            "probabilities, e.g. scipy.special.softmax(logits, axis=1)."
        )
    if np.any(np.abs(sums - 1.0) > atol):
        raise ValueError(
            f"rows of probs must sum to 1 (found sums from {sums.min():.4g} to {sums.max():.4g}); "
            "pass softmax probabilities over the source classes, not logits or scores."
        )
    y, classes = encode_labels(labels)
    if n != y.shape[0]:
        raise ValueError(
            f"probs and labels have different lengths ({n} vs {y.shape[0]}); "
            "pass one label per row of probabilities."
        )
    _check_classes(y, classes, min_classes=min_classes, min_per_class=1, method=method)
    if argmax and am is None:  # -0.0 entries: valid, but the integer view misorders them
        am = np.argmax(src, axis=1)
    return CheckedProbs(P, sums, am, y, classes, len(classes))


#: rows per block of :func:`_argmax_nonnegative_sums` (256 x 1000 float64 = 2 MiB)
_ROWS = 256


def _argmax_nonnegative_sums(P: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Row argmax and row sums (float64) of a float32/float64 array ``P`` (N, K), proving on
    the way that every entry is finite and non-negative; the argmax is ``None`` when it
    cannot (some entry negative, -0.0, NaN or inf).

    Read as unsigned integers of the same width, non-negative floats keep their order
    (IEEE 754), +inf and NaN come above every finite value and anything with the sign bit
    set above those. So the integer argmax of a row is the float argmax when the row is
    finite and non-negative, and otherwise lands on an offending entry: checking the entry
    it picks in each row replaces a separate minimum pass over the N x K array. The rows
    are read in blocks that stay in cache for the second reduction (the sums, by
    ``einsum``), so ``P`` streams from memory once.
    """
    n = P.shape[0]
    U = P.view(np.uint32 if P.dtype == np.float32 else np.uint64)
    am = np.empty(n, dtype=np.intp)
    sums = np.empty(n, dtype=P.dtype)
    ok = True
    for a in range(0, n, _ROWS):
        b = min(n, a + _ROWS)
        # the argmax of the caller's array: numpy 2.4's argmax is ~4x slower on a read-only view
        np.argmax(U[a:b], axis=1, out=am[a:b])
        np.einsum("ij->i", P[a:b], out=sums[a:b])
        top = P[np.arange(a, b), am[a:b]]
        ok = ok and not np.signbit(top).any() and bool(np.isfinite(top).all())
    return (am if ok else None), sums.astype(np.float64, copy=False)


def check_probs_labels(
    probs,
    labels,
    *,
    min_classes: int = 2,
    atol: float = 1e-3,
    method: str = "this metric",
) -> Checked:
    """Validate source-class probabilities ``probs`` (N, K) and target ``labels`` (N,)
    (the checks of :func:`check_probs`). The returned ``X`` is the renormalised float64
    copy; metrics that need no copy use :func:`check_probs`."""
    c = check_probs(probs, labels, min_classes=min_classes, atol=atol, method=method)
    P = np.array(c.P, dtype=np.float64, copy=True)
    P /= c.sums[:, None]
    return Checked(P, c.y, c.classes, c.n_classes)


def _check_classes(y, classes, *, min_classes: int, min_per_class: int, method: str) -> None:
    if len(classes) < min_classes:
        raise ValueError(
            f"{method} needs at least {min_classes} classes, got {len(classes)} "
            f"({classes[:5].tolist()}); transferability is undefined for a single-class target."
        )
    if min_per_class > 1:
        counts = np.bincount(y, minlength=len(classes))
        small = np.flatnonzero(counts < min_per_class)
        if small.size:
            shown = ", ".join(f"{plain(classes[i])!r}: {int(counts[i])}" for i in small[:5])
            raise ValueError(
                f"{method} needs at least {min_per_class} samples per class; too few in "
                f"{shown}{' …' if small.size > 5 else ''}. Drop or merge those classes, or "
                "sample more images per class."
            )


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``; else raise ValueError."""
    check_param(value, name, [Interval(Integral, minimum, None)])
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
# --------------------------------------------------------------------------------------
# declarative hyper-parameter constraints (scikit-learn's ``_parameter_constraints`` style)
# --------------------------------------------------------------------------------------
def plain(value):
    """``value`` with numpy scalars turned into Python ones, for messages: ``2`` rather than
    ``np.int64(2)``."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class Interval(NamedTuple):
    """A range of numbers: ``Interval(Real, 0, None, closed="neither")`` is ``(0, inf)``.

    ``kind`` is ``numbers.Integral`` or ``numbers.Real``; ``None`` bounds are open-ended.
    NaN and inf never satisfy an interval of reals (hyper-parameters are finite); booleans
    never satisfy an interval.
    """

    kind: type
    left: float | None
    right: float | None
    closed: str = "both"  # "both", "left", "right", "neither"

    def accepts(self, v) -> bool:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, self.kind):
            return False
        if self.kind is Real and not math.isfinite(float(v)):
            return False
        lo_ok = self.left is None or (v >= self.left if self.closed in ("both", "left") else v > self.left)
        hi_ok = self.right is None or (v <= self.right if self.closed in ("both", "right") else v < self.right)
        return bool(lo_ok and hi_ok)

    def __str__(self) -> str:
        what = "an integer" if self.kind is Integral else "a finite number"
        if self.left is not None and self.right is not None:
            lb = "[" if self.closed in ("both", "left") else "("
            rb = "]" if self.closed in ("both", "right") else ")"
            return f"{what} in {lb}{self.left}, {self.right}{rb}"
        if self.left is not None:
            return f"{what} {'>=' if self.closed in ('both', 'left') else '>'} {self.left}"
        if self.right is not None:
            return f"{what} {'<=' if self.closed in ('both', 'right') else '<'} {self.right}"
        return what


class Options(NamedTuple):
    """One of a fixed set of values (strings, or ``True``/``False``)."""

    values: tuple

    def accepts(self, v) -> bool:
        if isinstance(v, np.bool_):
            v = bool(v)
        return any(v is o or (isinstance(o, str) and isinstance(v, str) and v == o)
                   or (type(v) is type(o) and v == o) for o in self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.values)


#: shorthands used in the constraint tables
BOOLEAN = Options((True, False))
RANDOM_STATE = Interval(Integral, 0, None)  # a seed; None is listed separately where allowed


def _accepts(c, v) -> bool:
    if c is None:
        return v is None
    if isinstance(c, (Interval, Options)):
        return c.accepts(v)
    if isinstance(c, type):
        return isinstance(v, c)
    if callable(c):
        return bool(c(v))
    raise TypeError(f"unknown constraint {c!r}")  # pragma: no cover - programming error


def _describe(c) -> str:
    if c is None:
        return "None"
    if isinstance(c, type):
        return f"a {c.__name__}"
    return getattr(c, "__doc_constraint__", None) or str(c)


def check_param(value, name: str, constraints, *, method: str | None = None) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` satisfies one of ``constraints``
    (a list of :class:`Interval`, :class:`Options`, types, ``None`` or predicates)."""
    if any(_accepts(c, value) for c in constraints):
        return
    allowed = " or ".join(_describe(c) for c in constraints)
    where = f"{method}: " if method else ""
    raise ValueError(f"{where}parameter {name} must be {allowed}, got {plain(value)!r}.")


def validate_params(constraints: Mapping[str, list], *, method: str | None = None) -> Callable:
    """Decorator: check the hyper-parameters passed to a metric against ``constraints``
    (``{parameter name: [allowed, ...]}``), like scikit-learn's ``_parameter_constraints``.

    Every explicitly passed argument named in the table is checked before the metric runs;
    a violation is a ``ValueError`` naming the parameter, the allowed values and the value
    given. Defaults are not re-checked. The table is kept on the function as
    ``fn.parameter_constraints``.
    """

    def deco(fn):
        sig = inspect.signature(fn)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:  # pragma: no cover - programming error caught at import
            raise TypeError(f"constraints for unknown parameters {sorted(unknown)} of {fn.__name__}")
        label = method or fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{label}: {exc}") from None
            for name, value in bound.arguments.items():
                if name in constraints:
                    check_param(value, name, constraints[name], method=label)
            return fn(*args, **kwargs)

        wrapper.parameter_constraints = dict(constraints)
        return wrapper

    return deco


def finite_result(value, *, method: str, hint: str) -> float:
    """Return ``value`` as float if it is finite; otherwise raise ``ValueError`` saying which
    metric produced NaN/inf and what to check (``hint``) — never a silent NaN."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{method} is not finite ({v}) on these features: {hint}")
    return v
