"""The medical label-prediction score S_LP and the LP x FU combination."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tecore.papers import medical, printed
from tecore.metrics.nca import combine_lp_fu, lp, lp_fu_terms


def _data(seed, n, d, c, shift=0.3):
    r = np.random.default_rng(seed)
    y = np.repeat(np.arange(c), n // c)
    return r.normal(size=(len(y), d)) + y[:, None] * shift, y


# Golden values: the official LP_Score (DovileDo/transferability-in-medical-imaging @7e308c4,
# src/metrics.py, run unchanged in a scratch directory with scikit-learn 1.9.1) on these inputs.
@pytest.mark.parametrize("seed,n,d,c,expected", [
    (0, 60, 64, 3, 0.7633333333333334), (1, 90, 80, 4, 0.775), (2, 40, 55, 2, 0.845)])
def test_lp_matches_official(seed, n, d, c, expected):
    X, y = _data(seed, n, d, c)
    assert lp(X, y) == pytest.approx(expected, rel=1e-6)


def _sklearn_lp(X, y, k):
    """The official LP_Score pipeline with scikit-learn's own NCA init, one BLAS thread."""
    from sklearn.neighbors import KNeighborsClassifier, NeighborhoodComponentsAnalysis
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        Z = NeighborhoodComponentsAnalysis(n_components=k, random_state=42).fit(X, y).transform(X)
    prob = KNeighborsClassifier(n_neighbors=5).fit(Z, y).predict_proba(Z)
    return prob[np.arange(len(y)), y].mean()


@pytest.mark.parametrize("seed,n,d,c,k", [(0, 240, 30, 12, 5), (1, 64, 100, 8, 6), (2, 150, 150, 16, 10)])
def test_lda_init_equals_scikit_learn(seed, n, d, c, k):
    # n_components <= C - 1: NCA's init="auto" is LDA, which tecore computes from a Gram
    # eigendecomposition (N >= D and N < D branches); equal up to row signs
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from tecore.metrics.nca import _lda_init

    X, y = _data(seed, n, d, c, shift=0.2)
    X0 = X.copy()
    A = _lda_init(X, y, k)
    np.testing.assert_array_equal(X, X0)
    B = LinearDiscriminantAnalysis(n_components=k).fit(X, y).scalings_.T[:k]
    A = A * np.sign(np.sum(A * B, axis=1))[:, None]
    np.testing.assert_allclose(A, B, rtol=0, atol=1e-9 * np.abs(B).max())
    assert lp(X, y, n_components=k) == pytest.approx(_sklearn_lp(X, y, k), abs=1e-12)
    np.testing.assert_array_equal(X, X0)


@pytest.mark.parametrize("collinear", [False, True])
def test_lda_cholesky_whitening_equals_scikit_learn_or_falls_back(collinear, monkeypatch):
    # N > D, well conditioned: the Cholesky whitening is taken and gives scikit-learn's
    # scalings_ (up to column signs); a duplicated feature makes the within-class Gram
    # singular (scikit-learn cuts its rank), so the eigendecomposition path must be taken
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from tecore.metrics import _lda

    X, y = _data(4, 400, 60, 10, shift=0.3)
    if collinear:
        X = np.hstack([X, X[:, :1]])
    taken = []
    real = _lda._whitened_by_cholesky
    monkeypatch.setattr(_lda, "_whitened_by_cholesky", lambda *a: taken.append(r := real(*a)) or r)
    X0 = X.copy()
    A = _lda.lda_svd(X, y, 10, cholesky=True)[0]
    np.testing.assert_array_equal(X, X0)
    assert (taken[0] is None) == collinear
    S = LinearDiscriminantAnalysis().fit(X, y).scalings_
    assert A.shape == S.shape
    A = A * np.sign(np.sum(A * S, axis=0))
    np.testing.assert_allclose(A, S, rtol=0, atol=1e-9 * np.abs(S).max())


@pytest.mark.parametrize("seed,n,d,c,k,shift", [(0, 120, 20, 4, 6, 0.3), (1, 200, 30, 5, 3, 4.0),
                                                   (2, 90, 12, 3, 12, 25.0)])
