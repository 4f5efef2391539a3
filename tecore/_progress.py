"""Progress bars (tqdm): the notebook-aware bar only when one is shown.

``tqdm.auto`` warns on import (to stderr) in a Jupyter kernel without ipywidgets; a disabled
bar must not print anything, so it comes from plain ``tqdm``.
"""
from __future__ import annotations


def progress_bar(*, disable: bool, **kwargs):
    """``tqdm(**kwargs)``; the ``tqdm.auto`` flavour unless ``disable``."""
    if disable:
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(disable=disable, **kwargs)
