"""tools/build_book.sh is honest (issue 8, part 2): after a chapter failed, every later build
fails until the chapter works again — no stale page served with exit code 0.

Builds a tiny two-chapter book with the real script (~30 s). On main before the fix the
second build printed "build succeeded" and exited 0 (Sphinx: "no targets are out of date")."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tiny_book(tmp: Path, flag: Path) -> Path:
    book = tmp / "book"
    (book / "_static" / "mathjax").mkdir(parents=True)
    (book / "_static" / "mathjax" / "tex-chtml.js").write_text("// stand-in: no npm in this test\n")
    (book / "_config.yml").write_text(textwrap.dedent("""\
        title: tiny
        only_build_toc_files: true
        execute:
          execute_notebooks: force
          timeout: 60
          allow_errors: false
        sphinx:
          config:
            mathjax_path: mathjax/tex-chtml.js
            html_static_path: [_static]
        """))
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: good\n  - file: bad\n")
    (book / "intro.md").write_text("# Tiny\n\nA book with two chapters.\n")
    ks = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for name, code in (("good", "print(1 + 1)"),
                       ("bad", f"import os\nif os.path.exists({str(flag)!r}):\n    raise RuntimeError('chapter broken')")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {name}"),
                                             nbformat.v4.new_code_cell(code)])
        nb.metadata["kernelspec"] = ks
        nbformat.write(nb, book / f"{name}.ipynb")
    return book


def _build(book: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TECORE_BOOK_ROOT": str(book),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", str(ROOT / "tools" / "build_book.sh")], env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_failed_chapter_fails_every_later_build_until_fixed(tmp_path):
    flag = tmp_path / "broken"
    flag.write_text("the bad chapter raises while this file exists")
    book = _tiny_book(tmp_path, flag)

    first = _build(book)
    assert first.returncode != 0, first.stdout[-2000:]
    # nothing changed in the sources: Sphinx alone would skip every page and succeed
    second = _build(book)
    assert second.returncode != 0, "second build after a failure succeeded:\n" + second.stdout[-2000:]
    assert "bad" in second.stdout + second.stderr

    flag.unlink()  # the chapter works again
    third = _build(book)
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert (book / "_build" / "html" / "bad.html").is_file()
    assert not (book / "_build" / ".incomplete").exists()
    assert not list((book / "_build" / "html").glob("reports/*.err.log"))
