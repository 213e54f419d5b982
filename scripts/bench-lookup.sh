#!/usr/bin/env bash
# LookupCode throughput against a bare tonic server, measured the same way in
# the same run: h2load with pre-encoded gRPC frames, 16 connections x 32
# concurrent streams (h2load, server and database share this machine).
# claimscrub runs as in production (a key on every call); the ceiling,
# examples/bare_health_server, has no auth and the same tonic, tokio
# features and allocator, so the ratio includes what auth costs.
# claimscrub's own health check (no key, an empty answer) is measured too,
# and the server's CPU a call for each run (/proc/PID/stat before and
# after): the health check through claimscrub against the bare one is what
# claimscrub's serving stack costs, LookupCode against it the call's own work.
#
# The three runs alternate for ROUNDS rounds (default 3), since one run
# moves by up to 10 % here; each round's ratios are printed, then the
# median of each figure.
#
#   [ROUNDS=3] scripts/bench-lookup.sh [REQUESTS]      (default 300000)
#
# Needs: h2load (Debian package nghttp2-client), PostgreSQL at DATABASE_URL
# (default: a scratch database claimscrub_bench on 127.0.0.1), and the shared
# ICD-10-CM file in ../shared/data (or $CLAIMSCRUB_SHARED_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${1:-300000}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/claimscrub_bench}"
DATA="${CLAIMSCRUB_SHARED_DATA:-../shared/data}"
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 1; }

cargo build --release --quiet --bin claimscrub --example bare_health_server
BIN=target/release/claimscrub
"$BIN" import icd10cm-tabular "$DATA/icd10cm/icd10cm-tabular-April-1-2026.xml.gz" >/dev/null 2>&1

. scripts/lib.sh
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_server 127.0.0.1:50098 "$WORK/server.log"
target/release/examples/bare_health_server 127.0.0.1:50099 &
BARE_SERVER=$!

write_grpc_frames "$WORK"

TICKS=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() {  # name pid url body [header]
  local before after rps ok
  before=$(cpu_ticks "$2")
  h2load -n "$REQUESTS" -c 16 -m 32 -t 1 -d "$4" \
    -H 'content-type: application/grpc' -H 'te: trailers' ${5:+-H "$5"} "$3" >"$WORK/$1.out"
  after=$(cpu_ticks "$2")
  rps=$(grep -o 'finished in [^,]*, [0-9.]* req/s' "$WORK/$1.out" | grep -o '[0-9.]* req/s' | cut -d' ' -f1)
  ok=$(grep -o '[0-9]* succeeded' "$WORK/$1.out" | head -1 | cut -d' ' -f1)
  python3 -c "print(f'$1: {float($rps):,.0f} req/s, server {($after - $before) * 1e6 / $TICKS / $REQUESTS:.1f} us CPU a call ($ok of $REQUESTS succeeded)')" >&2
  echo "$rps"
}
AUTH="authorization: Bearer $CLAIMSCRUB_API_KEY"
check_grpc_ok http://127.0.0.1:50098/claimscrub.v1.CodeLookupService/LookupCode "$WORK/lookup.bin" "$AUTH"
check_grpc_ok http://127.0.0.1:50098/grpc.health.v1.Health/Check "$WORK/health.bin"

report() {  # lookup health bare [label]
  python3 -c "print(f'${4:-}LookupCode {float($1):,.0f} req/s, bare tonic {float($3):,.0f} req/s, ratio {float($1)/float($3):.2f}; claimscrub health check {float($2):,.0f} req/s, ratio {float($2)/float($3):.2f}')"
}
LOOKUPS=() HEALTHS=() BARES=()
for round in $(seq 1 "${ROUNDS:-3}"); do
  LOOKUPS+=("$(run lookup "$SERVER" http://127.0.0.1:50098/claimscrub.v1.CodeLookupService/LookupCode "$WORK/lookup.bin" "$AUTH")")
  HEALTHS+=("$(run claimscrub-health "$SERVER" http://127.0.0.1:50098/grpc.health.v1.Health/Check "$WORK/health.bin")")
  BARES+=("$(run bare-health "$BARE_SERVER" http://127.0.0.1:50099/grpc.health.v1.Health/Check "$WORK/health.bin")")
  report "${LOOKUPS[-1]}" "${HEALTHS[-1]}" "${BARES[-1]}" "round $round: " >&2
done
report "$(median "${LOOKUPS[@]}")" "$(median "${HEALTHS[@]}")" "$(median "${BARES[@]}")" "median of ${ROUNDS:-3} rounds: "
