"""End to end: a zoo, some targets, every metric, a ground truth, and the rank statistics.

:func:`run` is what the offline benchmark chapter (``notebooks/offline.py``) and a user's
papermill run on their own dataset call: for each target it loads a per-class subsample,
extracts features (cached) with every model, scores them with the metrics through
:func:`tecore.pool.score_pool`, computes a ground truth (a linear probe on frozen features,
or a stored fine-tuning CSV), and correlates scores with the ground truth per (target,
metric) with bootstrap intervals (:func:`tecore.evaluate.rank_table`); over targets it runs the Friedman test.

Splits: each target's first split is subsampled to ``per_class + test_per_class`` images per
class (fixed seed) and divided per class into the images the metrics see (``per_class``)
and the held-out images of the linear-probe ground truth (``test_per_class``):
``tecore.data.load_train_test(..., one_split=True)``, which raises when a class has fewer
images. The targets flow one way: experiment -> data -> extract. This keeps
datasets without an official test split (digits, a user's folder) on the same footing.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["ExperimentResult", "run", "resolve_models", "resolve_metrics", "resolve_targets", "load_target",
           "split_per_class"]


@dataclass
class ExperimentResult:
    """What :func:`run` returns.

    scores: tidy ``target, model, metric, score, seconds, note``.
    truth: tidy ``target, model, truth`` (accuracy in [0, 1]).
    correlations: :func:`tecore.evaluate.rank_table` by (target, metric): ``target, metric,
        n_models``, every statistic, and ``ci_low, ci_high`` (bootstrap interval of weighted tau).
    friedman: :class:`tecore.evaluate.FriedmanResult` over targets (metrics with a weighted
        tau on every target), or ``None`` with fewer than 2 targets / 3 metrics.
    timing: per metric, total and mean seconds per model.
    extraction: per (target, model), images and seconds of feature extraction.
    """

    scores: pd.DataFrame
    truth: pd.DataFrame
    correlations: pd.DataFrame
    friedman: Any
    timing: pd.DataFrame
    extraction: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def tau_table(self, stat: str = "weighted_tau") -> pd.DataFrame:
        """metric x target table of one correlation."""
        return self.correlations.pivot(index="metric", columns="target", values=stat)


def resolve_models(models) -> list[str]:
    """A zoo name, a model name or a list of model names -> list of model names (validated)."""
    from tecore import zoo

    if isinstance(models, str):
        if models in zoo.list_zoos():
            return zoo.collection(models)
        models = [models]
    out = list(models)
    for m in out:
        zoo.get_spec(m)  # ValueError listing the valid names
    if not out:
        raise ValueError("choose at least one model")
    return out


def resolve_metrics(metrics) -> list[str]:
    """``"all"`` (every registered metric for class labels, i.e. without the regression /
    multi-label ones) or a list of names (composed names allowed)."""
    from tecore import metrics as registry

    if isinstance(metrics, str):
        metrics = ([n for n in registry.names() if registry.get(n).targets == "classes"]
                   if metrics == "all" else [metrics])
    return [registry.get(m).name for m in metrics]


def split_per_class(labels, n_first: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the first ``n_first`` samples of every class, and of the rest."""
    labels = np.asarray(labels)
    first = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        first[np.flatnonzero(labels == c)[:n_first]] = True
    return np.flatnonzero(first), np.flatnonzero(~first)


def resolve_targets(targets) -> tuple[list[str], dict | None]:
    """``targets`` of :func:`run` -> ``(names, given)``: the target names, and the mapping
    name -> ``(train, test)`` when the targets came already split (else ``None``). Unknown
    dataset names fail here, before any model is built (paths: when loaded)."""
    from tecore import data

    given = None
    if isinstance(targets, Mapping):  # name -> (train, test) datasets, already split
        given = {str(k): tuple(v) for k, v in targets.items()}
        if any(len(v) != 2 for v in given.values()):
            raise ValueError("targets given as a mapping need name -> (train, test) datasets")
        targets = list(given)
    if isinstance(targets, str):
        targets = [targets]
    targets = list(targets)
    if not targets:
        raise ValueError("choose at least one target dataset")
    for t in targets if given is None else ():
        if not data.is_path(t):
            data.get_spec(t)
    return targets, given


