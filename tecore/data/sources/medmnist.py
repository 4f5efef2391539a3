"""MedMNIST v2 (Yang et al. 2023): the official ``.npz`` files, MD5-checked."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tecore.data.dataset import Dataset
from tecore.data.places import (DatasetIntegrityError, DatasetNotFoundError, _bases, _how_to_get,
                                 _md5_cached, data_dir)
from tecore.data.registry import MEDMNIST_SIZES

def _medmnist_info(flag: str) -> dict:
    try:
        from medmnist import INFO
    except ImportError:  # pragma: no cover - medmnist is a declared dependency
        raise DatasetNotFoundError(
            f"{flag}: the 'medmnist' package is needed for its metadata; pip install medmnist"
        ) from None
    return INFO[flag]


# --------------------------------------------------------------------------------------
# MedMNIST
# --------------------------------------------------------------------------------------
def load(spec, split, *, root=None, size=None, download=False, verify=True) -> Dataset:
    """One split of a MedMNIST set (``size`` 28, 64, 128 or 224; default 28)."""
    flag = spec.name
    info = _medmnist_info(flag)
    size = 28 if size is None else int(size)
    if size not in MEDMNIST_SIZES:
        raise ValueError(f"MedMNIST comes in sizes {MEDMNIST_SIZES}; got size={size}")
    fname = f"{flag}.npz" if size == 28 else f"{flag}_{size}.npz"
    md5 = info["MD5"] if size == 28 else info.get(f"MD5_{size}")
    looked = []
    cands = []
    for b in _bases(root):
        cands += [b / "medmnist" / fname, b / fname]
    cands += [data_dir() / "medmnist" / fname, Path.home() / ".medmnist" / fname]
    path = None
    for c in cands:
        looked.append(str(c))
        if c.is_file():
            path = c
            break
    if path is None and download:
        dest = data_dir() / "medmnist"
        dest.mkdir(parents=True, exist_ok=True)
        try:
            import medmnist

            getattr(medmnist, info["python_class"])(split="train", root=str(dest), size=size,
                                                     download=True)
        except Exception as e:  # network, disk, medmnist API
            raise DatasetNotFoundError(
                f"{flag} ({fname}): download into {dest} failed: {type(e).__name__}: {e}"
            ) from None
        path = dest / fname
    if path is None or not path.is_file():
        raise DatasetNotFoundError(
            f"{flag} (size {size}) not found: looked for {fname} in " + ", ".join(looked)
            + f". {_how_to_get()}; the official file is {info.get('url' if size == 28 else f'url_{size}')}"
        )
    got = None
    if verify and md5:
        got = _md5_cached(path)
        if got != md5:
            raise DatasetIntegrityError(
                f"{path}: MD5 {got} differs from the official {md5} (medmnist.INFO[{flag!r}]); "
                "the file is corrupt or not the official release — delete it and fetch it again"
            )
    try:
        with np.load(path) as z:
            images = z[f"{split}_images"]
            labels = z[f"{split}_labels"]
            n_split = {s: int(z[f"{s}_labels"].shape[0]) for s in ("train", "val", "test")}
    except (KeyError, OSError, ValueError) as e:
        raise DatasetIntegrityError(f"{path}: not a MedMNIST npz ({type(e).__name__}: {e})") from None
    if images.ndim == 3:
        images = images[..., None]
    if info["task"] == "multi-label":
        labels = labels.astype(np.int64)
    else:
        labels = labels.reshape(-1).astype(np.int64)
    classes = tuple(info["label"][k] for k in sorted(info["label"], key=int))
    return Dataset(
        name=flag, split=split, images=np.ascontiguousarray(images), labels=labels, classes=classes,
        indices=np.arange(len(labels), dtype=np.int64),
        meta={"source": str(path), "md5": got or md5, "size": size, "task": info["task"],
              "n_split": n_split, "license": info.get("license")},
    )


