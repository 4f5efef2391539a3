"""A disabled progress bar must print nothing: in a Jupyter kernel without ipywidgets,
importing tqdm.auto writes a warning to stderr, which fails the book build (-W)."""
import subprocess
import sys


def test_disabled_bar_does_not_import_tqdm_auto():
    code = ("import sys; from tecore._progress import progress_bar; "
            "b = progress_bar(disable=True, total=3); b.update(3); b.close(); "
            "assert 'tqdm.auto' not in sys.modules, sorted(m for m in sys.modules if 'tqdm' in m)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_enabled_bar_counts():
    from tecore._progress import progress_bar

    b = progress_bar(disable=False, total=4, file=sys.stdout)
    b.update(4)
    assert b.n == 4
    b.close()
