"""The ``tecore`` command: features + labels in, a ranking out.

::

    tecore list metrics|zoos|models|datasets
    tecore score FEATURES.npz|DIR --metrics logme,sfda        # one npz per model in DIR
    tecore rank --zoo offline --data PATH_OR_NAME --metrics all --out scores.csv [--plot FILE]
    tecore eval scores.csv truth.csv [--format table|csv|json]

Tables use tecore's vocabulary: scores ``target, model, metric, score``; ground truth
``target, model, truth``. Names are looked up in tecore's registries (metrics, zoos,
datasets), so a metric added to :mod:`tecore.metrics` is available here at once.

Errors are one line on stderr (``tecore: error: ...``) with exit status 2 for a bad command
line and 1 for everything else (bad input, a missing file, a failing model). Long work
(extraction, scoring) shows tqdm progress bars on stderr; ``--quiet`` hides them.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

__all__ = ["main", "build_parser", "CLIError"]

#: inputs an ``.npz`` of ``tecore score`` may hold (beside ``features`` and ``labels``)
NPZ_KEYS = ("features", "labels", "probs", "logits", "grad_ratio")


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the default prints the whole usage first)."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} -h')\n")


# ----------------------------------------------------------------------------- helpers
def _split_names(text: str) -> list[str]:
    return [t.strip() for t in str(text).split(",") if t.strip()]


def _label_kind(labels) -> str:
    """``"classes"`` for class labels (N,) (integers, strings, whole-number floats), else
    ``"continuous"`` (regression targets, (N, K) multi-label or multi-output)."""
    import numpy as np

    a = np.asarray(labels)
    if a.ndim == 1 and (a.dtype.kind in "iubUSO" or (a.dtype.kind == "f" and np.all(a == np.round(a)))):
        return "classes"
    return "continuous"


def _metric_names(text: str, available: set[str] | None = None, kind: str = "classes") -> list[str]:
    """``"all"`` or comma-separated registry names -> validated registry names.

    ``"all"`` means every registered metric for ``kind`` of targets (the registry's
    ``targets`` field: class labels, or continuous / multi-label); with ``available`` (the
    inputs the data provides) only those the inputs can compute, saying on stderr which it
    left out and why."""
    from tecore import metrics as registry

    names = _split_names(text)
    if not names:
        raise CLIError("--metrics is empty; give 'all' or names from 'tecore list metrics'")
    if names == ["all"]:
        chosen = [n for n in registry.names() if getattr(registry.get(n), "targets", "classes") == kind]
        if available is not None:
            skipped = {n: [k for k in registry.get(n).inputs if k not in available] for n in chosen}
            skipped = {n: lack for n, lack in skipped.items() if lack}
            if skipped:
                print("tecore: note: 'all' leaves out " + "; ".join(
                    f"{n} (needs {', '.join(lack)})" for n, lack in skipped.items()), file=sys.stderr)
            chosen = [n for n in chosen if n not in skipped]
        return chosen
    return [registry.get(n).name for n in names]  # ValueError naming the valid metrics


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _write_table(df, out: str | None, fmt: str) -> None:
    """Print ``df`` (table, csv or json) to stdout, or write it to ``out`` (format from
    ``fmt``, else from the suffix)."""
    import pandas as pd

    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = fmt if fmt != "table" else ("json" if path.suffix.lower() == ".json" else "csv")
        if kind == "json":
            path.write_text(df.to_json(orient="records", indent=1, double_precision=15) + "\n")
        else:
            df.to_csv(path, index=False)
        return
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=1, double_precision=15) + "\n")
    else:
        with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200,
                               "display.float_format", "{:.4g}".format):
            print(df.to_string(index=False) if len(df) else "(empty)")


def ranked(scores):
    """Per (target, metric), the models ranked by score (1 = best; NaN scores last)."""
    df = scores.copy()
    df["rank"] = (df.groupby(["target", "metric"])["score"]
                  .rank(ascending=False, method="min", na_option="keep").astype("Int64"))
    return df.sort_values(["target", "metric", "rank", "model"]).reset_index(drop=True)


def _summary(scores):
    """model x metric ranks plus the mean rank, best model first (one block per target)."""
    import pandas as pd

    r = ranked(scores)
    blocks = []
    for target, g in r.groupby("target", sort=False):
        wide = g.pivot(index="model", columns="metric", values="rank")
        wide.insert(0, "mean_rank", wide.mean(axis=1))
        wide = wide.sort_values("mean_rank").reset_index()
        wide.insert(0, "target", target)
        blocks.append(wide)
    return pd.concat(blocks, ignore_index=True)


# ----------------------------------------------------------------------------- list
def cmd_list(args) -> int:
    import pandas as pd

    what = args.what
    if what == "metrics":
        from tecore import metrics as registry

        rows = []
        for n in registry.names():
            s = registry.get(n)
            rows.append({"name": n, "inputs": ",".join(s.inputs), "targets": getattr(s, "targets", "classes"),
                         "pool_level": s.pool_level, "reference": _short(s.reference.split(";")[0])})
        df = pd.DataFrame(rows)
    elif what == "zoos":
        from tecore import zoo

        _load_registries(args)
        df = pd.DataFrame([{"zoo": z, "models": len(zoo.collection(z))} for z in zoo.list_zoos()])
    elif what == "models":
        from tecore import zoo

        _load_registries(args)
        names = zoo.list_models(args.zoo) if args.zoo else zoo.list_models()
        rows = []
        for n in names:
            s = zoo.get_spec(n)
            rows.append({"name": n, "zoo": s.zoo, "arch": s.arch, "weights": s.weights,
                         "source_classes": s.num_classes})
        df = pd.DataFrame(rows)
    else:
        from tecore import data

        df = pd.DataFrame({"name": data.list_datasets()})
    if args.format == "table" and what in ("metrics", "datasets") and not args.out:
        print("\n".join(df["name"]) if what == "datasets" else df.to_string(index=False))
        return 0
    _write_table(df, args.out, args.format)
    return 0


def _load_registries(args) -> None:
    from tecore import zoo

    for f in getattr(args, "registry", None) or []:
        zoo.load_registry_file(f)


# ----------------------------------------------------------------------------- score
def _read_npz(path: Path) -> dict:
    import numpy as np

    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - reported in one line
        raise CLIError(f"{path}: cannot read as .npz ({type(exc).__name__}: {exc})") from None
    with z:
        keys = set(z.files)
        if "features" not in keys and "probs" not in keys and "logits" not in keys:
            raise CLIError(f"{path}: holds {sorted(keys)}; need 'features' (N x D) and 'labels' (N,), "
                           "optionally 'probs' or 'logits' (N x K) and 'grad_ratio'")
        if "labels" not in keys:
            raise CLIError(f"{path}: no 'labels' array (keys: {sorted(keys)})")
        out = {k: z[k] for k in NPZ_KEYS if k in keys}
    if "grad_ratio" in out:
        out["grad_ratio"] = float(out["grad_ratio"])
    return out


def read_pool(path: str | os.PathLike) -> tuple[str, dict]:
    """``(target, pool)`` from one ``.npz`` (one model, named by the file) or a directory of
    ``.npz`` files (one per model); the target is the directory's name."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.npz") if f.is_file())
        if not files:
            raise CLIError(f"{p}: no .npz files (one per model, each with 'features' and 'labels')")
        return p.resolve().name, {f.stem: _read_npz(f) for f in files}
    if not p.is_file():
        raise CLIError(f"{p}: no such file or directory")
    return p.resolve().parent.name, {p.stem: _read_npz(p)}


