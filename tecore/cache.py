"""Compatibility re-export: the feature cache lives in :mod:`tecore.extract.cache` and the
checksum helper in :mod:`tecore._store`. Kept because ``tecore.cache`` is public."""
from tecore._store import file_digest  # noqa: F401
from tecore.extract.cache import (FORMAT_VERSION, ChunkStore, FeatureCache, atomic_write_bytes,  # noqa: F401
                                  default_cache_dir, make_key)

__all__ = ["FORMAT_VERSION", "default_cache_dir", "make_key", "atomic_write_bytes", "file_digest",
           "FeatureCache", "ChunkStore"]
