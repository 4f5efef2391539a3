"""The paper companion: what the papers published and printed, reshaped for the chapters.

* :mod:`~tecore.papers.published` — registry of the authors' published files (scores,
  fine-tuned ground truth), fetched from a mirror or downloaded and hash-verified;
* :mod:`~tecore.papers.printed` — tables typed in from the papers with their citations
  (the numbers live in :mod:`~tecore.papers.printed_tables`), and printed-vs-recomputed
  comparisons;
* per-paper reshaping into tecore's table vocabulary (scores ``target, model, metric,
  score``; ground truth ``target, model, truth``): :mod:`~tecore.papers.medical`
  (Juodelyte et al.), :mod:`~tecore.papers.gbc` (stable_transfer), :mod:`~tecore.papers.leep`
  (random class-subset tasks), :mod:`~tecore.papers.itm` (ITM's ablation grid on real
  features, seed spread, tie rate);
* :mod:`~tecore.papers.plots` — the chapters' figures;
* :func:`check_choices` — a notebook parameter checked against its valid values.

Rank statistics are computed by :func:`tecore.evaluate.rank_table`, never here.
"""
from __future__ import annotations

import importlib

from tecore.papers._chapters import check_choices

__all__ = ["published", "printed", "printed_tables", "medical", "gbc", "leep", "itm", "plots", "inventory",
           "display", "check_choices"]
_SUBMODULES = set(__all__) - {"check_choices"}


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"tecore.papers.{name}")
    raise AttributeError(f"module 'tecore.papers' has no attribute {name!r}")
