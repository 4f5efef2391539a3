"""LogME: golden values, the fixed point vs direct evidence maximisation, properties."""
import numpy as np
import pytest
from scipy.optimize import minimize

from tecore.metrics.logme import logme, logme_multilabel, logme_regression
from tests._metric_props import blobs, check_common, multilabel_data, regression_data


# Golden values: thuml/LogME LogME.py, LogME().fit(X, y) (fixed-point algorithm), run in a
# scratch directory with numba's @njit replaced by the identity (numba not installed; it only
# compiles the same Python code).
@pytest.mark.parametrize("seed,n,d,c,ref", [
    (0, 60, 8, 3, -0.687646041619026), (1, 200, 32, 5, -0.3049961676278411),
    (2, 50, 100, 4, 3.084550215516679)])
def test_golden_values(seed, n, d, c, ref):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = r.normal(size=(n, d)) + 0.5 * r.normal(size=(c, d))[y]
    assert logme(X, y) == pytest.approx(ref, rel=1e-6)


def _log_evidence(F, y, log_alpha, log_beta):
    """Direct log evidence of Bayesian linear regression y ~ N(F w, 1/beta), w ~ N(0, 1/alpha)."""
    N, D = F.shape
    a, b = np.exp(log_alpha), np.exp(log_beta)
    A = a * np.eye(D) + b * F.T @ F
    m = b * np.linalg.solve(A, F.T @ y)
    return (D / 2 * np.log(a) + N / 2 * np.log(b) - 0.5 * np.linalg.slogdet(A)[1]
            - b / 2 * np.sum((y - F @ m) ** 2) - a / 2 * m @ m - N / 2 * np.log(2 * np.pi)) / N


def test_fixed_point_reaches_the_maximum_evidence():
    X, y = blobs(3, 80, 6, 2, spread=1.0)
    best = []
    for c in range(2):
        t = (y == c).astype(float)
        res = minimize(lambda p: -_log_evidence(X, t, *p), x0=[0.0, 0.0], method="Nelder-Mead",
                       options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
        best.append(-res.fun)
    assert logme(X, y, max_iter=200, tol=1e-12) == pytest.approx(np.mean(best), rel=1e-6)


def test_properties():
    X, y = blobs(0, 90, 12, 3, spread=1.5)
    base = check_common(logme, X, y)
    assert base > logme(X, np.random.default_rng(0).permutation(y))
    with pytest.raises(ValueError, match="max_iter"):
        logme(X, y, max_iter=0)


# Golden values, regression and multi-label: thuml/LogME LogME.py (commit 56551ca) run
# unchanged (with numba 0.68) in a scratch venv: LogME(regression=True).fit(X, Y) on
# regression_data(*args) (Y[:, 0], i.e. 1-D, where k = 1) and on multilabel_data(*args).
@pytest.mark.parametrize("args,ref", [
    ((0, 80, 6, 1, 0.5), -0.8707918456319973), ((1, 150, 20, 3, 1.0), -1.7755809646362009),
    ((2, 40, 60, 2, 0.3), -3.150683739759984), ((3, 300, 10, 4, 5.0), -3.059378106510083),
    ((5, 100, 8, 1, 0.7), -1.3443647435195774)])
def test_golden_regression(args, ref):
    X, Y = regression_data(*args)
    y = Y[:, 0] if args[3] == 1 else Y
    assert logme_regression(X, y) == pytest.approx(ref, rel=1e-8)
    assert logme(X, y, regression=True) == pytest.approx(ref, rel=1e-8)
    if args[3] == 1:  # (N,) and (N, 1) are the same target
        assert logme_regression(X, Y) == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("args,ref", [
    ((0, 120, 10, 4, 1.0), -0.15629170500172904), ((1, 60, 80, 3, 0.5), 0.8316316168068155),
    ((2, 200, 16, 6, 0.8), -0.23377359884052926)])
def test_golden_multilabel(args, ref):
    X, Y = multilabel_data(*args)
    assert logme_multilabel(X, Y) == pytest.approx(ref, rel=1e-8)
    assert logme_regression(X, Y.astype(bool)) == pytest.approx(ref, rel=1e-8)


def test_regression_properties():
    X, Y = regression_data(7, 90, 12, 3, 1.0)
    Xc, Yc = X.copy(), Y.copy()
    base = logme_regression(X, Y)
    # the mean over target columns of the one-column scores; column and row order do not matter
    assert base == pytest.approx(np.mean([logme_regression(X, Y[:, j]) for j in range(3)]), rel=1e-10)
    assert logme_regression(X, Y[:, ::-1]) == pytest.approx(base, rel=1e-10)
    perm = np.random.default_rng(0).permutation(90)
    assert logme_regression(X[perm], Y[perm]) == pytest.approx(base, rel=1e-8)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(Y, Yc)
    # classification LogME is regression LogME on the one-hot label matrix
    Xb, yb = blobs(2, 80, 6, 4, spread=1.0)
    assert logme(Xb, yb) == pytest.approx(logme_regression(Xb, np.eye(4)[yb]), rel=1e-10)
    # informative targets score higher than shuffled ones
    assert base > logme_regression(X, Y[perm])


def test_regression_errors():
    X, Y = regression_data(8, 40, 5, 2, 1.0)
    bad = Y.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="targets contain NaN"):
        logme_regression(X, bad)
    with pytest.raises(ValueError, match="different lengths"):
        logme_regression(X, Y[:-1])
    with pytest.raises(ValueError, match="numeric targets"):
        logme_regression(X, np.array(["a", "b"] * 20))
    with pytest.raises(ValueError, match=r"shape \(n_samples,\) or \(n_samples, n_targets\)"):
        logme_regression(X, Y[:, :, None])
    with pytest.raises(ValueError, match="0/1 indicator"):
        logme_multilabel(X, Y)
    with pytest.raises(ValueError, match="regression must be"):
        logme(X, Y, regression="yes")
    # classification LogME refuses continuous and multi-label targets, naming the alternative
    with pytest.raises(ValueError, match="classification-only.*logme_regression"):
        logme(X, Y[:, 0])
    with pytest.raises(ValueError, match="multi-label indicator.*logme_regression"):
        logme(X, (Y > 0).astype(int))