def load_target(target: str, given: Mapping | None, *, per_class: int, test_per_class: int, seed: int,
                data_dir=None):
    """``(train, test)`` of one target of :func:`resolve_targets`: the given split, or the
    per-class subsample of the named data set."""
    from tecore import data

    if given is not None:
        return given[target]
    return data.load_train_test(target, per_class, test_per_class, seed=seed, root=data_dir, one_split=True)


def _score_target(target: str, pool_inputs: Mapping, test_inputs: Mapping | None, *, metric_names, hyper,
                  blas_threads, seed, progress) -> tuple[pd.DataFrame, list[dict]]:
    """One target of :func:`run`: the linear probe of every model (when ``test_inputs`` is
    given) and every metric, in this process or in a worker (the same values either way)."""
    from threadpoolctl import threadpool_limits

    from tecore import finetune, pool

    rows = []
    for m, f in pool_inputs.items() if test_inputs is not None else ():
        ft = test_inputs[m]
        res = finetune.linear_probe(f.features, f.labels, ft.features, ft.labels, seed=seed)
        rows.append({"target": target, "model": m, "truth": res["score"]})
    with warnings.catch_warnings(), threadpool_limits(limits=blas_threads, user_api="blas"):
        warnings.simplefilter("ignore", UserWarning)
        sc = pool.score_pool(pool_inputs, metric_names, errors="nan", hyper=hyper, progress=progress)
    sc.attrs = {}  # per-model terms of pool-level metrics stay per target
    sc.insert(0, "target", target)
    return sc, rows


