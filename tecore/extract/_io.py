"""Images in, arrays out: the torch-style view of a dataset, the DataLoader, the model's output
split into (features, logits), and deterministic cuDNN. Shared by features and probe."""
from __future__ import annotations

import contextlib

import numpy as np

from tecore._device import threads

def _split_output(out):
    """``model(x)`` -> (features, logits | None); a bare tensor is taken as features."""
    import torch

    if isinstance(out, torch.Tensor):
        feats, logits = out, None
    elif isinstance(out, (tuple, list)) and len(out) == 2:
        feats, logits = out
    elif isinstance(out, dict) and "features" in out:
        feats, logits = out["features"], out.get("logits")
    else:
        raise ValueError("model(x) must return (features, logits | None); got "
                         f"{type(out).__name__}")
    if feats.ndim > 2:
        feats = feats.flatten(1)
    return feats, logits


class _View:
    """A torch-style dataset: ``view[i] -> (preprocess(PIL image), i)``."""

    def __init__(self, images, preprocess, mode: str = "RGB"):
        self.images = images
        self.preprocess = preprocess
        self.mode = mode

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        img = np.asarray(self.images[i])
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        pil = Image.fromarray(img)
        if pil.mode != self.mode:
            pil = pil.convert(self.mode)  # grayscale -> RGB replicates the channel (as_rgb)
        import torch

        if torch.get_num_threads() > 1 and torch.utils.data.get_worker_info() is None:
            # one image gains nothing from intra-op threads, and on a busy CPU the thread
            # pool's start-up dominates small ops (Normalize: 20+ ms instead of 0.1 ms);
            # DataLoader workers already run single-threaded
            with threads(1):
                return self.preprocess(pil), i
        return self.preprocess(pil), i


def _loader(view, batches, *, num_workers, pin):
    import torch

    kw = {}
    if num_workers > 0:
        kw.update(prefetch_factor=4, persistent_workers=False)
    return torch.utils.data.DataLoader(view, batch_sampler=batches, num_workers=num_workers,
                                       pin_memory=pin, **kw)


@contextlib.contextmanager
def _deterministic_cudnn():
    import torch

    old = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = old

