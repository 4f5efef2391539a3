"""Effect of the subsampled fit (``max_fit_samples``) of N-LEEP and S_LP on the value, where
the exact (official) estimator still runs.

For each size (``N,D,C``, the synthetic inputs of ``metrics_speed.py``) and each metric, the
exact value (``max_fit_samples=None``: the mixture / NCA fitted on all N) is compared with the
value from fits on class-stratified subsamples of the given sizes (the posteriors / the
embedding and the k-NN score still over all N); a second feature set of the same size
(``--seed`` + 1, a weaker model: noise x 1.5) checks whether the subsampled fit keeps the
order of the two models. Prints a markdown table (time, value, relative difference).

Usage::

    nice -n 10 python benchmarks/subsample_effect.py --sizes 1100,512,11 3000,2048,102 \\
        --fits 500 1500 --out /tmp/subsample_effect.md
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from metrics_speed import make_inputs  # noqa: E402


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["1100,512,11", "3000,2048,102"])
    ap.add_argument("--fits", nargs="+", type=int, default=[500, 1500])
    ap.add_argument("--metrics", nargs="+", default=["nleep", "lp"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    from tecore import metrics

    lines = ["| metric | N | D | C | model | max_fit_samples | seconds | value | rel. diff to exact | order kept |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for size in a.sizes:
        n, d, c = (int(v) for v in size.split(","))
        models = {"A": make_inputs(n, d, c, seed=a.seed)}
        weak = make_inputs(n, d, c, seed=a.seed + 1)
        rng = __import__("numpy").random.default_rng(a.seed + 1)
        weak["features"] = (weak["features"] + 0.5 * rng.normal(size=weak["features"].shape)).astype("float32")
        models["B (weaker)"] = weak
        for name in a.metrics:
            fn = metrics.get(name).function
            vals: dict = {}
            for fit in [None] + [f for f in a.fits if f < n]:
                for mname, inp in models.items():
                    t = time.perf_counter()
                    v = fn(inp["features"], inp["labels"], max_fit_samples=fit)
                    vals[(fit, mname)] = (v, time.perf_counter() - t)
                for mname in models:
                    v, s = vals[(fit, mname)]
                    ex = vals[(None, mname)][0]
                    order = ((vals[(fit, "A")][0] > vals[(fit, "B (weaker)")][0])
                             == (vals[(None, "A")][0] > vals[(None, "B (weaker)")][0]))
                    lines.append(f"| {name} | {n} | {d} | {c} | {mname} | {fit or 'exact (None)'} | {s:.1f} | "
                                 f"{v:.6g} | {abs(v - ex) / abs(ex):.2e} | {'yes' if order else 'NO'} |")
                    print(lines[-1], flush=True)
    md = "\n".join(lines)
    if a.out:
        Path(a.out).write_text(md + "\n")
    return md


if __name__ == "__main__":
    print(main())