def run(
    models="offline",
    targets: Sequence[str] = ("breastmnist", "retinamnist", "fashion-mnist", "digits"),
    metrics="all",
    *,
    per_class: int = 40,
    test_per_class: int = 20,
    seed: int = 0,
    image_size: int | None = 112,
    device: str | None = None,
    cache_dir=None,
    data_dir=None,
    grad_probe: bool = True,
    ground_truth: str | pd.DataFrame = "linear_probe",
    hyper: Mapping[str, Mapping] | None = None,
    n_boot: int = 1000,
    progress: bool = False,
    blas_threads: int | None = None,
    n_jobs: int = 1,
) -> ExperimentResult:
    """Rank ``models`` on ``targets`` with ``metrics``; see the module docstring.

    Parameters
    ----------
    models : a zoo name (``"offline"``), a model name or a list of names (:mod:`tecore.zoo`).
    targets : dataset names (:func:`tecore.data.list_datasets`) or paths to an ImageFolder
        directory / ``.npz`` file; or a mapping name -> ``(train, test)`` datasets already
        split (``per_class``/``test_per_class`` are then not used), e.g.
        :func:`tecore.benchmark.target_splits`.
    metrics : ``"all"`` or a list of registered names (``"ped+logme"`` etc.).
    per_class, test_per_class : images per class the metrics see, and held out for the
        linear-probe ground truth.
    image_size : input side the models see (``None``: each model's own, e.g. 224). Lower is
        faster on a CPU; small images (MedMNIST 28 px, digits 8 px) gain nothing from 224.
    grad_probe : compute S_FU (needed by ``lp_fu``).
    ground_truth : ``"linear_probe"`` or a DataFrame with columns ``target, model, truth``
        (e.g. from :func:`tecore.finetune.ground_truth` of a stored fine-tuning grid).
    hyper : per-metric hyper-parameters passed to :func:`tecore.pool.score_pool`.
    blas_threads : BLAS threads while the metrics are scored (``None``: as the process has
        them). On a 2-core machine most metrics at a few thousand samples are faster on one
        (the offline benchmark's pool: 20 % less time, values equal to ~1e-8 relative), and
        the scores no longer depend on the machine's thread count. Torch threads (extraction,
        ITM's ``n_threads``) are not touched.
    n_jobs : processes that score the targets (the linear probe and every metric of one
        target in one process), once every target's features are extracted (extraction
        already uses every core: overlapping the two was slower on 2 cores). ``1``: all in
        this process. A worker runs its BLAS on ``blas_threads`` threads (``None``: one), so
        the values equal those of ``n_jobs=1`` with the same ``blas_threads``; set a metric's
        own torch threads (ITM's ``n_threads``) so that ``n_jobs`` x threads fits the cores.
    """

    from tecore import evaluate, extract
    from tecore.metrics._checks import check_positive_int

    model_names = resolve_models(models)
    metric_names = resolve_metrics(metrics)
    if blas_threads is not None:
        blas_threads = check_positive_int(blas_threads, "blas_threads")
    n_jobs = check_positive_int(n_jobs, "n_jobs")
    targets, given = resolve_targets(targets)
    from tecore._device import resolve_device

    device = str(resolve_device(device))

    score_parts, truth_rows, extraction_rows = [], [], []
    from tecore import zoo

    if isinstance(ground_truth, str) and ground_truth != "linear_probe":
        raise ValueError(f"ground_truth must be 'linear_probe' or a DataFrame, got {ground_truth!r}")
    probe = isinstance(ground_truth, str)
    job_kw = dict(metric_names=metric_names, hyper={k: v for k, v in dict(hyper or {}).items() if k in metric_names},
                  blas_threads=blas_threads if n_jobs == 1 or blas_threads is not None else 1, seed=seed,
                  progress=progress)
    executor = None
    if n_jobs > 1:  # loky's own pool (not the reusable one that joblib.Parallel shares), closed below
        from joblib.externals.loky import ProcessPoolExecutor

        executor = ProcessPoolExecutor(max_workers=n_jobs)
    jobs = []
    created = {m: zoo.create(m, device=device, image_size=image_size) for m in model_names}
    try:
        for target in targets:
            train, test = load_target(target, given, per_class=per_class, test_per_class=test_per_class, seed=seed,
                                      data_dir=data_dir)
            pool_inputs, test_inputs = {}, {}
            for m in model_names:
                t0 = time.perf_counter()
                try:
                    f = extract.extract(created[m], train, grad_probe=grad_probe, device=device,
                                        cache_dir=cache_dir, progress=progress)
                except ValueError as exc:  # S_FU undefined (e.g. no violated triplet): NaN for lp_fu
                    if not grad_probe:
                        raise
                    warnings.warn(f"gradient probe of {m} on {target} failed ({exc}); lp_fu is NaN there")
                    f = extract.extract(created[m], train, device=device, cache_dir=cache_dir, progress=progress)
                ft = extract.extract(created[m], test, device=device, cache_dir=cache_dir, progress=progress)
                extraction_rows.append({"target": target, "model": m, "images": len(train) + len(test),
                                        "seconds": time.perf_counter() - t0})
                pool_inputs[m] = f
                test_inputs[m] = ft
            args = (target, pool_inputs, test_inputs if probe else None)
            jobs.append(args if executor else _score_target(*args, **job_kw))
        if executor is not None:  # every target extracted first: extraction already uses every core
            jobs = [executor.submit(_score_target, *args, **job_kw) for args in jobs]
        for job in jobs:  # in the order of the targets
            sc, rows = job.result() if executor else job
            score_parts.append(sc)
            truth_rows.extend(rows)
    finally:
        if executor is not None:
            executor.shutdown(wait=True, kill_workers=True)
    scores = pd.concat(score_parts, ignore_index=True)
    if isinstance(ground_truth, pd.DataFrame):
        need = {"target", "model", "truth"}
        if not need <= set(ground_truth.columns):
            raise ValueError(f"a ground-truth table needs columns {sorted(need)}, got {list(ground_truth.columns)}")
        truth = ground_truth[list(need)][ground_truth["target"].isin(targets) & ground_truth["model"].isin(model_names)]
    else:
        truth = pd.DataFrame(truth_rows)
    truth = truth[["target", "model", "truth"]].reset_index(drop=True)

    corr = evaluate.rank_table(scores, truth, by=["target", "metric"], bootstrap=n_boot, seed=seed)
    fr = None
    table = corr.pivot(index="target", columns="metric", values="weighted_tau").dropna(axis=1)
    if table.shape[0] >= 2 and table.shape[1] >= 3:
        fr = evaluate.friedman(table)
    timing = (scores.groupby("metric")["seconds"].agg(total_s="sum", mean_s_per_model="mean")
              .sort_values("total_s", ascending=False).reset_index())
    return ExperimentResult(scores, truth, corr, fr, timing, pd.DataFrame(extraction_rows),
                            settings={"models": model_names, "targets": targets, "metrics": metric_names,
                                      "per_class": per_class, "test_per_class": test_per_class,
                                      "seed": seed, "image_size": image_size, "device": device})
