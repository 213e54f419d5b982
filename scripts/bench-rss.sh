#!/usr/bin/env bash
# Server RSS with every official release loaded, idle and after a mixed
# workload: N LookupCode calls (h2load), a batch stream of N generated
# claims, the same N claims through ValidateClaim (64 callers), then N/10
# ListAuditRecords pages of 100 (h2load). Prints RSS after each step and
# the peak over the whole run (VmHWM). The server runs as in production
# (scripts/lib.sh start_server); run it with the Dockerfile's allocator
# setting:
#
#   MIMALLOC_PURGE_DELAY=0 scripts/bench-rss.sh [N]      (default 100000)
#
# Needs: h2load and nghttp (Debian package nghttp2-client), python3, ../shared (or
# CLAIMSCRUB_SHARED=/path/to/shared), PostgreSQL at DATABASE_URL's server
# (default scratch database claimscrub_bench_rss, dropped and created anew).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
SHARED="${CLAIMSCRUB_SHARED:-$(cd .. && pwd)/shared}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/claimscrub_bench_rss}"
export CLAIMSCRUB_BENCH_MEMBERS="${MEMBERS:-5000}"
ADDRESS=127.0.0.1:50095
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 1; }

. scripts/lib.sh
CLAIMS=$(generated_claims "$N" "$SHARED")
cargo build --release --quiet --bin claimscrub --example bench_batch --example bench_validate_client
fresh_database
import_code_sets "$SHARED/data"
WORK=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_server "$ADDRESS" "$WORK/server.log"
rss() { awk -v field="$1:" '$1 == field {printf "%d MB", $2 / 1024}' "/proc/$SERVER/status"; }
echo "idle after the catalog load: RSS $(rss VmRSS)"

write_grpc_frames "$WORK"
AUTH="authorization: Bearer $CLAIMSCRUB_API_KEY"
check_grpc_ok "http://$ADDRESS/claimscrub.v1.CodeLookupService/LookupCode" "$WORK/lookup.bin" "$AUTH"
check_grpc_ok "http://$ADDRESS/claimscrub.v1.AuditService/ListAuditRecords" "$WORK/list.bin" "$AUTH"
unary() {  # count path body
  h2load -n "$1" -c 16 -m 8 -t 1 -d "$3" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H "$AUTH" "http://$ADDRESS$2" | grep -o '[0-9]* succeeded' | head -1
}

echo "$N LookupCode: $(unary "$N" /claimscrub.v1.CodeLookupService/LookupCode "$WORK/lookup.bin"); RSS $(rss VmRSS)"
target/release/examples/bench_batch "$ADDRESS" "$CLAIMS" | grep -o '[0-9]* claims in .*' | head -1
echo "after the batch stream: RSS $(rss VmRSS)"
CLAIMS_FILE="$CLAIMS" target/release/examples/bench_validate_client "$ADDRESS" 64 "$N" | tail -1
echo "after ValidateClaim: RSS $(rss VmRSS)"
echo "$((N / 10)) ListAuditRecords pages: $(unary $((N / 10)) /claimscrub.v1.AuditService/ListAuditRecords "$WORK/list.bin"); RSS $(rss VmRSS)"
echo "after the mixed run: RSS $(rss VmRSS); peak over the run (VmHWM) $(rss VmHWM)"
