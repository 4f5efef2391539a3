"""One artifact store for everything tecore keeps on disk (pooch style).

One root, one sub-folder per kind::

    $TECORE_CACHE                 (default ~/.cache/tecore)
        features/   extracted features (tecore.extract.cache)
        weights/    downloaded checkpoints (tecore.zoo)
        data/       downloaded datasets (tecore.data)
        published/  the authors' published files (tecore.papers / published)

``$TECORE_CACHE`` is always the *parent* of those folders. (Before this module it meant the
features folder itself in ``tecore.cache`` but the parent in ``zoo`` and ``published``.)
A per-kind override exists for the two kinds that had one: ``$TECORE_DATA_DIR`` (data) and
``$TECORE_FEATURES_DIR`` (features).

One mirror rule
    Before anything is downloaded, the read-only local mirrors named by the kind's mirror
    variable (``os.pathsep``-separated directories, e.g. ``$TECORE_WEIGHTS_MIRROR``) are
    searched for a file of the same name; the first hit is used (and verified when a
    checksum is known). Only then is the cache consulted and, last, the URL downloaded with
    pooch into ``root(kind)``.

One checksum helper
    :func:`file_digest` (any :mod:`hashlib` algorithm, streamed) and :func:`verify` (raises
    with the file, both digests and what to do).

API: :func:`root`, :func:`mirror_dirs`, :func:`find_in_mirrors`, :func:`file_digest`,
:func:`verify`, :func:`fetch`.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["KINDS", "base", "root", "mirror_dirs", "find_in_mirrors", "file_digest", "verify",
           "fetch", "ChecksumError"]

KINDS = ("features", "weights", "data", "published")
_OVERRIDES = {"data": "TECORE_DATA_DIR", "features": "TECORE_FEATURES_DIR"}


class ChecksumError(ValueError):
    """A file's digest differs from the registered one."""


def base() -> Path:
    """``$TECORE_CACHE`` or ``~/.cache/tecore``: the parent of every kind's folder."""
    return Path(os.environ.get("TECORE_CACHE") or Path.home() / ".cache" / "tecore").expanduser()


def root(kind: str) -> Path:
    """The folder of one kind of artifact (not created): ``base()/kind`` unless the kind's
    override variable (``$TECORE_DATA_DIR``, ``$TECORE_FEATURES_DIR``) is set."""
    if kind not in KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    env = _OVERRIDES.get(kind)
    if env and os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    return base() / kind


def mirror_dirs(env: str | None, extra=None) -> list[Path]:
    """``extra`` (a directory, if given) then the directories in ``$env`` (``os.pathsep``)."""
    out = [Path(extra).expanduser()] if extra is not None else []
    raw = os.environ.get(env, "") if env else ""
    out += [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    return out


def find_in_mirrors(name: str, env: str | None, extra=None) -> Path | None:
    """The first mirror file called ``name`` (a relative path), or ``None``."""
    for d in mirror_dirs(env, extra):
        if (d / name).is_file():
            return d / name
    return None


def file_digest(path, algorithm: str = "sha256", chunk: int = 1 << 22) -> str:
    """Hex digest of a file's bytes (read in ``chunk``-byte blocks)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify(path, expected: str | None, *, algorithm: str = "sha256", what: str = "") -> Path:
    """``path`` if its digest is ``expected`` (or nothing is expected); else
    :class:`ChecksumError` naming the file, both digests and the fix."""
    path = Path(path)
    if expected:
        got = file_digest(path, algorithm)
        if got != expected:
            raise ChecksumError(
                f"{what + ': ' if what else ''}{path} has {algorithm} {got}, expected {expected}; the "
                "file is corrupt or a different file — delete it and fetch it again.")
    return path


def fetch(kind: str, name: str, url: str | None, sha256: str | None = None, *,
          mirror_env: str | None = None, mirror=None) -> Path:
    """A verified local copy of artifact ``name``: the mirror first (``mirror`` then
    ``$mirror_env``), then ``root(kind)/name`` (downloading ``url`` with pooch when missing).
    Raises :class:`FileNotFoundError` when there is no mirror copy and no ``url``, and
    :class:`ChecksumError` on a wrong digest."""
    p = find_in_mirrors(name, mirror_env, mirror)
    if p is not None:
        return verify(p, sha256, what=name)
    if url is None:
        where = ", ".join(str(d) for d in mirror_dirs(mirror_env, mirror)) or "no mirror set"
        raise FileNotFoundError(f"{name} is not in the mirror ({where}) and has no download URL; "
                                f"put it in ${mirror_env or 'a mirror'}")
    import pooch

    dest = root(kind)
    return Path(pooch.retrieve(url, known_hash=f"sha256:{sha256}" if sha256 else None,
                               fname=Path(name).name, path=dest / Path(name).parent))