def cmd_score(args) -> int:
    from tecore import pool as pool_mod

    target, pool = read_pool(args.features)
    if args.target:
        target = args.target
    # score_pool also hands every metric the model's name (the pool key)
    available = set.intersection(*(set(e) | {"model"} | ({"probs"} if "logits" in e else set())
                                   for e in pool.values()))
    kind = _label_kind(next(iter(pool.values()))["labels"])
    names = _metric_names(args.metrics, available, kind)
    if not names:
        raise CLIError(f"no metric among '{args.metrics}' can be computed from these files "
                       f"(inputs: {', '.join(sorted(available))}; targets: {kind}); see 'tecore list metrics'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if args.quiet else "default")
        sc = pool_mod.score_pool(pool, names, errors="nan", progress=not args.quiet)
    sc.attrs = {}
    sc.insert(0, "target", target)
    _report_notes(sc)
    if args.out:
        _write_table(sc, args.out, args.format)
    _write_table(ranked(sc)[["target", "metric", "rank", "model", "score"]] if args.format == "table"
                 else sc, None, args.format)
    return 0


def _report_notes(sc) -> None:
    bad = sc[sc["note"].astype(str) != ""]
    for _, r in bad.iterrows():
        print(f"tecore: note: {r['metric']} on {r['model']}: {r['note']}", file=sys.stderr)


# ----------------------------------------------------------------------------- rank
def resolve_zoo(text: str, registries=()) -> list[str]:
    """``--zoo``: a zoo name, a registry file (TOML/YAML), or comma-separated model names
    and ``hf-hub:<org>/<name>`` timm ids -> model names (registered)."""
    from tecore import zoo

    for f in registries:
        zoo.load_registry_file(f)
    p = Path(text)
    if p.suffix.lower() in (".toml", ".yaml", ".yml"):
        if not p.is_file():
            raise CLIError(f"--zoo {text}: no such registry file")
        return [s.name for s in zoo.load_registry_file(p)]
    if text in zoo.list_zoos():
        return zoo.collection(text)
    names = _split_names(text)
    if not names:
        raise CLIError("--zoo is empty")
    return [zoo.get_spec(n).name for n in names]  # hf-hub: ids are registered on first use


def cmd_rank(args) -> int:
    from tecore import data, extract, metrics as registry, pool as pool_mod

    models = resolve_zoo(args.zoo, args.registry or ())
    metric_names = _metric_names(args.metrics)
    ds = data.load(args.data, per_class=args.per_class, seed=args.seed, size=args.size)
    if ds.labels.ndim != 1:
        raise CLIError(f"{args.data}: labels of shape {ds.labels.shape}; tecore rank extracts features "
                       "for single-label targets (score multi-label features with 'tecore score')")
    grad = any("grad_ratio" in registry.get(m).inputs for m in metric_names)
    from tecore._device import resolve_device

    device = str(resolve_device(args.device))
    from tecore._progress import progress_bar
    from tecore.zoo import create

    pool = {}
    with progress_bar(total=len(models), disable=args.quiet, desc="extract", unit="model") as bar:
        for m in models:
            bar.set_postfix_str(m, refresh=False)
            created = create(m, device=device, image_size=args.image_size)
            try:
                f = extract.extract(created, ds, grad_probe=grad, device=device, cache_dir=args.cache,
                                    progress=False)
            except ValueError as exc:
                if not grad:
                    raise
                bar.write(f"tecore: note: gradient probe of {m} failed ({exc}); lp_fu is NaN for it",
                          file=sys.stderr)
                f = extract.extract(created, ds, device=device, cache_dir=args.cache, progress=False)
            pool[m] = f
            bar.update(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if args.quiet else "default")
        sc = pool_mod.score_pool(pool, metric_names, errors="nan", progress=not args.quiet)
    sc.attrs = {}
    target = args.target or (ds.name if not str(ds.name).startswith(("npz:", "imagefolder:", "hf:"))
                             else Path(str(args.data)).stem)
    sc.insert(0, "target", target)
    _report_notes(sc)
    if args.out:
        _write_table(sc, args.out, "table")
    summary = _summary(sc)
    _write_table(summary, None, args.format)
    if args.plot:
        _plot_scores(sc, args.plot)
    return 0


def _plot_scores(sc, path) -> None:
    """Heatmap of the scores min-max normalised per metric (1 = the metric's best model)."""
    from tecore.papers import plots

    wide = sc.pivot_table(index="metric", columns="model", values="score", aggfunc="first")
    lo, hi = wide.min(axis=1), wide.max(axis=1)
    norm = wide.sub(lo, axis=0).div((hi - lo).where(hi > lo), axis=0)
    fig = plots.tau_heatmap(norm, vmin=0.0, vmax=1.0, cmap="viridis", cbar_label="score (min–max)",
                            title=f"{sc['target'].iloc[0]}: scores per metric")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


# ----------------------------------------------------------------------------- eval
def _read_csv(path, need: list[str], what: str):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file {p}: no such file")
    try:
        df = pd.read_csv(p)
    except Exception as exc:  # noqa: BLE001
        raise CLIError(f"{what} file {p}: cannot read as CSV ({type(exc).__name__}: {exc})") from None
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise CLIError(f"{what} file {p}: needs columns {', '.join(need)} (and 'target' for several targets); "
                       f"missing {', '.join(missing)} (has {', '.join(map(str, df.columns))})")
    for c in ("target", "model"):
        if c in df.columns:
            df[c] = df[c].astype(str)
    return df


def evaluate_tables(scores, truth, *, n_boot: int = 1000, seed: int = 0):
    """One row per (target, metric): weighted tau with its bootstrap interval (``ci_low``,
    ``ci_high``), the other correlations and top-k hits — :func:`tecore.evaluate.rank_table`.
    Rows match on ``model`` and, when both tables have one, ``target``."""
    from tecore import evaluate

    keys = [c for c in ("target", "model") if c in scores.columns and c in truth.columns]
    if scores[keys].merge(truth[keys]).empty:
        raise CLIError(f"no ({', '.join(keys)}) is in both the scores and the truth; check the names")
    by = ["target", "metric"] if "target" in scores.columns else ["metric"]
    return evaluate.rank_table(scores, truth, by=by, bootstrap=n_boot, seed=seed)


def cmd_eval(args) -> int:
    scores = _read_csv(args.scores, ["model", "metric", "score"], "scores")
    truth = _read_csv(args.truth, ["model", "truth"], "truth")
    res = evaluate_tables(scores, truth, n_boot=args.n_boot, seed=args.seed)
    if args.format == "table":
        first = [c for c in ("target", "metric", "n_models", "weighted_tau", "ci_low", "ci_high") if c in res]
        res = res[first + [c for c in res.columns if c not in first]]
        order = [c for c in ("target", "weighted_tau") if c in res]
        res = res.sort_values(order, ascending=[c != "weighted_tau" for c in order])
    _write_table(res, args.out, args.format)
    if args.out and args.format == "table":
        _write_table(res, None, "table")
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tecore", description="Transferability estimation from the command line: list the "
                "registries, score features, rank a zoo on a dataset, evaluate scores against ground truth.")
    from tecore import __version__

    p.add_argument("--version", action="version", version=f"tecore {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{list,score,rank,eval}", parser_class=_Parser)
    sub.required = True

    def common(q, formats=("table", "csv", "json")):
        q.add_argument("--format", choices=formats, default="table", help="output format (default: table)")
        q.add_argument("--quiet", "-q", action="store_true", help="no progress bars or warnings")

    q = sub.add_parser("list", help="registered metrics, zoos, models or datasets")
    q.add_argument("what", choices=("metrics", "zoos", "models", "datasets"))
    q.add_argument("--zoo", help="models: only this zoo")
    q.add_argument("--registry", action="append", metavar="FILE", help="TOML/YAML zoo file(s) to load first")
    q.add_argument("--out", help="write the list to this file")
    common(q)
    q.set_defaults(func=cmd_list)

    q = sub.add_parser("score", help="score features (.npz, or a directory of one .npz per model)")
    q.add_argument("features", help="FEATURES.npz with 'features' and 'labels' (optional 'probs'/'logits', "
                   "'grad_ratio'), or a directory of such files, one per model")
    q.add_argument("--metrics", "-m", default="all", help="comma-separated names, or 'all' (default)")
    q.add_argument("--target", help="target name in the table (default: the directory's name)")
    q.add_argument("--out", "-o", help="write the scores (target, model, metric, score, ...) to this CSV/JSON")
    common(q)
    q.set_defaults(func=cmd_score)

    q = sub.add_parser("rank", help="extract features of a zoo on a dataset (cached), score and rank the models")
    q.add_argument("--zoo", required=True, help="zoo name, TOML/YAML zoo file, or comma-separated model "
                   "names / hf-hub:<org>/<model> timm ids")
    q.add_argument("--data", required=True, help="dataset name ('tecore list datasets'), image folder, "
                   ".npz, or hf:<path or hub id> (Hugging Face datasets)")
    q.add_argument("--metrics", "-m", default="all", help="comma-separated names, or 'all' (default)")
    q.add_argument("--per-class", type=int, default=40, help="images per class (default 40)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--size", type=int, help="resize images to SIZE x SIZE when loading")
    q.add_argument("--image-size", type=int, default=112, help="input side the models see (default 112; 0 = "
                   "each model's own)")
    q.add_argument("--device", help="cpu, cuda, ... (default: cuda when available)")
    q.add_argument("--cache", help="feature cache directory (default $TECORE_CACHE or ~/.cache/tecore)")
    q.add_argument("--registry", action="append", metavar="FILE", help="TOML/YAML zoo file(s) to load first")
    q.add_argument("--target", help="target name in the table")
    q.add_argument("--out", "-o", help="write the scores to this CSV")
    q.add_argument("--plot", help="write a heatmap of the scores (PNG/PDF/SVG)")
    common(q)
    q.set_defaults(func=cmd_rank)

    q = sub.add_parser("eval", help="rank correlations of scores with ground truth")
    q.add_argument("scores", help="CSV with target, model, metric, score")
    q.add_argument("truth", help="CSV with target, model, truth")
    q.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples of the tau interval")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", "-o", help="also write the table to this file")
    common(q)
    q.set_defaults(func=cmd_eval)
    return p


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"tecore: warning: {' '.join(str(message).split())}\n"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    old_format, warnings.formatwarning = warnings.formatwarning, _one_line_warning
    if getattr(args, "image_size", None) == 0:
        args.image_size = None
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("tecore: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (CLIError, ValueError, FileNotFoundError, OSError, ImportError, KeyError, RuntimeError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, (ImportError, KeyError, RuntimeError, OSError)) and not isinstance(exc, CLIError):
            msg = f"{type(exc).__name__}: {msg}"
        print(f"tecore: error: {msg}", file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning = old_format


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
