"""PACTran (tecore.metrics.pactran): golden values from the official code, properties, errors."""
import numpy as np
import pytest

from tecore.metrics.pactran import (gmm_posteriors, pactran_dirichlet, pactran_dirichlet_gmm, pactran_gamma,
                                    pactran_gamma_gmm, pactran_gaussian)
from tests._metric_props import blobs, check_common, golden_data, probs_data

# Golden values: google-research/pactran_metrics compute_metrics.py (commit a5e4997), run
# unchanged with tensorflow-cpu 2.21 and scikit-learn in a scratch venv. The official functions
# return a bound (lower = better); tecore returns minus it, so the tests compare -tecore.
#   calculate_pac_dir(P, y, alpha) / calculate_pac_gamma(P, y, alpha) on probs_data(*args),
#   alpha = 1 (official) and 5.
PROBS_GOLDEN = [
    # (args, dir a=1, gamma a=1, dir a=5, gamma a=5)
    ((0, 100, 5, 3, 2.0), 0.20539482289115163, 1.1362709524140255, 0.23970416565838876, 1.1101230921697907),
    ((1, 300, 20, 6, 1.0), 0.30770514801179705, 1.2438878221146044, 0.30491993288134617, 1.2254061680382118),
    ((2, 60, 10, 4, 0.0), 0.45032774848261387, 1.4153060508338462, 0.389941099920455, 1.2435874222676369),
    ((3, 500, 50, 10, 3.0), 0.16487146607243314, 1.0766876700099828, 0.17928461646447455, 1.088003383990572),
]


@pytest.mark.parametrize("args,d1,g1,d5,g5", PROBS_GOLDEN)
def test_golden_dirichlet_gamma(args, d1, g1, d5, g5):
    P, y = probs_data(*args)
    assert -pactran_dirichlet(P, y) == pytest.approx(d1, rel=1e-9)
    assert -pactran_gamma(P, y) == pytest.approx(g1, rel=1e-9)
    assert -pactran_dirichlet(P, y, alpha=5.0) == pytest.approx(d5, rel=1e-9)
    assert -pactran_gamma(P, y, alpha=5) == pytest.approx(g5, rel=1e-9)


#   np.random.seed(0); calculate_pac_gauss(X, y, lda_factor) on golden_data(*args): its two
#   pac_gauss values, for the official s2 pair of that lda_factor.
GAUSS_GOLDEN = [
    ((0, 100, 8, 3, 1.0, 1.0), {10.0: (13.62896880582628, 1.625980182449668), 1.0: (10.592021936778421, 1.3683139902736459),
                                0.1: (8.145863795645898, 1.2884831689269913)}),
    ((1, 200, 30, 5, 0.5, 0.3), {10.0: (9.054927653677684, 1.057316864948919), 1.0: (7.798899427203053, 1.2131075425412607),
                                 0.1: (6.461552368124485, 1.6095690488041097)}),
    ((2, 60, 40, 4, 0.8, 2.0), {10.0: (13.972035246901054, 1.3999581939907708), 1.0: (12.848156799661599, 1.300730158791747),
                                0.1: (11.417616505594047, 1.2221119511478151)}),
]
S2 = {10.0: (1000.0, 100.0), 1.0: (100.0, 10.0), 0.1: (10.0, 1.0)}  # official s2s per lda_factor


@pytest.mark.parametrize("args,ref", GAUSS_GOLDEN)
def test_golden_gaussian(args, ref):
    X, y = golden_data(*args)
    for lda, (v_first, v_second) in ref.items():
        assert -pactran_gaussian(X, y, lda_factor=lda, s2_factor=S2[lda][0]) == pytest.approx(v_first, rel=1e-7)
        assert -pactran_gaussian(X, y, lda_factor=lda, s2_factor=S2[lda][1]) == pytest.approx(v_second, rel=1e-7)
    # the defaults are lda_factor 1 with its first s2 (100)
    assert -pactran_gaussian(X, y) == pytest.approx(ref[1.0][0], rel=1e-7)


#   np.random.seed(0); P = gmm_estimator(X, y)[0]; calculate_pac_dir / _gamma(P, y, 1.) on
#   golden_data(*args) (the official pac_ndir / pac_ngam; random_state=0 = the seeded global state).
@pytest.mark.parametrize("args,ndir,ngam,n_comp", [
    ((0, 150, 12, 3, 1.0, 1.0), 0.14028202079134813, 1.1048057574025232, 15),
    ((1, 200, 30, 5, 0.5, 0.3), 0.2047740196533155, 1.1841923450433842, 20)])
