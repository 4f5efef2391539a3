"""The numbers the papers' authors published: a registry of files, fetched like pooch does.

Every artifact — per-model transferability scores and fine-tuned ground truth from the
authors' repositories — is listed in ``tecore/published_registry.csv`` with its sha256, the
raw-GitHub URL of the file in its source repository at the commit that was read, and that
repository/path/commit. :func:`fetch` looks for the file

1. in the local mirror ``$TECORE_PUBLISHED_MIRROR`` (or ``mirror=``), laid out as in the
   registry (``medical/results/lp_model.csv``, ...); CI and the book use ``../shared/published``;
2. in pooch's cache (``$TECORE_CACHE/published``), downloading it from the URL if missing.

Either way the bytes are verified against the registered sha256, so a user's machine reads
the same numbers as CI. Files derived from a repository's code (the ground-truth dicts of
SFDA/NCTI/ETran turned into CSV) have no download URL: they come from a mirror only, and
the error says where they were derived from.

The loaders below turn the raw files into the tidy tables the chapters need. Nothing here
is copied into the repository; the files are read at run time.
"""
from __future__ import annotations

import csv
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tecore.cache import file_digest

__all__ = [
    "registry",
    "fetch",
    "load",
    "stable_transfer_table",
    "sfda_ground_truth",
    "ncti_ground_truth",
    "etran_cifar100",
    "parc_oracles",
    "medical_scores",
    "medical_auc",
    "medical_rank_table",
    "medical_sweeps",
    "medical_ground_truth_from_sweeps",
    "MEDICAL_TARGETS",
    "MEDICAL_METRICS",
    "PublishedNotFoundError",
    "MEDICAL_METHODS",
    "medical_method_scores",
    "medical_tau_table",
    "rank_methods",
]

_REGISTRY_FILE = Path(__file__).with_name("published_registry.csv")

MEDICAL_TARGETS = (
    "bloodmnist", "breastmnist", "dermamnist", "octmnist", "organamnist", "organcmnist",
    "organsmnist", "pathmnist", "pneumoniamnist", "retinamnist", "tissuemnist",
)
#: score files of Juodelyte et al.; ``lp`` and ``fu`` are the paper's two components
MEDICAL_METRICS = ("leep", "nleep", "logme", "parc", "sfda", "ncti", "lp", "fu")
_SWEEP_PREFIX = {t: t.replace("mnist", "") for t in MEDICAL_TARGETS + ("chestmnist",)}


class PublishedNotFoundError(FileNotFoundError):
    """A published artifact is neither in the mirror nor downloadable."""


@lru_cache(maxsize=1)
def registry() -> dict[str, dict]:
    """name -> {sha256, url, source_repo, source_path, source_commit}."""
    with open(_REGISTRY_FILE, newline="") as fh:
        return {r["name"]: r for r in csv.DictReader(fh)}


def _mirror(mirror) -> Path | None:
    m = mirror if mirror is not None else os.environ.get("TECORE_PUBLISHED_MIRROR")
    return Path(m).expanduser() if m else None


