#!/usr/bin/env bash
# The hostile-input suite (tests/api/hostile.rs) against the release binary
# started as a user would, on a fresh database; then a grpc-js client with
# default options reads the whole export, and the server must still be up
# with no panic in its log.
#
#   scripts/hostile.sh
#
# Needs: PostgreSQL at DATABASE_URL (default: a scratch database
# claimscrub_hostile), Node.js with npm (the grpc-js client installs itself
# into scripts/grpc-js/node_modules on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/claimscrub_hostile}"
ADDRESS=127.0.0.1:50098

. scripts/lib.sh
cargo build --release --quiet --bin claimscrub
fresh_database
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_server "$ADDRESS" "$WORK/server.log" dev

# The suite's own databases (one per test) stay on the test server; its
# attacks and row counts go to the binary and its database.
CLAIMSCRUB_HOSTILE_ADDR="$ADDRESS" CLAIMSCRUB_HOSTILE_DATABASE_URL="$DATABASE_URL" \
  cargo test --locked --test api hostile:: -- --test-threads=1

[ -d scripts/grpc-js/node_modules ] || npm --prefix scripts/grpc-js ci --no-audit --no-fund >/dev/null
node scripts/grpc-js/export.js "$ADDRESS"

kill -0 "$SERVER" || { echo "FAIL: the server died" >&2; exit 1; }
if grep -q panicked "$WORK/server.log"; then
  echo "FAIL: the server log shows a panic" >&2
  exit 1
fi
echo "OK: the release server answered every hostile call, is still up and logged no panic"