def test_nca_fit_equals_scikit_learn(seed, n, d, c, k, shift):
    # tecore's NCA loss/gradient (subnormal probabilities flushed to 0) against scikit-learn's
    # fit from the same start, on overlapping and on far-apart classes (shift 25: most
    # pairwise probabilities underflow, the case the flushing is for); k = d: identity init
    from sklearn.neighbors import NeighborhoodComponentsAnalysis
    from threadpoolctl import threadpool_limits
    from tecore.metrics.nca import _nca_fit, _nca_init, _nca_loss_grad

    X, y = _data(seed, n, d, c, shift=shift)
    X = X * np.linspace(0.5, 3.0, d)  # unequal scales: far-apart samples within classes too
    with threadpool_limits(limits=1, user_api="blas"):
        init = _nca_init(X, y, k, 42)
        A = _nca_fit(X, y, init, 50)
        B = NeighborhoodComponentsAnalysis(n_components=k, init=init, max_iter=50).fit(X, y).components_
        ref = NeighborhoodComponentsAnalysis(n_components=k, random_state=42, max_iter=50).fit(X, y).components_
        loss, grad = _nca_loss_grad(np.ravel(init), X, y)
        sk = NeighborhoodComponentsAnalysis(n_components=k)
        sk.n_iter_ = 1  # what fit sets before its first call
        loss_sk, grad_sk = sk._loss_grad_lbfgs(np.ravel(init), X, y[:, None] == y[None, :], -1.0)
    assert loss == pytest.approx(loss_sk, rel=1e-13)
    np.testing.assert_allclose(grad, grad_sk, rtol=0, atol=1e-12 * np.abs(grad_sk).max())
    # 50 L-BFGS steps amplify rounding differences (tecore sums in blocks of rows): the fitted
    # maps agree to ~1e-5 of their scale where the optimisation has not converged (the first
    # case), and the objective they reach to ~3e-6 (a wrong gradient: percents)
    for other in (B, ref) if (k != d and k > c - 1) else (B,):  # PCA init: also scikit-learn's init="auto"
        np.testing.assert_allclose(A, other, rtol=0, atol=1e-3 * np.abs(other).max())
        assert _nca_loss_grad(np.ravel(A), X, y)[0] == pytest.approx(
            _nca_loss_grad(np.ravel(other), X, y)[0], rel=1e-4)


def test_lp_hand_case_and_leave_one_out():
    # two tight, far-apart pairs: every 1-NN (self) and leave-one-out neighbour agrees
    X = np.array([[0.0, 0], [0.1, 0], [10, 10], [10.1, 10]])
    y = np.array([0, 0, 1, 1])
    assert lp(X, y, n_components=2, n_neighbors=1) == 1.0
    assert lp(X, y, n_components=2, n_neighbors=1, leave_one_out=True) == 1.0
    # with k = 3 and self included, each sample sees itself, its twin and one stranger: 2/3
    assert lp(X, y, n_components=2, n_neighbors=3) == pytest.approx(2 / 3)
    assert lp(X, y, n_components=2, n_neighbors=2, leave_one_out=True) == pytest.approx(0.5)


def test_lp_invariances_and_separability():
    X, y = _data(3, 90, 20, 3, shift=1.0)
    base = lp(X, y)
    names = np.array(["c", "a", "b"])[y]
    assert lp(X, names) == pytest.approx(base)
    Xs = X.copy()
    assert lp(X * 7.0, y) == pytest.approx(base, abs=0.05)  # NCA learns the scale
    np.testing.assert_array_equal(X, Xs)
    shuffled = lp(X, np.random.default_rng(0).permutation(y))
    assert base > shuffled + 0.2


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["nan", "length", "one_class"]))
def test_lp_bad_inputs(kind):
    X, y = _data(0, 30, 5, 3)
    if kind == "nan":
        X[3, 1] = np.nan
        match = "NaN"
    elif kind == "length":
        y = y[:-1]
        match = "different lengths"
    else:
        y = np.zeros_like(y)
        match = "at least 2 classes"
    with pytest.raises(ValueError, match=match):
        lp(X, y)


def test_terms_and_combination():
    X, y = _data(0, 30, 8, 3)
    t = lp_fu_terms(X, y, 2.5)
    assert t["fu"] == 2.5 and 0 <= t["lp"] <= 1
    with pytest.raises(ValueError, match="positive"):
        lp_fu_terms(X, y, -1.0)
    terms = pd.DataFrame({"lp": [0.2, 0.6, 1.0], "fu": [3.0, 1.0, 2.0]}, index=["a", "b", "c"])
    s = combine_lp_fu(terms)
    np.testing.assert_allclose(s.to_numpy(), [0.0 * 1.0, 0.5 * 0.0, 1.0 * 0.5])
    inv = combine_lp_fu(terms, cross_domain=True)  # eq. 8: (x - max) / (min - max)
    np.testing.assert_allclose(inv.to_numpy(), [1.0 * 0.0, 0.5 * 1.0, 0.0 * 0.5])
    with pytest.raises(ValueError, match="at least two models"):
        combine_lp_fu(terms.iloc[:1])


def test_published_scores_reproduce_table2_and_table3():
    """LP x FU from the authors' lp/fu files, with scipy's weighted tau against their AUCs,
    reproduces every printed cell of Tables 2 and 3 (the other methods too)."""
    for exp, name in (("dataset", "medical_table2"), ("model", "medical_table3")):
        shown = printed.get(name).frame
        ours = medical.tau_table(exp)[shown.columns]
        _, n_match, n_total = printed.compare(shown, ours, tol=0.01)
        assert n_match == n_total == shown.notna().sum().sum()
    # the authors' rank file of the dataset experiment (our = LP x FU) agrees everywhere
    ranks = medical.rank_methods(medical.tau_table("dataset"))
    files = medical.rank_file("dataset")
    assert (ranks.loc[files.index, files.columns] == files).all().all()
