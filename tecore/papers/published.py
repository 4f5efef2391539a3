"""The numbers the papers' authors published: a registry of files, fetched like pooch does.

Every artifact — per-model transferability scores and fine-tuned ground truth from the
authors' repositories — is listed in ``tecore/papers/published_registry.csv`` with its sha256, the
raw-GitHub URL of the file in its source repository at the commit that was read, and that
repository/path/commit. :func:`fetch` looks for the file

1. in the local mirror ``$TECORE_PUBLISHED_MIRROR`` (or ``mirror=``), laid out as in the
   registry (``medical/results/lp_model.csv``, ...); CI and the book use ``../shared/published``;
2. in pooch's cache (``$TECORE_CACHE/published``), downloading it from the URL if missing.

Either way the bytes are verified against the registered sha256, so a user's machine reads
the same numbers as CI. Files derived from a repository's code (the ground-truth dicts of
SFDA/NCTI/ETran turned into CSV) have no download URL: they come from a mirror only, and
the error says where they were derived from.

The loaders below read the raw files; ground-truth loaders return tecore's table vocabulary
(``target, model, truth``), the raw results tables keep their published columns. The medical
paper's files are reshaped in :mod:`tecore.papers.medical`. Nothing here is copied into the
repository; the files are read at run time.
"""
from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tecore import _store

__all__ = [
    "registry",
    "fetch",
    "load",
    "stable_transfer_table",
    "stable_transfer_segmentation",
    "sfda_ground_truth",
    "ncti_ground_truth",
    "etran_cifar100",
    "parc_oracles",
    "PublishedNotFoundError",
]

_REGISTRY_FILE = Path(__file__).with_name("published_registry.csv")


class PublishedNotFoundError(FileNotFoundError):
    """A published artifact is neither in the mirror nor downloadable."""


@lru_cache(maxsize=1)
def registry() -> dict[str, dict]:
    """name -> {sha256, url, source_repo, source_path, source_commit}."""
    with open(_REGISTRY_FILE, newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh)}


