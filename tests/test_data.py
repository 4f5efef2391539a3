"""tecore.data: real files (MedMNIST mirror, Debian Fashion-MNIST, sklearn digits), user
folders/.npz generated in tmp_path, subsampling determinism, and the errors."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tecore import data
from tecore.data.sources import fashion as fashion_source
from tecore.data import DatasetIntegrityError, DatasetNotFoundError

MIRROR = Path(os.environ["TECORE_DATA_MIRROR"].split(os.pathsep)[0])


@pytest.fixture(autouse=True)
def _no_user_caches(tmp_path, monkeypatch):
    # never find (or write) files in the user's own download cache during tests
    monkeypatch.setenv("TECORE_DATA_DIR", str(tmp_path / "download-cache"))
    monkeypatch.delenv("TECORE_DOWNLOAD", raising=False)


# ------------------------------------------------------------------ MedMNIST (mirror)
@pytest.mark.parametrize("flag, sizes, counts, shape", [
    # split sizes = medmnist INFO n_samples; label counts from shared/data/README.md
    ("breastmnist", (546, 78, 156), ([147, 399], [21, 57], [42, 114]), (28, 28, 1)),
    ("retinamnist", (1080, 120, 400), ([486, 128, 206, 194, 66], [54, 12, 28, 20, 6],
                                       [174, 46, 92, 68, 20]), (28, 28, 3)),
])
def test_medmnist_from_mirror(flag, sizes, counts, shape):
    for split, n, cnt in zip(("train", "val", "test"), sizes, counts):
        ds = data.load(flag, split)
        assert ds.split == split and len(ds) == n
        assert ds.images.shape == (n,) + shape and ds.images.dtype == np.uint8
        assert ds.labels.shape == (n,) and ds.labels.dtype == np.int64
        assert np.bincount(ds.labels).tolist() == cnt
        assert ds.n_classes == len(cnt)
        assert ds.meta["source"].startswith(str(MIRROR))
        np.testing.assert_array_equal(ds.indices, np.arange(n))
    from medmnist import INFO

    assert ds.meta["md5"] == INFO[flag]["MD5"]  # verified against the official MD5


def test_medmnist_content_and_names():
    ds = data.load("breast")  # alias, default split = train
    assert ds.name == "breastmnist" and ds.split == "train"
    assert ds.classes == ("malignant", "normal, benign")
    # pixels as stored in the official file
    assert ds.images[0, :2, :4, 0].tolist() == [[139, 139, 138, 139], [84, 92, 94, 84]]
    raw = np.load(MIRROR / "medmnist" / "breastmnist.npz")
    np.testing.assert_array_equal(ds.images[..., 0], raw["train_images"])
    np.testing.assert_array_equal(ds.labels, raw["train_labels"][:, 0])


def test_medmnist_bad_size_and_split():
    with pytest.raises(ValueError, match=r"sizes \(28, 64, 128, 224\)"):
        data.load("breastmnist", size=32)
    with pytest.raises(ValueError, match="valid splits: train, val, test"):
        data.load("breastmnist", "validation")


def test_medmnist_missing_size_says_where_it_looked():
    with pytest.raises(DatasetNotFoundError) as e:
        data.load("breastmnist", size=224)
    msg = str(e.value)
    assert "breastmnist_224.npz" in msg and str(MIRROR) in msg and "download=True" in msg
    assert isinstance(e.value, FileNotFoundError)


def test_medmnist_corrupt_file_is_rejected(tmp_path):
    d = tmp_path / "mirror" / "medmnist"
    d.mkdir(parents=True)
    blob = bytearray((MIRROR / "medmnist" / "breastmnist.npz").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (d / "breastmnist.npz").write_bytes(bytes(blob))
    with pytest.raises(DatasetIntegrityError, match="MD5"):
        data.load("breastmnist", root=tmp_path / "mirror")


def test_root_is_searched_first(tmp_path):
    d = tmp_path / "m" / "medmnist"
    d.mkdir(parents=True)
    shutil.copy(MIRROR / "medmnist" / "breastmnist.npz", d / "breastmnist.npz")
    ds = data.load("breastmnist", "val", mirror=tmp_path / "m")
    assert ds.meta["source"] == str(d / "breastmnist.npz") and len(ds) == 78


# ------------------------------------------------------------------ subsampling
def test_per_class_counts_sorted_and_deterministic():
    full = data.load("retinamnist", "train")
    with pytest.warns(UserWarning, match=r"class 4 \(66\)"):
        a = data.load("retinamnist", "train", per_class=100, seed=0)
    assert np.bincount(a.labels).tolist() == [100, 100, 100, 100, 66]
    assert np.all(np.diff(a.indices) > 0)
    np.testing.assert_array_equal(full.labels[a.indices], a.labels)
    np.testing.assert_array_equal(full.images[a.indices], a.images)
    with pytest.warns(UserWarning):
        b = data.load("retinamnist", "train", per_class=100, seed=0)
    np.testing.assert_array_equal(a.indices, b.indices)
    c = data.load("retinamnist", "train", per_class=20, seed=1)
    d = data.load("retinamnist", "train", per_class=20, seed=2)
    assert not np.array_equal(c.indices, d.indices)
    assert a.meta["per_class"] == 100 and a.meta["seed"] == 0


def test_per_class_pinned_values():
    # pinned so a change of NumPy, platform or algorithm shows up (values from this code,
    # which only uses default_rng(seed).random, a stream NumPy keeps stable)
    b = data.load("breastmnist", per_class=100, seed=0)
    assert b.indices[:8].tolist() == [3, 4, 6, 8, 9, 12, 13, 14]
    assert b.indices[-4:].tolist() == [535, 536, 544, 545]
    r = data.load("retinamnist", per_class=20, seed=7)
    assert r.indices[:8].tolist() == [3, 6, 8, 9, 14, 53, 62, 76]


def test_subsample_per_class_independent_formulation():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, size=300)
    got = data.subsample_per_class(y, 10, seed=3)
    r = np.random.default_rng(3)
    exp = []
    for c in range(4):
        idx = [i for i in range(len(y)) if y[i] == c]
        keys = r.random(len(idx))
        order = sorted(range(len(idx)), key=lambda j: (keys[j], j))
        exp += [idx[j] for j in order[:10]]
    assert got.tolist() == sorted(exp)
    with pytest.raises(ValueError, match="per_class must be an integer >= 1"):
        data.subsample_per_class(y, 0)


def test_official_fold_matches_legacy_numpy_global_stream():
    # independent formulation: the official script uses the *global* legacy generator
    state = np.random.get_state()
    try:
        np.random.seed(24)
        ref = []
        for _ in range(3):
            tr = np.random.choice(546, 200, replace=False)
            va = np.random.choice(78, 50, replace=False)
            ref.append((tr, va))
    finally:
        np.random.set_state(state)
    for k in (1, 3):
        tr, va = data.official_fold_indices(546, 78, 2, k)
        np.testing.assert_array_equal(tr, ref[k - 1][0])
        np.testing.assert_array_equal(va, ref[k - 1][1])


def test_load_fold():
    full = data.load("breastmnist", "train")
    f1 = data.load("breastmnist", "train", fold=1)
    assert len(f1) == 200 and f1.meta["fold"] == 1
    np.testing.assert_array_equal(f1.labels, full.labels[f1.indices])
    assert not np.all(np.diff(f1.indices) > 0)  # official random order is kept
    assert len(data.load("breastmnist", "val", fold=1)) == 50
    assert len(data.load("retinamnist", "val", fold=2)) == 120  # 120 <= 125: whole split
    assert len(data.load("retinamnist", "test", fold=2)) == 400
    with pytest.raises(ValueError, match="one"):
        data.load("breastmnist", per_class=10, fold=1)
    with pytest.raises(ValueError, match="not a MedMNIST"):
        data.load("digits", fold=1)


# ------------------------------------------------------------------ Fashion-MNIST (Debian)
def test_fashion_mnist_from_debian_package():
    d = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    assert Path(d, "t10k-labels-idx1-ubyte.gz").is_file(), (
        f"Fashion-MNIST files missing in {d}: install the Debian package "
        "'dataset-fashion-mnist' (.ci/run does) or set FASHION_MNIST_DIR")
    te = data.load("fashion-mnist", "test")
    assert te.images.shape == (10000, 28, 28, 1) and te.images.dtype == np.uint8
    assert np.bincount(te.labels).tolist() == [1000] * 10
    assert te.labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert te.classes[9] == "Ankle boot"
    tr = data.load("fashionmnist", per_class=5, seed=0)
    assert len(tr) == 50 and np.bincount(tr.labels).tolist() == [5] * 10
    assert tr.meta["source"] == d


def test_fashion_mnist_missing_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path / "nothing"))
    monkeypatch.setattr(fashion_source, "FASHION_SYSTEM_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("TECORE_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist") as e:
        data.load("fashion-mnist", "test")
    assert str(tmp_path / "nothing") in str(e.value)


def test_fashion_mnist_corrupt_file(tmp_path, monkeypatch):
    import gzip

    src = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    d = tmp_path / "fm"
    d.mkdir()
    raw = bytearray(gzip.decompress((src / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    (d / "t10k-labels-idx1-ubyte").write_bytes(bytes(raw))  # uncompressed files are accepted too
    shutil.copy(src / "t10k-images-idx3-ubyte.gz", d)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(d))
    with pytest.raises(DatasetIntegrityError, match="MD5"):
        data.load("fashion-mnist", "test")
    assert len(data.load("fashion-mnist", "test", verify=False)) == 10000


# ------------------------------------------------------------------ digits
def test_digits():
    from sklearn.datasets import load_digits

    ds = data.load("digits")
    ref = load_digits()
    assert ds.split == "all" and ds.images.shape == (1797, 8, 8, 1)
    np.testing.assert_array_equal(ds.labels, ref.target)
    np.testing.assert_array_equal(ds.images[..., 0], np.rint(ref.images * 255 / 16).astype(np.uint8))
    big = data.load("digits", size=16, per_class=3)
    assert big.images.shape == (30, 16, 16, 1)


# ------------------------------------------------------------------ user data
def _write_folder(root: Path, classes=("cat", "dog"), n=(3, 2), sizes=((10, 12), (8, 8))):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, k in zip(classes, n):
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(k):
            w, h = sizes[i % len(sizes)]
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / c / f"{i}.png")


def test_imagefolder(tmp_path):
    _write_folder(tmp_path / "pets")
    ds = data.load(str(tmp_path / "pets"))
    assert ds.split == "all" and ds.lazy and len(ds) == 5
    assert ds.classes == ("cat", "dog") and ds.labels.tolist() == [0, 0, 0, 1, 1]
    assert ds.images[0].shape == (12, 10, 3) and ds.images[0].dtype == np.uint8
    from PIL import Image

    np.testing.assert_array_equal(ds.images[0], np.asarray(Image.open(tmp_path / "pets" / "cat" / "0.png")))
    with pytest.raises(ValueError, match="differ in size"):
        np.asarray(ds.images)
    rs = data.load(f"imagefolder:{tmp_path / 'pets'}", size=6, per_class=1, seed=0)
    assert np.asarray(rs.images).shape == (2, 6, 6, 3) and rs.labels.tolist() == [0, 1]


def test_imagefolder_with_splits(tmp_path, monkeypatch):
    _write_folder(tmp_path / "d" / "train", n=(2, 2))
    _write_folder(tmp_path / "d" / "test", n=(1, 1))
    assert len(data.load(tmp_path / "d")) == 4
    assert len(data.load(tmp_path / "d", "test")) == 2
    with pytest.raises(ValueError, match="splits"):
        data.load(tmp_path / "d", "val")
    monkeypatch.chdir(tmp_path)
    assert len(data.load("d", "test")) == 2  # a relative path without a separator


def test_npz_variants(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (12, 9, 9, 3), dtype=np.uint8)
    y = np.repeat([0, 1, 2], 4)
    np.savez(tmp_path / "a.npz", images=imgs, labels=y)
    a = data.load(str(tmp_path / "a.npz"))
    np.testing.assert_array_equal(a.images, imgs)
    np.testing.assert_array_equal(a.labels, y)
    assert a.split == "all" and a.classes == ("0", "1", "2")
    # NCHW floats in [0, 1], string labels, x/y keys
    np.savez(tmp_path / "b.npz", x=imgs.transpose(0, 3, 1, 2) / 255.0, y=np.array(["b", "a", "c"] * 4))
    b = data.load(f"npz:{tmp_path / 'b.npz'}")
    np.testing.assert_array_equal(b.images, imgs)
    assert b.classes == ("a", "b", "c") and b.labels[:3].tolist() == [1, 0, 2]
    # MedMNIST-style split keys, (N, 1) labels, grayscale
    np.savez(tmp_path / "c.npz", train_images=imgs[:8, ..., 0], train_labels=y[:8, None],
             test_images=imgs[8:, ..., 0], test_labels=y[8:, None])
    c = data.load(tmp_path / "c.npz", "test")
    assert c.images.shape == (4, 9, 9, 1) and c.labels.tolist() == [2, 2, 2, 2]
    assert data.load(tmp_path / "c.npz").split == "train"
    # fingerprints differ when content differs
    assert a.fingerprint() != data.load(tmp_path / "c.npz").fingerprint()


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "bad.npz", pixels=np.zeros((2, 4, 4)), labels=[0, 1])
    with pytest.raises(ValueError, match="need images"):
        data.load(str(tmp_path / "bad.npz"))
    np.savez(tmp_path / "len.npz", images=np.zeros((3, 4, 4), np.uint8), labels=[0, 1])
    with pytest.raises(ValueError, match="do not match"):
        data.load(str(tmp_path / "len.npz"))
    np.savez(tmp_path / "rng.npz", images=np.full((2, 4, 4), 2.0), labels=[0, 1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.load(str(tmp_path / "rng.npz"))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetIntegrityError):
        data.load(str(tmp_path / "junk.npz"))


# ------------------------------------------------------------------ registry + errors
def test_registry_lists_the_papers_sets():
    names = data.list_datasets()
    for n in data.MEDICAL_TARGETS + ("cifar10", "cifar100", "caltech101", "dtd", "aircraft",
                                     "flowers102", "food101", "pets", "cars", "sun397",
                                     "fashion-mnist", "digits"):
        assert n in names
    assert len(data.MEDICAL_TARGETS) == 11
    assert data.get_spec("Oxford-IIIT-Pet").name == "pets"
    assert data.get_spec("pets").splits[0] == "trainval"


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="valid datasets: .*breastmnist.*cifar10"):
        data.load("imagenette")


def test_missing_path():
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        data.load("/no/such/dir/data.npz")


def test_torchvision_set_missing_does_not_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TECORE_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    with pytest.raises(DatasetNotFoundError) as e:
        data.load("cifar10", "test", root=tmp_path / "nowhere")
    msg = str(e.value)
    assert "CIFAR10" in msg and "nowhere" in msg and "download=True" in msg
    assert not (tmp_path / "download-cache" / "cifar-10-batches-py").exists()
    with pytest.raises(ValueError, match="valid splits: all"):
        data.load("caltech101", "train")


def test_torchvision_set_from_local_layout(tmp_path, monkeypatch):
    # a tiny CIFAR-10 in torchvision's own on-disk layout, so the torchvision path is
    # exercised offline (torchvision checks the batch files' MD5s, so it is patched out)
    import pickle

    import torchvision.datasets as tvd

    base = tmp_path / "cifar-10-batches-py"
    base.mkdir()
    rng = np.random.default_rng(0)
    for fname, _ in tvd.CIFAR10.train_list + tvd.CIFAR10.test_list:
        with open(base / fname, "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                         "labels": [0, 1, 2, 3]}, f)
    with open(base / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, f)
    import torchvision.datasets.cifar as tvc

    monkeypatch.setattr(tvc, "check_integrity", lambda *a, **k: True)
    ds = data.load("cifar-10", "train", root=tmp_path)
    assert ds.images.shape == (20, 32, 32, 3) and ds.labels.tolist() == [0, 1, 2, 3] * 5
    assert ds.classes[:2] == ("c0", "c1")


def test_from_arrays():
    imgs = np.random.default_rng(0).integers(0, 256, (6, 5, 5), dtype=np.uint8)
    ds = data.from_arrays(imgs, np.array(["x", "y", "x", "y", "x", "y"]))
    assert ds.images.shape == (6, 5, 5, 1) and ds.classes == ("x", "y")
    assert ds.labels.tolist() == [0, 1, 0, 1, 0, 1]
    assert data.from_arrays(imgs, [0, 1] * 3).fingerprint() != data.from_arrays(imgs[::-1], [0, 1] * 3).fingerprint()
    with pytest.raises(ValueError, match="do not match"):
        data.from_arrays(imgs, [0, 1])


def test_load_train_test_official_and_derived_splits():
    tr, te = data.load_train_test("digits", 5, 3, seed=1)
    assert (tr.split, te.split) == ("train", "test")
    assert np.bincount(tr.labels).tolist() == [5] * 10 and np.bincount(te.labels).tolist() == [3] * 10
    assert not set(tr.indices) & set(te.indices)  # disjoint parts of the one split
    assert "derived_split" in tr.meta and tr.fingerprint() != te.fingerprint()
    tr2, _ = data.load_train_test("digits", 5, 3, seed=1)
    np.testing.assert_array_equal(tr.indices, tr2.indices)
    with pytest.raises(ValueError, match="train_per_class must be an integer >= 1"):
        data.load_train_test("digits", 0, 3)
    mtr, mte = data.load_train_test("breastmnist", 4, 2, seed=0)
    assert (mtr.split, mte.split) == ("train", "test") and "derived_split" not in mtr.meta
    assert np.bincount(mtr.labels).tolist() == [4, 4] and len(mte) == 4


def test_load_train_test_returns_the_counts_asked_for_or_raises():
    # issue 8 part 6, reproducer: digits has 174-183 images per class; load_train_test("digits",
    # 150, 50) returned 24-33 test images per class instead of 50, and with 1000 an empty test set
    with pytest.raises(ValueError, match=r"'digits'.*train_per_class \+ test_per_class = 200.*class 0: 178"):
        data.load_train_test("digits", 150, 50)
    with pytest.raises(ValueError, match="ask for at most 174 per class"):
        data.load_train_test("digits", 1000, 5)
    tr, te = data.load_train_test("digits", 150, 24)  # what exists: exact counts
    assert np.bincount(tr.labels).tolist() == [150] * 10 and np.bincount(te.labels).tolist() == [24] * 10
    # official splits: the test split of BreastMNIST has 42 malignant images
    with pytest.raises(ValueError, match=r"test split.*test_per_class = 50.*class 0: 42"):
        data.load_train_test("breastmnist", 4, 50)


# ---- issue 8 part 4: images keep their values ------------------------------------------------
def _folder_with(tmp_path, writer, n=3):
    for c in ("a", "b"):
        (tmp_path / c).mkdir(parents=True)
        for i in range(n):
            writer(tmp_path / c, i)
    return tmp_path


def test_16bit_png_keeps_its_dynamic_range(tmp_path):
    from PIL import Image

    ramp = (np.arange(64 * 64, dtype=np.float64).reshape(64, 64) / (64 * 64 - 1) * 65535).astype(np.uint16)

    def write(d, i):
        Image.fromarray(ramp).save(d / f"{i}.png")

    ds = data.load(_folder_with(tmp_path, write))
    img = np.asarray(ds.images[0])[..., 0]
    # reproducer: today the 0..65535 PNG loads with 99.6 % of its pixels at 255
    assert (img == 255).mean() < 0.01
    np.testing.assert_array_equal(img, np.rint(ramp / 257.0).astype(np.uint8))
    assert len(np.unique(img)) == 256


def test_float_tiff_in_unit_range_keeps_its_values(tmp_path):
    from PIL import Image

    ramp = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32)

    def write(d, i):
        Image.fromarray(ramp).save(d / f"{i}.tif")

    ds = data.load(_folder_with(tmp_path, write))
    img = np.asarray(ds.images[0])[..., 0]
    # reproducer: today a float TIFF in [0, 1] becomes {0, 1}
    assert len(np.unique(img)) > 200
    np.testing.assert_array_equal(img, np.rint(ramp * 255.0).astype(np.uint8))


def test_float_tiff_out_of_range_is_an_error_not_a_clip(tmp_path):
    from PIL import Image

    def write(d, i):
        Image.fromarray(np.full((8, 8), 300.0, np.float32)).save(d / f"{i}.tif")

    with pytest.raises(ValueError, match=r"0\.tif.*\[0, 1\].*\[300, 300\]"):
        data.load(_folder_with(tmp_path, write))  # at load time, naming the file


def test_16bit_npz_keeps_its_dynamic_range(tmp_path):
    imgs = np.stack([np.full((4, 4), v, np.uint16) for v in (0, 1000, 30000, 65535)])
    p = tmp_path / "x.npz"
    np.savez(p, images=imgs, labels=np.array([0, 1, 0, 1]))
    ds = data.load(p)
    assert ds.images[:, 0, 0, 0].tolist() == [0, 4, 117, 255]


def test_truncated_image_fails_at_load_naming_the_file(tmp_path):
    from PIL import Image

    def write(d, i):
        Image.fromarray(np.full((16, 16, 3), 100 + i, np.uint8)).save(d / f"{i}.png")

    root = _folder_with(tmp_path, write)
    bad = root / "b" / "1.png"
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DatasetIntegrityError, match=r"b/1\.png"):
        data.load(root)


def test_empty_class_folder_is_an_error(tmp_path):
    from PIL import Image

    def write(d, i):
        Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(d / f"{i}.png")

    root = _folder_with(tmp_path, write)
    (root / "c-empty").mkdir()
    with pytest.raises(ValueError, match=r"\['c-empty'\] hold no images"):
        data.load(root)


def test_is_path_is_the_one_path_or_name_rule(tmp_path, monkeypatch):
    from pathlib import Path

    for name in ("digits", "fashion-mnist", "Fashion_MNIST", "not-a-dataset"):
        assert data.is_path(name) is False, name
    for name in ("npz:/x", "imagefolder:/x", Path("x"), "some/dir", "x.npz"):
        assert data.is_path(name) is True, name
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mydata").mkdir()
    assert data.is_path("mydata") is True  # an existing relative folder without a separator
    (tmp_path / "digits").mkdir()
    assert data.is_path("digits") is False  # a registered name wins over a folder of that name
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        data.load("some/missing/folder")
