"""Where dataset files are looked for, the download switch, and the two dataset errors.

Order (first hit wins): ``root=``, ``$TECORE_DATA_MIRROR``, dataset-specific system places,
the download cache :func:`data_dir` (``$TECORE_CACHE/data``; ``$TECORE_DATA_DIR`` overrides).
"""
from __future__ import annotations

import os
from pathlib import Path

from tecore import _store

# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are not where tecore looked; the message says where it
    looked and how to get them."""


class DatasetIntegrityError(ValueError):
    """A dataset file is present but its checksum or content is wrong."""


# --------------------------------------------------------------------------------------
# places
# --------------------------------------------------------------------------------------
def data_dir() -> Path:
    """The download cache: ``tecore._store.root("data")`` = ``$TECORE_DATA_DIR`` or
    ``$TECORE_CACHE/data`` (default ``~/.cache/tecore/data``)."""
    return _store.root("data")


def mirror_dirs() -> list[Path]:
    """The local mirrors named by ``$TECORE_DATA_MIRROR`` (``os.pathsep``-separated)."""
    return _store.mirror_dirs("TECORE_DATA_MIRROR")


def _download_default(download: bool | None) -> bool:
    if download is not None:
        return bool(download)
    return os.environ.get("TECORE_DOWNLOAD", "").strip().lower() in ("1", "true", "yes", "on")


def _verify_default(verify: bool | None) -> bool:
    """``verify`` if given, else ``True`` unless ``$TECORE_DATA_VERIFY`` is 0/false/no/off
    (then a warning says the publisher's checksums are skipped)."""
    if verify is not None:
        return bool(verify)
    if os.environ.get("TECORE_DATA_VERIFY", "").strip().lower() in ("0", "false", "no", "off"):
        import warnings

        warnings.warn("TECORE_DATA_VERIFY=0: dataset checksums are not checked", stacklevel=3)
        return False
    return True


def _bases(root) -> list[Path]:
    return _store.mirror_dirs("TECORE_DATA_MIRROR", root)


def _how_to_get() -> str:
    return (f"pass download=True (or set TECORE_DOWNLOAD=1) to download into {data_dir()}, "
            f"or put the files in a local mirror named by root=... or $TECORE_DATA_MIRROR")


_MD5_MEMO: dict[tuple, str] = {}


def _md5_cached(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _MD5_MEMO:
        _MD5_MEMO[key] = _store.file_digest(path, "md5")
    return _MD5_MEMO[key]