def test_golden_gmm_variants(args, ndir, ngam, n_comp):
    X, y = golden_data(*args)
    assert gmm_posteriors(X, y).shape == (len(y), n_comp)
    assert -pactran_dirichlet_gmm(X, y) == pytest.approx(ndir, rel=1e-7)
    assert -pactran_gamma_gmm(X, y) == pytest.approx(ngam, rel=1e-7)


def test_informative_probabilities_score_higher():
    P, y = probs_data(4, 300, 8, 4, 3.0)
    P0, _ = probs_data(4, 300, 8, 4, 0.0)
    assert pactran_dirichlet(P, y) > pactran_dirichlet(P0, y)
    assert pactran_gamma(P, y) > pactran_gamma(P0, y)


def test_probs_properties_and_errors():
    P, y = probs_data(5, 120, 6, 3, 1.5)
    Pc = P.copy()
    for fn in (pactran_dirichlet, pactran_gamma):
        base = fn(P, y)
        perm = np.random.default_rng(0).permutation(len(y))
        assert fn(P[perm], y[perm]) == pytest.approx(base, rel=1e-10)
        assert fn(P[:, ::-1], y) == pytest.approx(base, rel=1e-10)  # source-class order
        assert fn(P, (y + 1) % 3) == pytest.approx(base, rel=1e-10)  # target-class ids
        assert fn(P, np.array(["c%d" % v for v in y])) == pytest.approx(base, rel=1e-10)
        with pytest.raises(ValueError, match="logits"):
            fn(np.log(P), y)
        with pytest.raises(ValueError, match="alpha must be"):
            fn(P, y, alpha=0)
        with pytest.raises(ValueError, match="classification-only"):
            fn(P, y + 0.5)
    np.testing.assert_array_equal(P, Pc)


def test_gaussian_properties_and_errors():
    X, y = blobs(6, 90, 10, 3, spread=1.5)
    # sample and class order change only the L-BFGS path, not the optimum: invariant once
    # converged (the official 100 iterations stop ~1e-4 short of it on this case)
    check_common(pactran_gaussian, X, y, rel=1e-6, max_iter=2000, tol=1e-12)
    base = pactran_gaussian(X, y)
    assert base == pytest.approx(pactran_gaussian(X, y, max_iter=2000, tol=1e-12), rel=1e-3)
    assert pactran_gaussian(X + 7.0, y) == pytest.approx(base, rel=1e-10)  # features are centred
    assert base > pactran_gaussian(X, np.random.default_rng(1).permutation(y))
    for kw, msg in [({"lda_factor": -1}, "lda_factor"), ({"s2_factor": 0}, "s2_factor"),
                    ({"max_iter": 0}, "max_iter"), ({"tol": float("nan")}, "tol")]:
        with pytest.raises(ValueError, match=msg):
            pactran_gaussian(X, y, **kw)
    with pytest.raises(ValueError, match="pca_variance"):
        pactran_dirichlet_gmm(X, y, pca_variance=1.5)


def test_gaussian_float32_products(monkeypatch):
    """precision="float32" (the products of the L-BFGS steps in float32): ~1e-8 where the
    100 iterations converge; where they stop short (digits: raw 0-16 pixels) the path moves,
    by less than the random start moves it; "auto" is float64 below N D C = 1e9."""
    from sklearn.datasets import load_digits

    import tecore.metrics.pactran as pactran

    X, y = blobs(0, 1500, 64, 10, spread=1.0)
    v64 = pactran_gaussian(X, y, precision="float64")
    assert pactran_gaussian(X, y, precision="float32") == pytest.approx(v64, rel=1e-6)
    assert pactran_gaussian(X, y) == v64  # auto: float64 at this size
    monkeypatch.setattr(pactran, "_F32_ABOVE", 0)
    assert pactran_gaussian(X, y) == pactran_gaussian(X, y, precision="float32") != v64
    monkeypatch.undo()

    X, y = load_digits(return_X_y=True)
    starts = [pactran_gaussian(X, y, precision="float64", random_state=s) for s in range(3)]
    v32 = pactran_gaussian(X, y, precision="float32")
    assert abs(v32 - starts[0]) > 1e-5 * abs(starts[0])  # not converged: float32 does move it
    assert abs(v32 - starts[0]) < 0.5 * np.ptp(starts)  # ... by less than the random start
    with pytest.raises(ValueError, match="precision"):
        pactran_gaussian(X, y, precision="half")


