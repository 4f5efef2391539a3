"""Ground-truth protocols, the resumable grid runner and the linear probe."""
import json

import numpy as np
import pandas as pd
import pytest

from tecore import finetune
from tecore.finetune import PROTOCOLS, Protocol, get_protocol, ground_truth, linear_probe, run_grid


# ---------------------------------------------------------------- protocols as data
def test_paper_protocols_have_the_published_grids():
    assert PROTOCOLS["itm"].grid == {"lr": (1e-5, 2e-5, 5e-5), "weight_decay": (1e-2, 1e-4)}
    assert PROTOCOLS["itm"].optimizer == "adamw" and PROTOCOLS["itm"].selection == "max_test"
    med = PROTOCOLS["medical"]
    assert med.optimizer == "sgd" and med.metric == "auc" and med.selection == "min_val_loss"
    assert med.early_stopping == 50 and med.epochs == 400
    assert len(med.configs()) == 6 * 5 * 2
    assert len(PROTOCOLS["ped"].configs()) == 4 * 4 * 5  # 5 seeds


def test_protocol_validation_and_mapping_roundtrip():
    with pytest.raises(ValueError, match="optimizer"):
        Protocol("x", "adam", {"lr": (1e-3,)}, epochs=1)
    with pytest.raises(ValueError, match="unknown grid keys"):
        Protocol("x", "sgd", {"lr": (1e-3,), "beta": (1,)}, epochs=1)
    with pytest.raises(ValueError, match="valid protocols"):
        get_protocol("nope")
    p = PROTOCOLS["medical"].replace(epochs=2)
    assert get_protocol(json.loads(json.dumps(p.to_dict()))) == p


# ---------------------------------------------------------------- linear probe
def test_linear_probe_separable_vs_shuffled():
    r = np.random.default_rng(0)
    centers = r.normal(scale=4, size=(3, 10))
    y = np.repeat(np.arange(3), 60)
    X = centers[y] + r.normal(size=(180, 10))
    tr, te = np.arange(180) % 3 != 0, np.arange(180) % 3 == 0
    Xc = X.copy()
    res = linear_probe(X[tr], y[tr], X[te], y[te])
    assert res["score"] > 0.95
    np.testing.assert_array_equal(X, Xc)  # not mutated
    shuffled = linear_probe(X[tr], r.permutation(y[tr]), X[te], y[te])
    assert shuffled["score"] < 0.6
    auc = linear_probe(X[tr], y[tr], X[te], y[te], metric="auc")
    assert auc["score"] > 0.98 and auc["metric"] == "auc"


def test_linear_probe_string_labels_and_errors():
    r = np.random.default_rng(1)
    X = np.r_[r.normal(size=(20, 3)), r.normal(size=(20, 3)) + 5]
    y = np.array(["cat"] * 20 + ["dog"] * 20)
    assert linear_probe(X, y, X, y)["score"] == 1.0
    with pytest.raises(ValueError, match="does not occur in the training labels"):
        linear_probe(X, y, X[:2], ["cat", "cow"])
    with pytest.raises(ValueError, match="test features must be"):
        linear_probe(X, y, X[:, :2], y)


# ---------------------------------------------------------------- grid runner
torch = pytest.importorskip("torch")


