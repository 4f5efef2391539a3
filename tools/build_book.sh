#!/usr/bin/env bash
# Build the tecore book offline: local MathJax (npm package `mathjax`), executed chapters,
# every Sphinx warning or notebook error fails the build.
#
# Honest incremental builds: Sphinx only re-reads (and so re-executes) the pages whose
# sources changed, so after a failed build a second `jupyter-book build` would report
# "no targets are out of date" and succeed with the broken chapters still in _build/html.
# This script therefore leaves _build/.incomplete while a build runs and removes it only
# after a clean build; a build that finds the marker (the last one failed or was
# interrupted) throws away the saved environment and re-executes every chapter. Any
# execution report (_build/html/reports/*.err.log, myst-nb's traceback of a failed
# chapter) after the build is an error too.
#
# TECORE_BOOK_ROOT: build the book in another folder (the tests build a tiny book).
set -euo pipefail
cd "${TECORE_BOOK_ROOT:-$(dirname "$0")/..}"
if [ ! -f _static/mathjax/tex-chtml.js ]; then
  npm install --silent --no-audit --no-fund --prefix build/node mathjax@3
  mkdir -p _static/mathjax
  cp -r build/node/node_modules/mathjax/es5/. _static/mathjax/
fi
export MPLBACKEND=Agg
marker=_build/.incomplete
if [ -e "$marker" ] || compgen -G "_build/html/reports/*.err.log" >/dev/null \
   || compgen -G "_build/html/reports/**/*.err.log" >/dev/null; then
  echo "the last book build failed or was interrupted: re-executing every chapter" >&2
  rm -rf _build/.doctrees _build/html/reports _build/jupyter_execute
fi
mkdir -p _build
touch "$marker"
start=$(date +%s)
jupyter-book build . -W -n --keep-going "$@"
failed=$(find _build/html/reports -name '*.err.log' 2>/dev/null | sort || true)
if [ -n "$failed" ]; then
  echo "error: chapters failed to execute (tracebacks in):" >&2
  echo "$failed" >&2
  exit 1
fi
echo "book built in $(( $(date +%s) - start )) s: _build/html/index.html"
# the built site must not load anything from the network
if grep -lE '<script[^>]+src="https?://' _build/html/*.html _build/html/**/*.html 2>/dev/null | head -3 | grep -q .; then
  echo "error: the built HTML loads scripts from the network" >&2
  exit 1
fi
rm -f "$marker"
