"""Tests for tecore.evaluate: values against scipy and brute-force formulas, hand-computed
cases, invariances, bootstrap and Friedman/Nemenyi."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tecore import evaluate as E
from tecore.evaluate import (
    ConstantInputWarning,
    bootstrap_tau,
    correlations,
    critical_difference,
    friedman,
    kendall_tau,
    pearson_r,
    relative_top1,
    spearman_rho,
    top_k_hit,
    weighted_tau,
    weighted_tau_itm,
)


# ------------------------------------------------------------------ brute-force references
def _scipy_wtau_one_side(x, y):
    """Vigna's weighted tau as documented by scipy: hyperbolic weigher 1/(r+1) on the rank
    r obtained by decreasing lexicographic order of (x, y) (0 = largest), additive pair
    weights, normalised by the weights of the pairs not tied in x and not tied in y."""
    n = len(x)
    perm = np.lexsort((y, x))  # ascending x, then y; stable
    rank = np.empty(n, int)
    rank[perm[::-1]] = np.arange(n)
    w = 1.0 / (1.0 + rank)
    num = dx = dy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            wij = w[i] + w[j]
            sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
            num += wij * sx * sy
            dx += wij * (sx != 0)
            dy += wij * (sy != 0)
    return num / math.sqrt(dx * dy)


def brute_scipy_wtau(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    return 0.5 * (_scipy_wtau_one_side(x, y) + _scipy_wtau_one_side(y, x))


def brute_itm(scores, truth):
    """ITM eq. 1 by the letter: G, P = 1-based ranks (1 = best, ties averaged),
    w_ij = 1/(G_i + G_j), tau = sum w sign((G_i-G_j)(P_i-P_j)) / sum w over i<j."""
    M = len(scores)
    G = [1 + sum(t2 > t1 for t2 in truth) + 0.5 * (sum(t2 == t1 for t2 in truth) - 1) for t1 in truth]
    P = [1 + sum(s2 > s1 for s2 in scores) + 0.5 * (sum(s2 == s1 for s2 in scores) - 1) for s1 in scores]
    num = den = 0.0
    for i in range(M):
        for j in range(i + 1, M):
            w = 1.0 / (G[i] + G[j])
            num += w * np.sign((G[i] - G[j]) * (P[i] - P[j]))
            den += w
    return num / den


def _pairs(rng, n, ties):
    if ties:
        return rng.integers(0, 4, n).astype(float), rng.integers(0, 4, n).astype(float)
    return rng.normal(size=n), rng.normal(size=n)


# ------------------------------------------------------------------ weighted tau (scipy)
def test_weighted_tau_scipy_docstring_example():
    # the example printed in scipy.stats.weightedtau's docstring
    assert weighted_tau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) == pytest.approx(-0.56694968153682723, abs=1e-15)


@pytest.mark.parametrize("seed", range(40))
def test_weighted_tau_equals_scipy_and_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 16))
    x, y = _pairs(rng, n, ties=seed % 2 == 0)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return
    got = weighted_tau(x, y)
    assert got == stats.weightedtau(x, y).statistic
    assert got == pytest.approx(brute_scipy_wtau(x, y), abs=1e-12)


def test_weighted_tau_perfect_and_reversed():
    t = np.arange(7.0)
    assert weighted_tau(t * 3 + 1, t) == pytest.approx(1.0)
    assert weighted_tau(-t, t) == pytest.approx(-1.0)
    assert weighted_tau_itm(t * 3 + 1, t) == pytest.approx(1.0)
    assert weighted_tau_itm(-t, t) == pytest.approx(-1.0)


def test_weighted_tau_top_errors_cost_more():
    truth = np.arange(10.0)
    swap_top = truth.copy(); swap_top[[9, 8]] = swap_top[[8, 9]]
    swap_bottom = truth.copy(); swap_bottom[[0, 1]] = swap_bottom[[1, 0]]
    assert weighted_tau(swap_top, truth) < weighted_tau(swap_bottom, truth) < 1
    assert weighted_tau_itm(swap_top, truth) < weighted_tau_itm(swap_bottom, truth) < 1
    # plain Kendall does not care where the swap is
    assert kendall_tau(swap_top, truth) == pytest.approx(kendall_tau(swap_bottom, truth))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=2, max_size=12), st.randoms())
def test_weighted_tau_properties(pairs, rnd):
    x = np.array([p[0] for p in pairs], float)
    y = np.array([p[1] for p in pairs], float)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        with pytest.warns(ConstantInputWarning):
            assert math.isnan(weighted_tau(x, y))
        return
    v = weighted_tau(x, y)
    assert v == pytest.approx(brute_scipy_wtau(x, y), abs=1e-12)
    assert weighted_tau(y, x) == pytest.approx(v, abs=1e-12)  # symmetric (rank=True averages)
    perm = np.array(rnd.sample(range(len(x)), len(x)))
    assert weighted_tau(x[perm], y[perm]) == pytest.approx(v, abs=1e-12)  # order of models
    assert weighted_tau(np.exp(x) * 5 - 2, y) == pytest.approx(v, abs=1e-12)  # monotone map
    assert -1 - 1e-12 <= v <= 1 + 1e-12
    vi = weighted_tau_itm(x, y)
    assert vi == pytest.approx(brute_itm(x, y), abs=1e-12)
    assert weighted_tau_itm(x[perm], y[perm]) == pytest.approx(vi, abs=1e-12)
    assert -1 - 1e-12 <= vi <= 1 + 1e-12


# ------------------------------------------------------------------ ITM eq. 1
def test_weighted_tau_itm_hand_computed():
    # truth ranks G = [1, 2, 3]; scores [1, 3, 2] -> P = [3, 1, 2]
    # pairs: (0,1) w=1/3 sign(-1*2)=-1; (0,2) w=1/4 sign(-2*1)=-1; (1,2) w=1/5 sign(-1*-1)=+1
    # tau = (-1/3 - 1/4 + 1/5) / (1/3 + 1/4 + 1/5) = -23/47
    assert weighted_tau_itm([1, 3, 2], [3, 2, 1]) == pytest.approx(-23 / 47, abs=1e-15)
    assert brute_itm([1, 3, 2], [3, 2, 1]) == pytest.approx(-23 / 47, abs=1e-15)


def test_weighted_tau_itm_ties_keep_their_weight():
    # scores tied for the two best models: pair (0,1) contributes 0 but w=1/3 stays in the sum
    # G = [1,2,3], P = [1.5,1.5,3]: (0,2) w=1/4 +1, (1,2) w=1/5 +1 -> (9/20)/(47/60) = 27/47
    assert weighted_tau_itm([5, 5, 1], [3, 2, 1]) == pytest.approx(27 / 47, abs=1e-15)


def test_weighted_tau_itm_weights_follow_truth_only():
    # not symmetric in its arguments, unlike scipy's
    # swapped roles of the hand case: G = [3, 1, 2], P = [1, 2, 3]
    # (0,1) w=1/4 -1; (0,2) w=1/5 -1; (1,2) w=1/3 +1 -> (-1/4 - 1/5 + 1/3) / (47/60) = -7/47
    assert weighted_tau_itm([3, 2, 1], [1, 3, 2]) == pytest.approx(-7 / 47, abs=1e-15)
    assert weighted_tau_itm([1, 3, 2], [3, 2, 1]) == pytest.approx(-23 / 47, abs=1e-15)
    assert weighted_tau([3, 2, 1], [1, 3, 2]) == pytest.approx(weighted_tau([1, 3, 2], [3, 2, 1]))


@pytest.mark.parametrize("seed", range(20))
def test_weighted_tau_itm_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    x, y = _pairs(rng, int(rng.integers(3, 20)), ties=seed % 3 == 0)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return
    assert weighted_tau_itm(x, y) == pytest.approx(brute_itm(x, y), abs=1e-12)


# ------------------------------------------------------------------ inputs
def test_series_are_aligned_on_index():
    s = pd.Series({"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.9})
    t = pd.Series({"d": 80.0, "c": 71.0, "a": 60.0, "b": 75.0})
    expected = weighted_tau([0.1, 0.5, 0.3, 0.9], [60.0, 75.0, 71.0, 80.0])
    assert weighted_tau(s, t) == pytest.approx(expected)
    # positional pairing would give a different answer here
    assert weighted_tau(s.to_numpy(), t.to_numpy()) != pytest.approx(expected)
    assert correlations(s, t)["weighted_tau"] == pytest.approx(expected)
    assert weighted_tau(s.to_dict(), t.to_dict()) == pytest.approx(expected)


def test_series_with_different_models_is_an_error():
    s = pd.Series({"a": 0.1, "b": 0.5, "c": 0.3})
    t = pd.Series({"a": 1.0, "b": 2.0, "z": 3.0})
    with pytest.raises(ValueError, match=r"no truth for \['c'\].*no score for \['z'\]"):
        weighted_tau(s, t)


def test_length_mismatch_and_too_few_models():
    with pytest.raises(ValueError, match="different lengths"):
        weighted_tau([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2 models"):
        kendall_tau([1.0], [2.0])
    with pytest.raises(ValueError, match="1-D"):
        spearman_rho(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="numeric"):
        pearson_r(["a", "b"], [1, 2])


def test_nan_policy():
    x = np.array([12, 2, 1, 12, 2.0])
    y = np.array([1, 4, 7, 1, np.nan])
    with pytest.raises(ValueError, match=r"NaN for model\(s\) \[4\].*nan_policy='omit'"):
        weighted_tau(x, y)
    # scipy's own convention: NaN ranks lowest (scipy docstring example)
    assert weighted_tau(x, y, nan_policy="smallest") == pytest.approx(-0.56694968153682723)
    assert weighted_tau(x, y, nan_policy="omit") == pytest.approx(stats.weightedtau(x[:4], y[:4]).statistic)
    assert kendall_tau(x, y, nan_policy="omit") == pytest.approx(stats.kendalltau(x[:4], y[:4]).statistic)
    with pytest.raises(ValueError, match="nan_policy"):
        weighted_tau_itm(x, y, nan_policy="smallest")
    with pytest.raises(ValueError, match="inf"):
        weighted_tau([1, np.inf, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="after omitting NaN"):
        weighted_tau([1, np.nan, np.nan], [1, 2, 3], nan_policy="omit")


@pytest.mark.parametrize("fn", [weighted_tau, weighted_tau_itm, kendall_tau, spearman_rho, pearson_r])
def test_constant_input_is_nan_with_warning(fn):
    with pytest.warns(ConstantInputWarning, match="scores constant"):
        assert math.isnan(fn([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.warns(ConstantInputWarning, match="truth constant"):
        assert math.isnan(fn([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]))


def test_inputs_not_mutated():
    s = np.array([3.0, np.nan, 1.0, 2.0])
    t = pd.Series([1.0, 2.0, 3.0, 4.0])
    s0, t0 = s.copy(), t.copy()
    correlations(s, t.to_numpy(), nan_policy="omit")
    bootstrap_tau(np.array([3.0, 0.5, 1.0, 2.0, 7.0]), np.arange(5.0), n_boot=50)
    np.testing.assert_array_equal(s, s0)
    pd.testing.assert_series_equal(t, t0)


@pytest.mark.parametrize("seed", range(5))
def test_classic_correlations_equal_scipy(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=9), rng.normal(size=9)
    assert kendall_tau(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-15)
    assert spearman_rho(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-15)
    assert pearson_r(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-15)


# ------------------------------------------------------------------ selection quality
def test_top_k_hit_and_relative_top1():
    truth = [70.0, 90.0, 80.0, 60.0]
    scores = [0.9, 0.5, 0.8, 0.1]  # picks model 0 (70), second pick model 2 (80), then 1 (90)
    assert top_k_hit(scores, truth, 1) == 0.0
    assert top_k_hit(scores, truth, 2) == 0.0
    assert top_k_hit(scores, truth, 3) == 1.0
    assert top_k_hit(scores, truth, 10) == 1.0  # k larger than the pool
    assert relative_top1(scores, truth) == pytest.approx(70 / 90)
    assert relative_top1([0.1, 0.9, 0.2, 0.3], truth) == 1.0
    # a tie at the top: mean truth of the tied models; ties at the cut are included
    assert relative_top1([0.9, 0.5, 0.9, 0.1], truth) == pytest.approx(75 / 90)
    assert top_k_hit([0.9, 0.5, 0.5, 0.1], truth, 2) == 1.0
    with pytest.raises(ValueError, match="k must be"):
        top_k_hit(scores, truth, 0)
    with pytest.raises(ValueError, match="accuracies"):
        relative_top1(scores, [-1.0, -2.0, -3.0, -4.0])


def test_correlations_dict():
    rng = np.random.default_rng(3)
    t = rng.uniform(50, 90, 8)
    s = t + rng.normal(scale=10, size=8)
    d = correlations(s, t)
    assert set(d) == {"weighted_tau", "weighted_tau_itm", "kendall_tau", "spearman_rho", "pearson_r",
                      "top1_hit", "top3_hit", "relative_top1", "n_models"}
    assert d["weighted_tau"] == weighted_tau(s, t)
    assert d["weighted_tau_itm"] == weighted_tau_itm(s, t)
    assert d["relative_top1"] == relative_top1(s, t)
    assert d["n_models"] == 8
    assert math.isnan(correlations(s, -t)["relative_top1"])


# ------------------------------------------------------------------ bootstrap
def test_batch_weighted_tau_equals_scipy_on_resamples():
    rng = np.random.default_rng(5)
    s, t = rng.normal(size=10), np.round(rng.normal(size=10), 1)
    idx = rng.integers(0, 10, size=(300, 10))
    X, Y = s[idx], t[idx]
    got = E._weighted_tau_batch(X, Y)
    for g, x, y in zip(got, X, Y):
        ref = stats.weightedtau(x, y).statistic
        if np.isnan(ref):
            assert np.isnan(g)
        else:
            assert g == pytest.approx(ref, abs=1e-12)


def test_bootstrap_values_and_reproducibility():
    rng = np.random.default_rng(11)
    t = rng.uniform(60, 90, 12)
    s = t + rng.normal(scale=5, size=12)
    r1 = bootstrap_tau(s, t, n_boot=400, seed=1)
    r2 = bootstrap_tau(s, t, n_boot=400, seed=1)
    assert r1 == r2
    assert r1["estimate"] == weighted_tau(s, t)
    assert r1["low"] <= r1["estimate"] <= r1["high"]
    assert r1["n_boot"] == 400 and r1["n_valid"] + r1["n_degenerate"] == 400
    # independent recomputation: same indices, scipy per replicate, numpy percentile
    idx = np.random.default_rng(1).integers(0, 12, size=(400, 12))
    vals = np.array([stats.weightedtau(s[i], t[i]).statistic for i in idx])
    vals = vals[np.isfinite(vals)]
    lo, hi = np.quantile(vals, [0.025, 0.975])
    assert r1["low"] == pytest.approx(lo, abs=1e-12) and r1["high"] == pytest.approx(hi, abs=1e-12)
    # the generic (looped) path gives the same numbers
    r3 = bootstrap_tau(s, t, n_boot=400, seed=1, stat=lambda a, b: weighted_tau(a, b))
    assert r3["low"] == pytest.approx(r1["low"], abs=1e-12)
    assert r3["high"] == pytest.approx(r1["high"], abs=1e-12)
    # narrower level -> narrower interval
    r4 = bootstrap_tau(s, t, n_boot=400, seed=1, ci=0.5)
    assert r1["low"] <= r4["low"] <= r4["high"] <= r1["high"]
    rk = bootstrap_tau(s, t, n_boot=100, stat=kendall_tau)
    assert rk["estimate"] == kendall_tau(s, t)


def test_bootstrap_degenerate_resamples_are_dropped_and_counted():
    s, t = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
    r = bootstrap_tau(s, t, n_boot=2000, seed=7)
    idx = np.random.default_rng(7).integers(0, 3, size=(2000, 3))
    n_const = int(np.sum((idx == idx[:, :1]).all(axis=1)))
    assert n_const > 0
    assert r["n_degenerate"] == n_const
    assert r["n_valid"] == 2000 - n_const


def test_bootstrap_bad_arguments():
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_tau([1, 2, 3], [1, 2, 3], n_boot=0)
    with pytest.raises(ValueError, match="ci"):
        bootstrap_tau([1, 2, 3], [1, 2, 3], ci=95)
    with pytest.raises(ValueError, match="meaningless"):
        bootstrap_tau([1.0, 2.0], [1.0, 2.0], n_boot=500)  # half the resamples are constant


# ------------------------------------------------------------------ Friedman + Nemenyi
def _table(seed=0, n=12):
    rng = np.random.default_rng(seed)
    tab = pd.DataFrame(rng.normal(size=(n, 4)), columns=["logme", "gbc", "leep", "parc"],
                       index=[f"ds{i}" for i in range(n)])
    tab["logme"] += 1.5
    return tab


def test_friedman_statistic_ranks_and_posthoc():
    import scikit_posthocs as sp

    tab = _table()
    r = friedman(tab)
    ref = stats.friedmanchisquare(*tab.to_numpy().T)
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)
    ranks = tab.rank(axis=1, ascending=False).mean()
    pd.testing.assert_series_equal(r.avg_ranks, ranks.sort_values(kind="stable").rename("avg_rank"))
    assert r.avg_ranks.index[0] == "logme"  # best first, rank 1 = highest value
    assert r.avg_ranks.sum() == pytest.approx(4 * 5 / 2)
    nem = sp.posthoc_nemenyi_friedman(tab.to_numpy())
    np.testing.assert_allclose(r.nemenyi.to_numpy(), nem.to_numpy())
    assert list(r.nemenyi.columns) == list(tab.columns)
    assert (r.n_blocks, r.n_methods, r.alpha) == (12, 4, 0.05)
    # Nemenyi p < alpha exactly when the average ranks differ by more than the CD
    for a in tab.columns:
        for b in tab.columns:
            if a != b:
                diff = abs(r.avg_ranks[a] - r.avg_ranks[b])
                assert (r.nemenyi.loc[a, b] < r.alpha) == (diff > r.cd)
    assert ("logme", "gbc") in r.significant_pairs() or ("gbc", "logme") in r.significant_pairs() \
        or abs(r.avg_ranks["logme"] - r.avg_ranks["gbc"]) <= r.cd


def test_friedman_hand_ranks():
    tab = pd.DataFrame({"a": [3, 3, 3], "b": [2, 2, 1], "c": [1, 1, 2]}, dtype=float)
    r = friedman(tab)
    assert r.avg_ranks.to_dict() == pytest.approx({"a": 1.0, "b": 2 + 1 / 3, "c": 2 + 2 / 3})
    # chi2 = 12N/(k(k+1)) * sum R^2 - 3N(k+1) with N=3, k=3, rank sums 3, 7, 8
    chi2 = 12 / (3 * 3 * 4) * (3 ** 2 + 7 ** 2 + 8 ** 2) - 3 * 3 * 4
    assert r.statistic == pytest.approx(chi2)


def test_critical_difference_matches_demsar_table_and_autorank():
    from autorank._util import _critical_distance

    # Demšar (2006), Table 5(a): q_0.05 = 2.569 for k = 4; 2.343 for k = 3; 3.164 for k = 10
    assert critical_difference(4, 10) == pytest.approx(2.569 * math.sqrt(4 * 5 / 60), abs=1e-3)
    assert critical_difference(3, 7) == pytest.approx(2.343 * math.sqrt(3 * 4 / 42), abs=1e-3)
    assert critical_difference(10, 14) == pytest.approx(3.164 * math.sqrt(10 * 11 / 84), abs=1e-3)
    for k, n in [(4, 10), (6, 20), (12, 9)]:
        assert critical_difference(k, n) == pytest.approx(_critical_distance(0.05, k, n), rel=1e-4)
    assert critical_difference(4, 10, alpha=0.1) < critical_difference(4, 10)
    assert friedman(_table(n=10)).cd == pytest.approx(critical_difference(4, 10))


def test_friedman_errors():
    tab = _table()
    with pytest.raises(ValueError, match="at least 3 methods"):
        friedman(tab[["logme", "gbc"]])
    bad = tab.copy()
    bad.iloc[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"block\(s\) \['ds2'\].*dropna"):
        friedman(bad)
    with pytest.raises(ValueError, match="2 blocks"):
        friedman(tab.iloc[:1])
    with pytest.raises(ValueError, match="numeric"):
        friedman(pd.DataFrame({"a": ["x", "y"], "b": [1, 2], "c": [2, 1]}))


def test_public_api_reexports():
    import tecore

    for name in ["weighted_tau", "weighted_tau_itm", "kendall_tau", "spearman_rho", "pearson_r",
                 "top_k_hit", "relative_top1", "correlations", "bootstrap_tau", "friedman", "rank_table"]:
        assert getattr(tecore, name) is getattr(E, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tecore.weighted_tau([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)


# --------------------------------------------------------------------------------------
# rank_table: the one entry point from tables
# --------------------------------------------------------------------------------------
def _two_metrics(seed=2):
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(8)]
    truth = pd.Series(rng.uniform(60, 90, 8), index=models)
    good = truth + rng.normal(scale=3, size=8)
    bad = pd.Series(rng.normal(size=8), index=models)
    bad.iloc[3] = np.nan
    df = pd.concat([
        pd.DataFrame({"model": models, "metric": "good", "score": good.values}),
        pd.DataFrame({"model": models, "metric": "bad", "score": bad.values}),
    ])
    return df, truth, good, bad


def test_rank_table_one_pool_against_a_series():
    df, truth, good, bad = _two_metrics()
    out = E.rank_table(df, truth.sample(frac=1, random_state=0), by="metric", bootstrap=200)
    assert out["metric"].tolist() == ["good", "bad"]  # order of first appearance
    assert list(out.columns) == ["metric", "n_models", *E.STATS, "ci_low", "ci_high"]
    out = out.set_index("metric")
    assert out.loc["good", "weighted_tau"] == pytest.approx(weighted_tau(good, truth))
    keep = bad.dropna().index  # a NaN score leaves that model out of its metric's row
    assert out.loc["bad", "weighted_tau"] == pytest.approx(weighted_tau(bad[keep], truth[keep]))
    assert out.loc["bad", "n_models"] == 7 and out.loc["good", "n_models"] == 8
    ref = correlations(good, truth)
    for k in E.STATS:
        assert out.loc["good", k] == pytest.approx(ref[k]), k
    b = bootstrap_tau(good.to_numpy(), truth.to_numpy(), n_boot=200)
    assert (out.loc["good", "ci_low"], out.loc["good", "ci_high"]) == pytest.approx((b["low"], b["high"]))
    # a model without truth is left out of its group, and n_models says so
    short = E.rank_table(df, truth.iloc[:7], by="metric").set_index("metric")
    assert short.loc["good", "n_models"] == 7
    assert short.loc["good", "weighted_tau"] == pytest.approx(weighted_tau(good.iloc[:7], truth.iloc[:7]))


def test_rank_table_groups_by_target_and_metric_and_takes_functions():
    """What printed.tau_by did: one statistic per (metric, target), pivoted by the caller."""
    rng = np.random.default_rng(0)
    rows, truth_rows = [], []
    for t in ("d1", "d2"):
        acc = rng.uniform(size=6)
        truth_rows += [{"target": t, "model": f"m{i}", "truth": a} for i, a in enumerate(acc)]
        for m, sign in (("up", 1.0), ("down", -1.0)):
            rows += [{"target": t, "model": f"m{i}", "metric": m, "score": sign * a} for i, a in enumerate(acc)]
    scores, truth = pd.DataFrame(rows), pd.DataFrame(truth_rows)
    out = E.rank_table(scores, truth, by=["metric", "target"], stats="kendall_tau")
    wide = out.pivot(index="metric", columns="target", values="kendall_tau")
    np.testing.assert_allclose(wide.loc["up"], 1.0)
    np.testing.assert_allclose(wide.loc["down"], -1.0)
    # a function as statistic: the column is named after it
    out = E.rank_table(scores, truth, by=["metric", "target"], stats=[weighted_tau_itm, "pearson_r"])
    assert list(out.columns) == ["metric", "target", "n_models", "weighted_tau_itm", "pearson_r"]
    # a joined table (score and truth side by side) with truth=None gives the same
    joined = scores.merge(truth, on=["target", "model"])
    pd.testing.assert_frame_equal(E.rank_table(joined, None, by=["metric", "target"], stats=[weighted_tau_itm, "pearson_r"]), out)


def test_rank_table_undefined_groups_and_errors():
    scores = pd.DataFrame({"target": "t", "model": list("abcd"), "metric": "const", "score": 1.0})
    truth = pd.DataFrame({"target": "t", "model": list("abcd"), "truth": [0.1, 0.2, 0.3, 0.4]})
    out = E.rank_table(scores, truth, bootstrap=20)
    assert out.n_models.iloc[0] == 4 and out.drop(columns=["target", "metric", "n_models"]).isna().all(axis=None)
    two = E.rank_table(scores.assign(score=[1.0, 2, np.nan, np.nan]), truth)  # 2 < min_models
    assert two.n_models.iloc[0] == 2 and np.isnan(two.weighted_tau.iloc[0])
    with pytest.raises(ValueError, match="unknown statistic 'tau_w'"):
        E.rank_table(scores, truth, stats="tau_w")
    with pytest.raises(ValueError, match="truth must have columns"):
        E.rank_table(scores, truth.rename(columns={"truth": "accuracy"}))
    with pytest.raises(ValueError, match="by: \\['dataset'\\]"):
        E.rank_table(scores, truth, by=["dataset"])
    with pytest.raises(ValueError, match="bootstrap must be"):
        E.rank_table(scores, truth, bootstrap=-1)
    with pytest.raises(ValueError, match="truth=None needs"):
        E.rank_table(scores, None)
    with pytest.raises(ValueError, match="ci must be"):
        E.rank_table(scores, truth, bootstrap=10, ci=95)