class _Tiny(torch.nn.Module):
    """A real (tiny) CNN returning (features, logits=None) like tecore.zoo models."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.pool = torch.nn.AdaptiveAvgPool2d(2)

    def forward(self, x):
        return self.pool(torch.relu(self.bn(self.conv(x)))).flatten(1), None


def _factory():
    torch.manual_seed(123)  # same initial weights every run, like a pretrained checkpoint
    return _Tiny(), (lambda img: torch.as_tensor(img, dtype=torch.float32)[None] / 16.0)


def _digits_splits():
    from sklearn.datasets import load_digits

    d = load_digits()
    keep = d.target < 3
    X, y = d.images[keep][:150], d.target[keep][:150]
    return (X[:90], y[:90]), (X[90:120], y[90:120]), (X[120:], y[120:])


def test_grid_runs_records_and_resumes(tmp_path, monkeypatch):
    tr, va, te = _digits_splits()
    proto = Protocol("tiny", "sgd", {"lr": (0.1, 0.01), "momentum": (0.9,)}, epochs=2,
                     selection="min_val_loss", batch_size=32)
    out = tmp_path / "gt.csv"
    calls = {"n": 0}
    real = finetune.train_once

    def crashing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated kill")
        return real(*a, **k)

    monkeypatch.setattr(finetune, "train_once", crashing)
    with pytest.raises(KeyboardInterrupt):
        run_grid({"a": _factory, "b": _factory}, tr, va, te, proto, dataset="digits3", out=out, progress=False)
    assert len(pd.read_csv(out)) == 2  # two runs finished and were recorded before the kill
    monkeypatch.setattr(finetune, "train_once", real)
    df = run_grid({"a": _factory, "b": _factory}, tr, va, te, proto, dataset="digits3", out=out, progress=False)
    assert len(df) == 4 and df["run_key"].is_unique
    assert calls["n"] == 3  # resumed: the finished runs were not trained again
    assert set(df.columns) >= {"cfg_lr", "cfg_momentum", "cfg_seed", "version_torch", "protocol_json", "seconds"}
    assert df["epochs_run"].eq(2).all()
    assert df["test_at_min_val_loss"].between(0, 1).all()
    # the same factory and seed give identical runs: training is deterministic
    a, b = df[df.model == "a"].sort_values("cfg_lr"), df[df.model == "b"].sort_values("cfg_lr")
    np.testing.assert_allclose(a["best_val_loss"].to_numpy(), b["best_val_loss"].to_numpy(), rtol=1e-6)
    gt = ground_truth(df)
    assert list(gt.columns) == ["target", "model", "truth"]
    assert list(zip(gt.target, gt.model)) == [("digits3", "a"), ("digits3", "b")]
    assert gt.truth.iloc[0] > 0.5  # three-class digits are learnable in two epochs


def test_ground_truth_selection_rules_on_a_hand_table():
    rows = []
    for seed in (0, 1):
        for lr, val_loss, val, test_at_val, test_at_loss, mx in [
            (0.1, 0.5, 0.80, 0.70, 0.71, 0.90), (0.01, 0.4, 0.70 + seed * 0.2, 0.75, 0.72, 0.80)]:
            rows.append({"dataset": "d", "model": "m", "protocol": "p", "cfg_lr": lr, "cfg_seed": seed,
                         "best_val_loss": val_loss + seed, "best_val_score": val,
                         "test_at_best_val": test_at_val, "test_at_min_val_loss": test_at_loss, "max_test": mx})
    df = pd.DataFrame(rows)
    base = dict(optimizer="sgd", grid={"lr": (0.1, 0.01)}, epochs=1)
    assert ground_truth(df, Protocol("p", selection="max_test", **base)).truth.iloc[0] == 0.90
    assert ground_truth(df, Protocol("p", selection="min_val_loss", **base)).truth.iloc[0] == 0.72
    # mean val over seeds: lr=0.1 -> 0.80, lr=0.01 -> 0.80 vs 0.70/0.90 -> 0.80; tie -> first (0.01)
    df.loc[df.cfg_lr == 0.01, "best_val_score"] += 0.05
    assert ground_truth(df, Protocol("p", selection="best_val", **base)).truth.iloc[0] == 0.75
    # the configuration each rule picked
    pick = {sel: ground_truth(df, Protocol("p", selection=sel, **base), with_config=True)
            for sel in ("max_test", "min_val_loss", "best_val")}
    assert {k: v.cfg_lr.iloc[0] for k, v in pick.items()} == {"max_test": 0.1, "min_val_loss": 0.01, "best_val": 0.01}
    assert "cfg_seed" not in pick["best_val"] and list(ground_truth(df, Protocol("p", selection="best_val", **base)).columns) == ["target", "model", "truth"]


def test_find_results_cwd_then_checkout(tmp_path, monkeypatch):
    from tecore.finetune import find_results

    monkeypatch.chdir(tmp_path)
    stored = find_results("groundtruth/offline_zoo/train_log.csv")  # not in cwd: the checkout's
    assert stored.is_file() and stored.parent.parent.name == "groundtruth"
    (tmp_path / "groundtruth").mkdir()
    (tmp_path / "groundtruth" / "offline_finetune.csv").write_text("run_key\n")
    assert find_results("groundtruth/offline_finetune.csv").resolve() == (
        tmp_path / "groundtruth" / "offline_finetune.csv").resolve()  # cwd first
    with pytest.raises(FileNotFoundError, match="None to skip"):
        find_results("nope/results.csv")


def test_linear_probe_runs_on_one_blas_thread_with_the_same_value(monkeypatch):
    """The probe's solver runs on one BLAS thread (4x faster at the offline benchmark's
    sizes on 2 cores) and gives the value the caller's threads give."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info, threadpool_limits

    r = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 60)
    X = r.normal(size=(4, 64))[y] * 0.4 + r.normal(size=(240, 64))
    seen = []
    original = LogisticRegression.fit

    def fit(self, *a, **k):
        seen.append(max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"))
        return original(self, *a, **k)

    monkeypatch.setattr(LogisticRegression, "fit", fit)
    with threadpool_limits(limits=2, user_api="blas"):
        res = linear_probe(X[::2], y[::2], X[1::2], y[1::2])
        assert max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas") == 2  # restored
    assert seen == [1] * 6  # five values of C on the split, one refit
    monkeypatch.setattr(LogisticRegression, "fit", original)
    from sklearn.preprocessing import StandardScaler  # the refit by hand, on the caller's threads

    s = StandardScaler().fit(X[::2])
    acc = LogisticRegression(C=res["C"], max_iter=2000).fit(s.transform(X[::2]), y[::2]).score(s.transform(X[1::2]), y[1::2])
    assert res["score"] == pytest.approx(acc, abs=1e-12)
