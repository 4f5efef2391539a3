"""NCTI (tecore.metrics.ncti)."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tecore.metrics.ncti import TERMS, combine, ncti_terms
from tests._metric_props import golden_data


_data = golden_data


# Golden values: BUserName/NCTI metrics.py (commit b18d39514a3f2a7a949500b467a38b93de1428e4),
# function NCTI_Score(X, y) run unchanged (scikit-learn 1.9.1; utils.iterative_A beside it) in a
# scratch dir on float64 _data(*args); it returns (all_lowfeat_nuc, sfda_score, log(class_pred_nuc))
# = (seli, ncc, vc). All inputs are <= 500 x 500, so scikit-learn's PCA(n_components=64) uses an
# exact solver. Cases 0 and 3 take the LDA "svd" branch, cases 1 and 2 the shrinkage "eigen" branch.
GOLDEN = [
    ((0, 300, 80, 5, 0.5, 1.0), 183.86522679690506, 0.9986975623802107, 3.6631462935660513),
    ((1, 400, 100, 8, 0.4, 0.15), 243.90822152082856, 0.9857220208534363, 4.109560375814616),
    ((2, 200, 120, 3, 0.6, 0.3), 129.03375777264773, 0.9999999999999999, 3.197255848236859),
    ((3, 450, 70, 10, 0.5, 2.0), 339.7654590673054, 0.9919044294200664, 4.241706429202216),
]


@pytest.mark.parametrize("args,seli,ncc,vc", GOLDEN)
def test_golden_vs_official(args, seli, ncc, vc):
    X, y = _data(*args)
    t = ncti_terms(X, y)
    assert t["seli"] == pytest.approx(seli, rel=1e-6)
    assert t["ncc"] == pytest.approx(ncc, rel=1e-6)
    assert t["vc"] == pytest.approx(vc, rel=1e-6)


def test_hand_computed_collapsed_classes():
    # Perfectly separated, tight classes: posteriors are one-hot, so P_c has n_c identical rows
    # e_c, whose nuclear norm is sqrt(n_c): vc = log(sum_c sqrt(n_c)); ncc = 1.
    r = np.random.default_rng(0)
    counts = [10, 20, 30]
    y = np.repeat([0, 1, 2], counts)
    X = 100.0 * np.eye(3, 5)[y] + 0.01 * r.normal(size=(60, 5))
    t = ncti_terms(X, y)
    assert t["ncc"] == pytest.approx(1.0, abs=1e-9)
    assert t["vc"] == pytest.approx(np.log(sum(np.sqrt(counts))), rel=1e-9)


def test_seli_is_nuclear_norm_of_centred_lda_projection():
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    X, y = _data(4, 300, 20, 4, 0.5, 3.0)  # large variance: "svd" branch
    Z = PCA(n_components=20, svd_solver="full").fit_transform(X)
    H = LinearDiscriminantAnalysis(solver="svd").fit_transform(Z, y)
    H -= H.mean(0)
    ref = np.linalg.norm(H, ord="nuc")
    assert ncti_terms(X, y, n_components=20)["seli"] == pytest.approx(ref, rel=1e-8)


def test_invariances():
    X, y = _data(5, 300, 30, 5, 0.5, 2.0)
    base = ncti_terms(X, y)
    r = np.random.default_rng(1)
    perm = r.permutation(300)
    Q, _ = np.linalg.qr(r.normal(size=(30, 30)))
    variants = [
        ncti_terms(X[perm], y[perm]),  # sample permutation
        ncti_terms(X, np.array(list("vwxyz"))[y]),  # relabelling
        ncti_terms(X + 3.0, y),  # translation
        ncti_terms(X @ Q, y),  # rotation (PCA + LDA)
        ncti_terms(2.0 * X, y),  # scale, while the "svd" branch is taken both times
    ]
    for v in variants:
        for k in TERMS:
            assert v[k] == pytest.approx(base[k], rel=1e-7), k


def test_combine_hand_computed_and_edges():
    T = pd.DataFrame({"seli": [1.0, 3.0, 2.0], "ncc": [0.5, 0.9, 0.7], "vc": [4.0, 2.0, 3.0]},
                     index=["a", "b", "c"])
    s = combine(T)
    assert s.name == "ncti" and list(s.index) == ["a", "b", "c"]
    np.testing.assert_allclose(s.to_numpy(), [0 + 0 - 1, 1 + 1 - 0, 0.5 + 0.5 - 0.5])
    with pytest.raises(ValueError, match="at least two models"):
        combine(T.iloc[:1])
    with pytest.raises(ValueError, match="missing term"):
        combine(T.drop(columns="vc"))
    with pytest.raises(ValueError, match="NaN or inf"):
        combine(T.assign(ncc=[0.5, np.inf, 0.1]))
    const = combine(T.assign(vc=1.0))  # a constant term contributes 0
    np.testing.assert_allclose(const.to_numpy(), [0.0, 2.0, 1.0])


def test_registry_and_no_mutation():
    from tecore import metrics
    spec = metrics.get("ncti")
    X, y = _data(6, 150, 12, 3, 0.8, 1.0)
    X0 = X.copy()
    t = spec(X, y)
    assert set(t) == set(TERMS) and spec.combiner is combine
    assert np.array_equal(X, X0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(8, 40), bad=st.sampled_from(["nan", "len", "one_class", "ncomp"]))
def test_bad_input_raises_clear_error(n, bad):
    r = np.random.default_rng(n)
    X = r.normal(size=(n, 4))
    y = np.arange(n) % 3
    kw = {}
    if bad == "nan":
        X[0, r.integers(4)] = np.nan
    elif bad == "len":
        y = y[:-2]
    elif bad == "one_class":
        y = np.full(n, "a")
    else:
        kw = {"n_components": 0}
    with pytest.raises(ValueError):
        ncti_terms(X, y, **kw)


def test_fewer_dimensions_than_components_is_clipped():
    X, y = _data(7, 200, 10, 3, 0.6, 2.0)  # D=10 < 64: the official PCA(64) raises
    assert ncti_terms(X, y) == pytest.approx(ncti_terms(X, y, n_components=10), rel=1e-12)


def test_nuclear_norm_by_gram_equals_svd():
    """The terms' nuclear norms come from the smaller Gram matrix's eigenvalues: equal to the
    SVD's sum of singular values (tall, wide, rank-deficient, one-hot-like posteriors)."""
    from tecore.metrics.ncti import _nuclear_norm

    r = np.random.default_rng(0)
    P = np.full((50, 6), 1e-9)
    P[np.arange(50), r.integers(0, 6, 50)] = 1.0
    for A in (r.normal(size=(200, 7)), r.normal(size=(5, 40)), r.normal(size=(30, 3)) @ r.normal(size=(3, 9)), P):
        assert _nuclear_norm(A) == pytest.approx(np.linalg.norm(A, ord="nuc"), rel=1e-12)


