"""Scale paths of N-LEEP and S_LP (the mixture / NCA fitted on a stratified subsample above
``max_fit_samples``), N-LEEP's PCA, and ITM's ``device=``."""
import types
import numpy as np
import pytest

from tecore.metrics._subsample import stratified_subsample
from tecore.metrics.itm import itm
from tecore.metrics.nca import lp
from tecore.metrics._pca import gmm_predict_proba as _posteriors, pca_variance_scores as _pca_variance
from tecore.metrics.nleep import nleep
from tests._metric_props import blobs


def test_stratified_subsample_proportions_minimum_and_seed():
    y = np.repeat([0, 1, 2], [600, 300, 6])
    assert stratified_subsample(y, 3, None, 5, 0) is None
    assert stratified_subsample(y, 3, len(y), 5, 0) is None
    idx = stratified_subsample(y, 3, 300, 5, 0)
    counts = np.bincount(y[idx], minlength=3)
    assert counts.tolist() == [199, 99, 5]  # in proportion, the small class at its minimum
    assert np.all(np.diff(idx) > 0)  # sorted, no repeats
    np.testing.assert_array_equal(idx, stratified_subsample(y, 3, 300, 5, 0))
    assert not np.array_equal(idx, stratified_subsample(y, 3, 300, 5, 1))
    assert np.bincount(y[stratified_subsample(y, 3, 300, 10, 0)], minlength=3)[2] == 6  # all it has


@pytest.mark.parametrize("n,d", [(200, 30), (40, 60)])
def test_nleep_pca_equals_sklearn_exact_pca(n, d):
    from sklearn.decomposition import PCA

    r = np.random.default_rng(0)
    X = r.normal(size=(n, d)) @ np.diag(np.linspace(3, 0.1, d)) + 2.0
    Z = _pca_variance(X, 0.8)
    ref = PCA(n_components=0.8, svd_solver="full").fit_transform(X)
    assert Z.shape == ref.shape
    np.testing.assert_allclose(np.abs(Z), np.abs(ref), rtol=1e-7, atol=1e-9)  # up to column signs


class _Spy:
    """Records the number of samples an estimator's ``fit`` receives."""

    def __init__(self, monkeypatch, cls):
        self.sizes = []
        orig = cls.fit

        def fit(est, X, *a, **k):
            self.sizes.append(len(X))
            return orig(est, X, *a, **k)

        monkeypatch.setattr(cls, "fit", fit)


def test_nleep_subsampled_fit_is_taken_above_the_threshold(monkeypatch):
    from sklearn.mixture import GaussianMixture

    X, y = blobs(0, 600, 8, 3, spread=0.8)
    kw = {"components_per_class": 2}
    spy = _Spy(monkeypatch, GaussianMixture)
    exact = nleep(X, y, max_fit_samples=None, **kw)
    assert nleep(X, y, max_fit_samples=600, **kw) == exact  # N <= threshold: the exact estimator
    sub = nleep(X, y, max_fit_samples=300, **kw)
    assert spy.sizes == [600, 600, 300]
    assert sub == nleep(X, y, max_fit_samples=300, **kw)  # deterministic
    # the mixture on half the samples, posteriors for all: measured -0.472 vs -0.421 (log),
    # 0.694 vs 0.719 (log=False); out-of-fit samples get less confident posteriors
    assert sub < exact
    assert sub == pytest.approx(exact, rel=0.15)
    assert nleep(X, y, max_fit_samples=300, log=False, **kw) == pytest.approx(
        nleep(X, y, max_fit_samples=None, log=False, **kw), rel=0.05)
    # and it still ranks the structured labels far above shuffled ones (-1.09)
    assert sub > nleep(X, np.random.default_rng(0).permutation(y), max_fit_samples=300, **kw) + 0.5
    with pytest.raises(ValueError, match="max_fit_samples"):
        nleep(X, y, max_fit_samples=0)
    # classes smaller than components_per_class: the subsample cannot hold every component
    Xs, ys = X[:55], np.concatenate([np.zeros(50, int), np.arange(1, 6)])  # 6 classes, 30 components
    with pytest.raises(ValueError, match="raise max_fit_samples"):
        nleep(Xs, ys, max_fit_samples=20)  # 18 + 5 x 1 samples


def test_lp_subsampled_fit_is_taken_above_the_threshold(monkeypatch):
    from tecore.metrics import nca

    X, y = blobs(1, 240, 20, 4, spread=1.0)
    spy = types.SimpleNamespace(sizes=[])
    real = nca._nca_fit
    monkeypatch.setattr(nca, "_nca_fit", lambda X, *a: spy.sizes.append(len(X)) or real(X, *a))
    exact = lp(X, y, max_fit_samples=None)
    assert lp(X, y, max_fit_samples=240) == exact
    sub = lp(X, y, max_fit_samples=120)
    assert spy.sizes[-1] == 120
    assert sub == lp(X, y, max_fit_samples=120)
    assert sub == pytest.approx(exact, abs=0.05)
    loo = lp(X, y, max_fit_samples=120, leave_one_out=True)
    assert loo == pytest.approx(lp(X, y, max_fit_samples=None, leave_one_out=True), abs=0.05)
    assert sub > lp(X, np.random.default_rng(0).permutation(y), max_fit_samples=120)
    with pytest.raises(ValueError, match="max_fit_samples"):
        lp(X, y, max_fit_samples=1)


def _itm_small(**kw):
    X, y = blobs(3, 120, 16, 3, spread=1.0)
    return itm(X, y, n_iter=20, eval_every=10, batch_size=32, **kw)


def test_itm_device_cpu_forms_agree_and_settings_are_restored():
    import torch

    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    base = _itm_small()
    assert _itm_small(device=None) == base
    assert _itm_small(device=torch.device("cpu")) == base
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det


@pytest.mark.parametrize("device,match", [("cuda:99", "device"), ("nonsense", "device"), (3, "device")])
def test_itm_bad_device(device, match):
    import torch

    if device == "cuda:99" and torch.cuda.is_available() and torch.cuda.device_count() > 99:
        pytest.skip("a machine with 100 GPUs")
    with pytest.raises(ValueError, match=match):
        _itm_small(device=device)


def test_itm_on_cuda_matches_cpu_when_available():
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            _itm_small(device="cuda")
        return
    assert _itm_small(device="cuda") == pytest.approx(_itm_small(), rel=1e-6)


def test_nleep_posteriors_equal_sklearns_predict_proba():
    from sklearn.mixture import GaussianMixture

    X, y = blobs(4, 300, 5, 3, spread=1.5)
    for cov in ("full", "diag"):
        g = GaussianMixture(6, covariance_type=cov, random_state=0).fit(X)
        np.testing.assert_allclose(_posteriors(g, X, chunk=64), g.predict_proba(X), rtol=1e-9, atol=1e-14)