def fetch(name: str, *, mirror: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Local path of the published file ``name`` (a registry key), hash-verified.

    Raises ValueError for an unknown name (listing the valid ones), and
    :class:`PublishedNotFoundError` when the file is in no mirror and cannot be downloaded.
    """
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown published artifact {name!r}; valid names: {', '.join(sorted(reg))}")
    entry = reg[name]
    m = _mirror(mirror)
    looked = []
    if m is not None:
        p = m / name
        looked.append(str(p))
        if p.is_file():
            got = file_digest(p)
            if got != entry["sha256"]:
                raise ValueError(
                    f"{p} has sha256 {got}, but the registry expects {entry['sha256']}; the mirror "
                    "holds a different version of this file — restore the original or remove it "
                    "so tecore downloads it."
                )
            return p
    if entry["url"] and download:
        import pooch

        cache = Path(os.environ.get("TECORE_CACHE", Path.home() / ".cache" / "tecore")) / "published"
        try:
            return Path(pooch.retrieve(entry["url"], known_hash=f"sha256:{entry['sha256']}",
                                       fname=name.replace("/", "__"), path=cache, progressbar=False))
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


# ----------------------------------------------------------------------------- SFDA / PED / NCTI / ETran
def sfda_ground_truth(group: str = "supervised11", **kw) -> pd.DataFrame:
    """Fine-tuned accuracies (percent) of TencentARC/SFDA: ``group="supervised11"`` (11 ImageNet
    CNNs, SFDA group 1 = NCTI/ETran) or ``"selfsup12"`` (12 self-supervised ResNet-50s, group 2
    = PED). Columns ``dataset, model, accuracy``."""
    names = {"supervised11": "sfda/gt_supervised11.csv", "selfsup12": "sfda/gt_selfsup12.csv"}
    if group not in names:
        raise ValueError(f"unknown SFDA ground-truth group {group!r}; valid groups: {', '.join(names)}")
    return load(names[group], **kw)


def ncti_ground_truth(*, drop_placeholders: bool = True, **kw) -> pd.DataFrame:
    """NCTI's two extra targets (resisc, eurosat) for the 12 self-supervised models. The source
    has placeholder 0 for simclr-v1/v2; they are dropped unless ``drop_placeholders=False``."""
    df = load("ncti/gt_selfsup12_resisc_eurosat.csv", **kw)
    if drop_placeholders:
        df = df[df["accuracy"] > 0].reset_index(drop=True)
    return df


def etran_cifar100(**kw) -> pd.DataFrame:
    """ETran's printed CIFAR-100 scores: ``model, lda_score, energy_score, gt_accuracy``."""
    return load("etran/scores_cifar100.csv", **kw)


def parc_oracles(which: str = "controlled", *, drop_sentinels: bool = True, **kw) -> pd.DataFrame:
    """dbolya/parc oracle fine-tuning accuracies; ``which`` in {"controlled", "all"}. Rows with
    the sentinel Oracle = -1 are dropped unless ``drop_sentinels=False``."""
    if which not in ("controlled", "all"):
        raise ValueError(f"which must be 'controlled' or 'all', got {which!r}")
    df = load(f"parc/{which}.csv", **kw)
    if drop_sentinels:
        df = df[df["Oracle"] >= 0].reset_index(drop=True)
    return df


# ----------------------------------------------------------------------------- medical
def _check_experiment(experiment: str) -> str:
    if experiment not in ("dataset", "model"):
        raise ValueError(f"experiment must be 'dataset' or 'model', got {experiment!r}")
    return experiment


def _long(df: pd.DataFrame, value: str) -> pd.DataFrame:
    out = df.melt(id_vars="source", var_name="target", value_name=value)
    return out


def medical_scores(experiment: str = "dataset", metrics=MEDICAL_METRICS, **kw) -> pd.DataFrame:
    """Published per-source transferability scores of Juodelyte et al., tidy:
    ``source, target, metric, score``. Self-transfer cells (source == target) are dropped."""
    _check_experiment(experiment)
    if isinstance(metrics, str):
        metrics = (metrics,)
    bad = [m for m in metrics if m not in MEDICAL_METRICS]
    if bad:
        raise ValueError(f"unknown medical score file(s) {bad}; valid: {', '.join(MEDICAL_METRICS)}")
    parts = []
    for m in metrics:
        df = _long(load(f"medical/results/{m}_{experiment}.csv", **kw), "score")
        df.insert(2, "metric", m)
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["source"] != out["target"]]
    return out.dropna(subset=["score"]).reset_index(drop=True)


def medical_auc(experiment: str = "dataset", *, percent: bool = False, **kw) -> pd.DataFrame:
    """Ground-truth test AUC: ``source, target, auc`` (in [0, 1]; ``percent=True`` for x100).
    The model-level file is published in percent; it is rescaled here. The dataset-level
    ``chestmnist`` column (no score file has it) is kept; self-transfer is dropped."""
    _check_experiment(experiment)
    df = _long(load(f"medical/results/AUCs_{experiment}.csv", **kw), "auc")
    if experiment == "model":
        df["auc"] = df["auc"] / 100.0
    if percent:
        df["auc"] = df["auc"] * 100.0
    df = df[df["source"] != df["target"]]
    return df.dropna(subset=["auc"]).reset_index(drop=True)


def medical_rank_table(experiment: str = "dataset", **kw) -> pd.DataFrame:
    """The published rank of each method per target (``ktau_*_rank.csv``; 1 = best), indexed
    by target; ``our`` is the paper's LP x FU."""
    _check_experiment(experiment)
    return load(f"medical/results/ktau_{experiment}_rank.csv", **kw).set_index("target")


def medical_sweeps(target: str, experiment: str = "dataset", **kw) -> pd.DataFrame:
    """The hyper-parameter sweep log (one row per fine-tuning run) for ``target``."""
    _check_experiment(experiment)
    if target not in _SWEEP_PREFIX:
        raise ValueError(f"unknown medical target {target!r}; valid: {', '.join(_SWEEP_PREFIX)}")
    suffix = "_imnet" if experiment == "model" else ""
    if experiment == "model" and target == "chestmnist":
        raise ValueError("the model-level experiment has no chestmnist sweep")
    return load(f"medical/finetuned_AUCs/fined_{_SWEEP_PREFIX[target]}{suffix}.csv", **kw)


