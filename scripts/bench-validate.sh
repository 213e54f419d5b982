#!/usr/bin/env bash
# ValidateClaim throughput with 64 concurrent callers, audit on: h2load, 4
# connections x 16 streams, one pre-encoded clean excision claim (no
# request_id, so every call is validated and stored). By default the claim
# has no member id; WITH_MEMBER=1 gives it one, so every call also runs the
# history edits (one member: after the first accepted claim every repeat is
# a rejected duplicate, so each call reads that member's history). The tonic
# client example spreads claims over many members instead. Prints requests/s
# and the latency distribution h2load measures, then the stored row count.
#
#   [WITH_MEMBER=1] scripts/bench-validate.sh [REQUESTS]      (default 100000)
#
# Needs: h2load (nghttp2-client), python3 with grpcio-tools, PostgreSQL at
# DATABASE_URL (default: a scratch database claimscrub_bench_validate).
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${1:-100000}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/claimscrub_bench_validate}"
command -v h2load >/dev/null || { echo "h2load not found (apt-get install nghttp2-client)" >&2; exit 1; }

. scripts/lib.sh
cargo build --release --quiet --bin claimscrub
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_server 127.0.0.1:50097 "$WORK/server.log"

python3 -m grpc_tools.protoc -Iproto --python_out="$WORK" \
  proto/claimscrub/v1/common.proto proto/claimscrub/v1/claim_validation_service.proto \
  proto/google/type/date.proto proto/google/rpc/status.proto
PYTHONPATH="$WORK" python3 - "$WORK" "${WITH_MEMBER:-0}" <<'PY'
import struct, sys
from claimscrub.v1 import claim_validation_service_pb2 as cv, common_pb2 as c
claim = c.Claim(claim_id="CLM-BENCH", payer_id="AETNA", place_of_service="11",
                rendering_provider=c.Provider(npi="1234567893", taxonomy_code="207N00000X"),
                diagnosis_codes=["D23.5", "L72.0"],
                lines=[c.ServiceLine(procedure_code="11404", units=1, diagnosis_pointers=[1],
                                     excised_diameter_cm=3.5, anatomic_site="trunk"),
                       c.ServiceLine(procedure_code="11402", modifiers=["XS"], units=1, diagnosis_pointers=[2],
                                     excised_diameter_cm=1.5, anatomic_site="arm")])
claim.date_of_service.year, claim.date_of_service.month, claim.date_of_service.day = 2026, 1, 15
if sys.argv[2] == "1":
    claim.patient.member_id = "MBR-BENCH-1"
body = cv.ValidateClaimRequest(claim=claim).SerializeToString()
open(f"{sys.argv[1]}/validate.bin", "wb").write(b"\x00" + struct.pack(">I", len(body)) + body)
PY
URL=http://127.0.0.1:50097/claimscrub.v1.ClaimValidationService/ValidateClaim
AUTH="authorization: Bearer $CLAIMSCRUB_API_KEY"
check_grpc_ok "$URL" "$WORK/validate.bin" "$AUTH"
BEFORE=$(psql "$DATABASE_URL" -Atc "select count(*) from audit_record")
h2load -n "$REQUESTS" -c 4 -m 16 -t 1 -d "$WORK/validate.bin" \
  -H 'content-type: application/grpc' -H 'te: trailers' -H "$AUTH" "$URL" | grep -E 'finished in|requests:|time for request'
AFTER=$(psql "$DATABASE_URL" -Atc "select count(*) from audit_record")
echo "audit records stored during the run: $((AFTER - BEFORE))"
