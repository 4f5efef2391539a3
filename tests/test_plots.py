"""Tests for tecore.papers.plots: the figure objects (axes, titles, plotted points, texts), headless."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tecore import evaluate as ev  # noqa: E402
from tecore.papers.plots import cd_diagram, score_vs_truth_grid, tau_heatmap  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _table(seed=0):
    rng = np.random.default_rng(seed)
    tab = pd.DataFrame(rng.normal(size=(10, 4)), columns=["logme", "gbc", "leep", "parc"],
                       index=[f"d{i}" for i in range(10)])
    tab["logme"] += 3
    return tab


def _scores(models, metrics, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame([{"model": m, "metric": k, "score": rng.normal()} for k in metrics for m in models])


# ------------------------------------------------------------------ cd diagram
def test_cd_diagram_from_table():
    tab = _table()
    fig = cd_diagram(tab, title="CD")
    res = fig.tecore_result
    assert isinstance(res, ev.FriedmanResult)
    assert res.avg_ranks.index[0] == "logme"
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "CD"
    texts = " ".join(_texts(fig))
    for m in tab.columns:
        assert m in texts  # every method is labelled with its rank
    assert f"{res.avg_ranks['logme']:.2g}" in texts


def test_cd_diagram_from_ranks_and_result_agree():
    res = ev.friedman(_table())
    f1 = cd_diagram(res)
    f2 = cd_diagram(res.avg_ranks, res.nemenyi, cd=res.cd)
    assert sorted(_texts(f1)) == sorted(_texts(f2))
    assert f2.tecore_result is None
    fig, ax = plt.subplots()
    assert cd_diagram(res, ax=ax) is fig
    with pytest.raises(ValueError, match="sig_matrix"):
        cd_diagram(res.avg_ranks)
    with pytest.raises(ValueError, match="no row/column"):
        cd_diagram(pd.Series({"a": 1.0, "zz": 2.0}), res.nemenyi)


# ------------------------------------------------------------------ scatter grid
def test_score_vs_truth_grid_panels_points_and_titles():
    models = [f"m{i}" for i in range(6)]
    truth = pd.Series(np.linspace(60, 90, 6), index=models)
    df = _scores(models, ["logme", "gbc", "leep", "parc", "sfda"])
    df.loc[(df.metric == "gbc") & (df.model == "m2"), "score"] = np.nan
    fig = score_vs_truth_grid(df, truth, ncols=3)
    assert len(fig.axes) == 5  # 2 x 3 grid, one unused slot removed
    for ax in fig.axes:
        metric = ax.get_title().split()[0]
        sel = df[(df.metric == metric) & df.score.notna()]
        offsets = ax.collections[0].get_offsets()
        assert len(offsets) == len(sel)
        np.testing.assert_allclose(np.asarray(offsets)[:, 0], sel.score)
        np.testing.assert_allclose(np.asarray(offsets)[:, 1], truth[sel.model])
        tau = ev.weighted_tau(sel.score.to_numpy(), truth[sel.model].to_numpy())
        assert ax.get_title() == f"{metric}  τw = {tau:.2f}"
        assert ax.tecore_tau == pytest.approx(tau)
        assert ax.get_xlabel() == "score"
        assert sorted(t.get_text() for t in ax.texts) == sorted(sel.model)
    assert fig.axes[0].get_ylabel() == "fine-tuned accuracy"


def test_score_vs_truth_grid_rows_by_dataset():
    models = ["a", "b", "c", "d"]
    parts, truths = [], []
    for k, ds in enumerate(["cifar10", "pets"]):
        s = _scores(models, ["logme", "gbc"], seed=k)
        s["target"] = ds
        parts.append(s)
        truths.append(pd.DataFrame({"model": models, "target": ds, "truth": [70.0 + k, 80, 75, 90]}))
    df, tr = pd.concat(parts), pd.concat(truths)
    fig = score_vs_truth_grid(df, tr, row="target", metrics=["gbc", "logme"], label_points=False)
    assert len(fig.axes) == 4
    assert [ax.get_title().split("  ")[0] for ax in fig.axes] == [
        "cifar10 / gbc", "cifar10 / logme", "pets / gbc", "pets / logme"]
    ax = fig.axes[2]
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_offsets())[:, 1], [71.0, 80, 75, 90])
    assert len(ax.texts) == 0


def test_score_vs_truth_grid_errors_and_undefined_tau():
    df = _scores(["a", "b"], ["logme"])
    with pytest.raises(ValueError, match=r"no ground truth for model\(s\) \['b'\]"):
        score_vs_truth_grid(df, {"a": 1.0})
    with pytest.raises(ValueError, match="tidy DataFrame"):
        score_vs_truth_grid(df.drop(columns="score"), {"a": 1.0, "b": 2.0})
    with pytest.raises(ValueError, match="none of the metrics"):
        score_vs_truth_grid(df, {"a": 1.0, "b": 2.0}, metrics=["gbc"])
    fig = score_vs_truth_grid(df, {"a": 5.0, "b": 5.0})  # constant truth: tau undefined
    assert fig.axes[0].get_title() == "logme  τw = n/a"


# ------------------------------------------------------------------ heatmap
def test_tau_heatmap():
    table = pd.DataFrame({"cifar10": [0.5, -0.2, np.nan], "pets": [0.8, 0.1, 0.3]},
                         index=["logme", "gbc", "leep"])
    fig = tau_heatmap(table, mean_column=True, title="τw")
    assert len(fig.axes) == 2  # image + colour bar
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cifar10", "pets", "mean"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["logme", "gbc", "leep"]
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 8  # 9 cells, one NaN left blank
    assert "0.65" in texts and "-0.05" in texts and "0.30" in texts  # row means
    img = ax.images[0].get_array()
    assert img.shape == (3, 3) and bool(img.mask[2, 0])
    assert fig.axes[1].get_ylabel() == "weighted τ"
    assert ax.get_title() == "τw"
    assert len(tau_heatmap(table, annot=False).axes[0].texts) == 0
    with pytest.raises(ValueError, match="non-empty"):
        tau_heatmap(pd.DataFrame())
    with pytest.raises(ValueError, match="numeric"):
        tau_heatmap(pd.DataFrame({"a": ["x"]}))
