#!/usr/bin/env bash
# ValidateClaim unary against the batch stream, the same claims: N claims of
# ../shared/tools/gen_claims.py (seed 42), each given a member (claim i is
# member i mod MEMBERS, default 5000) so the history edits run on every
# claim. Each path gets a fresh database and a fresh release server in its
# production configuration (scripts/lib.sh start_server), the official code
# sets when WITH_CODE_SETS=1:
#   1. the claims as one ValidateClaimBatch stream (examples/bench_batch.rs);
#   2. the same claims through ValidateClaim, 64 callers on 4 connections
#      (examples/bench_validate_client.rs).
# Prints both rates and their ratio (unary / stream); with ROUNDS=R, the
# two paths alternate for R rounds and the medians follow, since one run
# moves by up to 10 % here.
#
#   [WITH_CODE_SETS=1] [MEMBERS=5000] [ROUNDS=1] scripts/bench-unary.sh [N]   (default 100000)
#
# Needs: python3, ../shared (or CLAIMSCRUB_SHARED=/path/to/shared), PostgreSQL
# at DATABASE_URL's server (default scratch database claimscrub_bench_unary,
# dropped and created anew for each path).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
SHARED="${CLAIMSCRUB_SHARED:-$(cd .. && pwd)/shared}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/claimscrub_bench_unary}"
export CLAIMSCRUB_BENCH_MEMBERS="${MEMBERS:-5000}"
ADDRESS=127.0.0.1:50096

. scripts/lib.sh
CLAIMS=$(generated_claims "$N" "$SHARED")
cargo build --release --quiet --bin claimscrub --example bench_batch --example bench_validate_client
LOG=$(mktemp)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$LOG"' EXIT

# A fresh database (with the official code sets when asked) and server.
fresh_server() {
  fresh_database
  if [ "${WITH_CODE_SETS:-0}" = 1 ]; then
    import_code_sets "$SHARED/data"
  fi
  start_server "$ADDRESS" "$LOG"
}

rate() { grep -o '[0-9]* claims/s' | head -1 | cut -d' ' -f1; }
report() {  # stream unary [label]
  echo "${3:-}same $N claims, $CLAIMSCRUB_BENCH_MEMBERS members: stream $1 claims/s, unary (64 callers) $2 claims/s;" \
    "ratio $(python3 -c "print(f'{$2 / $1:.2f}')")"
}
STREAMS=() UNARIES=()
for round in $(seq 1 "${ROUNDS:-1}"); do
  fresh_server
  STREAMS+=("$(target/release/examples/bench_batch "$ADDRESS" "$CLAIMS" | tee /dev/stderr | rate)")
  kill $SERVER; wait $SERVER 2>/dev/null || true

  fresh_server
  UNARIES+=("$(CLAIMS_FILE="$CLAIMS" target/release/examples/bench_validate_client "$ADDRESS" 64 "$N" |
    tee /dev/stderr | rate)")
  kill $SERVER; wait $SERVER 2>/dev/null || true
  SERVER=
  report "${STREAMS[-1]}" "${UNARIES[-1]}" "round $round: "
done
if [ "${ROUNDS:-1}" -gt 1 ]; then
  report "$(median "${STREAMS[@]}")" "$(median "${UNARIES[@]}")" "median of $ROUNDS rounds: "
fi
