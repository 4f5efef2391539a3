"""ETran (tecore.metrics.etran)."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats
from scipy.special import logsumexp

from tecore.metrics import etran as E
from tecore.metrics.etran import combine, etran_terms
from tecore.metrics.sfda import shrunk_lda_proba
from tests._metric_props import golden_data


_data = golden_data


# Golden values: mgholamikn/ETran metrics.py (commit d4551ed8f41f4ed6eba08b9cc1a78bae178acd19),
# LDA_Score(X, y) and Energy_Score(X, 0.5, 'bot') exactly as evaluate_metric.py calls them, run
# unchanged in a scratch dir (utils.iterative_A from TencentARC/SFDA beside it) on float64 _data(*args).
# The official LDA is our official=True (see the etran_terms docstring).
GOLDEN = [
    ((0, 400, 8, 3, 1.0, 1.0), 0.9601735176511983, 1.1992410985386268),
    ((1, 1000, 20, 5, 0.5, 0.3), 0.2805862341572766, 2.8624036053722444),
    ((2, 250, 40, 4, 0.8, 2.0), 0.9920808826947379, 4.443320592121815),
]


@pytest.mark.parametrize("args,lda,energy", GOLDEN)
def test_golden_vs_official(args, lda, energy):
    X, y = _data(*args)
    t = etran_terms(X, y, official=True)
    assert t["lda"] == pytest.approx(lda, rel=1e-6)
    assert t["energy"] == pytest.approx(energy, rel=1e-6)
    assert etran_terms(X, y)["energy"] == pytest.approx(energy, rel=1e-6)


def test_published_cifar100_combination_gives_published_tau():
    # Published per-model scores from the ETran notebook (see shared/published/README.md);
    # tw.py's 0.85/0.15 combination gives the notebook's printed Kendall 0.900.
    path = Path(os.environ["TECORE_PUBLISHED_MIRROR"]) / "etran" / "scores_cifar100.csv"
    df = pd.read_csv(path, index_col="model")
    terms = df.rename(columns={"lda_score": "lda", "energy_score": "energy"})
    s = combine(terms)
    assert list(s.index) == list(df.index) and s.name == "etran"
    assert stats.weightedtau(s, df["gt_accuracy"])[0] == pytest.approx(0.8998, abs=5e-5)
    assert stats.weightedtau(df["lda_score"], df["gt_accuracy"])[0] == pytest.approx(0.869, abs=5e-4)
    assert stats.weightedtau(df["energy_score"], df["gt_accuracy"])[0] == pytest.approx(0.572, abs=5e-4)
    # combination by hand
    mm = lambda v: (v - v.min()) / (v.max() - v.min())  # noqa: E731
    np.testing.assert_allclose(s, 0.85 * mm(df["lda_score"]) + 0.15 * mm(df["energy_score"]), rtol=1e-12)


def test_energy_hand_computed():
    # 400 samples -> int(0.5*10)*400//1000 = 2 lowest energies are averaged
    X = np.zeros((400, 3))
    X[:, 0] = np.arange(400)
    y = np.arange(400) % 2
    e = logsumexp(X, axis=1)
    assert etran_terms(X, y)["energy"] == pytest.approx(np.sort(e)[:2].mean(), rel=1e-12)
    assert etran_terms(X, y)["energy"] == pytest.approx((np.log(3) + np.log(np.e + 2)) / 2, rel=1e-12)
    # fewer than 200 samples: the official average is empty (NaN); tecore uses the minimum
    Xs, ys = X[:50], y[:50]
    assert etran_terms(Xs, ys)["energy"] == pytest.approx(np.log(3), rel=1e-12)


def test_official_lda_is_nearest_mean_and_default_is_shrinkage_lda():
    X, y = _data(3, 300, 6, 3, 0.7, 1.0)
    means = np.array([X[y == c].mean(0) for c in range(3)])
    prior = np.bincount(y) / len(y)
    logit = -0.5 * ((X[:, None, :] - means[None]) ** 2).sum(-1) + np.log(prior)
    p = np.exp(logit - logsumexp(logit, axis=1, keepdims=True))
    assert etran_terms(X, y, official=True)["lda"] == pytest.approx(p[np.arange(300), y].mean(), rel=1e-10)
    proba, _, _ = shrunk_lda_proba(X, y, 3)
    assert etran_terms(X, y)["lda"] == pytest.approx(proba[np.arange(300), y].mean(), rel=1e-12)


def test_invariances():
    X, y = _data(4, 300, 8, 4, 0.6, 1.0)
    base = etran_terms(X, y)
    perm = np.random.default_rng(0).permutation(300)
    for k, v in etran_terms(X[perm], y[perm]).items():
        assert v == pytest.approx(base[k], rel=1e-9)
    for k, v in etran_terms(X, np.array(["z", "y", "x", "w"])[y]).items():
        assert v == pytest.approx(base[k], rel=1e-9)
    # a constant shift c of every feature shifts the energy by c and leaves the LDA unchanged
    sh = etran_terms(X + 2.5, y)
    assert sh["energy"] == pytest.approx(base["energy"] + 2.5, rel=1e-9)
    assert sh["lda"] == pytest.approx(base["lda"], rel=1e-8)


def test_combine_edge_cases():
    one = pd.DataFrame({"lda": [0.5], "energy": [7.0]}, index=["m"])
    with pytest.raises(ValueError, match="at least two models"):
        combine(one)
    with pytest.raises(ValueError, match="missing term"):
        combine(pd.DataFrame({"lda": [0.5, 0.6]}, index=["a", "b"]))
    with pytest.raises(ValueError, match="NaN"):
        combine(pd.DataFrame({"lda": [0.5, np.nan], "energy": [1.0, 2.0]}, index=["a", "b"]))
    with pytest.raises(ValueError, match="DataFrame"):
        combine({"lda": [0.5, 0.6], "energy": [1, 2]})
    with pytest.raises(ValueError, match="weights"):
        combine(pd.DataFrame({"lda": [0.5, 0.6], "energy": [1, 2]}, index=["a", "b"]), weights={"lda": 1})
    # a constant term contributes 0
    s = combine(pd.DataFrame({"lda": [0.5, 0.7, 0.6], "energy": [3.0, 3.0, 3.0]}, index=list("abc")))
    np.testing.assert_allclose(s.to_numpy(), [0.0, 0.85, 0.425])


def test_terms_registered_and_no_mutation():
    from tecore import metrics
    spec = metrics.get("etran")
    X, y = _data(5, 200, 5, 3, 1.0, 1.0)
    X0 = X.copy()
    t = spec(X, y)
    assert set(t) == set(E.TERMS) and spec.combiner is combine
    assert np.array_equal(X, X0)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(6, 40), bad=st.sampled_from(["nan", "len", "one_class", "percent"]))
def test_bad_input_raises_clear_error(n, bad):
    r = np.random.default_rng(n)
    X = r.normal(size=(n, 3))
    y = np.arange(n) % 2
    kw = {}
    if bad == "nan":
        X[r.integers(n), 0] = np.nan
    elif bad == "len":
        y = y[1:]
    elif bad == "one_class":
        y = np.zeros(n)
    else:
        kw = {"energy_percent": 0.0}
    with pytest.raises(ValueError):
        etran_terms(X, y, **kw)
