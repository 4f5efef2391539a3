"""Juodelyte et al., "On dataset transferability in medical image classification" (arXiv
2412.20172): the authors' published score, AUC and sweep files reshaped into tecore's table
vocabulary, and the paper's Tables 2-3 recomputed from them.

Scores are ``target, model, metric, score`` (``model`` = the source dataset or source model
the paper ranks); ground truth is ``target, model, truth`` (test AUC in [0, 1]). The
rank correlations come from :func:`tecore.evaluate.rank_table`; :func:`tau_table` only puts
them in the paper's shape (targets x methods).
"""
from __future__ import annotations

import pandas as pd

from tecore.data import MEDICAL_TARGETS
from tecore.papers.published import load

__all__ = [
    "TARGETS",
    "METRICS",
    "METHODS",
    "ONE_MINUS",
    "scores",
    "auc",
    "rank_file",
    "sweeps",
    "truth_from_sweeps",
    "method_scores",
    "tau_table",
    "rank_methods",
    "source_sizes",
    "fig4",
]

#: the 11 target datasets (owned by :data:`tecore.data.MEDICAL_TARGETS`)
TARGETS = MEDICAL_TARGETS
#: score files of Juodelyte et al.; ``lp`` and ``fu`` are the paper's two components
METRICS = ("leep", "nleep", "logme", "parc", "sfda", "ncti", "lp", "fu")
#: published score files -> the tecore metric they were computed with (``lp_fu`` = LP x FU)
METHODS = ("logme", "parc", "sfda", "ncti", "leep", "nleep", "lp_fu")
#: the model-level experiment scores these as 1 - score (Juodelyte et al., Table 3 header)
ONE_MINUS = ("parc", "ncti", "leep", "nleep")
_SWEEP_PREFIX = {t: t.replace("mnist", "") for t in TARGETS + ("chestmnist",)}


def _check_experiment(experiment: str) -> str:
    if experiment not in ("dataset", "model"):
        raise ValueError(f"experiment must be 'dataset' or 'model', got {experiment!r}")
    return experiment


def _long(df: pd.DataFrame, value: str) -> pd.DataFrame:
    """A published sources x targets file as ``target, model, <value>``, self-transfer
    (source == target) and empty cells dropped."""
    out = df.melt(id_vars="source", var_name="target", value_name=value).rename(columns={"source": "model"})
    out = out[out["model"] != out["target"]]
    return out.dropna(subset=[value])[["target", "model", value]].reset_index(drop=True)


def scores(experiment: str = "dataset", metrics=METRICS, **kw) -> pd.DataFrame:
    """Published per-source transferability scores: ``target, model, metric, score``
    (``model`` = the source). Self-transfer cells (source == target) are dropped."""
    _check_experiment(experiment)
    if isinstance(metrics, str):
        metrics = (metrics,)
    bad = [m for m in metrics if m not in METRICS]
    if bad:
        raise ValueError(f"unknown medical score file(s) {bad}; valid: {', '.join(METRICS)}")
    parts = []
    for m in metrics:
        df = _long(load(f"medical/results/{m}_{experiment}.csv", **kw), "score")
        df.insert(2, "metric", m)
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def auc(experiment: str = "dataset", *, percent: bool = False, **kw) -> pd.DataFrame:
    """Ground-truth test AUC: ``target, model, truth`` (in [0, 1]; ``percent=True`` for x100).
    The model-level file is published in percent; it is rescaled here. The dataset-level
    ``chestmnist`` column (no score file has it) is kept; self-transfer is dropped."""
    _check_experiment(experiment)
    df = _long(load(f"medical/results/AUCs_{experiment}.csv", **kw), "truth")
    if experiment == "model":
        df["truth"] = df["truth"] / 100.0
    if percent:
        df["truth"] = df["truth"] * 100.0
    return df


def rank_file(experiment: str = "dataset", **kw) -> pd.DataFrame:
    """The published rank of each method per target (``ktau_*_rank.csv``; 1 = best), indexed
    by target, columns :data:`METHODS` (the file's ``our`` is the paper's LP x FU, ``lp_fu``)."""
    _check_experiment(experiment)
    return load(f"medical/results/ktau_{experiment}_rank.csv", **kw).set_index("target").rename(
        columns={"our": "lp_fu"})