def medical_ground_truth_from_sweeps(experiment: str = "dataset", targets=None, **kw) -> pd.DataFrame:
    """Re-derive the ground truth from the sweeps: per (source, target), the ``test_auc`` of
    the run with the lowest ``val_loss`` (runs without metrics skipped). Returns
    ``source, target, auc`` in [0, 1], comparable with :func:`medical_auc`."""
    _check_experiment(experiment)
    if targets is None:
        targets = MEDICAL_TARGETS + (("chestmnist",) if experiment == "dataset" else ())
    rows = []
    for t in targets:
        sw = medical_sweeps(t, experiment, **kw)
        sw = sw.dropna(subset=["val_loss", "test_auc"])
        best = sw.loc[sw.groupby("source_flag")["val_loss"].idxmin()]
        for _, r in best.iterrows():
            rows.append({"source": r["source_flag"], "target": t, "auc": float(r["test_auc"])})
    return pd.DataFrame(rows)


#: published score files -> the tecore metric they were computed with
MEDICAL_METHODS = ("logme", "parc", "sfda", "ncti", "leep", "nleep", "lp_fu")
#: the model-level experiment scores these as 1 - score (Juodelyte et al., Table 3 header)
MEDICAL_ONE_MINUS = ("parc", "ncti", "leep", "nleep")


def medical_method_scores(experiment: str = "dataset", *, convention: str = "paper", components: bool = False,
                          **kw) -> pd.DataFrame:
    """Per (method, target, source) score as the paper ranks it: ``method, target, source,
    score``, methods :data:`MEDICAL_METHODS` (``lp_fu`` = the paper's LP x FU).

    ``convention="paper"`` reproduces the authors' notebooks: in the model-level experiment
    PARC, NCTI, LEEP and NLEEP enter as ``1 - score`` and LP x FU uses the cross-domain
    normalisation of eq. 8 (``tecore.metrics.nca.combine_lp_fu(cross_domain=True)``); the
    dataset-level experiment uses raw scores and eqs. 5-6. ``convention="raw"`` uses raw
    scores and eqs. 5-6 everywhere. ``components=True`` adds the ablation rows ``lp`` and
    ``fu`` (each term alone, in the direction the combination uses it: negated under eq. 8).
    """
    from tecore import metrics

    _check_experiment(experiment)
    if convention not in ("paper", "raw"):
        raise ValueError(f"convention must be 'paper' or 'raw', got {convention!r}")
    flip = experiment == "model" and convention == "paper"
    sc = medical_scores(experiment, **kw)
    parts = []
    for m in MEDICAL_METHODS[:-1]:
        d = sc[sc.metric == m][["target", "source", "score"]].copy()
        if flip and m in MEDICAL_ONE_MINUS:
            d["score"] = 1.0 - d["score"]
        d.insert(0, "method", m)
        parts.append(d)
    combine = metrics.get("lp_fu").combiner
    terms = sc[sc.metric.isin(["lp", "fu"])].pivot_table(index=["target", "source"], columns="metric",
                                                          values="score")
    for target, t in terms.groupby(level="target"):
        t = t.droplevel("target").dropna()
        s = combine(t[["lp", "fu"]], cross_domain=flip)
        parts.append(pd.DataFrame({"method": "lp_fu", "target": target, "source": s.index, "score": s.to_numpy()}))
        if components:
            for term in ("lp", "fu"):
                v = -t[term] if flip else t[term]
                parts.append(pd.DataFrame({"method": term, "target": target, "source": t.index,
                                           "score": v.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def medical_tau_table(experiment: str = "dataset", *, convention: str = "paper", tau=None,
                      components: bool = False, **kw) -> pd.DataFrame:
    """Recompute Juodelyte et al.'s Table 2 (``experiment="dataset"``) or Table 3
    (``"model"``) from the published scores and AUCs: weighted tau_w (scipy's, by default)
    between each method's scores and the test AUC over the sources of each target, source =
    target excluded. Returns targets x methods (plus ``lp`` and ``fu`` with ``components``);
    an undefined tau_w (SFDA giving every source the same score) is NaN."""
    from tecore import evaluate

    tau = tau or evaluate.weighted_tau
    scores = medical_method_scores(experiment, convention=convention, components=components, **kw)
    auc = medical_auc(experiment, **kw).set_index(["target", "source"])["auc"]
    out = {}
    import warnings

    for (method, target), d in scores.groupby(["method", "target"]):
        truth = auc.reindex(pd.MultiIndex.from_arrays([d["target"], d["source"]])).to_numpy()
        ok = np.isfinite(truth) & np.isfinite(d["score"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant scores -> NaN, reported as such
            out[(target, method)] = tau(d["score"].to_numpy()[ok], truth[ok])
    table = pd.Series(out).unstack()[list(MEDICAL_METHODS) + (["lp", "fu"] if components else [])]
    table.index.name, table.columns.name = "target", "method"
    return table


def rank_methods(table: pd.DataFrame) -> pd.DataFrame:
    """Rank methods per row (1 = highest value; an undefined NaN value ranked last, as the
    medical paper does for SFDA), with an ``average`` row appended."""
    r = table.rank(axis=1, ascending=False, method="min", na_option="bottom")
    r.loc["average"] = r.mean()
    return r
