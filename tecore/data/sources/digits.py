"""scikit-learn's bundled digits (no download)."""
from __future__ import annotations

import numpy as np

from tecore.data.dataset import Dataset, _resize_array

# --------------------------------------------------------------------------------------
# scikit-learn digits
# --------------------------------------------------------------------------------------
def load(spec, split, *, root=None, size=None, download=False, verify=True) -> Dataset:
    """scikit-learn's 1797 8x8 digits, gray levels 0..16 scaled to 0..255."""
    from sklearn.datasets import load_digits

    d = load_digits()
    # 0..16 gray levels -> 0..255
    images = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    images = _resize_array(images, size)
    labels = d.target.astype(np.int64)
    return Dataset(name=spec.name, split=split, images=images, labels=labels,
                   classes=tuple(str(c) for c in range(10)), indices=np.arange(len(labels)),
                   meta={"source": "sklearn.datasets.load_digits", "size": size})

