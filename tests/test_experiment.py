"""End-to-end driver on real checkpoints and real data; papermill on a user's folder."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
from PIL import Image  # noqa: E402

from tecore import evaluate, experiment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _imagefolder(root: Path, n_per_class=16):
    """A tiny real-image folder: crops of two scikit-image photos as two classes."""
    from skimage import data as skdata

    r = np.random.default_rng(0)
    for name, img in (("cat", skdata.chelsea()), ("coffee", skdata.coffee())):
        (root / name).mkdir(parents=True)
        for i in range(n_per_class):
            y, x = r.integers(0, 100), r.integers(0, 150)
            Image.fromarray(img[y:y + 200, x:x + 200]).save(root / name / f"{i}.png")
    return root


def test_run_on_digits_with_two_models(tmp_path):
    res = experiment.run(["mobilenet_v2_fdet", "mobilenet_v2_deepsort"], ["digits"],
                         ["logme", "leep", "gbc"], per_class=8, test_per_class=6, image_size=64,
                         cache_dir=tmp_path, n_boot=50)
    assert set(res.scores.metric) == {"logme", "leep", "gbc"}
    assert len(res.scores) == 2 * 3
    leep_deepsort = res.scores.query("model == 'mobilenet_v2_deepsort' and metric == 'leep'")
    assert leep_deepsort.score.isna().all() and "probs" in leep_deepsort.note.iloc[0]  # no source head
    assert res.truth.truth.between(0, 1).all() and len(res.truth) == 2
    assert res.truth.truth.min() > 0.3  # 10 digit classes: far above chance (0.1) on ImageNet features
    # two models are too few for a rank correlation: reported, not invented
    assert res.correlations.weighted_tau.isna().all() and res.friedman is None
    # a rerun reads the cache: identical scores
    again = experiment.run(["mobilenet_v2_fdet", "mobilenet_v2_deepsort"], ["digits"], ["logme", "gbc"],
                           per_class=8, test_per_class=6, image_size=64, cache_dir=tmp_path, n_boot=50)
    a = res.scores.query("metric == 'logme'").score.to_numpy()
    np.testing.assert_allclose(again.scores.query("metric == 'logme'").score.to_numpy(), a)


def test_split_per_class_and_bad_names():
    tr, te = experiment.split_per_class(np.array([0, 1, 0, 1, 0, 1, 2]), 2)
    assert tr.tolist() == [0, 1, 2, 3, 6] and te.tolist() == [4, 5]
    with pytest.raises(ValueError, match="unknown zoo|valid models"):
        experiment.run("imagenet-zoo", ["digits"])
    with pytest.raises(ValueError, match="valid metrics"):
        experiment.run("offline", ["digits"], ["logmee"])
    with pytest.raises(ValueError, match="valid datasets"):
        experiment.run("offline", ["not-a-dataset"], ["logme"])


def test_rank_table_by_target_and_metric_by_hand():
    scores = pd.DataFrame({"target": "t", "model": list("abcd"), "metric": "m", "score": [1.0, 2, 3, 4]})
    truth = pd.DataFrame({"target": "t", "model": list("abcd"), "truth": [0.1, 0.2, 0.3, 0.4]})
    c = evaluate.rank_table(scores, truth, bootstrap=50)
    assert c.weighted_tau.iloc[0] == pytest.approx(1.0) and c.top1_hit.iloc[0] == 1.0
    assert list(c.columns[:3]) == ["target", "metric", "n_models"] and list(c.columns[-2:]) == ["ci_low", "ci_high"]


def test_papermill_offline_chapter_on_a_user_imagefolder(tmp_path):
    import jupytext
    import nbformat
    import papermill as pm

    folder = _imagefolder(tmp_path / "mydata")
    nb = jupytext.read(ROOT / "notebooks" / "offline.py")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    inp, out = tmp_path / "offline.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, inp)
    pm.execute_notebook(str(inp), str(out), cwd=str(ROOT / "notebooks"), kernel_name="python3",
                        progress_bar=False, parameters={
                            "targets": [str(folder)], "zoo": ["mobilenet_v2_fdet", "efficientnet_lite0",
                                                              "mobilenet_v2_deepsort"],
                            "metrics": ["logme", "gbc", "lp_fu"], "per_class": 10, "test_per_class": 6,
                            "image_size": 64, "n_boot": 50, "finetune_csv": None,
                            "cache_dir": str(tmp_path / "cache")})
    # printed text and rendered tables (HTML display data) alike
    text = "\n".join(o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values())
                     for c in nbformat.read(out, 4).cells for o in c.get("outputs", []))
    assert "mydata" in text and "lp_fu" in text and "logme" in text


def test_scores_equal_up_to_rounding_are_ties():
    v = np.array([9.000000000000004, 8.999999999999998, 9.0, -0.0012345678912345, 0.0, np.nan])
    s = evaluate.snap_ties(v)
    assert s[0] == s[1] == s[2] == 9.0 and s[3] == pytest.approx(-0.001234567891, abs=1e-15)
    assert s[4] == 0.0 and np.isnan(s[5])
    np.testing.assert_array_equal(evaluate.snap_ties(v[:4], None), v[:4])
    truth = pd.DataFrame({"target": "t", "model": list("abcd"), "truth": [0.1, 0.2, 0.3, 0.4]})
    noisy = pd.DataFrame({"target": "t", "model": list("abcd"), "metric": "hscore",
                          "score": [9.000000000000004, 8.999999999999998, 9.000000000000002, 9.0]})
    assert np.isnan(evaluate.rank_table(noisy, truth, bootstrap=20).weighted_tau.iloc[0])
    exact = evaluate.rank_table(noisy, truth, bootstrap=20, tie_digits=None).weighted_tau.iloc[0]
    assert np.isfinite(exact)  # the rounding noise alone would have produced a "ranking"


def test_run_takes_targets_already_split(tmp_path):
    from tecore import benchmark

    tr, _, te = benchmark.target_splits("digits")
    tr = tr.subset(experiment.split_per_class(tr.labels, 5)[0])  # 5 + 5 images per class
    te = te.subset(experiment.split_per_class(te.labels, 5)[0])
    models = ["fmnist/resnet_sup_step20", "fmnist/resnet_sup_step200", "fmnist/resnet_sup"]
    res = experiment.run(models, {"mydigits": (tr, te)}, ["logme", "leep"], image_size=32, grad_probe=False,
                         cache_dir=tmp_path, n_boot=20)
    assert set(res.scores.target) == {"mydigits"} and len(res.scores) == 6
    assert res.truth.model.tolist() == models and res.correlations.n_models.tolist() == [3, 3]
    with pytest.raises(ValueError, match="name -> \\(train, test\\)"):
        experiment.run(models, {"mydigits": (tr,)}, ["logme"])


def test_blas_threads_apply_while_scoring_and_are_checked(tmp_path, monkeypatch):
    from threadpoolctl import threadpool_info

    from tecore import pool

    seen = []
    original = pool.score_pool

    def spy(*a, **k):
        seen.append(max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"))
        return original(*a, **k)

    monkeypatch.setattr(pool, "score_pool", spy)
    kw = dict(per_class=8, test_per_class=6, image_size=32, cache_dir=tmp_path, n_boot=20)
    one = experiment.run(["mobilenet_v2_fdet", "efficientnet_lite0"], ["digits"], ["logme", "sfda"],
                         blas_threads=1, **kw)
    default = experiment.run(["mobilenet_v2_fdet", "efficientnet_lite0"], ["digits"], ["logme", "sfda"], **kw)
    assert seen[0] == 1
    np.testing.assert_allclose(one.scores.score, default.scores.score, rtol=1e-6)
    with pytest.raises(ValueError, match="blas_threads"):
        experiment.run(["mobilenet_v2_fdet"], ["digits"], ["logme"], blas_threads=0, **kw)


def test_targets_scored_in_worker_processes_give_the_same_tables(tmp_path):
    from tecore import benchmark

    splits = {}
    for t in ("digits", "fashion-mnist-5to9"):
        tr, _, te = benchmark.target_splits(t)
        splits[t] = (tr.subset(experiment.split_per_class(tr.labels, 6)[0]),
                     te.subset(experiment.split_per_class(te.labels, 5)[0]))
    models = ["fmnist/resnet_sup_step20", "fmnist/resnet_sup_step200", "fmnist/resnet_sup", "fmnist/vit_sup"]
    kw = dict(image_size=32, grad_probe=False, cache_dir=tmp_path, n_boot=20, blas_threads=1)
    metrics = ["logme", "sfda", "nleep", "itm"]
    hyper = {"itm": {"n_iter": 20, "eval_every": 10}}
    one = experiment.run(models, splits, metrics, hyper=hyper, **kw)
    two = experiment.run(models, splits, metrics, hyper=hyper, n_jobs=2, **kw)
    # same rows in the same order, same values: the workers change where, not what
    cols = ["target", "model", "metric", "score", "note"]
    pd.testing.assert_frame_equal(one.scores[cols], two.scores[cols])
    pd.testing.assert_frame_equal(one.truth, two.truth)
    pd.testing.assert_frame_equal(one.correlations, two.correlations)
    # joblib's own process pool still works afterwards (the ITM chapter uses both)
    from joblib import Parallel, delayed
    assert Parallel(n_jobs=2)(delayed(abs)(i) for i in (-2, -1)) == [2, 1]
    with pytest.raises(ValueError, match="n_jobs"):
        experiment.run(models, splits, ["logme"], n_jobs=0, **kw)
