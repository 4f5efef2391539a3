"""Pándy et al. (GBC, CVPR 2022) and Agostinelli et al. (ECCV 2022): the google-research
``stable_transfer`` results table in tecore's table vocabulary."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["tidy_stable_transfer"]


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
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"not the stable_transfer results table: columns {missing} are missing")
    out = table.rename(columns=cols)[list(cols.values())].copy()
    out["backbone"] = np.where(out["backbone"].astype(str).str.lower() == "true",
                               "finetuned", "frozen")
    return out.reset_index(drop=True)
