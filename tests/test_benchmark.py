"""The offline benchmark: target splits, ground-truth reduction, the seed ceiling, claims."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tecore import benchmark


def test_digits_split_is_disjoint_and_per_class():
    tr, va, te = benchmark.target_splits("digits")
    assert (len(tr), len(va), len(te)) == (500, 200, 1000)
    for ds, n in ((tr, 50), (va, 20), (te, 100)):
        assert np.bincount(ds.labels).tolist() == [n] * 10
    idx = [set(ds.indices.tolist()) for ds in (tr, va, te)]
    assert not (idx[0] & idx[1]) and not (idx[0] & idx[2]) and not (idx[1] & idx[2])


def test_fashion_target_is_the_unseen_classes_relabelled():
    tr, va, te = benchmark.target_splits("fashion-mnist-5to9")
    assert tr.classes == ("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot") == te.classes
    assert tr.split == "train" and te.split == "test"
    assert np.bincount(tr.labels).tolist() == [50] * 5 and np.bincount(te.labels).tolist() == [100] * 5
    with pytest.raises(ValueError, match="valid targets: breastmnist, retinamnist"):
        benchmark.target_splits("cifar10")


def test_medmnist_targets_use_the_whole_official_splits():
    from tecore import data

    tr, va, te = benchmark.target_splits("breastmnist")
    assert (len(tr), len(va), len(te)) == (546, 78, 156)  # MedMNIST v2 BreastMNIST
    assert (tr.split, va.split, te.split) == ("train", "val", "test")
    assert np.array_equal(tr.labels, data.load("breastmnist", "train").labels)


def test_stored_results_reduce_by_their_own_protocol():
    """A grid run with an earlier protocol (another grid, other seeds) reduces by that
    protocol: its completeness rule and its learning rates, not the current PROTOCOL's."""
    old = benchmark.PROTOCOL.replace(name="old", grid={"lr": (1e-2, 1e-3, 1e-4), "weight_decay": (1e-2,)},
                                     seeds=(0, 1))
    df = _grid({"m1": 0.5, "m2": 0.6, "m3": 0.7}, seeds=(0, 1), protocol=old)
    assert benchmark.protocol_of(df) == old
    gt = benchmark.ground_truth(df)  # 3 lrs x 2 seeds per cell: complete under "old"
    assert len(gt) == 6
    np.testing.assert_allclose(gt[gt.target == "a"].truth, [0.54, 0.64, 0.74])
    assert benchmark.ceiling(df).n_models.tolist() == [3, 3]
    assert len(benchmark.ground_truth(df.iloc[1:])) == 5  # a run missing: that cell is left out
    assert benchmark.protocol_of(_grid({"m1": 0.5})) == benchmark.PROTOCOL
    more = _grid({"m1": 0.5, "m2": 0.6, "m3": 0.7}, seeds=(0, 1, 2, 3))  # a fourth replicate added later
    assert benchmark.protocol_of(more).seeds == (0, 1, 2, 3)
    assert len(benchmark.ground_truth(more)) == 6
    assert len(benchmark.ground_truth(more[~((more.model == "m1") & (more.cfg_seed == 3))])) == 4  # m1 lacks seed 3
    # replicates added to one target only: each target is complete by its own seeds
    q = {f"m{i}": 0.5 + 0.02 * i for i in range(4)}
    one = pd.concat([_grid(q), _grid(q, seeds=(3, 4), targets=("a",))], ignore_index=True)
    assert len(benchmark.ground_truth(one)) == 8
    assert len(benchmark.ground_truth(one[~((one.dataset == "a") & (one.model == "m0") & (one.cfg_seed == 4))])) == 7
    ceil = benchmark.ceiling(one).set_index("target")
    assert ceil.n_seeds.to_dict() == {"a": 5, "b": 3} and ceil.n_models.tolist() == [4, 4]
    by = benchmark.ceiling_by_seeds(one)
    assert by[by.target == "b"].seeds_b.max() == 2 and by[by.target == "a"].seeds_b.max() == 4
    mixed = pd.concat([df, _grid({"m1": 0.5})], ignore_index=True)
    with pytest.raises(ValueError, match="mix fine-tuning protocols"):
        benchmark.ground_truth(mixed)


