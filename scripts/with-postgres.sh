#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: initdb in a temp directory, a free
# port on 127.0.0.1, PORTAL_TEST_DATABASE_URL pointing at it. The cluster is stopped and
# deleted when the command ends, whether it passed, failed or was interrupted.
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { echo "with-postgres.sh: PostgreSQL is not installed (run scripts/tools.sh test)" >&2; exit 1; }

dir=$(mktemp -d /tmp/portal-pg.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# initdb refuses to run as root: run the server as the postgres user then.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir"
  as_pg=(runuser -u postgres --)
fi

stop() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT INT TERM

"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >/dev/null
# Durability is irrelevant for a cluster deleted after the run; speed is not.
options="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$options" start >/dev/null
echo "with-postgres: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

export PORTAL_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
# For a command that stops and starts the cluster on purpose (scripts/soak: PostgreSQL going
# away under load): `pg_ctl -D "$PORTAL_TEST_PG_DATA" -o "$PORTAL_TEST_PG_OPTIONS" start`,
# run as PORTAL_TEST_PG_USER when it is set.
export PORTAL_TEST_PG_DATA="$dir/data" PORTAL_TEST_PG_OPTIONS="$options" PORTAL_TEST_PG_BIN="$pgbin"
export PORTAL_TEST_PG_USER="${as_pg:+postgres}"
"$@"
