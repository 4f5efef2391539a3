"""tecore._store: one root for every kind of artifact, mirror first, one checksum helper."""
from __future__ import annotations

import hashlib

import pytest

from tecore import _store


def test_tecore_cache_is_the_parent_of_every_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("TECORE_CACHE", str(tmp_path))
    monkeypatch.delenv("TECORE_DATA_DIR", raising=False)
    monkeypatch.delenv("TECORE_FEATURES_DIR", raising=False)
    for kind in ("features", "weights", "data", "published"):
        assert _store.root(kind) == tmp_path / kind
    from tecore import data
    from tecore.extract.cache import FeatureCache

    assert data.data_dir() == tmp_path / "data"
    assert FeatureCache().root == tmp_path / "features"
    monkeypatch.setenv("TECORE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.data_dir() == tmp_path / "elsewhere"
    with pytest.raises(ValueError, match="unknown artifact kind 'models'"):
        _store.root("models")


def test_fetch_takes_the_mirror_first_and_verifies(tmp_path, monkeypatch):
    m1, m2 = tmp_path / "m1", tmp_path / "m2"
    (m2 / "sub").mkdir(parents=True)
    (m2 / "sub" / "a.bin").write_bytes(b"hello")
    monkeypatch.setenv("TECORE_X_MIRROR", f"{m1}:{m2}")
    sha = hashlib.sha256(b"hello").hexdigest()
    got = _store.fetch("published", "sub/a.bin", "https://invalid.example/a.bin", sha,
                       mirror_env="TECORE_X_MIRROR")
    assert got == m2 / "sub" / "a.bin"
    assert _store.file_digest(got) == sha and _store.file_digest(got, "md5") == hashlib.md5(b"hello").hexdigest()
    with pytest.raises(_store.ChecksumError, match=r"a\.bin has sha256 .* expected 0000"):
        _store.fetch("published", "sub/a.bin", None, "0" * 64, mirror_env="TECORE_X_MIRROR")
    with pytest.raises(FileNotFoundError, match="no download URL"):
        _store.fetch("published", "missing.bin", None, mirror_env="TECORE_X_MIRROR")
