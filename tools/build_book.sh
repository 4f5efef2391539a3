#!/usr/bin/env bash
# Build the tecore book offline: local MathJax (npm package `mathjax`), executed chapters,
# every Sphinx warning or notebook error fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f _static/mathjax/tex-chtml.js ]; then
  npm install --silent --no-audit --no-fund --prefix build/node mathjax@3
  mkdir -p _static/mathjax
  cp -r build/node/node_modules/mathjax/es5/. _static/mathjax/
fi
export MPLBACKEND=Agg
start=$(date +%s)
jupyter-book build . -W -n --keep-going "$@"
echo "book built in $(( $(date +%s) - start )) s: _build/html/index.html"
# the built site must not load anything from the network
if grep -lE '<script[^>]+src="https?://' _build/html/*.html _build/html/**/*.html 2>/dev/null | head -3 | grep -q .; then
  echo "error: the built HTML loads scripts from the network" >&2
  exit 1
fi
