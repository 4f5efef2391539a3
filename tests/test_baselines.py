"""Baselines (tecore.metrics.baselines): leave-one-out kNN accuracy and ImageNet top-1."""
import csv
import math

import numpy as np
import pytest

from tecore.metrics import MetricUnavailable
from tecore.metrics.baselines import imagenet_top1, knn
from tecore.zoo.top1 import TOP1_FILE, top1_table
from tecore.pool import score_pool
from tests._metric_props import blobs, check_common


@pytest.mark.parametrize("k,metric", [(1, "euclidean"), (5, "euclidean"), (3, "cosine"), (4, "manhattan")])
def test_knn_is_leave_one_out_kneighborsclassifier(k, metric):
    from sklearn.model_selection import LeaveOneOut, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    X, y = blobs(0, 90, 5, 3, spread=0.6)
    want = cross_val_score(KNeighborsClassifier(n_neighbors=k, metric=metric), X, y, cv=LeaveOneOut()).mean()
    assert knn(X, y, n_neighbors=k, metric=metric) == pytest.approx(want, abs=1e-12)


def test_knn_hand_case_and_properties():
    # 1-D: the nearest other point of 0.0 is 0.1 (same class), of 5.0 is 5.2 (same class), of
    # 2.0 is 0.1 (class 0, wrong) -> 4 of 5 right
    X = np.array([[0.0], [0.1], [2.0], [5.0], [5.2]])
    y = np.array([0, 0, 1, 1, 1])
    assert knn(X, y) == pytest.approx(0.8)
    Xb, yb = blobs(1, 120, 8, 4, spread=1.0)
    base = check_common(knn, Xb, yb)
    assert 0.0 <= base <= 1.0
    assert base > knn(Xb, np.random.default_rng(0).permutation(yb))
    assert knn(Xb * 3.0 + 1.0, yb) == pytest.approx(base)  # Euclidean neighbours: scale/shift invariant
    with pytest.raises(ValueError, match="n_neighbors must be smaller"):
        knn(X, y, n_neighbors=5)
    with pytest.raises(ValueError, match="n_neighbors must be an integer"):
        knn(X, y, n_neighbors=0)
    with pytest.raises(ValueError, match="invalid metric 'nope'"):
        knn(X, y, metric="nope")
    with pytest.raises(ValueError, match="classification-only"):
        knn(X, y + 0.25)


def _rows():
    with open(TOP1_FILE, newline="") as fh:
        return list(csv.DictReader(fh))


def test_top1_table_covers_the_zoo_with_sources():
    from tecore import zoo

    rows = _rows()
    names = [r["model"] for r in rows]
    assert len(names) == len(set(names))
    assert set(names) == set(zoo.list_models())
    for r in rows:
        spec = zoo.get_spec(r["model"])
        if r["imagenet_top1"]:
            assert 40.0 < float(r["imagenet_top1"]) < 90.0 and r["source"], r
            # the weights named in the table are the ones the zoo loads (or, for the offline
            # package checkpoints, the published weights of the same architecture)
            if spec.weights.startswith(("torchvision:", "timm:")):
                assert r["weights"] in (spec.weights, spec.arch), r
        else:
            assert r["note"], f"{r['model']}: a model without a top-1 needs a note saying why"


def test_top1_torchvision_rows_match_torchvision_metadata():
    torchvision = pytest.importorskip("torchvision")  # in the [torch] extra
    checked = 0
    for r in _rows():
        if r["weights"].startswith("torchvision:") and r["imagenet_top1"]:
            enum, member = r["weights"].split(":", 1)[1].split(".")
            meta = getattr(getattr(torchvision.models, enum), member).meta
            assert float(r["imagenet_top1"]) == meta["_metrics"]["ImageNet-1K"]["acc@1"], r
            checked += 1
    assert checked >= 20


def test_imagenet_top1_lookup_and_unavailable(zoo_registry):
    assert imagenet_top1("sfda/resnet50") == 76.13
    assert imagenet_top1("torchvision:ResNet50_Weights.IMAGENET1K_V1") == 76.13
    assert imagenet_top1("itm/resnet18") == 69.752
    assert math.isnan(top1_table()["ped/byol"]["imagenet_top1"])
    with pytest.raises(MetricUnavailable, match="self-supervised"):
        imagenet_top1("ped/byol")
    with pytest.raises(MetricUnavailable, match="no ImageNet top-1 recorded for model 'mynet'"):
        imagenet_top1("mynet")
    # a user's model: its own ModelSpec value, else the table row of the weights it loads
    from tecore import zoo

    zoo.register(zoo.ModelSpec(name="test/own", zoo="test-top1", arch="timm:resnet50", weights="file:/x.pth",
                               imagenet_top1=80.5, reference="my paper, Table 1"))
    zoo.register(zoo.ModelSpec(name="test/tv50", zoo="test-top1", arch="torchvision:resnet50",
                               weights="torchvision:ResNet50_Weights.IMAGENET1K_V1"))
    assert imagenet_top1("test/own") == 80.5
    assert zoo.imagenet_top1("test/own")["source"] == "my paper, Table 1"
    assert imagenet_top1("test/tv50") == 76.13
    with pytest.raises(ValueError, match="zoo model name"):
        imagenet_top1(3)


def test_score_pool_baselines_use_model_names_and_note_unknown_top1():
    X, y = blobs(2, 60, 4, 3, spread=1.0)
    pool = {
        "sfda/resnet50": {"features": X, "labels": y},
        "renamed": {"features": X * 2, "labels": y, "meta": {"model": "sfda/densenet121"}},
        "ped/swav": {"features": X + 1, "labels": y},
    }
    with pytest.warns(UserWarning, match="ped/swav/imagenet_top1"):
        df = score_pool(pool, ["imagenet_top1", "knn"], progress=False)
    top1 = df[df.metric == "imagenet_top1"].set_index("model")
    assert top1.loc["sfda/resnet50", "score"] == 76.13
    assert top1.loc["renamed", "score"] == 74.434
    assert math.isnan(top1.loc["ped/swav", "score"])
    assert top1.loc["ped/swav", "note"].startswith("unavailable: ImageNet top-1 unknown for 'ped/swav'")
    kn = df[df.metric == "knn"].set_index("model")["score"]
    assert kn["sfda/resnet50"] == pytest.approx(knn(X, y))
