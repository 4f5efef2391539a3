"""Feature extraction: one forward pass per image, cached; and the gradient probe S_FU.

Layout: ``features`` (:class:`Features`, :func:`extract`), ``probe`` (:func:`gradient_ratio`,
:class:`ProbeSettings`, the triplet loss), ``cache`` (:class:`FeatureCache`, content-addressed
entries under ``$TECORE_CACHE/features``), ``_io`` (batches in, arrays out).

:func:`extract` turns ``(model, dataset)`` into :class:`Features` — penultimate features
``(N, D)`` float32, source-class logits ``(N, K)`` (or ``None`` for headless models), the
labels, and optionally the gradient ratio of Juodelyte et al. The model comes from
:func:`tecore.zoo.create` (``create(name) -> (model, preprocess, spec)`` with
``model(x) -> (features, logits | None)``) or is passed as such a triple.

Speed (CUDA)
    ``torch.autocast`` in bfloat16 (float16 where bf16 is unsupported), ``channels_last``
    memory format, a pinned-memory ``DataLoader`` (``num_workers`` processes decode and
    preprocess images), ``non_blocking`` host-to-device copies, and outputs kept on the
    device until a chunk is complete (one synchronising copy per chunk, not per batch).
    On CPU everything runs in float32. The precision is part of the cache key, so float32
    and bfloat16 features never mix. ``benchmarks/extract_throughput.py`` compares the
    throughput of :func:`extract` with a bare forward loop over pre-made tensors.

Caching and resume
    Results are stored in :class:`tecore.extract.cache.FeatureCache` under a key made of the model
    id and weights hash, the dataset (name, split, subsample, content fingerprint), the
    preprocessing description and the precision. Extraction proceeds in chunks of
    ``chunk_size`` images, each saved atomically as it finishes; a killed run resumes from
    the finished chunks, and a finished entry is a pure cache hit (the model is not run).
    The gradient ratio is cached in its own small entry keyed by the features key plus the
    probe's settings.
"""
from __future__ import annotations

from tecore.extract.features import DEFAULT_CHUNK, Features, extract
from tecore.extract.probe import ProbeSettings, gradient_ratio, triplet_margin_loss_all

__all__ = ["Features", "extract", "gradient_ratio", "triplet_margin_loss_all", "ProbeSettings",
           "DEFAULT_CHUNK"]
