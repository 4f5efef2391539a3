"""What the book reproduces: every table and figure of each paper, and its status here.

One source of truth for the chapters' opening tables and the book's front-page totals.
Each item has a status:

* ``recomputed from published`` — recomputed here from the authors' published numbers
  (scores, accuracies, logs); where the paper prints numbers to compare with, ``check`` names
  a function of this module that recomputes the table and counts the matching cells;
* ``recomputed from features`` — recomputed here from features tecore extracts (the offline
  benchmark, a small-scale analogue, or a chapter's ``source="recompute"`` mode);
* ``typed in`` — the paper's numbers are typed in (:mod:`tecore.papers.printed_tables`, with
  their citation) and shown, nothing recomputed;
* ``not reproducible here`` — ``detail`` says why.

The match counts are not typed: :func:`table` calls the ``check`` functions, which compute
the same comparison as the chapter; a chapter calls :func:`confirm` with its own count so a
disagreement fails the build.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["STATUSES", "Item", "ITEMS", "PAPERS", "items", "check", "table", "summary", "confirm", "tecore_timings"]

STATUSES = ("recomputed from published", "recomputed from features", "typed in", "not reproducible here")
PAPERS = {"medical": "Juodelyte et al. (medical)", "gbc": "GBC (Pándy et al.)", "ped": "PED (Li et al.)",
          "itm": "ITM", "leep": "LEEP (Nguyen et al., supplement)"}


@dataclass(frozen=True)
class Item:
    paper: str
    item: str  # "Table 2", "Fig. 4"
    content: str
    status: str
    detail: str
    check: str | None = None  # name of a check function in _CHECKS

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}; valid: {STATUSES}")


_NOFT = "needs the paper's fine-tuning runs, which are not published"
ITEMS: tuple[Item, ...] = (
    # -- Juodelyte et al., arXiv 2412.20172
    Item("medical", "Table 1", "target datasets (modality, classes, image size)", "not reproducible here",
         "a description of the data, no result; the data are read by tecore.data"),
    Item("medical", "Table 2", "τw per target, dataset transferability (7 methods)", "recomputed from published",
         "published per-source scores and AUCs -> τw, against the printed cells", "medical_table2"),
    Item("medical", "Table 3", "τw per target, model transferability (7 methods)", "recomputed from published",
         "published per-model scores and AUCs -> τw, against the printed cells (source=\"recompute\" "
         "also recomputes it from features)", "medical_table3"),
    Item("medical", "Table 4", "ground-truth test AUC of the source datasets", "recomputed from published",
         "re-derived from the sweep logs, against the published AUC table (not typed in from the paper)",
         "medical_table4"),
    Item("medical", "Table 5", "ground-truth test AUC of the ImageNet architectures", "recomputed from published",
         "re-derived from the sweep logs, against the published AUC table (the resnet row has no sweep)",
         "medical_table5"),
    Item("medical", "Fig. 1", "the transferability-estimation problem", "not reproducible here", "an illustration"),
    Item("medical", "Fig. 2", "overview of the method", "not reproducible here", "an illustration"),
    Item("medical", "Fig. 3", "t-SNE of Pneumonia features before/after fine-tuning and NCA",
         "not reproducible here", "needs the fine-tuned source models, which are not published"),
    Item("medical", "Fig. 4", "test AUC of every source on every target", "recomputed from published",
         "the published AUCs, sources ordered by training-set size as in the paper (medical.source_sizes)"),
    Item("medical", "Fig. 5", "score vs. test AUC per target and method", "recomputed from published",
         "published scores and AUCs"),
    Item("medical", "Fig. 6", "contribution of S_LP and S_FU", "recomputed from published",
         "τw of each component from the published component scores"),
    # -- GBC, CVPR 2022
    Item("gbc", "Table 1", "τw, source-architecture selection, 8 targets", "recomputed from published",
         "a proxy: the same group's later stable_transfer runs (different fine-tuning, 19 architectures)",
         "gbc_table1"),
    Item("gbc", "Table 2", "τw, target selection over random class subsets", "typed in",
         "shown beside tecore's own run times; " + _NOFT),
    Item("gbc", "Table 3", "semantic segmentation: top-1 and τw, fixed target / fixed source",
         "recomputed from published", "stable_transfer's segmentation source-selection table", "gbc_table3"),
    Item("gbc", "Fig. 1", "intuition: class overlap in feature space", "not reproducible here", "an illustration"),
    Item("gbc", "Fig. 2", "intuition: overlap of target classes", "not reproducible here", "an illustration"),
    Item("gbc", "Fig. 3", "score vs. accuracy per target and metric", "recomputed from published",
         "stable_transfer scores and accuracies (the proxy of Table 1)"),
    Item("gbc", "Fig. 4", "feature distributions of CIFAR-10 in two models", "not reproducible here",
         "needs the paper's source models"),
    Item("gbc", "Fig. 5", "qualitative segmentation examples", "not reproducible here",
         "needs the segmentation models"),
    # -- PED, ICCV 2023
    Item("ped", "Table 1", "τw of 6 metrics with and without PED, 12 self-supervised models", "typed in",
         "recomputed only by source=\"recompute\" (needs the 12 checkpoints and 10 datasets)"),
    Item("ped", "Table 2", "run time on Flowers", "typed in", "shown beside tecore's own timings"),
    Item("ped", "Table 3", "Table 1 with a grid search over k", "typed in", "as Table 1"),
    Item("ped", "Table 4", "fine-tuned accuracy (ground truth)", "recomputed from published",
         "the authors' published ground truth, against the printed cells", "ped_table4"),
    Item("ped", "Fig. 1", "the physics analogy", "not reproducible here", "an illustration"),
    Item("ped", "Fig. 2", "pipeline", "not reproducible here", "an illustration"),
    Item("ped", "Fig. 3", "balls and overlaps", "not reproducible here", "an illustration"),
    Item("ped", "Fig. 4", "gain vs. λ and Δt", "not reproducible here",
         "needs features of the 12 self-supervised models (source=\"recompute\")"),
    Item("ped", "Fig. 5", "force decay over steps and end condition", "not reproducible here",
         "needs features of the 12 self-supervised models"),
    Item("ped", "Fig. 6", "the dynamics on self-supervised models", "not reproducible here",
         "needs features of the 12 self-supervised models"),
    Item("ped", "Fig. 7", "ranking before/after PED", "not reproducible here",
         "needs features of the 12 self-supervised models"),
    Item("ped", "Fig. 8", "t-SNE of fine-tuned features", "not reproducible here", _NOFT),
    Item("ped", "Fig. 9", "influence of feature pre-processing", "not reproducible here",
         "needs features of the 12 self-supervised models"),
    Item("ped", "Fig. 10", "ranking vs. fine-tuning iterations", "not reproducible here", _NOFT),
    # -- ITM (under review; arXiv 2510.23145)
    Item("itm", "Table 1", "τw and wall-clock time, 10 datasets", "typed in",
         "recomputed by the ITM chapter's recompute mode (needs the paper's 10 models)"),
    Item("itm", "Table 2", "ablation: standardisation and adaptive learning rate", "recomputed from features",
         "small-scale analogue: standardisation x adaptive eta x iterations 100/200/500 on the benchmark "
         "zoo's features (17 networks; Fashion-MNIST 5-9, digits), next to the typed-in table"),
    Item("itm", "Table 3", "best fine-tuned accuracy per model and dataset", "typed in", _NOFT),
    Item("itm", "Table 4", "Spearman ρ and Kendall τw", "typed in", "as Table 1"),
    *(Item("itm", f"Fig. {i}", c, "not reproducible here", w) for i, c, w in (
        (1, "relative estimates of recent methods", "needs the paper's per-method scores"),
        (2, "fine-tuning curves on Pets", _NOFT),
        (3, "pipeline", "an illustration"),
        (6, "feature mean and variance per model on Caltech-101", "needs the paper's 10 models"),
        (7, "embedding-space mapping on CIFAR-10", "needs the paper's models"),
    )),
    Item("itm", "Fig. 4", "batch-size ablation", "recomputed from features",
         "small-scale analogue on the benchmark zoo's features (17 networks of the offline chapter; the paper's 10 models are not offline)"),
    Item("itm", "Fig. 5", "orthogonal pseudo-cluster centres, 10 repeats", "recomputed from features",
         "small-scale analogue on the benchmark zoo's features: centre kinds with seed spread"),
    # -- LEEP, ICML 2020, supplementary material
    Item("leep", "Fig. 1", "accuracy per LEEP transferability level (balanced targets)", "recomputed from features",
         "a small offline analogue: ImageNet MobileNetV2, Fashion-MNIST tasks, linear probe"),
    Item("leep", "Fig. 2", "F1 per level (imbalanced targets)", "not reproducible here",
         "not rerun: the imbalanced protocol is not implemented here"),
    Item("leep", "Fig. 3", "convergence of fine-tuned accuracy to a reference", "not reproducible here",
         _NOFT + " (fine-tuning curves)"),
    Item("leep", "Fig. 4", "test accuracy vs. LEEP, NCE, H-score for 9 source models", "not reproducible here",
         "needs the 9 source models fine-tuned on the paper's targets"),
)


def items(paper: str | None = None) -> list[Item]:
    """The inventory items of one paper (or all)."""
    if paper is not None and paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; valid: {', '.join(PAPERS)}")
    return [i for i in ITEMS if paper is None or i.paper == paper]


# ----------------------------------------------------------------------------- checks
def _medical_tau(exp: str):
    from tecore.papers import medical, printed

    name = {"dataset": "medical_table2", "model": "medical_table3"}[exp]
    shown = printed.get(name).frame
    rec = medical.tau_table(exp).loc[shown.index, shown.columns]
    _, n, m = printed.compare(shown, rec, tol=0.01)
    return n, m


def _medical_truth(exp: str):
    from tecore.papers import medical

    pub = medical.auc(exp)
    both = pub.merge(medical.truth_from_sweeps(exp), on=["target", "model"], suffixes=("_p", "_r"))
    return int((both["truth_p"] - both["truth_r"]).abs().lt(1e-12).sum()), int(len(pub))


def _gbc_table1():
    from tecore import evaluate
    from tecore.papers import gbc, printed, published

    t = gbc.tidy_stable_transfer(published.stable_transfer_table())
    t = t[(t["backbone"] == "finetuned") & t["model"].isin(printed.GBC_ARCHITECTURES)]
    tau = evaluate.rank_table(t, None, by=["metric", "target"], stats="weighted_tau", tie_digits=None)
    tau = tau.pivot(index="metric", columns="target", values="weighted_tau")
    _, n, m = printed.compare(printed.load("gbc_table1", tidy=False), tau, tol=0.01)
    return n, m


def _gbc_table3():
    from tecore.papers import gbc, printed, published

    rec = gbc.segmentation_selection(published.stable_transfer_segmentation())
    _, n, m = printed.compare(printed.load("gbc_table3", tidy=False), rec, tol=0.01)
    return n, m


def _ped_table4():
    from tecore.papers import printed, published

    gt = published.sfda_ground_truth("selfsup12").pivot(index="model", columns="target", values="truth")
    _, n, m = printed.compare(printed.load("ped_table4", tidy=False), gt, tol=0.0, against="published")
    return n, m


_CHECKS = {
    "medical_table2": lambda: _medical_tau("dataset"),
    "medical_table3": lambda: _medical_tau("model"),
    "medical_table4": lambda: _medical_truth("dataset"),
    "medical_table5": lambda: _medical_truth("model"),
    "gbc_table1": _gbc_table1,
    "gbc_table3": _gbc_table3,
    "ped_table4": _ped_table4,
}


def check(name: str) -> tuple[int, int]:
    """Run one check: ``(n_match, n_total)`` cells of the printed (or published) table that
    the recomputation reproduces (within 0.01 for τw tables, exactly for ground truth)."""
    if name not in _CHECKS:
        raise ValueError(f"unknown check {name!r}; valid: {', '.join(_CHECKS)}")
    return _CHECKS[name]()


def table(paper: str) -> pd.DataFrame:
    """One paper's inventory: ``item, content, status, cells matching, detail``; the match
    counts are computed now by the checks (``–`` where nothing printed is compared)."""
    rows = []
    for i in items(paper):
        matched = "–"
        if i.check:
            n, m = check(i.check)
            matched = f"{n}/{m}"
        rows.append({"item": i.item, "content": i.content, "status": i.status,
                     "cells matching": matched, "detail": i.detail})
    return pd.DataFrame(rows)


def summary() -> pd.DataFrame:
    """Items per paper and status (the book's front-page totals)."""
    df = pd.DataFrame([{"paper": PAPERS[i.paper], "status": i.status} for i in ITEMS])
    out = pd.crosstab(df["paper"], df["status"]).reindex(columns=list(STATUSES), fill_value=0)
    out = out.reindex([PAPERS[p] for p in PAPERS])
    out["total"] = out.sum(axis=1)
    out.loc["all papers"] = out.sum()
    out.columns.name = None
    return out


def confirm(name: str, n_match: int, n_total: int) -> None:
    """A chapter's own count must equal the inventory's: raises ``ValueError`` otherwise."""
    expected = check(name)
    if (int(n_match), int(n_total)) != expected:
        raise ValueError(f"inventory check {name}: the chapter counts {n_match}/{n_total} matching cells, "
                         f"the inventory {expected[0]}/{expected[1]}; update tecore.papers.inventory")


def tecore_timings(metrics=None, *, size: str = "M", path=None) -> pd.DataFrame:
    """tecore's own run times from the committed metric benchmark
    (``benchmarks/results/metrics_speed.json``, written by ``benchmarks/metrics_speed.py``):
    one row per metric, ``tecore_s`` and ``official_s`` (the official implementation on the
    same machine and input, NaN where it did not run), for one benchmark size (``"M"``:
    N=3000, D=2048, C=102, the shape of Flowers-102 features of a ResNet-50)."""
    import json
    from pathlib import Path

    path = Path(path) if path else Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "metrics_speed.json"
    if not path.is_file():
        raise ValueError(f"no benchmark results at {path}; run benchmarks/metrics_speed.py (see benchmarks/README.md)")
    rows = [r for r in json.loads(path.read_text())["rows"] if r["size"] == size]
    if not rows:
        raise ValueError(f"no benchmark rows of size {size!r} in {path}")
    out = pd.DataFrame([{
        "metric": r["metric"], "N": r["N"], "D": r["D"], "C": r["C"],
        "tecore_s": r["tecore"]["seconds"] if r["tecore"].get("status") == "ok" else float("nan"),
        "official_s": (r.get("official") or {}).get("seconds", float("nan"))
        if (r.get("official") or {}).get("status") == "ok" else float("nan"),
    } for r in rows]).set_index("metric")
    if metrics is not None:
        out = out.reindex(list(metrics))
    return out
