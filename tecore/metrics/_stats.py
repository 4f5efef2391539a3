"""Per-class sums and means shared by the metrics (O(N D), one sparse product).

Both accept a numpy array or a torch tensor (the ``device=`` path of the heavy metrics,
:mod:`tecore.metrics._backend`): numpy goes through a sparse one-hot product, torch through
``index_add_`` on the tensor's device.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["class_sums", "class_means", "is_torch", "softmax_flushed_", "row_halves"]


def is_torch(a) -> bool:
    """Whether ``a`` is a torch tensor (without importing torch)."""
    return type(a).__module__.startswith("torch")


def class_sums(X, y, n_classes: int):
    """(C, D) sums of the rows of ``X`` per class ``y`` in 0..C-1 (a C x N one-hot sparse
    matrix times ``X``; an order of magnitude faster than ``np.add.at`` at N = 50000)."""
    n = X.shape[0]
    if is_torch(X):
        import torch

        yt = torch.as_tensor(np.asarray(y), device=X.device)
        return torch.zeros((n_classes,) + tuple(X.shape[1:]), dtype=X.dtype, device=X.device).index_add_(0, yt, X)
    onehot = sparse.csr_matrix((np.ones(n), (y, np.arange(n))), shape=(n_classes, n))
    return np.asarray(onehot @ X)


def class_means(X, y, n_classes: int):
    """(C, D) class means and (C,) float class counts (every class must occur)."""
    counts = np.bincount(np.asarray(y), minlength=n_classes).astype(np.float64)
    if is_torch(X):
        import torch

        counts = torch.as_tensor(counts, dtype=X.dtype, device=X.device)
    return class_sums(X, y, n_classes) / counts[:, None], counts


_TINY = np.finfo(np.float64).tiny  # the smallest normal float64


def softmax_flushed_(L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise softmax of the float64 array ``L`` (N, K) **in place** (scipy's formula: the
    row maximum subtracted, one ``exp``), with probabilities below the smallest normal
    float64 set to 0: arguments below ``log(tiny * K)`` (subnormal, or subnormal once divided
    by a row sum, at most K). Returns ``(row maxima, row sums of the exponentials)``, both
    (N, 1), so ``logsumexp = max + log(sum)``.

    Intel CPUs compute ``exp`` and matrix products on subnormal numbers through a slow
    microcode path (10-25x; ``benchmarks/README.md``), and confident softmaxes (NCA's far-apart
    neighbours, a trained linear head) produce them by the thousand; a subnormal term cannot
    change a row sum (>= 1) or a later sum of normal numbers above ~1e-292."""
    m = L.max(axis=1, keepdims=True)
    L -= m
    thr = np.log(_TINY * L.shape[1])
    keep = L >= thr
    np.maximum(L, thr, out=L)  # exp of -inf or of underflowing arguments is slow too
    np.exp(L, out=L)
    L *= keep
    ssum = L.sum(axis=1, keepdims=True)
    L /= ssum
    return m, ssum


#: row-wise work on more than this many elements runs its two halves on two threads
PARALLEL_MIN_ELEMENTS = 1 << 20


def row_halves(fn, n: int, n_elements: int) -> list:  # n_elements: the size of the work
    """``[fn(rows 0 .. n/2), fn(rows n/2 .. n)]`` for row-wise numpy work (softmax passes over
    an N x K array): two fixed halves, so the numbers are the same whether or not they run
    on two threads, which they do above ``PARALLEL_MIN_ELEMENTS`` (numpy releases the GIL in
    its loops; ~2x on 2 cores for these memory-bound passes)."""
    halves = [slice(0, n // 2), slice(n // 2, n)]
    if n_elements < PARALLEL_MIN_ELEMENTS:
        return [fn(h) for h in halves]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:
        return list(ex.map(fn, halves))
