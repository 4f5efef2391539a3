"""Work shared between the metrics of one pool (tecore.metrics._shared, tecore.pool.score_pool)."""
from __future__ import annotations

import numpy as np
import pytest

from tecore.metrics import nca, pactran
from tecore.metrics._shared import shared, sharing
from tecore.pool import score_pool

CALLS: list = []


@shared
def counted(features, labels, *, k: int = 2, random_state=0):
    CALLS.append(k)
    return np.asarray(features, float).sum(axis=1) * k


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()


def _xy(seed=0, n=60, d=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), np.repeat([0, 1, 2], n // 3)


def test_outside_a_scope_every_call_computes():
    X, y = _xy()
    counted(X, y)
    counted(X, y)
    assert CALLS == [2, 2]


def test_inside_a_scope_one_computation_per_inputs_and_hyper_parameters():
    X, y = _xy()
    X2 = X.copy()  # equal values, another array: a new computation (identity, not value)
    with sharing():
        a = counted(X, y)
        b = counted(X, y, k=2)  # the default spelled out is the same call
        c = counted(X, y, k=3)
        d = counted(X2, y)
    assert CALLS == [2, 3, 2]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(c, a * 1.5)
    np.testing.assert_array_equal(d, a)
    counted(X, y)  # the scope has ended
    assert CALLS == [2, 3, 2, 2]


def test_remembered_arrays_are_returned_as_copies():
    X, y = _xy()
    with sharing():
        a = counted(X, y)
        a[:] = -1.0
        b = counted(X, y)
    assert len(CALLS) == 1
    np.testing.assert_array_equal(b, X.sum(axis=1) * 2)


def test_random_generators_are_never_reused_and_errors_are_not_remembered():
    X, y = _xy()
    rs = np.random.RandomState(0)
    with sharing():
        counted(X, y, random_state=rs)
        counted(X, y, random_state=rs)
        with pytest.raises(TypeError):
            counted(X, y, 1, 2)  # too many positional arguments: the function's own error
        with sharing():  # a nested scope keeps the outer one
            counted(X, y)
        counted(X, y)
    assert CALLS == [2, 2, 2]


def _count_fits(monkeypatch, cls):
    fits = []
    original = cls.fit

    def fit(self, *args, **kwargs):
        fits.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit", fit)
    return fits


def _pool(n_models=3, n=90, d=8):
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), n // 3)
    return {f"m{i}": {"features": rng.normal(size=(3, d))[y] * (1 + i) + rng.normal(size=(n, d)), "labels": y,
                      "grad_ratio": 0.5 + 0.1 * i} for i in range(n_models)}


def test_lp_fu_reuses_the_pools_lp_with_the_same_values(monkeypatch):
    pool = _pool()
    alone = {m: nca.lp(e["features"], e["labels"]) for m, e in pool.items()}
    fits = []
    real = nca._nca_fit  # tecore's NCA fit (scikit-learn's L-BFGS on tecore's loss)
    monkeypatch.setattr(nca, "_nca_fit", lambda *a: fits.append(1) or real(*a))
    df = score_pool(pool, ["lp", "lp_fu"], progress=False)
    assert len(fits) == len(pool)  # one NCA per model, not two
    got = df[df.metric == "lp"].set_index("model").score
    assert got.to_dict() == pytest.approx(alone, rel=0, abs=0)
    assert df.attrs["terms"]["lp_fu"]["lp"].to_dict() == pytest.approx(alone, rel=0, abs=0)
    # different hyper-parameters for the two metrics: two fits per model
    fits.clear()
    score_pool(pool, ["lp", "lp_fu"], progress=False, hyper={"lp_fu": {"n_neighbors": 3}})
    assert len(fits) == 2 * len(pool)


def test_pactran_gmm_variants_share_the_mixture(monkeypatch):
    from sklearn.mixture import GaussianMixture

    pool = _pool()
    alone = {(m, name): getattr(pactran, name)(e["features"], e["labels"]) for m, e in pool.items()
             for name in ("pactran_dirichlet_gmm", "pactran_gamma_gmm")}
    fits = _count_fits(monkeypatch, GaussianMixture)
    df = score_pool(pool, ["pactran_dirichlet_gmm", "pactran_gamma_gmm"], progress=False)
    assert len(fits) == len(pool)
    for r in df.itertuples():
        assert r.score == alone[(r.model, r.metric)]