def _grid(quality, noise=0.0, seeds=(0, 1, 2), targets=("a", "b"), rng=None, protocol=None):
    """Synthetic run_grid rows: test accuracy = quality[model] + lr effect + seed noise
    (the first learning rate of the protocol's grid is 0.05 better)."""
    rng = rng or np.random.default_rng(0)
    protocol = protocol or benchmark.PROTOCOL
    proto = json.dumps(protocol.to_dict(), sort_keys=True)
    lrs = protocol.grid["lr"]
    rows = []
    for t in targets:
        for m, q in quality.items():
            for lr in lrs:
                for s in seeds:
                    v = q + (0.05 if lr == lrs[0] else 0.0) + noise * rng.standard_normal()
                    rows.append({"run_key": f"{t}{m}{lr}{s}", "model": m, "dataset": t, "protocol": protocol.name,
                                 "cfg_lr": lr, "cfg_weight_decay": 1e-2, "cfg_batch_size": 32, "cfg_seed": s,
                                 "best_val_score": v, "test_at_best_val": v - 0.01, "best_val_loss": 1 - v,
                                 "test_at_min_val_loss": v, "max_test": v, "protocol_json": proto})
    return pd.DataFrame(rows)


def test_ground_truth_selects_by_mean_validation_and_keeps_complete_cells():
    q = {"m1": 0.5, "m2": 0.6, "m3": 0.7, "m4": 0.8}
    df = _grid(q)
    gt = benchmark.ground_truth(df)
    assert list(gt.columns) == ["target", "model", "truth"] and len(gt) == 8
    np.testing.assert_allclose(gt[gt.target == "a"].set_index("model").truth.sort_index(),
                               [v + 0.05 - 0.01 for v in q.values()])
    partial = df.drop(df.index[(df.model == "m1") & (df.dataset == "a") & (df.cfg_seed == 2)])
    assert len(benchmark.ground_truth(partial)) == 7  # the incomplete cell is left out
    assert len(benchmark.ground_truth(partial, complete=False)) == 8


def test_ceiling_is_one_without_noise_and_drops_with_it():
    q = {f"m{i}": 0.5 + 0.02 * i for i in range(8)}
    clean = benchmark.ceiling(_grid(q))
    assert clean.ceiling.tolist() == pytest.approx([1.0, 1.0]) and clean.n_seeds.tolist() == [3, 3]
    noisy = benchmark.ceiling(_grid(q, noise=0.05))
    assert (noisy.ceiling < 0.9).all() and (noisy.ceiling_min <= noisy.ceiling).all()
    # another agreement measure: ITM's eq. 1 tau_w, computed pair by pair from the single-seed truths
    df = _grid(q, noise=0.05, rng=np.random.default_rng(3))
    itm = benchmark.ceiling(df, stat="weighted_tau_itm").set_index("target")
    from tecore.evaluate import weighted_tau_itm
    g = {s: benchmark.ground_truth(df, seeds=[s]).query("target == 'a'").set_index("model").truth for s in (0, 1, 2)}
    expect = np.mean([weighted_tau_itm(g[a].to_numpy(), g[b].reindex(g[a].index).to_numpy())
                      for a, b in [(0, 1), (0, 2), (1, 2)]])
    assert itm.loc["a", "ceiling"] == pytest.approx(expect)
    assert itm.loc["a", "ceiling"] != pytest.approx(benchmark.ceiling(df).set_index("target").loc["a", "ceiling"])
    with pytest.raises(ValueError, match="unknown statistic"):
        benchmark.ceiling(df, stat="kendal")