def fetch(name: str, *, mirror: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Local path of the published file ``name`` (a registry key), hash-verified.

    The one store rule (:mod:`tecore._store`): the mirror first (``mirror=`` if given, else
    ``$TECORE_PUBLISHED_MIRROR``), then ``$TECORE_CACHE/published`` (downloading the URL with
    pooch when missing and ``download`` is true).

    Raises ValueError for an unknown name (listing the valid ones), ``ChecksumError`` (a
    ValueError) for a mirror file with another sha256, and :class:`PublishedNotFoundError`
    when the file is in no mirror and cannot be downloaded.
    """
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown published artifact {name!r}; valid names: {', '.join(sorted(reg))}")
    entry = reg[name]
    env = None if mirror is not None else "TECORE_PUBLISHED_MIRROR"  # mirror= replaces the variable
    looked = [str(d / name) for d in _store.mirror_dirs(env, mirror)]
    p = _store.find_in_mirrors(name, env, mirror)
    if p is not None:
        return _store.verify(p, entry["sha256"], what=f"published artifact {name!r}")
    if entry["url"] and download:
        try:
            return _store.fetch("published", name, entry["url"], entry["sha256"])
        except Exception as exc:  # network errors come in many types
            looked.append(f"{entry['url']} ({type(exc).__name__}: {exc})")
    how = (f"download {entry['url']}" if entry["url"] else
           f"it was derived from {entry['source_repo']} {entry['source_path']} at {entry['source_commit']} "
           "and is distributed with tecore's data mirror")
    raise PublishedNotFoundError(
        f"published artifact {name!r} not found; looked in: {'; '.join(looked) or '(no mirror set)'}. "
        f"Set TECORE_PUBLISHED_MIRROR to a directory holding {name}, or {how}."
    )


def load(name: str, **kwargs) -> pd.DataFrame:
    """Read a published CSV as a DataFrame (handles the medical rank files' semicolons, the
    PARC files' CRLF line ends and blank line, and pandas' unnamed index columns)."""
    path = fetch(name, **kwargs)
    sep = ";" if name.startswith("medical/results/ktau_") else ","
    df = pd.read_csv(path, sep=sep, skip_blank_lines=True)
    unnamed = [c for c in df.columns if str(c).startswith("Unnamed") or c == ""]
    return df.drop(columns=unnamed)


# ----------------------------------------------------------------------------- GBC / stable_transfer
def stable_transfer_table(**kw) -> pd.DataFrame:
    """Agostinelli et al. (ECCV 2022) results table of google-research ``stable_transfer``:
    5 metrics x 19 Keras ImageNet architectures x 9 targets, frozen and fine-tuned backbone.
    Columns as published: ``Transferability Metric``, ``Source Architecture``,
    ``Transferability Metric Score``, ``Test Accuracy``, ``Trainable Backbone``, ``Target Dataset``."""
    return load("stable_transfer/source_model_architectures_table.csv", **kw)


def stable_transfer_segmentation(**kw) -> pd.DataFrame:
    """The semantic-segmentation source-selection table of google-research ``stable_transfer``
    (same group as GBC; the data of GBC Table 3, possibly from a later run): 5 metrics x 17
    target datasets x 16 source datasets (HRNetV2-W48). Columns as published:
    ``Transferability Metric``, ``Source Dataset``, ``Transferability Metric Score``,
    ``Test Mean IoU``, ``Target Dataset``."""
    return load("stable_transfer/source_datasets_table.csv", **kw)


# ----------------------------------------------------------------------------- SFDA / PED / NCTI / ETran
def sfda_ground_truth(group: str = "supervised11", **kw) -> pd.DataFrame:
    """Fine-tuned accuracies (percent) of TencentARC/SFDA: ``group="supervised11"`` (11 ImageNet
    CNNs, SFDA group 1 = NCTI/ETran) or ``"selfsup12"`` (12 self-supervised ResNet-50s, group 2
    = PED). Columns ``target, model, truth`` (the file's ``dataset, model, accuracy``)."""
    names = {"supervised11": "sfda/gt_supervised11.csv", "selfsup12": "sfda/gt_selfsup12.csv"}
    if group not in names:
        raise ValueError(f"unknown SFDA ground-truth group {group!r}; valid groups: {', '.join(names)}")
    return _truth_table(load(names[group], **kw))


def _truth_table(df: pd.DataFrame) -> pd.DataFrame:
    """A published ``dataset, model, accuracy`` file in tecore's vocabulary ``target, model, truth``."""
    return df.rename(columns={"dataset": "target", "accuracy": "truth"})


def ncti_ground_truth(*, drop_placeholders: bool = True, **kw) -> pd.DataFrame:
    """NCTI's two extra targets (resisc, eurosat) for the 12 self-supervised models. The source
    has placeholder 0 for simclr-v1/v2; they are dropped unless ``drop_placeholders=False``.
    Columns ``target, model, truth, note``."""
    df = _truth_table(load("ncti/gt_selfsup12_resisc_eurosat.csv", **kw))
    if drop_placeholders:
        df = df[df["truth"] > 0].reset_index(drop=True)
    return df


def etran_cifar100(**kw) -> pd.DataFrame:
    """ETran's printed CIFAR-100 terms and ground truth: ``model, lda, energy, truth`` (the
    file's ``lda_score, energy_score, gt_accuracy``; ``lda`` and ``energy`` are the term
    names :func:`tecore.metrics.etran.combine` takes)."""
    return load("etran/scores_cifar100.csv", **kw).rename(
        columns={"lda_score": "lda", "energy_score": "energy", "gt_accuracy": "truth"})


def parc_oracles(which: str = "controlled", *, drop_sentinels: bool = True, **kw) -> pd.DataFrame:
    """dbolya/parc oracle fine-tuning accuracies; ``which`` in {"controlled", "all"}. Rows with
    the sentinel Oracle = -1 are dropped unless ``drop_sentinels=False``."""
    if which not in ("controlled", "all"):
        raise ValueError(f"which must be 'controlled' or 'all', got {which!r}")
    df = load(f"parc/{which}.csv", **kw)
    if drop_sentinels:
        df = df[df["Oracle"] >= 0].reset_index(drop=True)
    return df
