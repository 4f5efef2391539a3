"""ITM (arXiv 2510.23145): its ablations (Table 2, Figs. 4-5), seed spread and tie rate on
pools of real features, reshaped for the ITM chapter (``notebooks/itm.py``).

A *pool* is ``{target: {model: (features, labels)}}``. :func:`run_grid` trains ITM once per
(setting, seed, target, model) and keeps the validation history, so the iterations
100/200/500/1000 of Table 2 come from one run of 1000 iterations; :func:`run_grids` runs the
requests of a whole chapter (Table 2, Figs. 4-5, the seed study) as one grid in which no run
is trained twice (their common cell is ITM's default). :func:`tau_grid` turns the
scores into ITM's eq. 1 weighted tau against a ground truth (through
:func:`tecore.evaluate.rank_table`), per setting and iteration, averaged over targets as in the
paper's tables.
"""
from __future__ import annotations

from itertools import combinations
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["load_pool", "reduce_pool", "run_grid", "run_grids", "tau_grid", "side_by_side", "tie_rate", "seed_spread", "TABLE2_SETTINGS",
           "table2_layout", "table2_claims"]


def load_pool(models, targets, *, per_class: int = 30, test_per_class: int = 20, image_size: int | None = 96,
              seed: int = 0, device: str = "cpu", data_dir=None, cache_dir=None) -> dict:
    """``{target: {model: (features, labels)}}`` of the images the metrics see, with the same
    subsample and split as :func:`tecore.experiment.run` (so its feature cache is reused).

    ``targets`` as in :func:`tecore.experiment.run` (:func:`tecore.experiment.resolve_targets`):
    dataset names or paths (subsampled with ``per_class``/``test_per_class``), or a mapping
    name -> ``(train, test)`` datasets already split, e.g. from
    :func:`tecore.benchmark.target_splits` (ITM sees the training split).
    """
    from tecore import experiment, extract, zoo

    names = experiment.resolve_models(models)
    targets, given = experiment.resolve_targets(targets)
    created = {m: zoo.create(m, device=device, image_size=image_size) for m in names}
    pool = {}
    for target in targets:
        train, _ = experiment.load_target(target, given, per_class=per_class, test_per_class=test_per_class,
                                          seed=seed, data_dir=data_dir)
        pool[target] = {}
        for m in names:
            f = extract.extract(created[m], train, device=device, cache_dir=cache_dir, progress=False)
            pool[target][m] = (f.features, f.labels)
    return pool


def reduce_pool(pool: Mapping, n_components: int = 64) -> dict:
    """Project every model's features onto their leading ``n_components`` principal axes
    (centred, not scaled: ITM's standardisation ablation still sees unequal variances).

    A CPU budget device of the chapter: ITM's module is a D x D map, so its cost grows like
    D^2; 64 components make 1000 iterations take about a second. Deterministic (full SVD,
    one BLAS thread, signs fixed by scikit-learn's ``svd_flip``).
    """
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits

    out = {}
    with threadpool_limits(1):
        for target, models in pool.items():
            out[target] = {}
            for m, (X, y) in models.items():
                X = np.asarray(X, dtype=np.float64)
                k = min(int(n_components), X.shape[0] - 1, X.shape[1])
                out[target][m] = (PCA(k, svd_solver="full").fit_transform(X), np.asarray(y))
    return out


def _one_run(X, y, label, seed, target, model, args) -> list[dict]:
    from tecore.metrics.itm import itm

    _, det = itm(X, y, random_state=int(seed), return_details=True, **args)
    return [{"setting": label, "seed": int(seed), "target": target, "model": model, **h, "eta": det["eta"],
             "n_train": det["n_train"], "n_val": det["n_val"]} for h in det["history"]]


def run_grid(pool: Mapping, settings: Mapping[str, Mapping], *, seeds: Sequence[int] = (0,),
             n_iter: int = 500, eval_every: int = 100, n_jobs: int = 1, **common) -> pd.DataFrame:
    """ITM for every (setting, seed, target, model); one row per evaluation.

    ``settings`` maps a label to keyword arguments of :func:`tecore.metrics.itm.itm` (they
    override ``common``). ``n_jobs`` > 1 runs the calls in that many processes (joblib);
    each call is single-threaded and deterministic, so the table does not depend on it.
    Returns ``setting, seed, target, model, iteration, accuracy, log_likelihood, eta, n_train,
    n_val`` (the sizes of ITM's training and validation split).
    """
    return _train(pool, [(label, seed, {"eval_every": eval_every, **common, **dict(kw), "n_iter": n_iter})
                         for label, kw in settings.items() for seed in seeds], n_jobs)


def _train(pool: Mapping, cells, n_jobs: int) -> pd.DataFrame:
    """ITM for every (label, seed, arguments) cell and every (target, model) of ``pool``."""
    jobs = [(X, y, label, seed, target, m, args) for label, seed, args in cells
            for target, models in pool.items() for m, (X, y) in models.items()]
    if n_jobs == 1:
        parts = [_one_run(*j) for j in jobs]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(delayed(_one_run)(*j) for j in jobs)
    return pd.DataFrame([row for part in parts for row in part])