def test_threads_do_not_change_values(monkeypatch):
    """The row-wise passes run as two fixed halves, on two threads above a size: the same
    numbers either way (and the KL sum without log q equals the official formula: golden)."""
    from tecore.metrics import _stats

    P, y = probs_data(3, 500, 50, 10, 3.0)
    X, yx = blobs(2, 400, 12, 4, spread=1.0)
    calls = [lambda: pactran_dirichlet(P, y), lambda: pactran_gamma(P, y), lambda: pactran_gaussian(X, yx),
             lambda: pactran_gaussian(X, yx, precision="float32")]
    monkeypatch.setattr(_stats, "PARALLEL_MIN_ELEMENTS", 1 << 62)
    serial = [f() for f in calls]
    monkeypatch.setattr(_stats, "PARALLEL_MIN_ELEMENTS", 0)
    assert [f() for f in calls] == serial
    # nor the BLAS thread count (OpenBLAS splits a float32 product's sums by thread)
    from threadpoolctl import threadpool_limits

    Xb, yb = blobs(3, 3000, 128, 10, spread=1.0)
    with threadpool_limits(limits=1, user_api="blas"):
        one = pactran_gaussian(Xb, yb, precision="float32", max_iter=30)
    with threadpool_limits(limits=2, user_api="blas"):
        assert pactran_gaussian(Xb, yb, precision="float32", max_iter=30) == one


def test_gmm_subsampled_fit():
    """Above max_fit_samples the mixture is fitted on a stratified subsample (0.1 n of it
    components) and the posteriors cover all N; at or below it the official estimator."""
    X, y = blobs(0, 600, 16, 4, spread=1.0)
    exact = pactran_dirichlet_gmm(X, y, max_fit_samples=None)
    assert pactran_dirichlet_gmm(X, y, max_fit_samples=600) == exact
    assert pactran_dirichlet_gmm(X, y) == exact  # N <= 5000: the default is the official one
    P = gmm_posteriors(X, y, max_fit_samples=300)
    assert P.shape == (600, 30)  # max(min(C, 0.2 n), 0.1 n) with n = 300
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(P, gmm_posteriors(X, y, max_fit_samples=300))  # seeded
    assert not np.array_equal(P, gmm_posteriors(X, y, max_fit_samples=300, random_state=1))
    # fewer components: the level moves (benchmarks/README.md), the order of a clearly
    # better and a clearly worse feature set stays
    Xw = X + np.random.default_rng(1).normal(scale=3.0, size=X.shape)
    for fn in (pactran_dirichlet_gmm, pactran_gamma_gmm):
        assert fn(X, y, max_fit_samples=300) > fn(Xw, y, max_fit_samples=300)
        assert fn(X, y) > fn(Xw, y)
    with pytest.raises(ValueError, match="max_fit_samples"):
        pactran_gamma_gmm(X, y, max_fit_samples=5)
    # a RandomState is drawn from only when the fit is subsampled: the official path sees it untouched
    np.testing.assert_array_equal(gmm_posteriors(X, y, random_state=np.random.RandomState(7)),
                                  gmm_posteriors(X, y, random_state=np.random.RandomState(7), max_fit_samples=None))


def test_gmm_out_of_memory_is_a_clear_value_error(monkeypatch):
    """The official 0.1 N components rule is infeasible at N = 50 000: an allocation failure
    inside the mixture becomes a ValueError that says what to do, not a bare MemoryError."""
    from sklearn.mixture import GaussianMixture

    def no_memory(self, X, y=None):
        raise MemoryError("Unable to allocate 1.86 GiB for an array with shape (50000, 5000)")

    monkeypatch.setattr(GaussianMixture, "fit", no_memory)
    X, y = blobs(n=60, d=8, c=3, seed=0)
    for fn in (pactran_dirichlet_gmm, pactran_gamma_gmm):
        with pytest.raises(ValueError, match="ran out of memory.*subsample"):
            fn(X, y)