def test_ceiling_by_seeds_pairs_disjoint_seed_sets_and_grows_with_seeds():
    q = {f"m{i}": 0.5 + 0.01 * i for i in range(30)}
    clean = benchmark.ceiling_by_seeds(_grid(q))
    assert clean[["seeds_a", "seeds_b", "n_pairs"]].drop_duplicates().values.tolist() == [[1, 1, 3], [1, 2, 3]]
    assert clean.ceiling.tolist() == pytest.approx([1.0] * 4)
    df = _grid(q, noise=0.03, rng=np.random.default_rng(1))
    by = benchmark.ceiling_by_seeds(df)
    one = by[(by.seeds_a == 1) & (by.seeds_b == 1)].set_index("target")
    # the "1 vs 1" rows are the ceiling()
    np.testing.assert_allclose(one.ceiling, benchmark.ceiling(df).set_index("target").ceiling)
    two = by[(by.seeds_a == 1) & (by.seeds_b == 2)].set_index("target")
    assert (two.ceiling > one.ceiling).all()  # averaging two seeds removes noise from one side
    assert (by.ceiling_min <= by.ceiling).all() and (by.ceiling <= by.ceiling_max).all()
    four = benchmark.ceiling_by_seeds(_grid(q, noise=0.03, seeds=(0, 1, 2, 3)))
    assert {(a, b) for a, b in zip(four.seeds_a, four.seeds_b)} == {(1, 1), (1, 2), (1, 3), (2, 2)}
    assert four[(four.seeds_a == 2) & (four.seeds_b == 2)].n_pairs.tolist() == [3, 3]  # {01|23}, {02|13}, {03|12}


def test_compare_protocols_sets_two_versions_side_by_side():
    early, final = benchmark.EARLY_CHECKPOINT, benchmark.FINAL_CHECKPOINT
    old = benchmark.PROTOCOL.replace(name="old", grid={"lr": (1e-4, 1e-3), "weight_decay": (1e-2,)}, seeds=(0, 1))
    q_old = {early: 0.79, final: 0.8, "m1": 0.6, "m2": 0.7}
    q_new = {early: 0.7, final: 0.8, "m1": 0.6, "m2": 0.75}
    prev = _grid(q_old, noise=0.02, seeds=(0, 1), protocol=old, rng=np.random.default_rng(2))
    cur = _grid(q_new, noise=0.0, targets=("b", "a"))
    c = benchmark.compare_protocols(prev, cur, targets=["b", "a", "z"])
    assert list(c.ceilings.index) == ["b", "a"] and list(c.ceilings.columns) == ["v1", "v2"]
    np.testing.assert_allclose(c.ceilings["v2"], [1.0, 1.0])  # no noise: seeds agree
    np.testing.assert_allclose(c.ceilings["v1"], benchmark.ceiling(prev).set_index("target").ceiling.loc[["b", "a"]])
    # the first rate of each grid is the better one in _grid: v1 picks 1e-4, below its top rate 1e-3
    assert c.picked.loc[("v1", "a"), 1e-4] == 4 and c.picked.loc[("v1", "a"), 1e-3] == 0
    assert c.picked.loc[("v2", "b"), benchmark.PROTOCOL.grid["lr"][0]] == 4
    assert c.top_rate == {"v1": (0, 8), "v2": (8, 8)}
    assert list(c.checkpoints.index) == ["b", "a"]
    np.testing.assert_allclose(c.lead["v2"], [0.1, 0.1])
    np.testing.assert_allclose(c.lead["v1"], [0.01, 0.01], atol=0.05)  # seed noise of the first grid
    # a grid without the two checkpoints: nothing invented
    c2 = benchmark.compare_protocols(prev, _grid({"m1": 0.6, "m2": 0.7, "m3": 0.8}))
    assert c2.checkpoints is None and c2.lead == {}
    assert list(c2.ceilings.index) == ["a", "b"]
    with pytest.raises(ValueError, match="two different labels"):
        benchmark.compare_protocols(prev, cur, names=("v", "v"))
    with pytest.raises(ValueError, match="empty"):
        benchmark.compare_protocols(prev.iloc[:0], cur)