def sweeps(target: str, experiment: str = "dataset", **kw) -> pd.DataFrame:
    """The hyper-parameter sweep log (one row per fine-tuning run) for ``target``, as published."""
    _check_experiment(experiment)
    if target not in _SWEEP_PREFIX:
        raise ValueError(f"unknown medical target {target!r}; valid: {', '.join(_SWEEP_PREFIX)}")
    suffix = "_imnet" if experiment == "model" else ""
    if experiment == "model" and target == "chestmnist":
        raise ValueError("the model-level experiment has no chestmnist sweep")
    return load(f"medical/finetuned_AUCs/fined_{_SWEEP_PREFIX[target]}{suffix}.csv", **kw)


def truth_from_sweeps(experiment: str = "dataset", targets=None, **kw) -> pd.DataFrame:
    """Re-derive the ground truth from the sweeps: per (target, source), the ``test_auc`` of
    the run with the lowest ``val_loss`` (runs without metrics skipped). Returns
    ``target, model, truth`` in [0, 1], comparable with :func:`auc`."""
    _check_experiment(experiment)
    if targets is None:
        targets = TARGETS + (("chestmnist",) if experiment == "dataset" else ())
    rows = []
    for t in targets:
        sw = sweeps(t, experiment, **kw)
        sw = sw.dropna(subset=["val_loss", "test_auc"])
        best = sw.loc[sw.groupby("source_flag")["val_loss"].idxmin()]
        for _, r in best.iterrows():
            rows.append({"target": t, "model": r["source_flag"], "truth": float(r["test_auc"])})
    return pd.DataFrame(rows, columns=["target", "model", "truth"])


