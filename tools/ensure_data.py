"""Make sure the data sets the tests and the book read are on this machine (``make test`` and
``make book`` run this first).

Fashion-MNIST (the LEEP chapter and a few tests) is taken from the first place that works:

1. already there: wherever ``tecore.data.load("fashion-mnist")`` finds it
   (``$FASHION_MNIST_DIR``, Debian's ``/usr/share/datasets/fashion-mnist``, the mirrors in
   ``$TECORE_DATA_MIRROR``, the download cache ``$TECORE_DATA_DIR``);
2. Debian's package ``dataset-fashion-mnist``, when apt is usable (``apt-get`` on the
   ``PATH`` and root, or password-less ``sudo``; ``TECORE_NO_APT=1`` skips this step);
3. torchvision's download (its MD5 checksums) into the data cache
   ``FashionMNIST/raw`` under ``tecore.data.data_dir()`` (``$TECORE_DATA_DIR``, else
   ``$TECORE_CACHE/data``, default ``~/.cache/tecore/data``), where the loader
   looks;
4. otherwise it stops with one message that says exactly what to run.

MedMNIST and the published tables come from the mirrors named in the Makefile
(``../shared``); the other data sets of the default configuration (scikit-learn's digits)
ship inside installed packages.

    python tools/ensure_data.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

PACKAGE = "dataset-fashion-mnist"


def fashion_found() -> str | None:
    """Where the loader finds both Fashion-MNIST splits, or None (nothing downloaded)."""
    from tecore import data

    try:
        where = [data.load("fashion-mnist", split=s, download=False).meta.get("source") for s in ("train", "test")]
    except data.DatasetNotFoundError:
        return None
    return where[0]


def apt_command() -> list[str] | None:
    """The prefix that runs apt-get with the rights to install (``[]`` for root,
    ``["sudo", "-n"]``), or None when apt is not usable here."""
    if os.environ.get("TECORE_NO_APT") or shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def apt_install(prefix: list[str]) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-qq", PACKAGE]
    if subprocess.run(install, env=env).returncode == 0:
        return True
    # the package lists may be missing or stale on a fresh machine
    subprocess.run([*prefix, "apt-get", "update", "-qq"], env=env)
    return subprocess.run(install, env=env).returncode == 0


def download() -> str | None:
    from tecore import data

    try:
        for s in ("train", "test"):
            data.load("fashion-mnist", split=s, download=True)
    except data.DatasetNotFoundError as exc:
        print(f"ensure_data: torchvision download failed: {exc}", file=sys.stderr)
        return None
    return fashion_found()


def instructions() -> str:
    from tecore import data

    return (
        "error: Fashion-MNIST is not on this machine, apt is not usable here and the download "
        "failed. Run ONE of these, then rerun make:\n"
        f"  sudo apt-get install {PACKAGE}      # Debian/Ubuntu; files in /usr/share/datasets/fashion-mnist\n"
        f"  python -c \"from torchvision.datasets import FashionMNIST as F; "
        f"[F('{data.data_dir()}', train=t, download=True) for t in (True, False)]\"   # with internet\n"
        "  export FASHION_MNIST_DIR=/path/to/folder   # holding train-/t10k-{images-idx3,labels-idx1}-ubyte[.gz]"
    )


def ensure_fashion() -> str:
    """Return how Fashion-MNIST was made available; raise SystemExit(1) with the
    instructions when nothing worked."""
    where = fashion_found()
    if where:
        return f"found in {where}"
    prefix = apt_command()
    if prefix is not None:
        print(f"ensure_data: installing the Debian package {PACKAGE}", flush=True)
        if apt_install(prefix) and (where := fashion_found()):
            return f"installed {PACKAGE}: {where}"
        print(f"ensure_data: apt-get install {PACKAGE} did not provide the files", file=sys.stderr)
    print("ensure_data: downloading Fashion-MNIST with torchvision (MD5-checked)", flush=True)
    where = download()
    if where:
        return f"downloaded into {where}"
    print(instructions(), file=sys.stderr)
    raise SystemExit(1)


def main() -> None:
    print(f"fashion-mnist: {ensure_fashion()}")


if __name__ == "__main__":
    main()
