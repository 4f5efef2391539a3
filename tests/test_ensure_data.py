"""tools/ensure_data.py, which `make test` and `make book` run first (issue 8, part 1): every
branch — already there, Debian package, torchvision download, the message — on a machine
made to look fresh (the Fashion-MNIST places pointed at empty folders, apt faked)."""
from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _script():
    spec = importlib.util.spec_from_file_location("ensure_data", ROOT / "tools" / "ensure_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _source_files() -> dict[str, Path]:
    """The Fashion-MNIST files this machine has (make ran ensure_data before the tests)."""
    where = _script().fashion_found()
    assert where, "Fashion-MNIST missing: run `python tools/ensure_data.py` (make test does)"
    out = {}
    for stem in FILES:
        cand = [p for p in (Path(where) / f"{stem}.gz", Path(where) / stem) if p.is_file()]
        assert cand, f"{stem} not in {where}"
        out[stem] = cand[0]
    return out


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A machine without Fashion-MNIST: every place the loader searches is empty."""
    src = _source_files()
    system = tmp_path / "system"
    system.mkdir()
    for name, mod in list(sys.modules.items()):  # the loader's Debian place, wherever it lives
        if (name == "tecore.data" or name.startswith("tecore.data.")) and hasattr(mod, "FASHION_SYSTEM_DIR"):
            monkeypatch.setattr(mod, "FASHION_SYSTEM_DIR", system)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("FASHION_MNIST_DIR", str(empty))
    monkeypatch.setenv("TECORE_DATA_MIRROR", "")
    monkeypatch.setenv("TECORE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TECORE_NO_APT", raising=False)
    mod = _script()
    assert mod.fashion_found() is None
    return mod, src, system, tmp_path


def test_already_there():
    assert _script().ensure_fashion().startswith("found in ")


def _fake_apt(tmp_path, system, src) -> Path:
    """An apt-get on the PATH that 'installs' the package by copying the files to the
    (redirected) Debian place, and logs its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    copies = "\n".join(f'cp "{p}" "{system}/"' for p in src.values())
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n'
                                     f'case "$1" in install) {copies} ;; esac\n')
    (bin_dir / "apt-get").chmod(0o755)
    return bin_dir


def test_debian_package_when_apt_is_usable(fresh, monkeypatch):
    mod, src, system, tmp = fresh
    bin_dir = _fake_apt(tmp, system, src)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(mod.os, "geteuid", lambda: 0)  # root: apt usable without sudo
    how = mod.ensure_fashion()
    assert how.startswith("installed dataset-fashion-mnist")
    assert "install -y -qq dataset-fashion-mnist" in (tmp / "apt.log").read_text()


@pytest.fixture
def http_root(tmp_path):
    """A local HTTP server (127.0.0.1) serving tmp_path/www; yields (folder, base URL)."""
    import functools
    import http.server
    import threading

    www = tmp_path / "www"
    www.mkdir()
    mp = pytest.MonkeyPatch()
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        mp.delenv(var, raising=False)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    mp.undo()


def _serve(http_root, src, monkeypatch, *, broken=False):
    """Point torchvision's FashionMNIST at a local HTTP folder holding the .gz files, with
    their MD5s as the checksums torchvision verifies."""
    from torchvision.datasets import FashionMNIST

    www, base = http_root

    mirror = www / "fmnist"
    mirror.mkdir()
    resources = []
    for stem, p in src.items():
        dest = mirror / f"{stem}.gz"
        if p.suffix == ".gz":
            shutil.copy(p, dest)
        else:
            import gzip

            dest.write_bytes(gzip.compress(p.read_bytes()))
        resources.append((dest.name, hashlib.md5(dest.read_bytes()).hexdigest()))
    monkeypatch.setattr(FashionMNIST, "mirrors", [base + ("missing/" if broken else "fmnist/")])
    monkeypatch.setattr(FashionMNIST, "resources", resources)


def test_torchvision_download_when_apt_is_not_usable(fresh, http_root, monkeypatch):
    mod, src, system, tmp = fresh
    monkeypatch.setenv("PATH", str(tmp / "empty"))  # no apt-get on the PATH
    assert mod.apt_command() is None
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("TECORE_NO_APT", "1")
    _serve(http_root, src, monkeypatch)
    how = mod.ensure_fashion()
    assert how.startswith("downloaded into ") and str(tmp / "cache") in how
    # the loader finds what was downloaded, with no download flag
    from tecore import data

    assert len(data.load("fashion-mnist", split="test", download=False)) == 10000


def test_one_message_with_the_exact_commands_when_nothing_works(fresh, http_root, monkeypatch, capsys):
    mod, src, system, tmp = fresh
    monkeypatch.setenv("TECORE_NO_APT", "1")
    _serve(http_root, src, monkeypatch, broken=True)
    with pytest.raises(SystemExit) as e:
        mod.ensure_fashion()
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "sudo apt-get install dataset-fashion-mnist" in err
    assert f"FashionMNIST as F; [F('{tmp / 'cache'}', train=t, download=True)" in err
    assert "export FASHION_MNIST_DIR=" in err


def test_make_and_ci_run_only_the_readme_commands():
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
          if ln.strip() and not ln.strip().startswith("#")]
    commands = [ln for ln in ci if not ln.startswith(("set ", "cd ", "export "))]
    assert commands == ["make test", "make book"], commands
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make book" in readme and "dataset-fashion-mnist" in readme
    make = (ROOT / "Makefile").read_text()
    assert "tools/ensure_data.py" in make
    for target in ("test", "book"):
        line = next(ln for ln in make.splitlines() if ln.startswith(f"{target}:"))
        assert "data" in line.split(":", 1)[1], f"make {target} must depend on the data step"
