"""tecore — transferability estimation, reproducibly.

The public API, importable from ``tecore`` directly. Sub-modules load lazily (PEP 562),
so ``import tecore`` imports neither torch nor scikit-learn.

Pipeline: ``data`` (datasets) -> ``zoo`` (pretrained models) -> ``extract`` (features,
logits, gradient probe; cached) -> ``metrics`` (one score per model) -> ``evaluate``
(rank correlations, tests, intervals; ``rank_table`` from tables) -> notebooks -> book;
``papers`` (published and printed numbers, per-paper reshaping, plots) beside it.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    # metrics (one module per family) and the registry
    "leep": "tecore.metrics.leep",
    "nce": "tecore.metrics.leep",
    "nleep": "tecore.metrics.nleep",
    "logme": "tecore.metrics.logme",
    "hscore": "tecore.metrics.hscore",
    "shrinkage_hscore": "tecore.metrics.hscore",
    "transrate": "tecore.metrics.transrate",
    "gbc": "tecore.metrics.gbc",
    "parc": "tecore.metrics.parc",
    "sfda": "tecore.metrics.sfda",
    "ncti_terms": "tecore.metrics.ncti",
    "etran_terms": "tecore.metrics.etran",
    "ped": "tecore.metrics.ped",
    "itm": "tecore.metrics.itm",
    "lp": "tecore.metrics.nca",
    "lp_fu_terms": "tecore.metrics.nca",
    "logme_regression": "tecore.metrics.logme",
    "logme_multilabel": "tecore.metrics.logme",
    "knn": "tecore.metrics.baselines",
    "imagenet_top1": "tecore.metrics.baselines",
    "pactran_dirichlet": "tecore.metrics.pactran",
    "pactran_gamma": "tecore.metrics.pactran",
    "pactran_gaussian": "tecore.metrics.pactran",
    "pactran_dirichlet_gmm": "tecore.metrics.pactran",
    "pactran_gamma_gmm": "tecore.metrics.pactran",
    # evaluation
    "weighted_tau": "tecore.evaluate",
    "weighted_tau_itm": "tecore.evaluate",
    "kendall_tau": "tecore.evaluate",
    "spearman_rho": "tecore.evaluate",
    "pearson_r": "tecore.evaluate",
    "top_k_hit": "tecore.evaluate",
    "relative_top1": "tecore.evaluate",
    "correlations": "tecore.evaluate",
    "bootstrap_tau": "tecore.evaluate",
    "friedman": "tecore.evaluate",
    "rank_table": "tecore.evaluate",
    # pools
    "score_pool": "tecore.pool",
    "minmax": "tecore.pool",
}
_SUBMODULES = {
    "metrics", "evaluate", "pool", "zoo", "data", "extract", "cache", "finetune",
    "papers",
    "params",
}

__all__ = sorted(set(_LAZY) | _SUBMODULES | {"get_metric", "list_metrics", "__version__"})


def get_metric(name: str):
    """The :class:`tecore.metrics.MetricSpec` registered as ``name`` (e.g. ``"ped+logme"``)."""
    from tecore import metrics

    return metrics.get(name)


def list_metrics(*, include_composed: bool = False) -> list[str]:
    """Names of all registered metrics."""
    from tecore import metrics

    return metrics.names(include_composed=include_composed)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"tecore.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tecore' has no attribute {name!r}")


def __dir__():
    return __all__
