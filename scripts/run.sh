#!/usr/bin/env bash
# Builds s3drop and runs it on http://127.0.0.1:3000 with the embedded store, keeping
# its data in ./data. Extra arguments go to s3drop (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export PATH="$HOME/.cargo/bin:$PATH"
# --split: the operator's rooms are a WASM chunk of their own (`#[lazy]`); a build
# without it leaves the page importing a loader that is not there.
cargo leptos build --split
printf '\033[1m==> s3drop on http://127.0.0.1:3000 (Ctrl+C stops it)\033[0m\n'
LEPTOS_SITE_ROOT=target/site exec target/debug/s3drop "$@"
