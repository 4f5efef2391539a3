"""Content-addressed, atomic, resumable on-disk cache for extracted features.

Key
    :func:`make_key` is the sha256 of the canonical JSON (sorted keys, no whitespace) of
    everything that determines the arrays: model id, weights hash, dataset name, split,
    subsample (``per_class``, ``seed``, ``fold``), a content fingerprint of the data, the
    transform description, the numeric precision, and :data:`FORMAT_VERSION`. Change any
    of them and the key changes; nothing is ever overwritten with different content.

Layout (``root`` = ``$TECORE_CACHE/features``, default ``~/.cache/tecore/features``)::

    root/<key[:2]>/<key>.safetensors    arrays + metadata (JSON in the safetensors header)
    root/<key[:2]>/<key>.json           the same metadata, for people and ``ls``
    root/<key[:2]>/<key>.chunks/        finished chunks of an unfinished extraction
        chunk-000000.safetensors ...

Atomicity
    Every file is written to a temporary file in the same directory (``.<name>.tmp-<pid>-
    <random>``), flushed, ``fsync``-ed, and moved into place with ``os.replace`` (atomic on
    POSIX and Windows). A run killed at any moment leaves either the old state or the new
    file, never a half-written entry; leftover temporary files are ignored (and removed by
    :meth:`FeatureCache.clean_tmp`). The ``.safetensors`` file is the entry: the ``.json``
    sidecar is written after it and never read back for correctness.

Integrity
    Every entry and chunk stores the sha256 of its arrays (:func:`content_digest`) and the
    row count; :meth:`FeatureCache.get` verifies both (``rows=`` the dataset size). An entry
    that fails to parse, fails its checksum (a flipped byte, a NaN written into it) or has
    the wrong number of rows is a miss and is recomputed, never served.

Resume
    :class:`ChunkStore` keeps finished chunks of a long extraction; a rerun loads them and
    computes only the missing ones. :meth:`FeatureCache.put` of the full result removes the
    chunks. Arrays are stored with ``safetensors`` when it is installed, else as ``.npz``.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["FORMAT_VERSION", "default_cache_dir", "make_key", "atomic_write_bytes",
           "FeatureCache", "ChunkStore"]

#: Bump when the stored layout or the meaning of a key part changes. 2: entries carry a
#: content checksum and row count; feature keys hold the model's parameter digest.
FORMAT_VERSION = 2


def content_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 over the arrays' names, dtypes, shapes and bytes (sorted by name)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _rows(arrays: Mapping[str, np.ndarray]) -> int | None:
    ns = {int(np.shape(v)[0]) for v in arrays.values() if np.ndim(v) >= 1}
    return ns.pop() if len(ns) == 1 else None


def _intact(arrays: Mapping, meta: Mapping, rows: int | None = None) -> bool:
    """The stored checksum matches the content, and (when given) every array has ``rows``."""
    if meta.get("content_sha256") != content_digest(arrays):
        return False
    if rows is not None and any(np.ndim(v) < 1 or np.shape(v)[0] != rows for v in arrays.values()):
        return False
    return True


def default_cache_dir() -> Path:
    """``tecore._store.root("features")``: ``$TECORE_CACHE/features`` (default
    ``~/.cache/tecore/features``; ``$TECORE_FEATURES_DIR`` overrides it)."""
    from tecore import _store

    return _store.root("features")


def _canonical(obj: Any) -> str:
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, (np.ndarray, tuple, set, frozenset)):
            return list(o.tolist() if isinstance(o, np.ndarray) else o)
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"cache key part of type {type(o).__name__} is not JSON-serialisable: {o!r}")

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=default)


def make_key(**parts: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``parts`` plus :data:`FORMAT_VERSION`."""
    payload = dict(parts)
    payload["tecore_cache_format"] = FORMAT_VERSION
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same dir, fsync, os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable where the OS allows it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return path


def _have_safetensors() -> bool:
    try:
        import safetensors.numpy  # noqa: F401
    except ImportError:
        return False
    return True


def _encode(arrays: Mapping[str, np.ndarray], meta: Mapping, fmt: str) -> bytes:
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    meta_json = _canonical(meta)
    if fmt == "safetensors":
        from safetensors.numpy import save

        return save(arrays, metadata={"tecore": meta_json})
    import io

    buf = io.BytesIO()
    np.savez(buf, __tecore_meta__=np.frombuffer(meta_json.encode(), dtype=np.uint8), **arrays)
    return buf.getvalue()


def _decode(path: Path) -> tuple[dict, dict]:
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        out = {}
        with safe_open(str(path), framework="np") as f:
            meta = json.loads((f.metadata() or {}).get("tecore", "{}"))
            for k in f.keys():
                out[k] = f.get_tensor(k)
        return out, meta
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(bytes(z["__tecore_meta__"]).decode())
        out = {k: z[k] for k in z.files if k != "__tecore_meta__"}
    return out, meta


