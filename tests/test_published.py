"""Published-artifact registry: mirror lookup, hash verification, loaders, re-derived ground truth."""
import shutil

import numpy as np
import pytest

from tecore.papers import medical as M
from tecore.papers import published as P


def test_registry_lists_every_mirrored_file_with_hash_and_provenance():
    reg = P.registry()
    assert len(reg) == 51
    assert all(len(e["sha256"]) == 64 and e["source_commit"] for e in reg.values())
    # files copied unchanged have the raw URL at the recorded commit; derived files have none
    assert reg["medical/results/lp_model.csv"]["url"].startswith(
        "https://raw.githubusercontent.com/DovileDo/transferability-in-medical-imaging/7e308c49")
    assert reg["sfda/gt_selfsup12.csv"]["url"] == ""


def test_fetch_verifies_hash_and_explains_missing(tmp_path):
    name = "etran/scores_cifar100.csv"
    good = P.fetch(name)
    (tmp_path / "etran").mkdir()
    bad = tmp_path / name
    bad.write_bytes(good.read_bytes() + b"\n")
    with pytest.raises(ValueError, match="sha256"):
        P.fetch(name, mirror=tmp_path)
    with pytest.raises(P.PublishedNotFoundError, match="derived from mgholamikn/ETran"):
        P.fetch("etran/scores_cifar100.csv", mirror=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="valid names"):
        P.fetch("nope.csv")
    shutil.copy(good, bad)
    assert P.fetch(name, mirror=tmp_path) == bad


def test_loaders_shapes_and_values():
    st = P.stable_transfer_table()
    assert st.shape == (1710, 6)
    assert set(st["Transferability Metric"]) == {"gbc", "leep", "nleep", "logme", "hscore"}
    gt = P.sfda_ground_truth("selfsup12")
    assert gt.shape == (132, 3) and list(gt.columns) == ["target", "model", "truth"]
    assert gt.query("target == 'aircraft' and model == 'byol'")["truth"].item() == 82.1
    with pytest.raises(ValueError, match="valid groups"):
        P.sfda_ground_truth("nope")
    assert len(P.parc_oracles("all")) == 469 - 10  # the -1 sentinels dropped
    assert (P.ncti_ground_truth()["truth"] > 0).all()
    et = P.etran_cifar100()
    assert list(et.columns) == ["model", "lda", "energy", "truth"] and len(et) == 11
    ranks = M.rank_file("dataset")
    assert list(ranks.columns) == ["logme", "sfda", "leep", "parc", "ncti", "nleep", "lp_fu"]
    assert ranks.loc["bloodmnist", "lp_fu"] == 1
    sc = M.scores("dataset", ["lp", "fu"])
    assert list(sc.columns) == ["target", "model", "metric", "score"]
    assert not (sc["model"] == sc["target"]).any()
    assert set(sc["metric"]) == {"lp", "fu"}
    assert M.TARGETS is __import__("tecore.data", fromlist=["x"]).MEDICAL_TARGETS  # one owner


@pytest.mark.parametrize("experiment,n", [("dataset", 168), ("model", 88)])
def test_ground_truth_rederived_from_sweeps_matches_published(experiment, n):
    pub = M.auc(experiment)
    re = M.truth_from_sweeps(experiment)
    assert list(pub.columns) == list(re.columns) == ["target", "model", "truth"]
    m = pub.merge(re, on=["target", "model"], suffixes=("_pub", "_re"))
    assert len(m) == n
    np.testing.assert_allclose(m["truth_re"], m["truth_pub"], rtol=0, atol=1e-12)


def test_medical_source_sizes_order_fig4():
    sizes = M.source_sizes()
    assert sizes.is_monotonic_increasing and set(sizes.index) == set(M.auc("dataset")["model"])
    # the sizes the paper quotes next to its Fig. 4 (Juodelyte et al., text on Fig. 4)
    assert sizes["breastmnist"] == 546 and sizes["organsmnist"] == 13_932
    assert sizes.index[0] == "breastmnist" and list(sizes.index[-3:]) == ["medmnist", "imagenet", "radimagenet"]
    # leave-target-out MedMNIST: "less than half" of RadImageNet (same text)
    assert sizes["medmnist"] < sizes["radimagenet"] / 2
    assert M.source_sizes("pathmnist")["medmnist"] == sizes["medmnist"] - sizes["pathmnist"]
    with pytest.raises(ValueError, match="target='imagenet'"):
        M.source_sizes("imagenet")


def test_medical_fig4_table_and_size_statistics():
    table, st = M.fig4()
    assert list(table.index) == [m for m in M.source_sizes().index if m in table.index]  # smallest first
    assert table["train_images"].is_monotonic_increasing
    # the paper's example (text on Fig. 4): Breast beats OrganS on 7 of the 9 other targets
    assert (st["breast_wins"], st["breast_n"]) == (7, 9)
    assert st["n_single"] == 12 and st["n_sources"] == len(table) > st["n_single"]
    assert -1 <= st["rho"] <= 1 and -1 <= st["rho_single"] <= 1
    sub, st2 = M.fig4(["breastmnist", "pneumoniamnist"])
    assert list(sub.columns) == ["train_images", "breastmnist", "pneumoniamnist"] and st2["breast_n"] == 1
