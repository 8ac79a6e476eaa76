#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for zmem's tests and benchmarks.
#
#   pg_cluster.sh start    initdb into a new temporary folder, start the server
#                          on a Unix socket in that folder (no TCP), create the
#                          database zmem_test; print its connection string
#   pg_cluster.sh env      print `export ZMEM_TEST_PG=...` for the cluster
#   pg_cluster.sh stop     stop the cluster and delete its folder
#   pg_cluster.sh down|up|restart   stop / start / restart the server only
#                          (the tests' outage), keeping the data
#
# The cluster is the one ZMEM_TEST_PG names (its host= folder), else the one
# the latest start made. The server runs as the user postgres (initdb refuses
# root); a user zmem-pg is created when there is none.
set -euo pipefail

cmd=${1:-}
latest="${TMPDIR:-/tmp}/zmem-pg.latest"

bindir() {
    local d
    if command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir 2>/dev/null || true)
        if [ -x "$d/initdb" ]; then echo "$d"; return; fi
    fi
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
    echo "pg_cluster.sh: no PostgreSQL server found (Debian: apt-get install postgresql)" >&2
    exit 1
}

# The user the server runs as, and how to run a command as that user.
as_user() {
    if [ "$(id -u)" -ne 0 ]; then "$@"; return; fi
    local u=postgres
    if ! id "$u" >/dev/null 2>&1; then
        u=zmem-pg
        id "$u" >/dev/null 2>&1 || useradd --system --no-create-home --shell /bin/false "$u"
    fi
    runuser -u "$u" -- "$@"
}

owner() {
    if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
    if id postgres >/dev/null 2>&1; then echo postgres; else echo zmem-pg; fi
}

# The cluster's folder: from ZMEM_TEST_PG's host=, else the latest start.
cluster_dir() {
    local d=""
    if [ -n "${ZMEM_TEST_PG:-}" ]; then
        d=$(printf '%s\n' "$ZMEM_TEST_PG" | tr ' ' '\n' | sed -n 's/^host=//p' | head -1)
    fi
    if [ -z "$d" ] && [ -f "$latest" ]; then d=$(cat "$latest"); fi
    if [ -z "$d" ] || [ ! -d "$d/data" ]; then
        echo "pg_cluster.sh: no cluster of this script found (start one first)" >&2
        exit 1
    fi
    echo "$d"
}

conninfo() {
    echo "host=$1 port=5432 dbname=zmem_test user=postgres"
}

server_start() {
    local dir=$1 bin
    bin=$(bindir)
    as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=5432" start >/dev/null
}

case "$cmd" in
start)
    bin=$(bindir)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/zmem-pg.XXXXXX")
    chmod 755 "$dir"
    chown "$(owner)" "$dir"
    as_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2; exit 1; }
    server_start "$dir" || { cat "$dir/log" >&2; exit 1; }
    as_user "$bin/createdb" -h "$dir" -p 5432 -U postgres zmem_test
    echo "$dir" >"$latest"
    conninfo "$dir"
    ;;
env)
    echo "export ZMEM_TEST_PG='$(conninfo "$(cluster_dir)")'"
    ;;
stop)
    dir=$(cluster_dir)
    as_user "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    if [ -f "$latest" ] && [ "$(cat "$latest")" = "$dir" ]; then rm -f "$latest"; fi
    ;;
down)
    dir=$(cluster_dir)
    as_user "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
up)
    server_start "$(cluster_dir)"
    ;;
restart)
    dir=$(cluster_dir)
    as_user "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    server_start "$dir"
    ;;
*)
    echo "usage: pg_cluster.sh start|env|stop|down|up|restart" >&2
    exit 2
    ;;
esac
