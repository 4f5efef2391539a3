"""LogME: golden values, the fixed point vs direct evidence maximisation, properties."""
import numpy as np
import pytest
from scipy.optimize import minimize

from tecore.metrics.logme import logme
from tests._metric_props import blobs, check_common


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
