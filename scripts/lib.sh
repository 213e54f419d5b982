# Shared by the measurement scripts; sourced, not run. Expects the working
# directory to be the repository root.

# generated_claims N SHARED: prints the path of N claims made by
# SHARED/tools/gen_claims.py (seed 42), generating them once into
# target/bench-claims/.
generated_claims() {
  local claims="target/bench-claims/claims-$1.jsonl.gz"
  if [ ! -f "$claims" ]; then
    mkdir -p target/bench-claims
    echo "generating $1 claims with gen_claims.py (seed 42) ..." >&2
    python3 "$2/tools/gen_claims.py" --n "$1" --seed 42 --truth none --out "$claims" >/dev/null
  fi
  echo "$claims"
}

# fresh_database: drops DATABASE_URL's database; `serve` creates it again.
fresh_database() {
  psql "${DATABASE_URL%/*}/postgres" -qc "drop database if exists \"${DATABASE_URL##*/}\" with (force)"
}

# import_code_sets DATA: imports the official files of DATA (../shared/data:
# ICD-10-CM FY2025 and FY2026, HCPCS, NUCC, POS, MPFS, NCCI excerpts) into
# DATABASE_URL, creating it if needed.
import_code_sets() {
  import() { RUST_LOG=warn target/release/claimscrub import "$@" >/dev/null; }
  import icd10cm-tabular "$1/icd10cm/icd10cm-tabular-April-1-2026.xml.gz"
  import icd10cm-order "$1/icd10cm/icd10cm-order-2025.txt.gz"
  import hcpcs "$1/hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz"
  import nucc "$1/nucc/nucc_taxonomy_251.csv"
  import pos "$1/pos/pos_codes.csv" --version 2024-05-02 --effective-from 2024-05-02
  import mpfs "$1/mpfs/PPRRVU23_JAN.csv.gz"
  import ncci-ptp "$1/ncci/ccipra-v322r0-f1.excerpt.txt"
  import mue "$1/ncci/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv"
  echo "official code sets imported"
}

# start_server ADDRESS LOG [dev]: starts the release server on DATABASE_URL
# in its production configuration (a key on every call, a member-hash key of
# its own, plaintext on loopback), exporting CLAIMSCRUB_API_KEY (a key with
# every scope, made first); with `dev`, in development mode (no keys). Sets
# SERVER to its pid and returns once it answers its health check.
start_server() {
  if [ "${3:-}" = dev ]; then
    RUST_LOG=warn target/release/claimscrub serve --dev --listen "$1" >"$2" 2>&1 &
  else
    CLAIMSCRUB_API_KEY=$(RUST_LOG=warn target/release/claimscrub api-key create --submitter bench \
      --scopes lookup,validate,audit:read | awk '/^key:/ {print $2}')
    export CLAIMSCRUB_API_KEY
    CLAIMSCRUB_MEMBER_HASH_KEY=bench-member-hash-key RUST_LOG=warn \
      target/release/claimscrub serve --listen "$1" >"$2" 2>&1 &
  fi
  SERVER=$!
  for _ in $(seq 1 150); do
    target/release/claimscrub health-check --address "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the server did not start; its log:" >&2
  cat "$2" >&2
  return 1
}

# write_grpc_frames DIR: writes pre-encoded gRPC request frames (flag 0,
# big-endian length, protobuf message) for h2load and nghttp into DIR:
# lookup.bin (LookupCode of ICD-10-CM D23.61 on 2026-01-15), health.bin (an
# empty health check) and list.bin (ListAuditRecords, page_size 100).
write_grpc_frames() {
  python3 - "$1" <<'PY'
import struct, sys
out = sys.argv[1]
def frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message
date = bytes([0x08, 0xea, 0x0f, 0x10, 0x01, 0x18, 0x0f])   # 2026-01-15
lookup = bytes([0x08, 0x03, 0x12, 0x06]) + b"D23.61" + bytes([0x1a, len(date)]) + date
open(f"{out}/lookup.bin", "wb").write(frame(lookup))
open(f"{out}/health.bin", "wb").write(frame(b""))
open(f"{out}/list.bin", "wb").write(frame(bytes([0x10, 100])))   # page_size 100
PY
}

# check_grpc_ok URL FRAME [HEADER]: exits unless one call answers
# grpc-status 0. h2load counts every HTTP 200 as a success and never reads
# grpc-status, so each benchmarked call is checked once this way first.
check_grpc_ok() {
  nghttp -v -d "$2" -H 'content-type: application/grpc' -H 'te: trailers' ${3:+-H "$3"} "$1" |
    grep -a -q 'grpc-status: 0' || { echo "$1 did not answer grpc-status 0" >&2; exit 1; }
}

# median N...: the middle of the numbers given (the lower middle of an even
# count), for the scripts that alternate their runs for ROUNDS rounds.
median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
