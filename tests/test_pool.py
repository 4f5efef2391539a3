"""Tests for tecore.pool: scoring a pool with real registered metrics and with MetricSpec
fixtures defined here (module functions, addressed as f"{__name__}:fn"), min-max, and a
pool's scores through evaluate.rank_table."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tecore import evaluate as ev
from tecore import metrics as registry
from tecore.metrics import MetricSpec
from tecore.pool import minmax, model_inputs, score_pool


# ------------------------------------------------------------------ fixtures: tiny metrics
def mean_prob_of_label(probs, labels, *, power=1.0):
    """A probs-based test metric: mean probability of column (label mod K), to a power."""
    probs = np.asarray(probs, float)
    y = np.asarray(labels) % probs.shape[1]
    return float(np.mean(probs[np.arange(len(y)), y] ** power))


def feature_norm(features, labels, *, scale=1.0):
    """A feature test metric: scale * mean row norm."""
    return float(scale * np.linalg.norm(np.asarray(features, float), axis=1).mean())


def failing(features, labels):
    if np.asarray(features).shape[1] == 3:
        raise ValueError("three columns are not allowed")
    return 1.0


def two_terms(features, labels, grad_ratio):
    X = np.asarray(features, float)
    return {"spread": float(X.std()), "g": float(grad_ratio)}


def combine_two(terms, *, w=1.0):
    mm = (terms - terms.min()) / (terms.max() - terms.min())
    return w * mm["spread"] + mm["g"]


PROBS_SPEC = MetricSpec("meanprob", f"{__name__}:mean_prob_of_label", ("probs", "labels"), "test", "test")
NORM_SPEC = MetricSpec("norm", f"{__name__}:feature_norm", ("features", "labels"), "test", "test")
FAIL_SPEC = MetricSpec("failing", f"{__name__}:failing", ("features", "labels"), "test", "test")
POOL_SPEC = MetricSpec("twoterms", f"{__name__}:two_terms", ("features", "labels", "grad_ratio"), "test",
                       "test", combine=f"{__name__}:combine_two")


def make_pool(n_models=4, n=90, d=6, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(c), n // c)
    pool = {}
    for i in range(n_models):
        centers = rng.normal(scale=1.0 + i, size=(c, d))
        X = centers[y] + rng.normal(size=(n, d))
        logits = rng.normal(size=(n, 5)) * (i + 1)
        pool[f"m{i}"] = {"features": X, "labels": y, "logits": logits, "grad_ratio": 0.5 + 0.1 * i}
    return pool


# ------------------------------------------------------------------ score_pool
def test_real_per_model_metrics_equal_direct_calls():
    pool = make_pool()
    names = [n for n in ("sfda", "gbc") if n in registry.REGISTRY]
    df = score_pool(pool, names, progress=False)
    assert list(df.columns) == ["model", "metric", "score", "seconds", "note"]
    assert len(df) == len(names) * len(pool)
    for _, r in df.iterrows():
        e = pool[r.model]
        direct = registry.get(r.metric)(e["features"], e["labels"])
        assert r.score == pytest.approx(direct, rel=1e-12)
        assert r.seconds > 0 and r.note == ""


@pytest.mark.parametrize("name", ["ncti", "etran"])
def test_real_pool_level_metrics_equal_terms_then_combine(name):
    pool = make_pool()
    spec = registry.get(name)
    df = score_pool(pool, name, progress=False)
    terms = pd.DataFrame({m: spec.function(e["features"], e["labels"]) for m, e in pool.items()}).T
    expected = spec.combiner(terms)
    got = df.set_index("model")["score"]
    pd.testing.assert_series_equal(got.loc[expected.index], expected, check_names=False)
    pd.testing.assert_frame_equal(df.attrs["terms"][name].astype(float), terms.astype(float))
    assert (df["seconds"] > 0).all()


def test_custom_pool_level_spec_and_combine_kwargs():
    pool = make_pool()
    df = score_pool(pool, [POOL_SPEC], progress=False, hyper={"twoterms": {"combine_kwargs": {"w": 2.0}}})
    terms = pd.DataFrame({m: two_terms(e["features"], e["labels"], e["grad_ratio"]) for m, e in pool.items()}).T
    expected = combine_two(terms, w=2.0)
    np.testing.assert_allclose(df.set_index("model").loc[expected.index, "score"], expected, rtol=1e-12)
    # m0: smallest spread and smallest grad ratio -> 0; m3 largest of both -> 2*1 + 1
    assert df.set_index("model").loc["m0", "score"] == pytest.approx(0.0)
    assert df.set_index("model").loc["m3", "score"] == pytest.approx(3.0)


def test_features_record_logits_to_probs_and_shared_labels():
    from tecore.extract import Features

    pool = make_pool(3)
    y = pool["m0"]["labels"]
    recs = {m: Features(features=e["features"].astype(np.float32), logits=e["logits"].astype(np.float32),
                        labels=None, grad_ratio=None) for m, e in pool.items()}
    df = score_pool(recs, [PROBS_SPEC, NORM_SPEC], labels=y, progress=False,
                    meanprob={"power": 2.0}, norm={"scale": 3.0})
    for m, e in pool.items():
        z = e["logits"].astype(np.float32).astype(np.float64)
        p = np.exp(z - z.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
        got = df[(df.model == m) & (df.metric == "meanprob")].score.item()
        assert got == pytest.approx(mean_prob_of_label(p, y, power=2.0), rel=1e-6)
        got = df[(df.model == m) & (df.metric == "norm")].score.item()
        assert got == pytest.approx(feature_norm(e["features"].astype(np.float32), y, scale=3.0), rel=1e-6)


def test_missing_inputs_give_nan_with_note_and_warning():
    pool = make_pool(3)
    del pool["m1"]["logits"]          # headless model: no probs
    del pool["m2"]["grad_ratio"]      # no gradient probe
    with pytest.warns(UserWarning, match=r"2 score\(s\) left NaN.*m1/meanprob \(probs\)"):
        df = score_pool(pool, [PROBS_SPEC, POOL_SPEC], progress=False)
    d = df.set_index(["model", "metric"])
    assert math.isnan(d.loc[("m1", "meanprob"), "score"])
    assert d.loc[("m1", "meanprob"), "note"] == "missing input(s): probs"
    assert math.isnan(d.loc[("m2", "twoterms"), "score"])
    assert "grad_ratio" in d.loc[("m2", "twoterms"), "note"]
    # the pool-level combine ran over the two models that have all inputs
    assert sorted(d.xs("twoterms", level="metric")["score"].dropna().tolist()) == pytest.approx([0.0, 2.0])
    assert not math.isnan(d.loc[("m0", "meanprob"), "score"])


def test_headless_features_record_is_missing_probs_not_an_error():
    from tecore.extract import Features

    pool = make_pool(2)
    recs = {m: Features(features=e["features"], logits=None, labels=e["labels"]) for m, e in pool.items()}
    with pytest.warns(UserWarning, match="missing inputs"):
        df = score_pool(recs, [PROBS_SPEC], progress=False)
    assert df["score"].isna().all()


def test_errors_raise_names_model_and_metric_or_nan():
    pool = make_pool(3)
    pool["m1"]["features"] = pool["m1"]["features"][:, :3]
    with pytest.raises(ValueError, match=r"metric 'failing' failed on model 'm1'.*three columns"):
        score_pool(pool, [FAIL_SPEC], progress=False)
    df = score_pool(pool, [FAIL_SPEC], progress=False, errors="nan")
    d = df.set_index("model")
    assert math.isnan(d.loc["m1", "score"]) and "three columns" in d.loc["m1", "note"]
    assert d.loc["m0", "score"] == 1.0 and d.loc["m2", "score"] == 1.0
    # a pool-level combine over fewer than two models fails inside the combiner
    one = {"m0": make_pool(1)["m0"]}
    if "ncti" in registry.REGISTRY:
        with pytest.raises(ValueError, match=r"metric 'ncti' failed on model \['m0'\].*two models"):
            score_pool(one, "ncti", progress=False)
        df = score_pool(one, "ncti", progress=False, errors="nan")
        assert math.isnan(df.score.item()) and "combine" in df.note.item()


def test_bad_arguments():
    pool = make_pool(2)
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        score_pool(pool, ["nope"], progress=False)
    with pytest.raises(ValueError, match="not among the metrics"):
        score_pool(pool, [NORM_SPEC], progress=False, logme={"max_iter": 3})
    with pytest.raises(ValueError, match="errors must be"):
        score_pool(pool, [NORM_SPEC], errors="ignore")
    with pytest.raises(ValueError, match="non-empty mapping"):
        score_pool({}, [NORM_SPEC])
    with pytest.raises(ValueError, match="unknown input key"):
        score_pool({"a": {"feats": np.ones((3, 2))}}, [NORM_SPEC], progress=False)
    with pytest.raises(ValueError, match="no metrics"):
        score_pool(pool, [])


def test_model_inputs_and_no_mutation():
    pool = make_pool(2)
    before = {m: {k: np.copy(v) for k, v in e.items()} for m, e in pool.items()}
    score_pool(pool, [NORM_SPEC, PROBS_SPEC], progress=False)
    for m, e in pool.items():
        for k, v in e.items():
            np.testing.assert_array_equal(v, before[m][k])
    inp = model_inputs({"features": np.ones((2, 2)), "probs": np.full((2, 2), 0.5), "logits": np.zeros((2, 2))})
    np.testing.assert_array_equal(inp["probs"], np.full((2, 2), 0.5))  # given probs win over logits
    assert "labels" not in inp
    assert set(model_inputs(np.ones((3, 2)), labels=[0, 1, 0])) == {"features", "labels"}


def test_progress_bar_writes_to_stderr(capsys):
    score_pool(make_pool(2), [NORM_SPEC], progress=True)
    assert "score_pool" in capsys.readouterr().err
    score_pool(make_pool(2), [NORM_SPEC], progress=False)
    assert "score_pool" not in capsys.readouterr().err


# ------------------------------------------------------------------ helpers
def test_minmax():
    s = pd.Series([2.0, 4.0, np.nan, 3.0], index=list("abcd"))
    out = minmax(s)
    pd.testing.assert_series_equal(out, pd.Series([0.0, 1.0, np.nan, 0.5], index=list("abcd")))
    assert s.tolist()[:2] == [2.0, 4.0]  # not mutated
    np.testing.assert_array_equal(minmax([5.0, 5.0, np.nan]), [0.0, 0.0, np.nan])  # constant -> 0
    np.testing.assert_allclose(minmax(np.array([-1.0, 1.0, 0.0])), [0.0, 1.0, 0.5])
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [10.0, 10.0, 10.0]})
    pd.testing.assert_frame_equal(minmax(df), pd.DataFrame({"x": [0.0, 0.5, 1.0], "y": [0.0, 0.0, 0.0]}))
    np.testing.assert_allclose(minmax(df.to_numpy()), minmax(df).to_numpy())
    assert minmax(pd.Series([np.nan, np.nan])).isna().all()
    with pytest.raises(ValueError, match="1-D or 2-D"):
        minmax(np.ones((2, 2, 2)))
    # one owner: the pool-level combiners use the very same function
    from tecore.metrics import _pool_minmax

    assert minmax is _pool_minmax.minmax


def test_minmax_one_infinite_model_does_not_poison_the_pool():
    """Issue 8: one ±inf model must not turn a pool's min-max into NaN for every model."""
    out = minmax(pd.Series([1.0, 3.0, 2.0, np.inf], index=list("abcd")))
    pd.testing.assert_series_equal(out, pd.Series([0.0, 1.0, 0.5, 1.0], index=list("abcd")))
    out = minmax(np.array([1.0, -np.inf, 3.0, np.nan]))
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, np.nan])  # -inf -> bottom, NaN stays NaN
    np.testing.assert_array_equal(minmax([np.inf, 2.0, 2.0]), [1.0, 0.0, 0.0])  # finite part constant
    np.testing.assert_array_equal(minmax([-np.inf, np.inf]), [0.0, 1.0])


def test_end_to_end_pool_then_evaluate():
    pool = make_pool(4)
    df = score_pool(pool, [NORM_SPEC, POOL_SPEC], progress=False)
    truth = pd.Series({"m0": 60.0, "m1": 70.0, "m2": 75.0, "m3": 90.0})
    out = ev.rank_table(df, truth, by="metric").set_index("metric")
    # feature norms grow with the class-centre scale 1 + i, as does the truth here
    assert out.loc["norm", "weighted_tau"] == pytest.approx(1.0)
    assert out.loc["norm", "top1_hit"] == 1.0
