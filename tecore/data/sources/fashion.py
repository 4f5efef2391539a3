"""Fashion-MNIST: Debian's ``dataset-fashion-mnist``, a mirror, or torchvision's download."""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

from tecore.data.dataset import Dataset, _resize_array
from tecore.data.places import (DatasetIntegrityError, DatasetNotFoundError, _bases, _how_to_get,
                                 data_dir, mirror_dirs)

#: Where Debian's ``dataset-fashion-mnist`` package puts the four files.
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
# MD5s of the four official files *after decompression* (the Debian package re-compresses
# them, so the .gz bytes differ from the official .gz whose MD5s torchvision lists in
# FashionMNIST.resources; the decompressed bytes are identical). Values: md5sum of the
# gunzipped official files, as listed e.g. in the `raw_data` table of several public
# FashionMNIST loaders; checked equal to Debian's dataset-fashion-mnist 0.0~git20200523.
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a",
              "train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"),
    "test": ("t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a",
             "t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"),
}


# --------------------------------------------------------------------------------------
# Fashion-MNIST
# --------------------------------------------------------------------------------------
def _read_idx(path: Path, md5: str | None = None) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DatasetIntegrityError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if md5 is not None and hashlib.md5(raw).hexdigest() != md5:
        raise DatasetIntegrityError(
            f"{path}: MD5 of the decompressed content is {hashlib.md5(raw).hexdigest()}, not the "
            f"official {md5}; the file is corrupt — reinstall dataset-fashion-mnist or re-download")
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetIntegrityError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DatasetIntegrityError(f"{path}: truncated IDX file ({data.size} of {np.prod(dims)} bytes)")
    return data.reshape(tuple(dims))


def _find_idx(d: Path, stem: str) -> Path | None:
    for cand in (d / f"{stem}.gz", d / stem):
        if cand.is_file():
            return cand
    return None


def load(spec, split, *, root=None, size=None, download=False, verify=True) -> Dataset:
    """One split of Fashion-MNIST from the first place that has the four IDX files."""
    img_stem, img_md5, lab_stem, lab_md5 = _FASHION_FILES[split]
    dirs = []
    for b in _bases(root)[:1] if root is not None else []:
        dirs += [b / "fashion-mnist", b, b / "FashionMNIST" / "raw"]
    if os.environ.get("FASHION_MNIST_DIR"):
        dirs.append(Path(os.environ["FASHION_MNIST_DIR"]))
    dirs.append(FASHION_SYSTEM_DIR)
    for m in mirror_dirs():
        dirs += [m / "fashion-mnist", m / "FashionMNIST" / "raw"]
    dirs += [data_dir() / "fashion-mnist", data_dir() / "FashionMNIST" / "raw"]
    found = None
    for d in dirs:
        ip, lp = _find_idx(d, img_stem), _find_idx(d, lab_stem)
        if ip and lp:
            found = (ip, lp)
            break
    if found is None and download:
        try:
            from torchvision.datasets import FashionMNIST

            FashionMNIST(str(data_dir()), train=(split == "train"), download=True)
        except Exception as e:
            raise DatasetNotFoundError(f"fashion-mnist: download into {data_dir()} failed: "
                                       f"{type(e).__name__}: {e}") from None
        d = data_dir() / "FashionMNIST" / "raw"
        ip, lp = _find_idx(d, img_stem), _find_idx(d, lab_stem)
        found = (ip, lp) if ip and lp else None
    if found is None:
        raise DatasetNotFoundError(
            f"fashion-mnist ({split}): {img_stem}[.gz] and {lab_stem}[.gz] not found in "
            + ", ".join(str(d) for d in dirs)
            + ". Install the Debian package (apt-get install dataset-fashion-mnist, files in "
              "/usr/share/datasets/fashion-mnist), point $FASHION_MNIST_DIR at the four files, or "
            + _how_to_get()
        )
    ip, lp = found
    images = _read_idx(ip, img_md5 if verify else None)[..., None]
    labels = _read_idx(lp, lab_md5 if verify else None).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetIntegrityError(f"{ip} has {len(images)} images but {lp} has {len(labels)} labels")
    images = _resize_array(images, size)
    return Dataset(name=spec.name, split=split, images=images, labels=labels, classes=FASHION_CLASSES,
                   indices=np.arange(len(labels), dtype=np.int64),
                   meta={"source": str(ip.parent), "size": size, "files": [ip.name, lp.name]})

