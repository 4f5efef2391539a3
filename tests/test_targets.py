"""Regression and multi-label targets across tecore: the classification-only metrics refuse
them with one clear message, score_pool and evaluate.rank_table carry them through."""
import math

import numpy as np
import pytest

from tecore import metrics as registry
from tecore.evaluate import rank_table
from tecore.pool import score_pool
from tests._metric_props import multilabel_data, probs_data, regression_data

CLASSIFICATION = [n for n in registry.names()
                  if registry.get(n).targets == "classes" and "labels" in registry.get(n).inputs]


def _args(spec, X, t, P):
    have = {"features": X, "labels": t, "probs": P, "grad_ratio": 0.5}
    return [have[k] for k in spec.inputs]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_metrics_refuse_continuous_and_multilabel_targets(name):
    spec = registry.get(name)
    X, Y = regression_data(0, 40, 6, 3, 1.0)
    P, _ = probs_data(0, 40, 5, 3, 1.0)
    with pytest.raises(ValueError, match="regression targets.*classification-only.*logme_regression"):
        spec(*_args(spec, X, Y[:, 0], P))
    with pytest.raises(ValueError, match="multi-label indicator.*classification-only.*logme_regression"):
        spec(*_args(spec, X, (Y > 0).astype(int), P))


def test_continuous_target_metrics_are_registered():
    from tecore.metrics._checks import CONTINUOUS_TARGET_METRICS

    assert set(CONTINUOUS_TARGET_METRICS) == {n for n in registry.names() if registry.get(n).targets == "continuous"}
    assert "logme_regression" not in __import__("tecore.experiment").experiment.resolve_metrics("all")


def test_score_pool_and_rank_table_with_regression_targets():
    X, Y = regression_data(1, 80, 6, 2, 0.5)
    rng = np.random.default_rng(0)
    # three "models": the informative features, a noisier copy, pure noise
    pool = {"good": {"features": X}, "noisy": {"features": X + 2 * rng.normal(size=X.shape)},
            "noise": {"features": rng.normal(size=X.shape)}}
    df = score_pool(pool, ["logme_regression", "hscore"], labels=Y, errors="nan", progress=False)
    lr = df[df.metric == "logme_regression"].set_index("model")["score"]
    assert lr["good"] > lr["noisy"] > lr["noise"]
    assert lr["good"] == pytest.approx(registry.score("logme_regression", X, Y))
    hs = df[df.metric == "hscore"]
    assert hs["score"].isna().all()
    assert hs["note"].str.contains("classification-only").all()
    ev = rank_table(df, {"good": 0.9, "noisy": 0.5, "noise": 0.1}, by="metric").set_index("metric")
    assert ev.loc["logme_regression", "kendall_tau"] == pytest.approx(1.0)
    assert ev.loc["hscore", "n_models"] == 0  # NaN scores are left out


def test_score_pool_with_multilabel_targets_per_model():
    X, Y = multilabel_data(2, 90, 8, 4, 1.0)
    pool = {"a": {"features": X, "labels": Y}, "b": {"features": X[:, :3], "labels": Y}}
    df = score_pool(pool, "logme_multilabel", progress=False)
    s = df.set_index("model")["score"]
    assert math.isfinite(s["a"]) and math.isfinite(s["b"])
    assert s["a"] == pytest.approx(registry.score("logme_regression", X, Y))