def _canonical(args: Mapping) -> tuple:
    """The ITM call ``args`` stands for, with every default filled in (``n_iter`` and the
    per-call ``random_state`` left out): two requests with the same key train the same module."""
    import inspect

    from tecore.metrics.itm import itm

    bound = inspect.signature(itm).bind_partial(None, None, **args)
    bound.apply_defaults()
    return tuple(sorted((k, repr(v)) for k, v in bound.arguments.items()
                        if k not in ("features", "labels", "n_iter", "random_state", "return_details")))


def run_grids(pool: Mapping, requests: Mapping[str, Mapping], *, eval_every: int = 100, n_jobs: int = 1,
              **common) -> dict[str, pd.DataFrame]:
    """Several :func:`run_grid` requests over one pool, each distinct ITM run trained once.

    ``requests`` maps a name to ``{"settings": {label: kwargs}, "seeds": [...], "n_iter": n}``.
    Two (setting, seed) cells whose ITM arguments coincide once the defaults are filled in
    (e.g. Table 2's full method, the one-hot centres of Fig. 5 and the batch of 256 of Fig. 4
    are all ITM's default) are one run: trained for the larger ``n_iter``, its validation
    history up to the smaller one is that of the shorter run (no schedule depends on
    ``n_iter``; the shorter one must then be a multiple of ``eval_every``, or it is trained on
    its own). Returns ``{name: frame}`` as :func:`run_grid` would (rows up to each request's
    ``n_iter``); ``.attrs["runs"]`` of each frame: ``requested`` and ``trained`` over all
    requests.
    """
    plan = {}  # (canonical args, seed, n_iter if unshareable) -> [n_iter, args]
    cells = []  # (name, label, seed, plan key, n_iter)
    for name, req in requests.items():
        unknown = set(req) - {"settings", "seeds", "n_iter"}
        if unknown or "settings" not in req:
            raise ValueError(f"request {name!r}: unknown key(s) {sorted(unknown)} or no 'settings'; a request is "
                             "{'settings': {label: kwargs}, 'seeds': [...], 'n_iter': n}")
        n = int(req.get("n_iter", 500))
        for label, kw in req["settings"].items():
            args = {**common, **dict(kw), "eval_every": eval_every}
            for seed in req.get("seeds", (0,)):
                key = (_canonical(args), int(seed), None if n % eval_every == 0 else n)
                got = plan.setdefault(key, [n, args])
                got[0] = max(got[0], n)
                cells.append((name, label, int(seed), key, n))
    keys = list(plan)
    frame = _train(pool, [(i, k[1], {**plan[k][1], "n_iter": plan[k][0]}) for i, k in enumerate(keys)], n_jobs)
    runs = {k: frame[frame["setting"] == i] for i, k in enumerate(keys)}
    out = {}
    for name in requests:
        parts = [runs[key][runs[key]["iteration"] <= n].assign(setting=label, seed=seed)
                 for nm, label, seed, key, n in cells if nm == name]
        out[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    for f in out.values():
        f.attrs["runs"] = {"requested": len(cells) * sum(len(m) for m in pool.values()),
                           "trained": len(keys) * sum(len(m) for m in pool.values())}
    return out


def tau_grid(runs: pd.DataFrame, truth: pd.DataFrame, *, score: str = "log_likelihood",
             by: Sequence[str] = ("setting", "iteration"), fn: str = "weighted_tau_itm") -> pd.DataFrame:
    """Rank correlation (default ITM's eq. 1 tau_w) of ``score`` with ``truth`` (columns
    ``target, model, truth``) per ``by`` + seed + target; then the mean over targets and
    seeds (``tau``), its seed standard deviation (``tau_seed_sd``: the spread of the
    target-averaged tau over seeds) and the number of targets."""
    from tecore import evaluate

    by = list(by)
    keys = list(dict.fromkeys(by + ["seed", "target"]))
    cols = list(dict.fromkeys(keys + ["model"]))
    if not set(truth["target"]) & set(runs["target"]) or not set(truth["model"]) & set(runs["model"]):
        raise ValueError("no (target, model) of the runs has a ground truth; check the names.")
    per = evaluate.rank_table(runs[cols].assign(score=runs[score].to_numpy()), truth[["target", "model", "truth"]],
                              by=keys, stats=fn).rename(columns={fn: "tau"})
    per_seed = per.groupby(list(dict.fromkeys(by + ["seed"])))["tau"].mean().rename("tau").reset_index()
    out = per_seed.groupby(by)["tau"].agg(tau="mean", tau_seed_sd="std").reset_index()
    out["n_targets"] = per.groupby(by)["target"].nunique().to_numpy()
    return out


def side_by_side(runs: pd.DataFrame, others: pd.DataFrame, truths: Mapping[str, pd.DataFrame], *,
                 score: str = "log_likelihood", label: str = "itm") -> pd.DataFrame:
    """ITM next to other metrics on the same pool: ITM's eq. 1 tau_w (:func:`tau_grid`) of
    every metric in ``others`` (``target, model, metric, score``) and of ITM's first
    ``score`` per (seed, target, model) of ``runs``, against each ground truth of ``truths``
    (name -> ``target, model, truth``). ITM (the row ``label``): the mean over seeds, with
    ``seed_min`` and ``seed_max``. Index ``truth, metric``."""
    if label in set(others["metric"]):
        raise ValueError(f"the runs' label {label!r} is also a metric of `others`; pass another label")
    itm_scores = runs.groupby(["seed", "target", "model"])[score].first().rename("score").reset_index()
    rows = []
    for k, v in truths.items():
        for metric, g in others.groupby("metric"):
            tau_t = tau_grid(g.assign(seed=0, setting=metric), v, score="score", by=["setting"])
            rows.append({"truth": k, "metric": metric, "tau": tau_t.tau.iloc[0]})
        per_seed = tau_grid(itm_scores.assign(setting=label), v, score="score", by=["setting", "seed"])
        rows.append({"truth": k, "metric": label, "tau": per_seed.tau.mean(),
                     "seed_min": per_seed.tau.min(), "seed_max": per_seed.tau.max()})
    return pd.DataFrame(rows).set_index(["truth", "metric"])


def tie_rate(runs: pd.DataFrame, *, score: str = "accuracy", by: Sequence[str] = ("setting", "iteration")) -> pd.DataFrame:
    """Share of model pairs of a target whose ``score`` is exactly equal, per ``by``
    (over seeds and targets)."""
    by = list(by)

    def pairs(g):
        v = g[score].to_numpy()
        ties = [a == b for a, b in combinations(v, 2)]
        return pd.Series({"tied": int(np.sum(ties)), "pairs": len(ties)})

    t = runs.groupby(by + ["seed", "target"]).apply(pairs, include_groups=False).reset_index()
    t = t.groupby(by)[["tied", "pairs"]].sum().reset_index()
    t["tie_rate"] = t["tied"] / t["pairs"]
    return t


def seed_spread(runs: pd.DataFrame, *, score: str = "log_likelihood",
                by: Sequence[str] = ("setting", "iteration")) -> pd.DataFrame:
    """Per model and target: the score's mean and standard deviation over seeds, and the
    smallest gap to another model's mean on the same target (``gap``): a spread above the
    gap means the seed decides the order of those two models."""
    by = list(by)
    g = runs.groupby(by + ["target", "model"])[score].agg(["mean", "std"]).reset_index()

    def nearest(d):
        v = d["mean"].to_numpy()
        gaps = np.abs(v[:, None] - v[None, :]) + np.diag(np.full(len(v), np.inf))
        return pd.Series(gaps.min(axis=1), index=d.index)

    g["gap"] = g.groupby(by + ["target"], group_keys=False).apply(nearest, include_groups=False)
    return g


TABLE2_SETTINGS = {
    ("no", "no"): {"standardize": False, "adaptive": False},
    ("no", "yes"): {"standardize": False, "adaptive": True},
    ("yes", "no"): {"standardize": True, "adaptive": False},
    ("yes", "yes"): {"standardize": True, "adaptive": True},
}


def table2_layout(taus: pd.DataFrame) -> pd.DataFrame:
    """:func:`tau_grid` output over :data:`TABLE2_SETTINGS` (settings labelled ``"no/yes"``
    etc.) -> the layout of ITM Table 2: rows (standardization, adaptive_eta), columns the
    iterations."""
    t = taus.pivot(index="setting", columns="iteration", values="tau")
    t.index = pd.MultiIndex.from_tuples([tuple(s.split("/")) for s in t.index],
                                        names=["standardization", "adaptive_eta"])
    t.columns = [str(c) for c in t.columns]
    t.columns.name = "iterations"
    return t


def table2_claims(t: pd.DataFrame) -> pd.Series:
    """The trends ITM's Sec. 4.4.2 reads from its Table 2, evaluated on a table of that layout
    (the printed one or a recomputed one, which may stop at 500 iterations): True where the
    table shows the trend."""
    yes_yes, yes_no = t.loc[("yes", "yes")], t.loc[("yes", "no")]
    no_yes, no_no = t.loc[("no", "yes")], t.loc[("no", "no")]
    late = [c for c in t.columns if int(c) >= 500]  # the printed table: 500 and 1000
    if "100" not in t.columns or "500" not in t.columns:
        raise ValueError(f"Table 2's trends need the 100- and 500-iteration columns; got {list(t.columns)}")
    std_rows = t.loc["yes"].to_numpy().mean()
    raw_rows = t.loc["no"].to_numpy().mean()
    return pd.Series({
        "standardisation raises tau_w (mean of its rows)": bool(std_rows > raw_rows),
        "with standardisation, adaptive eta raises tau_w from 500 it. on":
            bool((yes_yes[late] > yes_no[late]).all()),
        "without standardisation, adaptive eta changes tau_w by < 0.05 everywhere":
            bool(((no_yes - no_no).abs() < 0.05).all()),
        "the full method is best at 500 it.": bool(yes_yes["500"] == t["500"].max()),
        "the full method at 500 it. beats itself at 100 it.": bool(yes_yes["500"] > yes_yes["100"]),
    })
