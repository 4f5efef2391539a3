"""tecore.cache: keys, atomic writes, corrupt/partial files, chunk store."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tecore.extract import cache as tc
from tecore.extract.cache import ChunkStore, FeatureCache, atomic_write_bytes, make_key


@pytest.fixture(params=["safetensors", "npz"])
def store(request, tmp_path):
    return FeatureCache(tmp_path / "c", fmt=request.param)


def _arrays(seed=0):
    r = np.random.default_rng(seed)
    return {"features": r.normal(size=(5, 3)).astype(np.float32),
            "logits": r.normal(size=(5, 4)).astype(np.float32)}


def test_key_is_canonical_and_sensitive(monkeypatch):
    k = make_key(model={"name": "m", "weights": "abc"}, dataset={"name": "d", "per_class": 10, "seed": 0})
    assert len(k) == 64 and int(k, 16) >= 0
    assert k == make_key(dataset={"seed": 0, "per_class": 10, "name": "d"}, model={"weights": "abc", "name": "m"})
    variants = [
        dict(model={"name": "m2", "weights": "abc"}, dataset={"name": "d", "per_class": 10, "seed": 0}),
        dict(model={"name": "m", "weights": "abd"}, dataset={"name": "d", "per_class": 10, "seed": 0}),
        dict(model={"name": "m", "weights": "abc"}, dataset={"name": "d", "per_class": 11, "seed": 0}),
        dict(model={"name": "m", "weights": "abc"}, dataset={"name": "d", "per_class": 10, "seed": 1}),
    ]
    assert len({k} | {make_key(**v) for v in variants}) == 5
    # numpy scalars/arrays and tuples are canonicalised like their Python values
    assert make_key(a=np.int64(3), b=(1, 2)) == make_key(a=3, b=[1, 2])
    monkeypatch.setattr(tc, "FORMAT_VERSION", tc.FORMAT_VERSION + 1)
    assert make_key(model={"name": "m", "weights": "abc"},
                    dataset={"name": "d", "per_class": 10, "seed": 0}) != k
    with pytest.raises(TypeError, match="not JSON-serialisable"):
        make_key(x=object())


def test_roundtrip_and_miss(store):
    key = make_key(x=1)
    assert store.get(key) is None and key not in store
    path = store.put(key, _arrays(), {"model": "m", "n": 5})
    assert path.parent.name == key[:2] and path.exists()
    arrays, meta = store.get(key)
    for k, v in _arrays().items():
        np.testing.assert_array_equal(arrays[k], v)
        assert arrays[k].dtype == np.float32
    assert meta["model"] == "m" and meta["key"] == key and meta["tecore_cache_format"] == tc.FORMAT_VERSION
    side = json.loads(path.with_suffix(".json").read_text())
    assert side["arrays"]["features"] == {"shape": [5, 3], "dtype": "float32"}
    store.delete(key)
    assert store.get(key) is None


def test_default_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TECORE_CACHE", str(tmp_path / "x"))
    assert FeatureCache().root == tmp_path / "x" / "features"  # TECORE_CACHE is the parent of every kind
    monkeypatch.delenv("TECORE_CACHE")
    assert tc.default_cache_dir().parts[-3:] == (".cache", "tecore", "features")


def test_atomic_write_failure_leaves_old_state(tmp_path, monkeypatch):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"old"
    assert [q.name for q in tmp_path.iterdir()] == ["f.bin"]  # temp file removed


def test_killed_writer_tmp_files_are_ignored_and_cleaned(store):
    key = make_key(x=2)
    d = store.path(key).parent
    d.mkdir(parents=True)
    # what a writer killed before os.replace leaves behind
    (d / f".{key}{store.ext}.tmp-123-abcd").write_bytes(b"\x00partial")
    assert store.get(key) is None
    store.put(key, _arrays(), {})
    assert store.get(key) is not None
    assert store.clean_tmp() == 1
    assert not any(p.name.startswith(".") for p in d.iterdir())


def test_corrupt_entry_is_a_miss_and_is_replaced(store):
    key = make_key(x=3)
    p = store.put(key, _arrays(), {})
    p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])  # truncated by a disk fault
    assert store.get(key) is None
    store.put(key, _arrays(1), {})
    np.testing.assert_array_equal(store.get(key)[0]["features"], _arrays(1)["features"])


def test_entry_with_foreign_key_is_rejected(store):
    a, b = make_key(x=4), make_key(x=5)
    store.put(a, _arrays(), {})
    pb = store.path(b)
    pb.parent.mkdir(parents=True, exist_ok=True)
    pb.write_bytes(store.path(a).read_bytes())  # a file copied under the wrong name
    assert store.get(b) is None


def test_chunk_store(store):
    key = make_key(x=6)
    ch = store.chunks(key, chunk_size=4)
    assert ch.done() == [] and ch.load(0) is None
    ch.save(0, {"features": np.ones((4, 2), np.float32)})
    ch.save(2, {"features": np.zeros((1, 2), np.float32)})
    assert ch.done() == [0, 2]
    np.testing.assert_array_equal(ch.load(0)["features"], np.ones((4, 2)))
    # a chunk written with another chunk size is not reused
    assert store.chunks(key, chunk_size=8).load(0) is None
    # a corrupt chunk is not reused
    p = ch.dir / f"chunk-000002{store.ext}"
    p.write_bytes(b"garbage")
    assert ch.load(2) is None
    # finishing the entry removes the chunks
    store.put(key, _arrays(), {})
    assert not ch.dir.exists()


def test_bad_key_and_format(tmp_path):
    with pytest.raises(ValueError, match="cache key"):
        FeatureCache(tmp_path).path("../../etc/passwd")
    with pytest.raises(ValueError, match="fmt"):
        FeatureCache(tmp_path, fmt="pickle")
    assert isinstance(FeatureCache(tmp_path).chunks(make_key(x=1)), ChunkStore)


def test_concurrent_writability_checks_do_not_fail_each_other(tmp_path):
    # workers of one extraction grid check the same cache at once; a shared probe name let one
    # remove the other's probe, and a writable cache was reported "not writable"
    from concurrent.futures import ThreadPoolExecutor

    def check(_):
        c = FeatureCache(tmp_path / "cache")
        for _ in range(200):
            c.check_writable()

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(check, range(4)))
    assert list((tmp_path / "cache").iterdir()) == []  # no probe left behind
