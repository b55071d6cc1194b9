#!/usr/bin/env bash
# Installs what building and testing s3drop needs, idempotently: each tool is checked
# first and installed only when missing or at the wrong version.
#
#   scripts/install.sh          build tools (wasm target, cargo-leptos, wasm-bindgen-cli)
#   scripts/install.sh --test   also the test tools (Chromium, Firefox, nginx, Caddy,
#                               rclone, PostgreSQL, Playwright's npm packages, the Garage
#                               and SeaweedFS stores, the AWS CLI and boto3, cargo-fuzz,
#                               cargo-deny, openssl, systemd-analyze)
#   scripts/install.sh --release  also wasm-opt (npm's binaryen) for release builds
set -euo pipefail
cd "$(dirname "$0")/.."

# 0.3.8 and later split the page's WASM with a wasm-split that keeps wasm-bindgen's
# generic-import shims in the main module (0.3.7's moved them into a chunk, and
# wasm-bindgen then failed: "index out of bounds" in decode_generic_import). 0.3.11
# needs Rust 1.96.
CARGO_LEPTOS_VERSION=0.3.10

. scripts/lib.sh

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

# wasm-bindgen-cli must match the wasm-bindgen in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lock file pins a crate the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [[ "${1:-}" == "--test" ]]; then
  # Chromium and Firefox for the end-to-end tests; nginx balances the replicated test
  # deployment; Caddy and nginx run the shipped deploy/Caddyfile and deploy/nginx.conf
  # in front of a private drop (openssl makes the latter's certificate); systemd-analyze
  # checks the Debian package's unit;
  # rclone is one of the real S3 clients tried against the embedded store; PostgreSQL
  # keeps links and the record where several servers share a deployment.
  if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/firefox-esr || ! -x /usr/sbin/nginx ||
    ! -x /usr/bin/caddy || ! -x /usr/bin/rclone || ! -x /usr/bin/psql || ! -x /usr/bin/openssl ||
    ! -x /usr/bin/systemd-analyze ]] ||
    ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing Chromium, Firefox, nginx, Caddy, rclone, PostgreSQL, openssl and systemd's tools from Debian"
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium firefox-esr nginx caddy \
      rclone postgresql openssl systemd
  fi
  # npm's own record in node_modules never equals the lock file (it leaves out the root
  # and optional packages it skipped), so the lock installed is kept beside it.
  if ! cmp -s end2end/package-lock.json end2end/node_modules/.s3drop-installed-lock.json 2>/dev/null; then
    say "installing the end-to-end test packages"
    (cd end2end && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.s3drop-installed-lock.json)
  fi
  # Large request bodies out of Playwright's DevTools events (see the script); npm ci
  # runs it too, this covers packages installed before it existed.
  node end2end/playwright-post-data.mjs
  scripts/stores.sh install
  scripts/s3-clients.sh install
  scripts/fuzz.sh install
  scripts/deps.sh install
fi

if [[ "${1:-}" == "--release" ]]; then
  # cargo-leptos looks for wasm-opt on PATH; callers add .tools/node_modules/.bin to it.
  if [[ ! -x .tools/node_modules/.bin/wasm-opt ]]; then
    say "installing wasm-opt (npm's binaryen 132) into .tools"
    npm install --no-audit --no-fund --prefix .tools binaryen@132
  fi
fi
