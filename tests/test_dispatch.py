"""Parallel jobs (tecore.dispatch) and the fine-tuning grid on worker processes: one writer,
killed workers retried, the same CSV as the in-process runner."""

import numpy as np
import pandas as pd
import pytest

from tecore import dispatch
from tests import _dispatch_jobs as J


def _collect(jobs, **kw):
    got = {}

    def record(key, res):
        assert key not in got, f"job {key} recorded twice"
        got[key] = res

    dispatch.run_jobs(jobs, record, progress=False, **kw)
    return got


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_killed_worker_job_is_retried_once_recorded_once(engine, tmp_path):
    if engine == "dask":
        pytest.importorskip("distributed")
    jobs = [(i, J.square, (i,), {"marker_dir": str(tmp_path), "die_on": 2, "sleep": 0.2}) for i in range(6)]
    got = _collect(jobs, engine=engine, workers=2)
    assert sorted(got) == list(range(6))
    assert {k: v["y"] for k, v in got.items()} == {i: i * i for i in range(6)}
    killed_pid = int((tmp_path / "started-2").read_text())
    assert got[2]["pid"] != killed_pid  # the second attempt ran in another (new) process


def test_local_engine_gives_up_on_a_job_that_always_kills_its_worker():
    jobs = [("bad", J.always_die, (0,), {})] + [(i, J.square, (i,), {}) for i in range(3)]
    got = {}
    with pytest.raises(RuntimeError, match=r"job 'bad'.*died 2 times \(retries=1\)"):
        dispatch.run_jobs(jobs, lambda k, r: got.__setitem__(k, r), engine="local", workers=2, retries=1,
                          progress=False)
    assert sorted(got) == [0, 1, 2]  # the others still finished and were recorded


@pytest.mark.parametrize("engine", ["inline", "local"])
def test_a_job_that_raises_is_reported_with_its_key_not_retried(engine):
    with pytest.raises(RuntimeError, match="job 'x' failed: ValueError: bad input 7"):
        dispatch.run_jobs([("x", J.fail, (7,), {})], lambda k, r: None, engine=engine, workers=1, progress=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match="engine must be one of local, dask, inline"):
        dispatch.run_jobs([], lambda k, r: None, engine="ray")
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        dispatch.run_jobs([], lambda k, r: None, workers=0)
    with pytest.raises(ValueError, match="job keys must be unique"):
        dispatch.run_jobs([(1, J.square, (1,), {}), (1, J.square, (2,), {})], lambda k, r: None)


# ---------------------------------------------------------------- the fine-tuning grid
torch = pytest.importorskip("torch")


def _digits_splits():
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = d.target < 3
    X, y = d.images[keep][:150], d.target[keep][:150]
    return (X[:90], y[:90]), (X[90:120], y[90:120]), (X[120:], y[120:])


def _proto():
    from tecore.finetune import Protocol

    return Protocol("tiny", "sgd", {"lr": (0.1, 0.01), "momentum": (0.9,)}, epochs=1,
                    selection="min_val_loss", batch_size=32)


_VALUES = ["best_val_loss", "test_at_min_val_loss", "best_val_score", "max_test"]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "dask"])
def test_grid_on_two_workers_survives_a_killed_worker(engine, tmp_path):
    if engine == "dask":
        pytest.importorskip("distributed")
    from tecore.finetune import ground_truth, run_grid

    tr, va, te = _digits_splits()
    out = tmp_path / "gt.csv"
    models = {"a": J.TinyFactory(), "b": J.TinyFactory(kill_dir=str(tmp_path))}
    df = run_grid(models, tr, va, te, _proto(), dataset="digits3", out=out, progress=False,
                  engine=engine, workers=2)
    assert (tmp_path / "killed").exists()  # a worker really died in the middle of a "b" run
    on_disk = pd.read_csv(out)
    assert len(on_disk) == 4 and on_disk["run_key"].is_unique  # complete, no duplicate
    assert not list(tmp_path.glob(".*.tmp"))  # no torn temporary file left
    pd.testing.assert_frame_equal(df, on_disk)
    # the same runs in this process, one after the other, give the same numbers
    serial = run_grid({"a": J.TinyFactory(), "b": J.TinyFactory()}, tr, va, te, _proto(), dataset="digits3",
                      out=tmp_path / "serial.csv", progress=False)
    a = on_disk.sort_values("run_key").reset_index(drop=True)
    b = serial.sort_values("run_key").reset_index(drop=True)
    assert list(a["run_key"]) == list(b["run_key"])
    np.testing.assert_allclose(a[_VALUES].to_numpy(float), b[_VALUES].to_numpy(float), rtol=1e-5, atol=1e-6)
    # resumable: a second call finds every run done and runs nothing
    again = run_grid(models, tr, va, te, _proto(), dataset="digits3", out=out, progress=False, engine=engine,
                     workers=2)
    assert len(again) == 4
    gt = ground_truth(again)
    assert list(zip(gt.target, gt.model)) == [("digits3", "a"), ("digits3", "b")]


# ---------------------------------------------------------------- zoo x target extraction
@pytest.mark.slow
def test_extract_grid_fills_the_cache_that_rank_reads(tmp_path, zoo_registry):
    pytest.importorskip("timm")
    from tecore import data, extract, zoo
    from tecore.finetune_dispatch import extract_grid
    from tests.test_cli import write_zoo

    specs = zoo.load_registry_file(write_zoo(tmp_path / "zoo"))  # user entries: not in the workers' registry
    target = str(tmp_path / "zoo" / "bright.npz")
    cache = tmp_path / "cache"
    rows = extract_grid([s.name for s in specs], [target], per_class=8, image_size=32, cache_dir=cache,
                        engine="local", workers=2, progress=False)
    assert list(rows["model"]) == ["tiny0", "tiny1", "tiny2"] and not rows["cache_hit"].any()
    assert rows["images"].eq(24).all() and rows["dim"].gt(0).all()
    # what `tecore rank --per-class 8 --image-size 32` extracts is now a cache hit, with the same numbers
    ds = data.load(target, per_class=8, seed=0)
    for s in specs:
        f = extract.extract(zoo.create(s.name, device="cpu", image_size=32), ds, cache_dir=cache, progress=False, device="cpu")
        assert f.meta["cache_hit"]
        fresh = extract.extract(zoo.create(s.name, device="cpu", image_size=32), ds, cache=False, progress=False, device="cpu")
        np.testing.assert_allclose(f.features, fresh.features, rtol=1e-5, atol=1e-6)


def test_dask_local_cluster_gives_up_after_retries(tmp_path):
    pytest.importorskip("distributed")
    jobs = [("bad", J.always_die, (0,), {}), (1, J.square, (1,), {})]
    got = {}
    with pytest.raises(RuntimeError, match=r"job 'bad' failed: KilledWorker"):
        dispatch.run_jobs(jobs, lambda k, r: got.__setitem__(k, r), engine="dask", workers=2, retries=1,
                          progress=False)
    assert got == {1: {"x": 1, "y": 1, "pid": got[1]["pid"]}}
