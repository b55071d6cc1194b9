#!/usr/bin/env bash
# Runs every test: formatting and lints, unit, property and integration tests, a short
# fuzzing of what clients send, real S3 clients against the embedded store, then the
# end-to-end suite in Chromium (and its tests tagged @firefox in Firefox) against the
# built app; the integration and end-to-end
# suites run against the embedded store, then (after a private drop behind the shipped
# Caddyfile and nginx.conf) the tests that depend on the store run against Garage and SeaweedFS
# (started here on loopback, with throwaway data, while the code compiles); then a
# replicated deployment (three Garage nodes, two s3drop servers, nginx in front of each)
# loses a node and a server while uploading; last, the release's Debian package is
# installed, used, upgraded and purged. Installs what it needs first, and prints each
# stage's time at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES_STARTED=$(date +%s)
. scripts/lib.sh
# Each stage's time is written here (the scratch folder below does not exist yet).
STAGE_TIMES=$(mktemp -t s3drop-stages-XXXXXX)
trap 'rm -f "$STAGE_TIMES" "$STAGE_TIMES.current"' EXIT
stage "installing what the tests need"
scripts/install.sh --test

# cargo-leptos compiles Leptos with this variable set; setting it for cargo test and
# clippy too lets them reuse those builds instead of compiling everything again.
export LEPTOS_OUTPUT_NAME=s3drop
# One build per run: incremental artifacts would only fill the disk.
export CARGO_INCREMENTAL=0
# Tests talk only to stores on this machine: never ask a cloud metadata service.
export AWS_EC2_METADATA_DISABLED=true

# Everything a run writes outside the target directory (the stores' data and logs,
# the end-to-end servers' data, generated files, failed tests' traces, temporary files
# of every tool) goes under one scratch directory: removed when the run passes, kept
# for a look when it fails.
SCRATCH=$(mktemp -d -t s3drop-test-XXXXXX)
export TMPDIR=$SCRATCH
STORES=$SCRATCH/stores
CLUSTER=$SCRATCH/cluster
CADDY=$SCRATCH/behind-caddy
NGINX=$SCRATCH/behind-nginx
POSTGRES=$SCRATCH/postgres
STORES_PID=""
cleanup() {
  local status=$?
  [[ -n $STORES_PID ]] && wait "$STORES_PID" 2>/dev/null
  scripts/stores.sh stop "$STORES"
  scripts/cluster.sh stop "$CLUSTER"
  scripts/behind-caddy.sh stop "$CADDY"
  scripts/behind-nginx.sh stop "$NGINX"
  scripts/postgres.sh stop "$POSTGRES"
  stages
  rm -f "$STAGE_TIMES" "$STAGE_TIMES.current"
  if [[ $status -eq 0 ]]; then
    rm -rf "$SCRATCH"
  else
    say "the run failed; its stores' logs and failed tests' traces are kept in $SCRATCH" \
      "(stores/*/log, e2e-results/); remove it with: rm -rf $SCRATCH"
  fi
}
trap cleanup EXIT

# Garage and SeaweedFS start while the code compiles (they take little CPU once up);
# the first stage that needs them waits for them, and shows what starting them printed.
mkdir -p "$STORES"
scripts/stores.sh start "$STORES" >"$STORES/start.log" 2>&1 &
STORES_PID=$!

stage "building the WASM bundle and the site"
# Only the front end here: `cargo test` below builds the server binary the end-to-end
# tests run, with the same features as the tests, so it is compiled once.
cargo leptos build --frontend-only --split

stage "checking formatting, lints, the layout and the dependencies"
cargo fmt --check
(cd fuzz && cargo fmt --check)
(cd bench/crc && cargo fmt --check)
cargo clippy --features ssr --all-targets -- -D warnings
cargo clippy --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings
# No import circle between files, no arrow up (docs/testing.md's "The code").
python3 scripts/layers.py
# Advisories, licences, duplicate versions, sources (deny.toml).
scripts/deps.sh check

stage "unit and integration tests (embedded store)"
cargo test --features ssr

stage "fuzzing what clients send: tokens, names and keys, X-Forwarded-For (10 s each)"
scripts/fuzz.sh run 10

stage "real S3 clients against the embedded store: the AWS CLI, boto3, rclone"
scripts/s3-clients.sh run "$SCRATCH/s3-clients"

stage "end-to-end tests in Chromium (embedded store)"
# Each run names the specs it may skip (end2end/skip-guard.ts fails it for any other).
# This run has every test; the external stores' runs below only those tagged @store.
(cd end2end && S3DROP_E2E_MAY_SKIP=behind-proxy.spec.ts,cluster.spec.ts \
  S3DROP_E2E_RESULTS="$SCRATCH/e2e-results/embedded" npx playwright test --project=chromium)

stage "end-to-end tests in Firefox (embedded store; the tests tagged @firefox)"
(cd end2end && S3DROP_E2E_MAY_SKIP="" S3DROP_E2E_RESULTS="$SCRATCH/e2e-results/firefox" \
  npx playwright test --project=firefox)