def test_read_results_concatenates_a_folder(tmp_path):
    df = _grid({"m1": 0.5, "m2": 0.6, "m3": 0.7})
    df[df.dataset == "a"].to_csv(tmp_path / "a__z.csv", index=False)
    df[df.dataset == "b"].to_csv(tmp_path / "b__z.csv", index=False)
    assert len(benchmark.read_results(tmp_path)) == len(df)
    assert len(benchmark.read_results(tmp_path / "a__z.csv")) == len(df) // 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no fine-tuning results"):
        benchmark.read_results(tmp_path / "empty")


def _corr(values):
    return pd.DataFrame([{"target": t, "metric": m, "weighted_tau": v}
                         for m, per_t in values.items() for t, v in zip("abc", per_t)])


def test_claim_verdicts_follow_the_numbers():
    corr = _corr({"logme": [0.5, 0.5, 0.5], "ped+logme": [0.6, 0.4, 0.7], "sfda": [0.5, 0.6, 0.5],
                  "ped+sfda": [0.4, 0.5, 0.5], "gbc": [0.9, 0.9, 0.9], "leep": [0.1, 0.2, 0.3],
                  "lp": [0.3, 0.3, 0.3], "lp_fu": [0.4, 0.4, 0.4]})
    empty = pd.DataFrame(columns=["target", "model", "metric", "score"])
    truth = pd.DataFrame(columns=["target", "model", "truth"])
    groups = pd.DataFrame(columns=["model", "architecture", "pretraining"])
    c = benchmark.claims(corr, empty, truth, groups=groups).set_index("claim")["verdict"]
    assert c["PED+logme ranks better than logme"] == "reproduced"  # mean 0.567 > 0.5, 2 of 3 targets
    assert c["PED+sfda ranks better than sfda"] == "not reproduced"
    assert c["PED+nleep ranks better than nleep"] == "not testable here"
    assert c["LP x FU ranks better than LP alone"] == "reproduced"
    assert c["LP x FU ranks better than the baselines"] == "not reproduced"  # gbc 0.9
    assert c["GBC ranks better than LEEP, N-LEEP, H-score and LogME"] == "reproduced"
    assert set(c.values) <= set(benchmark.VERDICTS)
    assert (c.filter(like="static metrics") == "not testable here").all()
    only = benchmark.claims(_corr({"lp": [0.1] * 3, "lp_fu": [0.2] * 3}), empty, truth, groups=groups)
    only = only.set_index("claim")["verdict"]
    assert only["LP x FU ranks better than LP alone"] == "reproduced"
    assert only["LP x FU ranks better than the baselines"] == "not testable here"
    # a ground truth that does not agree with itself cannot judge a metric
    noisy = pd.DataFrame({"target": ["a", "b", "c"], "ceiling": [0.6, 0.7, 0.79]})
    gated = benchmark.claims(corr, empty, truth, groups=groups, ceiling=noisy)
    assert (gated.verdict == "not testable here").all()
    assert gated.evidence.str.startswith("no target's ground-truth ceiling reaches 0.8").all()
    one = pd.DataFrame({"target": ["a", "b", "c"], "ceiling": [0.9, 0.7, 0.7]})  # only a counts
    c1 = benchmark.claims(corr, empty, truth, groups=groups, ceiling=one).set_index("claim")
    assert c1.loc["PED+logme ranks better than logme", "evidence"].startswith("0.600 vs 0.500; better on 1 of 1")
    # a difference within the margin is a tie: not reproduced, and the evidence says so
    close = _corr({"lp": [0.30] * 3, "lp_fu": [0.33] * 3, "logme": [0.5] * 3, "ped+logme": [0.52, 0.53, 0.51]})
    tie = benchmark.claims(close, empty, truth, groups=groups).set_index("claim")
    assert tie.loc["LP x FU ranks better than LP alone", "verdict"] == "not reproduced"
    assert "a tie: within the margin 0.05" in tie.loc["LP x FU ranks better than LP alone", "evidence"]
    assert tie.loc["PED+logme ranks better than logme", "verdict"] == "not reproduced"
    strict = benchmark.claims(close, empty, truth, groups=groups, margin=0).set_index("claim")["verdict"]
    assert strict["LP x FU ranks better than LP alone"] == "reproduced"
    assert strict["PED+logme ranks better than logme"] == "reproduced"
    assert benchmark.claims(close, empty, truth, groups=groups, margin=0.01).set_index("claim").loc[
        "LP x FU ranks better than LP alone", "verdict"] == "reproduced"
    for bad in (-0.1, "0.05", True, 3):
        with pytest.raises(ValueError, match="margin"):
            benchmark.claims(close, empty, truth, groups=groups, margin=bad)