def test_float32_features_read_in_place():
    """float32 features are not copied to float64 before the centring: the same terms as
    their float64 copy, and the caller's array untouched."""
    r = np.random.default_rng(3)
    y = np.arange(300) % 6
    X = (r.normal(size=(300, 80)) + y[:, None] * 0.3).astype(np.float32)
    keep = X.copy()
    t32 = ncti_terms(X, y, n_components=20)
    assert t32 == ncti_terms(X.astype(np.float64), y, n_components=20)
    np.testing.assert_array_equal(X, keep)
    assert X.flags.writeable


@pytest.mark.parametrize("n,d,c", [(300, 40, 5), (600, 30, 3), (400, 64, 12)])
def test_closed_form_lda_equals_sklearn(n, d, c):
    """The svd-solver LDA on the PCA scores (Gram eigendecomposition instead of the N x d
    SVD) gives scikit-learn's posteriors and projection (up to column signs) to 1e-10; a
    rank-deficient input and two classes go to scikit-learn itself."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from tecore.metrics.ncti import _lda_svd

    r = np.random.default_rng(n + c)
    y = np.arange(n) % c
    Z = r.normal(size=(n, d)) @ r.normal(size=(d, d)) + r.normal(size=(c, d))[y] * 2
    clf = LinearDiscriminantAnalysis(solver="svd")
    H, P = clf.fit_transform(Z, y), clf.predict_proba(Z)
    H2, P2 = _lda_svd(Z, y, c)
    np.testing.assert_allclose(P2, P, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.abs(H2), np.abs(H), rtol=1e-9, atol=1e-10 * np.abs(H).max())
    Zd = Z.copy()
    Zd[:, 1] = Zd[:, 0]  # collinear: scikit-learn's rank decision is kept
    assert _lda_svd(Zd, y, c) is None
    assert _lda_svd(Z[y < 2], y[y < 2], 2) is None


def test_read_only_features_every_path():
    """The caller's array is read in place, never written: a read-only array works on the
    numpy and the torch path, without torch's non-writable-array warning."""
    import warnings

    pytest.importorskip("torch")
    r = np.random.default_rng(4)
    y = np.arange(200) % 4
    X = r.normal(size=(200, 30)) + y[:, None]
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = ncti_terms(X, y, n_components=10)
        b = ncti_terms(X, y, n_components=10, device="cpu")
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-8)
