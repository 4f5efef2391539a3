"""SFDA (tecore.metrics.sfda)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.special import softmax
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from tecore.metrics.sfda import power_iteration_eigmax, sfda, shrunk_lda_proba
from tests._metric_props import golden_data


_data = golden_data


# Golden values: TencentARC/SFDA metrics.py (commit 3b7edf76bd682acb1eba4f4c5eb7ea7f3f7f6c59),
# function SFDA_Score, run unchanged in a scratch dir (utils.iterative_A copied beside it) on
# _data(*args):  v64 = SFDA_Score(X.copy(), y) with float64 X;  v32 = SFDA_Score(X32, y) with
# X32 = X.astype(float32) (first call);  v32_2nd = a second SFDA_Score(X32, y) on the same,
# now mutated, array.
GOLDEN = [
    ((0, 200, 8, 3, 1.0, 1.0), 0.7231993992553873, 0.723199397509451, 0.5129133261080302),
    ((1, 300, 20, 5, 0.5, 0.3), 0.4960495794384713, 0.4960495785179281, 0.312673101459),
    ((2, 150, 40, 4, 0.8, 0.05), 0.9744025301432441, 0.9744025301840096, 0.802123500053499),
    ((3, 400, 16, 10, 0.7, 1.0), 0.4593138398813729, 0.4593138398451413, 0.23259220584552845),
]


@pytest.mark.parametrize("args,v64,v32,v32_2nd", GOLDEN)
def test_golden_vs_official(args, v64, v32, v32_2nd):
    X, y = _data(*args)
    assert sfda(X, y) == pytest.approx(v64, rel=1e-6)
    X32 = X.astype(np.float32)
    assert sfda(X32, y, official_dtype=True) == pytest.approx(v32, rel=1e-6)
    assert sfda(X32, y, official_dtype=True, official_nth_call=2) == pytest.approx(v32_2nd, rel=1e-6)
    # tecore does not mutate: calling twice gives the first-call value twice
    assert sfda(X32, y) == sfda(X32, y)


def test_power_iteration_is_the_official_approximation():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    # hand computation of iterative_A with 3 iterations from x = A 1 = (3, 4)
    x = A.sum(1)
    for _ in range(3):
        yv = A @ x / np.linalg.norm(A @ x)
        x = A @ yv / np.linalg.norm(A @ yv)
    assert power_iteration_eigmax(A) == pytest.approx(x @ A @ yv, rel=1e-14)
    assert power_iteration_eigmax(A) == pytest.approx(np.linalg.eigvalsh(A)[-1], rel=1e-3)


def test_stage_one_equals_sklearn_shrinkage_lda():
    X, y = _data(4, 250, 12, 4, 0.6, 1.0)
    proba, s, _ = shrunk_lda_proba(X, y, 4, 0.3)
    ref = LinearDiscriminantAnalysis(solver="eigen", shrinkage=0.3).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba, ref, rtol=1e-9, atol=1e-12)
    assert s == 0.3


def _independent_sfda(X, y):
    """SFDA written with scikit-learn's shrinkage LDA and an explicit per-class ConfMix loop."""
    C = y.max() + 1
    Sw = sum((y == c).mean() * np.cov(X[y == c].T, bias=True) for c in range(C))
    x = Sw.sum(1)
    for _ in range(3):
        v = Sw @ x / np.linalg.norm(Sw @ x)
        x = Sw @ v / np.linalg.norm(Sw @ v)
    s = max(np.exp(-5 * (x @ Sw @ v)), 1e-10)
    p = LinearDiscriminantAnalysis(solver="eigen", shrinkage=s).fit(X, y).predict_proba(X)
    p = softmax(p, axis=1)
    means = np.array([X[y == c].mean(0) for c in range(C)])
    Xm = X.copy()
    for c in range(C):
        other = np.delete(means, c, axis=0).mean(0)
        pc = p[y == c, c][:, None]
        Xm[y == c] = pc * X[y == c] + (1 - pc) * other
    p2 = LinearDiscriminantAnalysis(solver="eigen", shrinkage=s).fit(Xm, y).predict_proba(Xm)
    return p2[np.arange(len(y)), y].mean()


def test_independent_formulation():
    X, y = _data(5, 300, 10, 5, 0.5, 0.5)
    assert sfda(X, y) == pytest.approx(_independent_sfda(X, y), rel=1e-8)


def test_invariances():
    X, y = _data(6, 240, 10, 4, 0.6, 0.7)
    base = sfda(X, y)
    r = np.random.default_rng(1)
    perm = r.permutation(len(y))
    assert sfda(X[perm], y[perm]) == pytest.approx(base, rel=1e-9)
    assert sfda(X, np.array(["d", "c", "b", "a"])[y]) == pytest.approx(base, rel=1e-9)  # relabel
    assert sfda(X + 5.0, y) == pytest.approx(base, rel=1e-8)  # translation
    assert sfda(X[:, r.permutation(10)], y) == pytest.approx(base, rel=1e-9)  # dims
    # not scale-invariant: the adaptive shrinkage exp(-5 lambda_max) depends on the scale
    assert sfda(0.05 * X, y) != pytest.approx(base, rel=1e-3)


def test_separable_classes_score_near_one_and_range():
    X, y = _data(7, 200, 6, 3, 8.0, 1.0)
    assert sfda(X, y) > 0.95
    Xn, yn = _data(8, 200, 6, 3, 0.0, 1.0)
    assert 0 < sfda(Xn, yn) < sfda(X, y)


def test_no_mutation():
    X, y = _data(9, 120, 5, 3, 1.0, 1.0)
    X32 = X.astype(np.float32)
    c64, c32, cy = X.copy(), X32.copy(), y.copy()
    sfda(X, y)
    sfda(X32, y, official_dtype=True, official_nth_call=3)
    assert np.array_equal(X, c64) and np.array_equal(X32, c32) and np.array_equal(y, cy)


def test_bad_arguments():
    X, y = _data(10, 60, 4, 3, 1.0, 1.0)
    with pytest.raises(ValueError, match="shrinkage"):
        sfda(X, y, shrinkage=1.5)
    with pytest.raises(ValueError, match="official_nth_call"):
        sfda(X, y, official_nth_call=0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        sfda(X, np.ones(60))
    # singular scatter with a tiny shrinkage: a clear error, not a LinAlgError
    Xs = np.zeros((60, 4))
    Xs[:, 0] = np.arange(60) % 3
    with pytest.raises(ValueError, match="singular"):
        sfda(Xs, np.arange(60) % 3, shrinkage=0.0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(6, 40), d=st.integers(1, 5), bad=st.sampled_from(["nan", "inf", "len", "3d"]))
def test_bad_input_raises_clear_error(n, d, bad):
    r = np.random.default_rng(n + 100 * d)
    X = r.normal(size=(n, d))
    y = np.arange(n) % 3
    if bad == "nan":
        X[r.integers(n), r.integers(d)] = np.nan
    elif bad == "inf":
        X[r.integers(n), r.integers(d)] = -np.inf
    elif bad == "len":
        y = np.append(y, 0)
    else:
        X = X[:, :, None]
    with pytest.raises(ValueError):
        sfda(X, y)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.integers(2, 4))
def test_property_in_unit_interval_and_no_mutation(seed, c):
    r = np.random.default_rng(seed)
    X = r.normal(size=(40, 4))
    y = np.arange(40) % c
    X0 = X.copy()
    v = sfda(X, y)
    assert 0 < v <= 1
    assert np.array_equal(X, X0)
