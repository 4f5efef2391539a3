"""ITM's cost on a CPU: the paper-scale call (500 iterations, batch 256, D = 768) and the
per-iteration eigenproblem under different torch thread settings.

Inputs: N = 1000 samples of C = 10 Gaussian classes in D dimensions (deterministic). For each
(dtype, n_threads) the table gives the wall-clock seconds of one ``tecore.itm`` call with
default settings (minimum over ``--repeats``), and the seconds of ``torch.linalg.eigvalsh`` on a
256 x 256 Gram matrix with torch's default threads, one thread and one per core (the
eigenproblem DCA solves every iteration). The caller's torch thread count is left as it was.

Usage::

    nice -n 10 python benchmarks/itm_speed.py --out benchmarks/results/itm_speed.md
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import time

import numpy as np


def _time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> str:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--dims", type=int, nargs="+", default=[768])
    p.add_argument("--n-iter", type=int, default=500)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import torch

    import tecore
    from tecore.metrics.itm import itm

    r = np.random.default_rng(0)
    default_threads = torch.get_num_threads()
    lines = ["# ITM speed on CPU", "",
             f"* machine: {platform.machine()}, {os.cpu_count()} logical cores; load average at start "
             f"{os.getloadavg()[0]:.1f}; torch {torch.__version__} (default threads {default_threads}); "
             f"tecore {tecore.__version__}; {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"* command: `python benchmarks/itm_speed.py {' '.join(sys.argv[1:] if argv is None else argv)}`",
             f"* inputs: N = {a.n}, C = 10 Gaussian classes; `tecore.itm` defaults (batch 256, "
             f"{a.n_iter} iterations, validation every 100), repeats {a.repeats} (minimum)", "",
             "| D | dtype | n_threads | seconds per call | ms per iteration |", "|---:|---|---:|---:|---:|"]
    for d in a.dims:
        X = r.normal(size=(a.n, d)) + 0.3 * r.normal(size=(10, d))[np.arange(a.n) % 10]
        y = np.arange(a.n) % 10
        for dt in a.dtypes:
            for nt in a.threads:
                s = _time(lambda: itm(X, y, n_iter=a.n_iter, dtype=dt, n_threads=nt), a.repeats)
                lines.append(f"| {d} | {dt} | {nt} | {s:.1f} | {1000 * s / a.n_iter:.1f} |")
                print(lines[-1], flush=True)
    assert torch.get_num_threads() == default_threads  # the call restored the caller's setting

    E = torch.as_tensor(r.normal(size=(256, 768)))
    G = E @ E.T
    lines += ["", "Eigenvalues of a 256 x 256 Gram matrix (`torch.linalg.eigvalsh`, float64), the "
              "per-iteration eigenproblem of DCA:", "", "| torch threads | ms per call |", "|---:|---:|"]
    for nt in sorted({default_threads, 1, os.cpu_count() or 1}, reverse=True):
        torch.set_num_threads(nt)
        s = _time(lambda: torch.linalg.eigvalsh(G), 20)
        lines.append(f"| {nt} | {1000 * s:.1f} |")
    lines += ["", f"Load average at the end: {os.getloadavg()[0]:.1f}."]
    torch.set_num_threads(default_threads)
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