class FeatureCache:
    """A directory of content-addressed entries: ``get(key)`` / ``put(key, arrays, meta)``.

    Parameters
    ----------
    root : path, optional
        Default :func:`default_cache_dir`.
    fmt : {"safetensors", "npz"}, optional
        Storage format; default safetensors when installed.
    """

    def __init__(self, root: str | os.PathLike | None = None, fmt: str | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        if fmt is None:
            fmt = "safetensors" if _have_safetensors() else "npz"
        if fmt not in ("safetensors", "npz"):
            raise ValueError(f"fmt must be 'safetensors' or 'npz', got {fmt!r}")
        self.fmt = fmt
        self.ext = ".safetensors" if fmt == "safetensors" else ".npz"

    def _dir(self, key: str) -> Path:
        if len(key) < 8 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key (hex sha256 expected): {key!r}")
        return self.root / key[:2]

    def path(self, key: str) -> Path:
        """Where the entry for ``key`` lives (whether or not it exists)."""
        return self._dir(key) / f"{key}{self.ext}"

    def _candidates(self, key: str) -> list[Path]:
        d = self._dir(key)
        return [d / f"{key}.safetensors", d / f"{key}.npz"]

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str, *, rows: int | None = None) -> tuple[dict, dict] | None:
        """``(arrays, meta)`` of the entry, or ``None`` on a miss.

        An entry that does not parse, whose content checksum differs from the stored one
        (a flipped byte, a NaN written into it) or whose arrays do not have ``rows`` rows
        (when given; e.g. 5 rows for a 200-image dataset) is a miss: never served, and
        replaced by the next :meth:`put`."""
        for p in self._candidates(key):
            if p.is_file():
                try:
                    arrays, meta = _decode(p)
                except Exception:
                    continue  # corrupt: a miss; put() will replace it
                if meta.get("key") != key or not _intact(arrays, meta, rows):
                    continue
                return arrays, meta
        return None

    def check_writable(self) -> None:
        """Raise a ``ValueError`` naming ``TECORE_CACHE`` and ``cache=False`` unless a file
        can be created in :attr:`root` (checked before any work is done)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # a probe name of this call's own: workers checking one cache at once must not
            # remove each other's probe (a shared name made a concurrent check fail); a probe
            # left by a killed process matches clean_tmp's pattern
            probe = self.root / f".write-test.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            probe.touch(exist_ok=False)
            probe.unlink(missing_ok=True)
        except OSError as exc:
            raise ValueError(
                f"the feature cache {self.root} is not writable ({type(exc).__name__}: {exc}); set "
                "TECORE_CACHE (or cache_dir=) to a writable folder, or pass cache=False to extract "
                "without a cache") from None

    def put(self, key: str, arrays: Mapping[str, np.ndarray], meta: Mapping | None = None) -> Path:
        """Store ``arrays`` with ``meta`` atomically; remove this key's partial chunks."""
        meta = dict(meta or {})
        meta["key"] = key
        meta["tecore_cache_format"] = FORMAT_VERSION
        meta["arrays"] = {k: {"shape": list(np.shape(v)), "dtype": str(np.asarray(v).dtype)}
                          for k, v in arrays.items()}
        meta["content_sha256"] = content_digest(arrays)
        meta["rows"] = _rows(arrays)
        path = atomic_write_bytes(self.path(key), _encode(arrays, meta, self.fmt))
        atomic_write_bytes(path.with_suffix(".json"), (json.dumps(meta, indent=1, sort_keys=True,
                                                                  default=str) + "\n").encode())
        self.chunks(key).clear()
        return path

    def delete(self, key: str) -> None:
        for p in self._candidates(key) + [self._dir(key) / f"{key}.json"]:
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self.chunks(key).clear()

    def chunks(self, key: str, chunk_size: int | None = None) -> "ChunkStore":
        """The partial-result store of ``key`` (see :class:`ChunkStore`)."""
        return ChunkStore(self, key, chunk_size)

    def clean_tmp(self) -> int:
        """Remove leftover temporary files of killed writers; returns how many."""
        n = 0
        if self.root.is_dir():
            for p in self.root.rglob(".*.tmp-*"):
                try:
                    p.unlink()
                    n += 1
                except OSError:
                    pass
        return n

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.root)!r}, fmt={self.fmt!r})"


class ChunkStore:
    """Finished chunks of one unfinished extraction (``<key>.chunks/``).

    A chunk ``i`` holds samples ``[i * chunk_size, (i + 1) * chunk_size)``; each is written
    atomically, so a chunk file that exists and parses is complete. The chunk size is part
    of every chunk's metadata: chunks written with another size are ignored.
    """

    def __init__(self, cache: FeatureCache, key: str, chunk_size: int | None = None):
        self.cache = cache
        self.key = key
        self.chunk_size = chunk_size
        self.dir = cache._dir(key) / f"{key}.chunks"

    def _path(self, i: int) -> Path:
        return self.dir / f"chunk-{i:06d}{self.cache.ext}"

    def load(self, i: int) -> dict | None:
        """Arrays of chunk ``i`` or ``None`` (absent, unreadable, or another chunk size)."""
        for p in (self.dir / f"chunk-{i:06d}.safetensors", self.dir / f"chunk-{i:06d}.npz"):
            if p.is_file():
                try:
                    arrays, meta = _decode(p)
                except Exception:
                    continue
                if meta.get("key") != self.key or meta.get("index") != i or not _intact(arrays, meta):
                    continue
                if self.chunk_size is not None and meta.get("chunk_size") != self.chunk_size:
                    continue
                return arrays
        return None

    def save(self, i: int, arrays: Mapping[str, np.ndarray]) -> Path:
        meta = {"key": self.key, "index": int(i), "chunk_size": self.chunk_size,
                "content_sha256": content_digest(arrays)}
        return atomic_write_bytes(self._path(i), _encode(arrays, meta, self.cache.fmt))

    def done(self) -> list[int]:
        """Indices of the chunks present on disk (not validated; :meth:`load` validates)."""
        if not self.dir.is_dir():
            return []
        out = []
        for p in self.dir.glob("chunk-*"):
            stem = p.name.split(".")[0]
            if p.name.startswith("chunk-") and stem[6:].isdigit():
                out.append(int(stem[6:]))
        return sorted(set(out))

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
