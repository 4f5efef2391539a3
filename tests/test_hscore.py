"""H-score and shrinkage H-score."""
import numpy as np
import pytest

from tecore.metrics.hscore import hscore, shrinkage_hscore
from tests._metric_props import blobs, check_common


# Golden values: thuml/Transfer-Learning-Library tllib/ranking/hscore.py (h_score,
# regularized_h_score), run unchanged in a scratch directory on these inputs.
@pytest.mark.parametrize("seed,n,d,c,hs,rhs", [
    (0, 60, 8, 3, 0.985622909375196, 0.4054292544368264),
    (1, 200, 32, 5, 2.656305139291572, 1.8380455670649511),
    (2, 50, 100, 4, 3.000000000000004, 2.118123083593172)])
def test_golden_values(seed, n, d, c, hs, rhs):
    r = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = r.normal(size=(n, d)) + 0.5 * r.normal(size=(c, d))[y]
    assert hscore(X, y) == pytest.approx(hs, rel=1e-6)
    assert shrinkage_hscore(X, y) == pytest.approx(rhs, rel=1e-6)


def test_hand_case_and_invariances():
    # 1-D features: cov(f) = var, cov(E[f|y]) = between-class variance -> ratio
    X = np.array([[0.0], [2.0], [10.0], [12.0]])
    y = np.array([0, 0, 1, 1])
    between = np.var([1, 1, 11, 11], ddof=1)
    assert hscore(X, y) == pytest.approx(between / np.var(X[:, 0], ddof=1))
    Xb, yb = blobs(4, 90, 6, 3, spread=1.0)
    base = check_common(hscore, Xb, yb)
    # H-score is invariant to invertible linear maps of the features
    A = np.random.default_rng(0).normal(size=(6, 6))
    assert hscore(Xb @ A, yb) == pytest.approx(base, rel=1e-8)
    assert hscore(Xb, yb) <= yb.max()  # bounded by the number of classes - 1 (rank of cov(E[f|y]))
    check_common(shrinkage_hscore, Xb, yb)


@pytest.mark.parametrize("shape", [(200, 10), (30, 80), (500, 3), (2, 5)])
def test_ledoit_wolf_matches_scikit_learn(shape):
    from sklearn.covariance import ledoit_wolf

    from tecore.metrics.hscore import ledoit_wolf_centered

    X = np.random.default_rng(shape[0]).normal(size=shape) * np.linspace(0.1, 3, shape[1])
    X -= X.mean(axis=0)
    cov, a = ledoit_wolf_centered(X)
    want_cov, want_a = ledoit_wolf(X, assume_centered=True)
    assert a == pytest.approx(want_a, rel=1e-10, abs=1e-14)
    np.testing.assert_allclose(cov, want_cov, rtol=1e-10, atol=1e-14)


def test_rank_deficient_covariance_gives_c_minus_1():
    r = np.random.default_rng(5)
    y = np.arange(40) % 4
    X = r.normal(size=(40, 300)) * r.uniform(0.1, 10, 300)
    assert hscore(X, y) == pytest.approx(3.0, rel=1e-8)
    assert shrinkage_hscore(X, y) < 3.0  # the shrinkage variant still discriminates


@pytest.mark.parametrize("spread", [1.0, 1e-7])  # well-conditioned: Cholesky; cond ~1e14: eigh + pinv cut
def test_cholesky_and_eigh_routes_match_tllib_formula(spread):
    r = np.random.default_rng(11)
    y = np.arange(400) % 5
    X = r.normal(size=(400, 12)) * np.geomspace(1.0, spread, 12) + 0.5 * r.normal(size=(5, 12))[y] * np.geomspace(
        1.0, spread, 12)
    g = np.zeros_like(X)
    for k in range(5):
        g[y == k] = X[y == k].mean(axis=0)
    ref = np.trace(np.linalg.pinv(np.cov(X, rowvar=False), rcond=1e-15) @ np.cov(g, rowvar=False))
    assert hscore(X, y) == pytest.approx(ref, rel=1e-6)
    assert hscore(X, y, device="cpu") == pytest.approx(ref, rel=1e-6)
