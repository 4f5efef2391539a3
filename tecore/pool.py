"""Score a pool of models with many metrics, and judge the metrics against the truth.

A *pool* maps a model name to what was extracted from that model on one target dataset:

* a mapping with some of the keys ``"features"`` (N, D), ``"probs"`` (N, K source-class
  probabilities), ``"logits"`` (N, K; turned into ``probs`` by a softmax when ``probs`` is
  absent), ``"labels"`` (N,), ``"grad_ratio"`` (float), or
* an object with those attributes, e.g. :class:`tecore.extract.Features` (its ``probs``
  property is used; a headless model simply has no ``probs``).

:func:`score_pool` computes every requested metric for every model and returns a tidy
DataFrame (one row per model x metric). Pool-level metrics (NCTI, ETran, LP x FU) are
computed in two steps, as the registry describes: the per-model terms, then the metric's
``combine`` over the models of the pool. :func:`tecore.evaluate.rank_table` turns the
scores into rank correlations with the ground truth, one row per metric.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> pool = {m: {"features": rng.normal(size=(60, 5)) + i, "labels": np.repeat([0, 1, 2], 20)}
...         for i, m in enumerate(["a", "b", "c"])}
>>> df = score_pool(pool, ["sfda"], progress=False)  # doctest: +SKIP
>>> list(df.columns)  # doctest: +SKIP
['model', 'metric', 'score', 'seconds', 'note']
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from tecore._numeric import softmax
from tecore.metrics._pool_minmax import minmax  # noqa: F401 (public: tecore.minmax)

__all__ = ["score_pool", "minmax", "model_inputs", "INPUT_KEYS"]

#: the inputs a metric may take (see :class:`tecore.metrics.MetricSpec`)
INPUT_KEYS = ("features", "probs", "labels", "grad_ratio")
COLUMNS = ["model", "metric", "score", "seconds", "note"]


# --------------------------------------------------------------------------------------
# inputs of one model
# --------------------------------------------------------------------------------------
def model_inputs(entry: Any, *, labels=None) -> dict[str, Any]:
    """The metric inputs available for one pool entry, as a dict (missing ones absent).

    ``entry`` is a mapping or an object with attributes (``Features``). ``probs`` falls back
    to ``softmax(logits)``; ``labels`` falls back to the pool-wide ``labels`` argument
    (an entry's own labels take precedence — they are aligned with its rows).
    """
    out: dict[str, Any] = {}
    keys = INPUT_KEYS + ("logits",)
    if isinstance(entry, Mapping):
        unknown = [k for k in entry if k not in keys and k != "meta"]
        if unknown:
            raise ValueError(f"unknown input key(s) {unknown}; a pool entry may hold "
                             f"{', '.join(keys)}.")
        got = {k: entry[k] for k in keys if k in entry and entry[k] is not None}
    elif isinstance(entry, np.ndarray):
        got = {"features": entry}
    else:
        got = {}
        for k in keys:
            try:
                v = getattr(entry, k, None)
            except ValueError:  # Features.probs of a headless model
                v = None
            if v is not None:
                got[k] = v
        if not got:
            raise ValueError(f"a pool entry must be a mapping or have attributes among {keys}; "
                             f"got {type(entry).__name__}.")
    out.update({k: v for k, v in got.items() if k in INPUT_KEYS})
    if "probs" not in out and "logits" in got:
        out["probs"] = softmax(got["logits"])
    if "labels" not in out and labels is not None:
        out["labels"] = labels
    return out


# --------------------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------------------
def _model_name(entry: Any, key: str) -> str:
    """The model's name for metrics that look it up (``imagenet_top1``): ``meta["model"]`` of
    an entry (``Features.meta`` or a mapping's ``"meta"``) when present, else the pool key."""
    meta = entry.get("meta") if isinstance(entry, Mapping) else getattr(entry, "meta", None)
    name = meta.get("model") if isinstance(meta, Mapping) else None
    return name if isinstance(name, str) and name else str(key)


def _hyper_for(spec, hyper: Mapping) -> tuple[dict, dict]:
    h = dict(hyper.get(spec.name, {}) or {})
    combine_kwargs = dict(h.pop("combine_kwargs", {}) or {})
    return h, combine_kwargs


def _fail(exc: BaseException, model, metric) -> Exception:
    msg = f"metric {metric!r} failed on model {model!r}: {type(exc).__name__}: {exc}"
    return ValueError(msg) if isinstance(exc, ValueError) else RuntimeError(msg)


def score_pool(pool: Mapping[str, Any], metrics, *, labels=None, hyper: Mapping | None = None,
               errors: str = "raise", progress: bool = True, **hyper_per_metric) -> pd.DataFrame:
    """Compute metrics for every model of a pool.

    Parameters
    ----------
    pool : mapping model name -> inputs (see the module docstring).
    metrics : a registered name or a list of names (:func:`tecore.metrics.names`; composed
        names such as ``"ped+logme"`` work too). A :class:`tecore.metrics.MetricSpec`
        instance is accepted as well (a custom metric that is not registered).
    labels : target labels shared by all models (used where an entry has no ``labels``).
    hyper, **hyper_per_metric : per-metric hyper-parameters, ``logme={"max_iter": 20}`` or
        ``hyper={"ped+logme": {...}}`` for names that are not identifiers. For a pool-level
        metric a ``"combine_kwargs"`` entry is passed to its combiner
        (e.g. ``etran={"combine_kwargs": {"weights": {...}}}``).
    errors : ``"raise"`` (default): the first metric that fails stops everything with an
        error naming the model and the metric (``ValueError`` when the metric raised one,
        else ``RuntimeError``). ``"nan"``: record NaN and the error in ``note``, go on.
    progress : show a tqdm bar over (model, metric) pairs.

    Missing inputs
        A model that lacks an input the metric needs (e.g. ``probs`` for LEEP on a headless
        model) is **not** an error: its score is NaN, ``note`` says what is missing, and one
        ``UserWarning`` lists all such (model, metric) pairs. The same holds for a metric
        that raises :class:`tecore.metrics.MetricUnavailable` (``imagenet_top1`` of a model
        without a published top-1): NaN, ``note`` = ``"unavailable: <reason>"``.

    Targets
        ``labels`` are passed to the metrics as given: class labels (N,) for the
        classification metrics, continuous (N,) / (N, K) or multi-label 0/1 (N, K) targets
        for ``logme_regression`` / ``logme_multilabel``. A classification-only metric given
        such targets raises a ``ValueError`` saying so (with ``errors="nan"``: NaN + note).
        ``imagenet_top1`` gets the model's name (``meta["model"]``, else the pool key).

    Returns
    -------
    DataFrame with columns ``model``, ``metric``, ``score`` (float, higher = better),
    ``seconds`` (wall clock of that model's metric call; for a pool-level metric, the
    per-model terms plus an equal share of the combination; work that one metric contains
    and another already did on the same model, such as the S_LP inside ``lp_fu``'s terms
    after ``lp``, is done once and counted under the first: :mod:`tecore.metrics._shared`)
    and ``note`` (``""`` when all went well). The per-model terms of pool-level metrics are kept in
    ``df.attrs["terms"][metric]`` (DataFrame model x term).
    """
    from tecore import metrics as registry

    if errors not in ("raise", "nan"):
        raise ValueError(f"errors must be 'raise' or 'nan', got {errors!r}.")
    if not isinstance(pool, Mapping) or len(pool) == 0:
        raise ValueError("pool must be a non-empty mapping {model name: inputs}.")
    if isinstance(metrics, str):
        metrics = [metrics]
    metrics = list(metrics)
    if not metrics:
        raise ValueError("no metrics given; see tecore.metrics.names().")
    # unknown names fail here, before any work; MetricSpec instances (custom metrics) pass as-is
    specs = [m if isinstance(m, registry.MetricSpec) else registry.get(m) for m in metrics]
    hyper_all = {**{k.lower(): v for k, v in (hyper or {}).items()},
                 **{k.lower(): v for k, v in hyper_per_metric.items()}}
    unknown = [k for k in hyper_all if k not in {s.name for s in specs}]
    if unknown:
        raise ValueError(f"hyper-parameters given for {unknown}, which are not among the metrics "
                         f"requested ({[s.name for s in specs]}).")
    inputs = {m: {**model_inputs(e, labels=labels), "model": _model_name(e, m)} for m, e in pool.items()}

    rows: list[dict] = []
    missing: list[str] = []
    terms_out: dict[str, pd.DataFrame] = {}
    total = len(specs) * len(pool)
    from tecore._progress import progress_bar

    bar = progress_bar(total=total, disable=not progress, desc="score_pool", unit="score")
    from tecore.metrics._shared import sharing

    try:
        with sharing():  # one NCA fit / mixture per model for every metric that contains it
            for spec in specs:
                kw, combine_kwargs = _hyper_for(spec, hyper_all)
                fn = spec.function
                per_model: dict[str, Any] = {}
                spec_rows: dict[str, dict] = {}
                for model, avail in inputs.items():
                    bar.set_postfix_str(f"{spec.name} / {model}", refresh=False)
                    lack = [k for k in spec.inputs if k not in avail]
                    row = {"model": model, "metric": spec.name, "score": np.nan, "seconds": np.nan, "note": ""}
                    spec_rows[model] = row
                    if lack:
                        row["note"] = f"missing input(s): {', '.join(lack)}"
                        missing.append(f"{model}/{spec.name} ({', '.join(lack)})")
                        bar.update(1)
                        continue
                    t0 = time.perf_counter()
                    try:
                        val = fn(*(avail[k] for k in spec.inputs), **kw)
                    except registry.MetricUnavailable as exc:  # e.g. no published ImageNet top-1
                        row["note"] = f"unavailable: {exc}"
                        missing.append(f"{model}/{spec.name} (unavailable)")
                        bar.update(1)
                        continue
                    except Exception as exc:  # noqa: BLE001 - reported with model and metric
                        if errors == "raise":
                            raise _fail(exc, model, spec.name) from exc
                        row["note"] = f"error: {type(exc).__name__}: {exc}"
                        bar.update(1)
                        continue
                    row["seconds"] = time.perf_counter() - t0
                    if spec.pool_level:
                        if not isinstance(val, Mapping):
                            err = RuntimeError(f"pool-level metric returned {type(val).__name__}, "
                                               "expected a dict of terms")
                            if errors == "raise":
                                raise _fail(err, model, spec.name)
                            row["note"] = f"error: {err}"
                        else:
                            per_model[model] = dict(val)
                    else:
                        row["score"] = float(val)
                    bar.update(1)
                if spec.pool_level and per_model:
                    terms = pd.DataFrame.from_dict(per_model, orient="index")
                    terms_out[spec.name] = terms
                    t0 = time.perf_counter()
                    try:
                        combined = spec.combiner(terms, **combine_kwargs)
                    except Exception as exc:  # noqa: BLE001
                        if errors == "raise":
                            raise _fail(exc, list(per_model), spec.name) from exc
                        for m in per_model:
                            spec_rows[m]["note"] = f"error in combine: {type(exc).__name__}: {exc}"
                    else:
                        share = (time.perf_counter() - t0) / len(per_model)
                        combined = pd.Series(combined)
                        for m in per_model:
                            spec_rows[m]["score"] = float(combined.get(m, np.nan))
                            spec_rows[m]["seconds"] += share
                rows.extend(spec_rows.values())
    finally:
        bar.close()
    if missing:
        warnings.warn(f"{len(missing)} score(s) left NaN for missing inputs: {', '.join(missing[:8])}"
                      f"{' …' if len(missing) > 8 else ''}", UserWarning, stacklevel=2)
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["score"] = df["score"].astype(float)
    df["seconds"] = df["seconds"].astype(float)
    df.attrs["terms"] = terms_out
    return df
