#!/usr/bin/env bash
# A streaming replica of a PostgreSQL primary, made with pg_basebackup in
# DIR and started on PORT of loopback (no Unix socket); or stopped.
#
#   scripts/streaming-replica.sh start PRIMARY_HOST PRIMARY_PORT DIR PORT
#   scripts/streaming-replica.sh stop DIR
#
# The primary must accept replication connections of user postgres from
# this host (pg_hba.conf `host replication postgres 127.0.0.1/32 ...`; a
# cluster made with `initdb -A trust` does). As root, the server binaries
# run as the postgres OS user. tests/api/read_replica.rs uses this script.
set -euo pipefail

bindir=""
for candidate in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/pg_basebackup" ]; then bindir=$candidate; break; fi
done
if [ -z "$bindir" ]; then
  echo "error: no PostgreSQL server binaries (pg_ctl, pg_basebackup); install them (apt-get install postgresql)" >&2
  exit 1
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    [ $# -eq 5 ] || { echo "usage: $0 start PRIMARY_HOST PRIMARY_PORT DIR PORT" >&2; exit 2; }
    host=$2 primary_port=$3 dir=$4 port=$5
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    # -R writes standby.signal and primary_conninfo: the copy starts as a
    # hot standby streaming from the primary.
    as_postgres "$bindir/pg_basebackup" -h "$host" -p "$primary_port" -U postgres \
      -D "$dir" -R -X stream -c fast
    as_postgres "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 120 \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start
    ;;
  stop)
    [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
    as_postgres "$bindir/pg_ctl" -D "$2" -m fast -w stop
    ;;
  *)
    echo "usage: $0 start PRIMARY_HOST PRIMARY_PORT DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