def test_itm_claim_compares_homogeneous_and_mixed_pools():
    models = [f"cnn{i}" for i in range(5)] + ["vit0", "vit1"]
    groups = pd.DataFrame({"model": models, "architecture": ["CNN"] * 5 + ["ViT"] * 2,
                           "pretraining": "supervised"})
    rows, truth = [], []
    for t in "ab":
        for i, m in enumerate(models):
            acc = 0.5 + 0.05 * i
            truth.append({"target": t, "model": m, "truth": acc})
            rows.append({"target": t, "model": m, "metric": "logme", "score": -acc if m.startswith("vit") else acc})
    c = benchmark.claims(pd.DataFrame(columns=["target", "metric", "weighted_tau"]), pd.DataFrame(rows),
                         pd.DataFrame(truth), groups=groups)
    arch = c[c.claim.str.contains("architectures")].iloc[0]
    assert arch.verdict == "reproduced" and "1.000 (CNN only)" in arch.evidence
    assert c[c.claim.str.contains("pretraining")].verdict.iloc[0] == "not testable here"


def test_a_tagged_process_adopts_runs_finished_elsewhere(tmp_path):
    df = _grid({"m1": 0.5, "m2": 0.6}, targets=("a",))
    df[df.model == "m1"].to_csv(tmp_path / "a__z.csv", index=False)
    dest = tmp_path / "a__z__t.csv"
    benchmark._adopt_finished_runs(tmp_path, dest, "a", "m1")
    got = pd.read_csv(dest)
    assert sorted(got.run_key) == sorted(df[df.model == "m1"].run_key)
    benchmark._adopt_finished_runs(tmp_path, dest, "a", "m1")  # idempotent
    assert len(pd.read_csv(dest)) == len(got)
    benchmark._adopt_finished_runs(tmp_path, tmp_path / "a__z__u.csv", "a", "m2")  # nothing to adopt
    assert not (tmp_path / "a__z__u.csv").exists()
    assert len(benchmark.read_results(tmp_path)) == len(got)  # duplicates count once


def test_run_finetune_adds_replicates_with_other_seeds(tmp_path, monkeypatch):
    from tecore import finetune

    seen = []

    def fake_run_grid(models, train, val, test, protocol, *, dataset, out, **kw):
        seen.append((dataset, list(models), protocol.seeds, protocol.name, Path(out).name))
        _grid({"m": 0.5}, seeds=protocol.seeds, targets=(dataset,)).to_csv(out, index=False)

    monkeypatch.setattr(finetune, "run_grid", fake_run_grid)
    benchmark.run_finetune(tmp_path, models_=["fmnist/resnet_sup"], targets=("digits",), seeds=[3, 4], tag="more")
    assert seen == [("digits", ["fmnist/resnet_sup"], (3, 4), benchmark.PROTOCOL.name,
                     "digits__offline-trained__more.csv")]
    benchmark.run_finetune(tmp_path, models_=["fmnist/resnet_sup"], targets=("digits",))
    assert seen[-1][2] == benchmark.PROTOCOL.seeds