def method_scores(experiment: str = "dataset", *, convention: str = "paper", components: bool = False,
                  **kw) -> pd.DataFrame:
    """Per (target, source) score of each method as the paper ranks it: ``target, model,
    metric, score``, metrics :data:`METHODS` (``lp_fu`` = the paper's LP x FU).

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
    sc = scores(experiment, **kw)
    parts = []
    for m in METHODS[:-1]:
        d = sc[sc.metric == m].copy()
        if flip and m in ONE_MINUS:
            d["score"] = 1.0 - d["score"]
        parts.append(d)
    combine = metrics.get("lp_fu").combiner
    terms = sc[sc.metric.isin(["lp", "fu"])].pivot_table(index=["target", "model"], columns="metric",
                                                          values="score")
    for target, t in terms.groupby(level="target"):
        t = t.droplevel("target").dropna()
        s = combine(t[["lp", "fu"]], cross_domain=flip)
        parts.append(pd.DataFrame({"target": target, "model": s.index, "metric": "lp_fu", "score": s.to_numpy()}))
        if components:
            for term in ("lp", "fu"):
                v = -t[term] if flip else t[term]
                parts.append(pd.DataFrame({"target": target, "model": t.index, "metric": term,
                                           "score": v.to_numpy()}))
    return pd.concat(parts, ignore_index=True)[["target", "model", "metric", "score"]]


def tau_table(experiment: str = "dataset", *, convention: str = "paper", tau="weighted_tau",
              components: bool = False, tie_digits: int | None = None, **kw) -> pd.DataFrame:
    """Juodelyte et al.'s Table 2 (``experiment="dataset"``) or Table 3 (``"model"``)
    recomputed from the published scores and AUCs: :func:`tecore.evaluate.rank_table` of
    :func:`method_scores` against :func:`auc` by (target, metric) with the statistic ``tau``
    (scipy's weighted tau by default), over the sources of each target, source = target
    excluded. Returned in the paper's shape: targets x methods (plus ``lp`` and ``fu`` with
    ``components``); an undefined tau (SFDA giving every source the same score) is NaN.

    ``tie_digits=None`` (default) ranks the published floats exactly, as the authors'
    notebooks do: in Table 3, SFDA on OrganSMNIST gives DenseNet 0.99999999999999778 and
    five models 1.0; ranked exactly, tau_w is 0.044 (printed 0.04); with ``rank_table``'s
    usual ``tie_digits=10`` they tie and tau_w is -0.040."""
    from tecore.evaluate import rank_table

    sc = method_scores(experiment, convention=convention, components=components, **kw)
    long = rank_table(sc, auc(experiment, **kw), by=["target", "metric"], stats=[tau], tie_digits=tie_digits)
    table = long.pivot(index="target", columns="metric", values=long.columns[-1])
    return table[list(METHODS) + (["lp", "fu"] if components else [])]


def rank_methods(table: pd.DataFrame) -> pd.DataFrame:
    """Rank methods per row (1 = highest value; an undefined NaN value ranked last, as the
    medical paper does for SFDA), with an ``average`` row appended."""
    r = table.rank(axis=1, ascending=False, method="min", na_option="bottom")
    r.loc["average"] = r.mean()
    return r


#: training images of the two non-MedMNIST sources: ILSVRC-2012's training split (Russakovsky
#: et al., IJCV 2015: 1,281,167 images) and RadImageNet (Mei et al., Radiology: AI 4(5)
#: e210315, 2022: "1.35 million" images)
_OTHER_SOURCE_SIZES = {"imagenet": 1_281_167, "radimagenet": 1_350_000}


def source_sizes(target: str | None = None) -> pd.Series:
    """Training images of every source dataset of the dataset experiment, smallest first —
    the order of the medical paper's Fig. 4 ("source datasets are sorted by size").

    A MedMNIST source has its training split (``medmnist.INFO``); ``medmnist`` is the
    leave-target-out union of the 12 2-D MedMNIST training splits without ``target``'s
    (without ``target``: all 12, its largest size); ImageNet and RadImageNet as cited at
    :data:`_OTHER_SOURCE_SIZES`.
    """
    import medmnist

    sizes = {k: int(v["n_samples"]["train"]) for k, v in medmnist.INFO.items()
             if k in _SWEEP_PREFIX}
    if target is not None and target not in sizes:
        raise ValueError(f"source_sizes: target={target!r} is not a 2-D MedMNIST dataset of the "
                         f"paper (one of {sorted(sizes)})")
    sizes["medmnist"] = sum(sizes.values()) - (sizes[target] if target is not None else 0)
    sizes.update(_OTHER_SOURCE_SIZES)
    return pd.Series(sizes, name="train_images").rename_axis("source").sort_values(kind="stable")


def fig4(targets=None) -> tuple[pd.DataFrame, dict]:
    """The medical paper's Fig. 4 from the published dataset experiment: test AUC after
    fine-tuning from each source (rows, smallest training set first, with its
    ``train_images``) on each target (columns, ``targets`` or the paper's 11 :data:`TARGETS`), and the numbers the
    chapter quotes about it:

    * ``breast_wins`` / ``breast_n``: targets (other than the two) on which the Breast source
      (546 training images) beats OrganS, the paper's example;
    * ``rho`` / ``rho_single``: Spearman's rho between training-set size and mean AUC over all
      sources / over the single MedMNIST sources (``n_sources`` / ``n_single``).
    """
    sizes = source_sizes()
    wide = auc("dataset").pivot(index="model", columns="target", values="truth")
    wide = wide.loc[:, list(targets if targets is not None else TARGETS)]
    wide = wide.reindex([m for m in sizes.index if m in wide.index])
    table = pd.concat([sizes.reindex(wide.index), wide], axis=1)
    others = [t for t in wide.columns if t not in ("breastmnist", "organsmnist")]
    mean_auc = wide.mean(axis=1)
    single = [m for m in table.index if m.endswith("mnist") and m != "medmnist"]
    stats = {
        "breast_wins": int((wide.loc["breastmnist", others] > wide.loc["organsmnist", others]).sum()),
        "breast_n": len(others),
        "rho": float(mean_auc.corr(table["train_images"], method="spearman")),
        "rho_single": float(mean_auc[single].corr(table.loc[single, "train_images"], method="spearman")),
        "n_sources": len(table),
        "n_single": len(single),
    }
    return table, stats
