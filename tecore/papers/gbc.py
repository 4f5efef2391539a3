"""Pándy et al. (GBC, CVPR 2022) and Agostinelli et al. (ECCV 2022): the google-research
``stable_transfer`` results table in tecore's table vocabulary."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["tidy_stable_transfer", "tidy_segmentation", "segmentation_selection"]


def _renamed(table: pd.DataFrame, cols: dict, what: str) -> pd.DataFrame:
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"not the stable_transfer {what}: columns {missing} are missing")
    return table.rename(columns=cols)[list(cols.values())].copy()


def tidy_stable_transfer(table: pd.DataFrame) -> pd.DataFrame:
    """The stable_transfer results table (Agostinelli et al., ECCV 2022; google-research
    ``stable_transfer/transferability/results_analysis/source_model_architectures_table.csv``)
    in tecore's table vocabulary.

    Returns columns ``target, model, metric, score, truth, backbone`` where ``truth`` is the
    test accuracy in [0, 1] and ``backbone`` is ``"finetuned"`` (``Trainable Backbone``
    True: the whole network is trained on the target) or ``"frozen"`` (only the new head is
    trained). A table already in this form is returned as a copy.
    """
    cols = {"Target Dataset": "target", "Source Architecture": "model",
            "Transferability Metric": "metric", "Transferability Metric Score": "score",
            "Test Accuracy": "truth", "Trainable Backbone": "backbone"}
    if set(cols.values()) <= set(table.columns):
        return table.copy()
    out = _renamed(table, cols, "results table")
    out["backbone"] = np.where(out["backbone"].astype(str).str.lower() == "true",
                               "finetuned", "frozen")
    return out.reset_index(drop=True)


def tidy_segmentation(table: pd.DataFrame) -> pd.DataFrame:
    """The stable_transfer semantic-segmentation source-selection table (google-research
    ``stable_transfer/transferability/results_analysis/source_datasets_table.csv``: 5
    metrics x 17 targets x 16 source datasets) in tecore's table vocabulary.

    Returns columns ``target, source, metric, score, truth`` (``truth``: test mean IoU on the
    target after fine-tuning from the source, in [0, 1]).
    """
    cols = {"Target Dataset": "target", "Source Dataset": "source", "Transferability Metric": "metric",
            "Transferability Metric Score": "score", "Test Mean IoU": "truth"}
    if set(cols.values()) <= set(table.columns):
        return table.copy()
    return _renamed(table, cols, "segmentation table").reset_index(drop=True)


def segmentation_selection(table: pd.DataFrame, *, tau: str = "weighted_tau") -> pd.DataFrame:
    """GBC Table 3's two scenarios from a segmentation source-selection table.

    *fixed target* ranks the sources of each target by score against their mean IoU; *fixed
    source* ranks the targets of each source. Per scenario and metric: ``top1`` (the share
    of groups whose top-scored item has the highest mean IoU; a tie in score counts by
    :func:`tecore.evaluate.top_k_hit`) and ``tau_w`` (the mean over the groups of ``tau``,
    :func:`tecore.evaluate.rank_table`). Returns a table indexed by ``(scenario, measure)``
    with one column per metric, as :func:`tecore.papers.printed.load("gbc_table3")`.
    """
    from tecore import evaluate

    t = tidy_segmentation(table)
    parts = {}
    for scenario, group, item in (("fixed_target", "target", "source"), ("fixed_source", "source", "target")):
        rows = t.rename(columns={item: "model", group: "group"})
        stats = evaluate.rank_table(rows, None, by=["metric", "group"], stats=["top1_hit", tau],
                                    tie_digits=None)
        means = stats.groupby("metric")[["top1_hit", tau]].mean()
        parts[(scenario, "top1")] = means["top1_hit"]
        parts[(scenario, "tau_w")] = means[tau]
    out = pd.DataFrame(parts).T
    out.index.names = ["scenario", "measure"]
    out.columns.name = "method"
    return out
