#!/usr/bin/env bash
# Builds a release of s3drop into dist/: the server binary and its site folder (the
# optimised WASM bundle, JS and CSS), ready to copy to a server (see README, "Deploying").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --release
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo leptos build --release --precompress
rm -rf dist
mkdir -p dist
cp target/release/s3drop dist/
cp -r target/site dist/site
printf '\033[1m==> dist/s3drop and dist/site are ready (WASM: %s bytes)\033[0m\n' \
  "$(stat -c %s dist/site/pkg/s3drop.wasm)"
