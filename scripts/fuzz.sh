#!/usr/bin/env bash
# Fuzzes what clients send (fuzz/: upload tokens, names, folders, types and keys,
# X-Forwarded-For) with cargo-fuzz and libFuzzer, on this toolchain (no sanitizer, so no
# nightly). The corpus grows in target/fuzz/corpus across runs; a crash's input is kept
# in $TMPDIR/fuzz-artifacts (the suite's scratch folder) and the run fails.
#
#   scripts/fuzz.sh install      install cargo-fuzz, idempotently
#   scripts/fuzz.sh run [SECS]   build the targets and run each for SECS (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(token names forwarded)

install() {
  if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION (under a minute, once)"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
  fi
}

run() {
  local seconds=${1:-10} artifacts=${TMPDIR:-/tmp}/fuzz-artifacts target dict seeds
  install
  mkdir -p "$artifacts"
  cd fuzz
  cargo fuzz build --sanitizer none --target-dir ../target/fuzz
  for target in "${TARGETS[@]}"; do
    mkdir -p "../target/fuzz/corpus/$target"
    dict=() seeds=()
    [[ -f $target.dict ]] && dict=(-dict="$target.dict")
    [[ -d seeds/$target ]] && seeds=("seeds/$target")
    say "fuzzing $target for $seconds s"
    # libFuzzer's own lines are many; its last (runs, coverage) and any failure are kept.
    cargo fuzz run --sanitizer none --target-dir ../target/fuzz "$target" \
      "../target/fuzz/corpus/$target" "${seeds[@]}" -- \
      -max_total_time="$seconds" -artifact_prefix="$artifacts/$target-" "${dict[@]}" \
      >"$artifacts/$target.log" 2>&1 || {
      cat "$artifacts/$target.log"
      echo "fuzz target $target failed; its input is in $artifacts" >&2
      return 1
    }
    echo "$target: $(grep -E '^Done [0-9]+ runs' "$artifacts/$target.log")"
  done
}

case "${1:-}" in
  install) install ;;
  run) run "${2:-10}" ;;
  *)
    echo "usage: scripts/fuzz.sh install | run [SECONDS]" >&2
    exit 2
    ;;
esac