stage "the documented private deployment behind the shipped Caddyfile and nginx.conf"
# Each proxy as Debian 12 ships it, the shipped file changed only in its addresses.
behind() {
  local proxy=$1 dir=$2
  scripts/behind-"$proxy".sh start "$dir"
  (
    set -a
    . "$dir/deployment.env"
    set +a
    cd end2end && S3DROP_E2E_MAY_SKIP="" S3DROP_E2E_RESULTS="$SCRATCH/e2e-results/behind-$proxy" \
      npx playwright test --project=chromium tests/behind-proxy.spec.ts
  )
  scripts/behind-"$proxy".sh stop "$dir"
}
behind caddy "$CADDY"
behind nginx "$NGINX"

stage "waiting for Garage and SeaweedFS"
status=0
wait "$STORES_PID" || status=$?
STORES_PID=""
cat "$STORES/start.log"
[[ $status -eq 0 ]] || exit "$status"
# Runs the integration tests and the end-to-end tests tagged @store against one store,
# its end-to-end servers from port $2 on.
against_store() {
  local store=$1 port=$2 started
  started=$(date +%s)
  # The store's settings, as an operator would give them (AWS_*, S3DROP_BUCKET).
  set -a
  # shellcheck disable=SC1090
  . "$STORES/$store.env"
  set +a
  export S3DROP_TEST_STORE=$store S3DROP_E2E_PORT=$port
  if [[ $store == garage ]]; then
    # Garage's servers keep links and the record in PostgreSQL, as a deployment of
    # several servers does: the tests make a database each, the end-to-end servers share one.
    export S3DROP_TEST_POSTGRES
    psql -q "$S3DROP_TEST_POSTGRES" -c "CREATE DATABASE e2e_$store"
    export S3DROP_DATABASE_URL=${S3DROP_TEST_POSTGRES%/*}/e2e_$store
  fi
  say "integration tests ($store, $([[ $store == garage ]] && echo PostgreSQL || echo SQLite))"
  cargo test --features ssr --test upload_api --test batches --test hostile --test links --test hooks --test upload_cli \
    --test external_store -- --include-ignored
  say "end-to-end tests of what depends on the store, in Chromium ($store)"
  for origin in "http://localhost:$port" "http://localhost:$((port + 1))" "http://localhost:$((port + 3))"; do
    target/debug/s3drop --setup-store --public-url "$origin"
  done
  (cd end2end && S3DROP_E2E_MAY_SKIP=behind-proxy.spec.ts,cluster.spec.ts \
    S3DROP_E2E_RESULTS="$SCRATCH/e2e-results/$store" npx playwright test --project=chromium --grep @store)
  say "$store: $(($(date +%s) - started)) s"
}

scripts/postgres.sh start "$POSTGRES"
# shellcheck disable=SC1091
. "$POSTGRES/postgres.env"
# The two stores at once, each with its own servers and browser: most of these tests
# wait on the network, a throttle or a relay rather than on the CPU. Each one's output
# is shown whole once both are done.
stage "Garage and SeaweedFS side by side: integration tests, and the end-to-end tests tagged @store"
(against_store garage 3100 >"$SCRATCH/garage.log" 2>&1) &
garage=$!
(against_store seaweedfs 3200 >"$SCRATCH/seaweedfs.log" 2>&1) &
seaweedfs=$!
garage_status=0 seaweedfs_status=0
wait "$garage" || garage_status=$?
wait "$seaweedfs" || seaweedfs_status=$?
# A store whose tests failed is shown last, so that the end of the output (all a
# CI log may keep) holds its failure.
for store in garage seaweedfs; do
  status_var=${store}_status
  if [[ ${!status_var} -eq 0 ]]; then cat "$SCRATCH/$store.log"; fi
done
for store in garage seaweedfs; do
  status_var=${store}_status
  if [[ ${!status_var} -ne 0 ]]; then
    cat "$SCRATCH/$store.log"
    say "$store: its tests failed (above)"
  fi
done
[[ $garage_status -eq 0 && $seaweedfs_status -eq 0 ]] || exit 1
scripts/stores.sh stop "$STORES"

stage "a replicated deployment under fault: three Garage nodes and two servers behind nginx"
scripts/cluster.sh start "$CLUSTER"
(cd end2end && S3DROP_CLUSTER_DIR="$CLUSTER" S3DROP_E2E_MAY_SKIP="" \
  S3DROP_E2E_RESULTS="$SCRATCH/e2e-results/cluster" npx playwright test --project=chromium tests/cluster.spec.ts)
scripts/cluster.sh stop "$CLUSTER"

stage "the release: its Debian package installed, used, upgraded and purged on this machine"
# The release build compiles everything again, optimised (a few minutes once warm).
scripts/package-test.sh "$SCRATCH/package"
