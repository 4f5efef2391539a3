"""The device rule, decided once: :func:`resolve_device` (used by ``experiment.run``,
``extract``, ``finetune`` and ``zoo.create``) and :func:`threads` (torch's CPU thread count,
set deliberately and restored)."""
from __future__ import annotations

import contextlib

__all__ = ["resolve_device", "threads"]


def resolve_device(device=None):
    """``device`` as a ``torch.device``: ``None`` -> ``"cuda"`` when torch sees a GPU, else
    ``"cpu"``. A CUDA device that does not exist is a ``ValueError`` naming ``device``."""
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device ({exc})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} requested but torch sees no CUDA device; use device='cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: torch sees {torch.cuda.device_count()} CUDA device(s)")
    return dev


@contextlib.contextmanager
def threads(n: int | None):
    """Run the block with ``torch.set_num_threads(n)`` (``None``: unchanged), then restore."""
    import torch

    old = torch.get_num_threads()
    if n is not None and n != old:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)
