"""Shared property checks for feature metrics (invariances, bad inputs, no mutation)."""
import numpy as np
import pytest


def blobs(seed, n, d, c, spread=0.5):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    return r.normal(size=(n, d)) + spread * r.normal(size=(c, d))[y], y


def check_common(fn, X, y, *, rel=1e-8, **kw):
    """Permutation and relabelling invariance, string labels, no mutation, clear errors."""
    base = fn(X, y, **kw)
    Xc, yc = X.copy(), y.copy()
    perm = np.random.default_rng(1).permutation(len(y))
    assert fn(X[perm], y[perm], **kw) == pytest.approx(base, rel=rel, abs=1e-10)
    relabel = (y + 1) % (y.max() + 1)  # a permutation of the class ids
    assert fn(X, relabel, **kw) == pytest.approx(base, rel=rel, abs=1e-10)
    assert fn(X, np.array([f"class-{v}" for v in y]), **kw) == pytest.approx(base, rel=rel, abs=1e-10)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fn(bad, y, **kw)
    with pytest.raises(ValueError, match="different lengths"):
        fn(X, y[:-1], **kw)
    with pytest.raises(ValueError, match="at least 2 classes"):
        fn(X, np.zeros_like(y), **kw)
    return base


def golden_data(seed, n, d, c, sep, scale):
    """The inputs the golden values of the official-code comparisons were computed on:
    every class present, class means ``sep`` * N(0, 1), features scaled by ``scale``."""
    r = np.random.default_rng(seed)
    y = r.integers(0, c, n)
    y[:c] = np.arange(c)
    X = (r.normal(size=(n, d)) + sep * r.normal(size=(c, d))[y]) * scale
    return X, y


def regression_data(seed, n, d, k, noise):
    """Inputs of the regression golden values: features (n, d) and continuous targets (n, k),
    a linear map of the features plus ``noise`` * N(0, 1)."""
    r = np.random.default_rng(seed)
    X = r.normal(size=(n, d))
    Y = X @ r.normal(size=(d, k)) + noise * r.normal(size=(n, k))
    return X, Y


def multilabel_data(seed, n, d, k, sep):
    """Inputs of the multi-label golden values: features (n, d) and a 0/1 indicator matrix
    (n, k) (each label on with probability 0.35) whose labels shift the features by ``sep``."""
    r = np.random.default_rng(seed)
    Y = (r.random((n, k)) < 0.35).astype(np.int64)
    X = r.normal(size=(n, d)) + sep * Y @ r.normal(size=(k, d))
    return X, Y


def probs_data(seed, n, k, c, sep):
    """Inputs of the PACTran golden values: source-class probabilities (n, k), the softmax of
    N(0, 1) logits with ``sep`` added at source class y % k, and target labels y (all c present)."""
    from scipy.special import softmax

    r = np.random.default_rng(seed)
    y = r.integers(0, c, n)
    y[:c] = np.arange(c)
    logits = r.normal(size=(n, k))
    logits[np.arange(n), y % k] += sep
    return softmax(logits, axis=1), y
