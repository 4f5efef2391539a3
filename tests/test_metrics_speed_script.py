"""benchmarks/metrics_speed.py: the bound column and the pool mode produce their rows (tiny
sizes; no timing is asserted)."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("metrics_speed", ROOT / "benchmarks" / "metrics_speed.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["metrics_speed"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_bound_and_pool_rows(tmp_path):
    ms = _script()
    out = tmp_path / "speed.md"
    ms.main(["--sizes", "120,16,3", "--metrics", "hscore", "leep", "--pool", "2", "--pool-size", "120,16,3",
             "--mem-gb", "0", "--out", str(out)])
    md = out.read_text()
    row = next(line for line in md.splitlines() if line.startswith("| hscore |"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert float(cells[4]) >= 0 and cells[5].endswith("×")  # bound (s), x of bound
    assert "bound: Gram + eigh" in cells[-1]
    leep = next(line for line in md.splitlines() if line.startswith("| leep |"))
    assert leep.split("|")[5].strip() == ""  # no bound for a cheap metric
    assert "## Pool: 2 models, N=120, D=16, C=3" in md
    pool = [line for line in md.split("## Pool")[1].splitlines() if line.startswith("| hscore |")]
    assert len(pool) == 1 and "| yes |" in pool[0]


def test_pool_models_share_labels_and_differ_in_features():
    ms = _script()
    a = ms.make_inputs(60, 8, 3, seed=0, label_seed=0)
    b = ms.make_inputs(60, 8, 3, seed=1, label_seed=0, noise=0.6)
    assert (a["labels"] == b["labels"]).all()
    assert not (a["features"] == b["features"]).all()
    assert (ms.make_inputs(60, 8, 3, seed=0)["labels"] == a["labels"]).all()  # default: label order of seed
