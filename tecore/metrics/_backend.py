"""Where a heavy metric computes, decided once: the ``device=`` rule of the metrics.

* ``device=None`` (the default): numpy/scipy on the CPU, the reference path.
* ``device="cuda"``, ``"cuda:1"``, ``"cpu"`` or a ``torch.device``: the same arithmetic in
  torch on that device (``"cpu"`` is torch's CPU path, used by the tests that pin the torch
  path to the numpy one, 1e-6 relative). A CUDA device that torch does not see is a
  ``ValueError`` naming ``device`` (:func:`tecore._device.resolve_device`).

A metric writes its core once against the array-API namespace ``b.xp``
(``array_api_compat``'s numpy or torch wrapper: ``xp.linalg.eigh``, ``xp.sum(x, axis=0)``,
``x.T @ x`` ...), moves its validated inputs with :meth:`Backend.asarray` and returns
``float(...)`` of a 0-d result. Inputs are validated in numpy first (one converter, one set
of error messages); only the validated copies are moved.

On torch's CPU path the block runs under :meth:`Backend.threads` so that torch never uses more
intra-op threads than the process may run on (no oversubscription of a busy machine).
"""
from __future__ import annotations

import contextlib
import os

import numpy as np

__all__ = ["Backend", "backend", "DEVICE"]


def _is_device(v) -> bool:
    if isinstance(v, str):
        return True
    t = type(v)
    return t.__module__ == "torch" and t.__name__ == "device"


_is_device.__doc_constraint__ = "a torch device name ('cuda', 'cuda:1', 'cpu') or a torch.device"

#: the constraint-table entry of ``device`` (``validate_params``)
DEVICE = {"device": [None, _is_device]}


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Backend:
    """The namespace and device one metric call computes with (see the module docstring)."""

    def __init__(self, device=None):
        if device is None:
            import array_api_compat.numpy as xp

            self.xp, self.device, self.is_torch = xp, None, False
        else:
            import array_api_compat.torch as xp

            from tecore._device import resolve_device

            self.xp, self.device, self.is_torch = xp, resolve_device(device), True

    def __repr__(self) -> str:
        return f"Backend({'numpy' if not self.is_torch else self.device})"

    def asarray(self, a, dtype=None):
        """``a`` (a numpy array) on this backend; ``dtype`` a numpy dtype (default: ``a``'s)."""
        a = np.asarray(a) if dtype is None else np.asarray(a, dtype=dtype)
        if not self.is_torch:
            return a
        import torch

        return torch.as_tensor(a, device=self.device)

    def to_numpy(self, a) -> np.ndarray:
        if not self.is_torch:
            return np.asarray(a)
        return a.detach().cpu().numpy()

    @contextlib.contextmanager
    def threads(self):
        """torch's CPU path: at most as many intra-op threads as CPUs this process may use."""
        if self.is_torch and self.device.type == "cpu":
            from tecore._device import threads

            import torch

            with threads(min(torch.get_num_threads(), _cpu_count())):
                yield
        else:
            yield


def backend(device=None) -> Backend:
    """The :class:`Backend` for ``device`` (``None``: numpy)."""
    return Backend(device)
