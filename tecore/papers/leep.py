"""Nguyen et al. (LEEP, ICML 2020): the random class-subset target tasks and the
"transferability levels" of its Sec. 5."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["random_class_tasks", "transferability_levels"]


def random_class_tasks(classes, n_tasks: int, *, min_classes: int = 2,
                       max_classes: int | None = None, seed: int = 0,
                       distinct: bool = True) -> list[np.ndarray]:
    """Random target tasks as random subsets of a dataset's classes (LEEP's protocol).

    LEEP (Nguyen et al., ICML 2020, Sec. 5) builds many target tasks from one dataset by
    sampling class subsets; GBC Table 2 samples "uniformly between 2% and 100% of the
    classes". Here task ``t`` has ``k_t`` classes, ``k_t`` drawn uniformly from
    ``[min_classes, max_classes]``, then ``k_t`` distinct classes drawn uniformly, all from
    ``np.random.default_rng(seed)`` (the same tasks on every run). With ``distinct`` (the
    default) a draw equal to an earlier task is drawn again, so no task is counted twice in a
    correlation; ``ValueError`` if ``n_tasks`` distinct subsets do not exist. Returns a list
    of sorted class arrays.
    """
    classes = np.unique(np.asarray(classes))
    max_classes = len(classes) if max_classes is None else int(max_classes)
    if not 2 <= min_classes <= max_classes <= len(classes):
        raise ValueError(
            f"need 2 <= min_classes <= max_classes <= {len(classes)} (the number of classes), "
            f"got min_classes={min_classes}, max_classes={max_classes}"
        )
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
    if distinct:
        from math import comb

        available = sum(comb(len(classes), k) for k in range(min_classes, max_classes + 1))
        if n_tasks > available:
            raise ValueError(f"n_tasks={n_tasks} distinct tasks do not exist: there are {available} "
                             f"subsets of {min_classes} to {max_classes} of the {len(classes)} classes")
    rng = np.random.default_rng(seed)
    tasks, seen = [], set()
    while len(tasks) < int(n_tasks):
        k = min_classes + int(rng.random() * (max_classes - min_classes + 1))
        keys = rng.random(len(classes))
        task = np.sort(classes[np.argsort(keys, kind="stable")[:k]])
        if distinct and tuple(task.tolist()) in seen:
            continue
        seen.add(tuple(task.tolist()))
        tasks.append(task)
    return tasks


def transferability_levels(score, truth, *, n_levels: int = 5) -> pd.DataFrame:
    """LEEP's "transferability levels": bin tasks by score, average the ground truth per bin.

    LEEP (Nguyen et al., ICML 2020, Sec. 5.1 and supplementary Figs. 1-2) splits the range of
    LEEP scores of its random target tasks into equal-width intervals and reports the mean
    accuracy of the tasks in each; accuracy should rise with the level. Returns one row per
    non-empty level: ``level`` (1 = lowest scores), ``score_low``, ``score_high``,
    ``n_tasks``, ``mean_truth``.
    """
    s = np.asarray(score, dtype=float)
    t = np.asarray(truth, dtype=float)
    if s.shape != t.shape or s.ndim != 1 or len(s) < n_levels:
        raise ValueError(
            f"score and truth must be 1-D of the same length >= n_levels ({n_levels}), "
            f"got {s.shape} and {t.shape}"
        )
    if not (np.isfinite(s).all() and np.isfinite(t).all()):
        raise ValueError("score and truth must be finite")
    edges = np.linspace(s.min(), s.max(), n_levels + 1)
    level = np.clip(np.searchsorted(edges, s, side="right"), 1, n_levels)
    df = pd.DataFrame({"level": level, "truth": t})
    out = df.groupby("level")["truth"].agg(n_tasks="size", mean_truth="mean").reset_index()
    out.insert(1, "score_low", edges[out["level"] - 1])
    out.insert(2, "score_high", edges[out["level"]])
    return out
