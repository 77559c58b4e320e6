#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests (the test suite starts one itself when
# CITYBRIDGE_TEST_POSTGRES_URL is not set; this script is how).
#   .ci/postgres.sh DIR [PORT]   start (initialising DIR if new); prints the admin URL on stdout
#   .ci/postgres.sh DIR stop     stop it
set -euo pipefail
dir="$1"
port="${2:-55432}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$bindir" ]; then
    echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
fi
run=()
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root
    run=(runuser -u postgres --)
fi
if [ "$port" = stop ]; then
    "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
    exit 0
fi
mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$dir"
fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
    "${run[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
fi
# loopback only, socket in the cluster folder; enough connections for 8 writers plus the test's own
if ! "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200" start >&2; then
    cat "$dir/server.log" >&2
    exit 1
fi
echo "postgresql://postgres@127.0.0.1:$port/postgres"
