#!/usr/bin/env bash
# The dependency check: cargo-deny over both builds' dependencies, with deny.toml's
# rules (licences, one version of each crate unless deny.toml says why, crates.io only,
# the trimmed legacy stacks kept out) and RustSec's advisories from the offline copy at
# ../shared/advisory-db (these machines cannot fetch it; S3DROP_ADVISORY_DB names
# another).
#
#   scripts/deps.sh install   install cargo-deny, idempotently
#   scripts/deps.sh check     check
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

CARGO_DENY_VERSION=0.20.2
ADVISORY_DB=${S3DROP_ADVISORY_DB:-../shared/advisory-db}
# Where deny.toml's db-path and db-urls say cargo-deny finds its copy of the database.
DB_DIR=target/advisory-dbs/advisory-db-3157b0e258782691

install() {
  if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
    say "installing cargo-deny $CARGO_DENY_VERSION (about four minutes, once)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
}

# cargo-deny reads its database from a git repository: one is made of the copy, its
# commit dated as the snapshot is (so the staleness check reads the snapshot's age).
advisory_db() {
  local snapshot date
  snapshot=$(cat "$ADVISORY_DB/SNAPSHOT")
  date=$(grep -oE '\(([0-9]{4}-[0-9]{2}-[0-9]{2})\)' <<<"$snapshot" | head -1 | tr -d '()')
  if [[ -d $DB_DIR/.git ]] && cmp -s "$ADVISORY_DB/SNAPSHOT" "$DB_DIR/SNAPSHOT"; then
    return 0
  fi
  rm -rf "$DB_DIR"
  mkdir -p "$DB_DIR"
  cp -r "$ADVISORY_DB/." "$DB_DIR/"
  chmod -R u+w "$DB_DIR"
  (
    cd "$DB_DIR"
    git init -q
    git add -A
    GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
      git -c user.name=s3drop -c user.email=s3drop@localhost commit -qm "$snapshot"
  )
}

check() {
  install
  # cargo-deny runs offline (so it fetches no database); the crates it reads come first.
  cargo fetch --quiet
  local checks=(advisories bans licenses sources)
  if [[ -f $ADVISORY_DB/SNAPSHOT ]]; then
    advisory_db
    say "advisories from $(head -1 "$ADVISORY_DB/SNAPSHOT" | cut -c1-60)…, $(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}' "$ADVISORY_DB/SNAPSHOT" | head -1)"
  else
    checks=(bans licenses sources)
    say "NOT checking advisories: no advisory database at $ADVISORY_DB (set S3DROP_ADVISORY_DB)"
  fi
  cargo deny --offline check "${checks[@]}"
}

case "${1:-}" in
  install) install ;;
  check) check ;;
  *)
    echo "usage: deps.sh install|check" >&2
    exit 2
    ;;
esac
