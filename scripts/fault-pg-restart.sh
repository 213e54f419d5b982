#!/usr/bin/env bash
# Fault drill (not CI): restarts PostgreSQL while a batch streams, and shows
# that nothing was lost and nothing doubled. The bench client runs with
# --resume: when the stream fails it reconnects with resume = true and
# continues from the server's next_expected_sequence. Afterwards the
# database is asked directly: one batch_item per sequence, every sequence
# present, one audit record per stored decision.
#
#   scripts/fault-pg-restart.sh [N]       (default 200000)
#
# Needs: root (pg_ctlcluster), python3, ../shared (or CLAIMSCRUB_SHARED),
# PostgreSQL 15 cluster "main" (or PG_CLUSTER="16 main").
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200000}"
SHARED="${CLAIMSCRUB_SHARED:-$(cd .. && pwd)/shared}"
CLUSTER="${PG_CLUSTER:-15 main}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/claimscrub_fault}"
ADDRESS=127.0.0.1:50099

. scripts/lib.sh
CLAIMS=$(generated_claims "$N" "$SHARED")
cargo build --release --quiet --bin claimscrub --example bench_batch
fresh_database

LOG=$(mktemp)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; wait 2>/dev/null || true' EXIT
start_server "$ADDRESS" "$LOG" dev

target/release/examples/bench_batch "$ADDRESS" "$CLAIMS" --resume > "$LOG.client" 2>&1 &
CLIENT=$!
sleep 3
echo "restarting PostgreSQL ($CLUSTER) mid-batch ..."
# shellcheck disable=SC2086
pg_ctlcluster $CLUSTER restart -m fast
wait $CLIENT
cat "$LOG.client"

psql "$DATABASE_URL" -At <<SQL
select 'batches: ' || count(*) || ', state ' || string_agg(state, ',') || ', durable through ' || max(durable_through_sequence)
  from validation_batch;
select 'batch items: ' || count(*) || ', distinct sequences: ' || count(distinct sequence)
       || ', first ' || min(sequence) || ', last ' || max(sequence)
  from batch_item;
select 'audit records of the batch: ' || count(*) || ', distinct sequences: ' || count(distinct sequence)
  from audit_record where batch_id is not null;
select case when (select count(*) from batch_item) = $N
             and (select count(distinct sequence) from batch_item) = $N
             and (select count(*) from audit_record where batch_id is not null)
               = (select count(*) from batch_item where audit_record_id is not null)
            then 'OK: nothing lost, nothing doubled'
            else 'FAILED: lost or doubled items' end;
SQL
echo "server log (warnings and errors):"
cat "$LOG"
rm -f "$LOG" "$LOG.client"
