#!/usr/bin/env bash
# `make bench`, part 2: the voice-data targets of issue 5, each comparison made in one run.
#  1. CDR ingest (rollups included) through `portal calls import`: a 1 M-call file into SQLite
#     and into PostgreSQL 15 (a throwaway cluster with the server's default durability);
#  2. 10 M calls in one customer (SQLite, imported the same way): GET /api/v1/analytics/summary
#     for 30 days, the first page of GET /api/v1/calls with filters (p50/p95 over sequential
#     requests with an API token), and GET /api/v1/calls/export.csv (rows/s, server memory);
#  3. the same 30-day summary computed by DuckDB (PyPI) scanning the same 10 M calls.
# Appends its section to bench/RESULTS.md (bench/run.sh writes the file first). Needs the perf
# build of `portal` (bench/run.sh builds it). BENCH_CALLS overrides the 10 M.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bin=$PWD/target/perf/portal
[ -x "$bin" ] || cargo build --profile perf -p server --bin portal
BIG=${BENCH_CALLS:-10000000}
INGEST=${BENCH_INGEST_CALLS:-1000000}
SERVICES=("SIP London" "Teams Direct Routing" "Operator Connect")

work=$(mktemp -d /tmp/portal-voice-bench.XXXXXX)
pids=()
pgdir=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$pgdir" ]; then runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# DuckDB from PyPI, in the tools venv (nothing else is downloaded).
venv=$PWD/.tools/venv
if ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  echo "== installing duckdb (PyPI) =="
  python3 -m venv "$venv" 2>/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q duckdb==1.4.2
fi
duckdb_version=$("$venv/bin/python" -c 'import duckdb; print(duckdb.__version__)')

setup_org() { # DATABASE_URL set by the caller
  "$bin" migrate >/dev/null
  "$bin" org create --name "Bench Ltd" --slug bench >/dev/null
  local kinds=(sip_trunk teams_direct_routing operator_connect)
  for i in 0 1 2; do
    "$bin" service create --org bench --kind "${kinds[$i]}" --name "${SERVICES[$i]}" --country GB --channels 2000 >/dev/null
  done
}
import_rate() { # FILE → rows/s; DATABASE_URL set by the caller
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$("$bin" calls import "$1" --org bench 2>/dev/null)
  t1=$(date +%s.%N)
  echo "$out" >&2
  python3 -c "print(f'{$2 / ($t1 - $t0):.0f} {$t1 - $t0:.1f}')"
}

echo "== generating $INGEST and $BIG calls (bench/gen_cdrs.py) =="
python3 bench/gen_cdrs.py "$INGEST" 90 "${SERVICES[@]}" > "$work/ingest.csv"
python3 bench/gen_cdrs.py "$BIG" 90 "${SERVICES[@]}" > "$work/big.csv"

echo "== ingest: $INGEST calls into SQLite =="
export DATABASE_URL="sqlite://$work/ingest.db?mode=rwc"
setup_org
read -r sqlite_rate sqlite_secs < <(import_rate "$work/ingest.csv" "$INGEST")
echo "SQLite: $sqlite_rate calls/s"

echo "== ingest: $INGEST calls into PostgreSQL =="
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgdir=$(mktemp -d /tmp/portal-bench-pg.XXXXXX)
chown postgres:postgres "$pgdir"
pgport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w \
  -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null
export DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/postgres"
setup_org
read -r pg_rate pg_secs < <(import_rate "$work/ingest.csv" "$INGEST")
echo "PostgreSQL: $pg_rate calls/s"
runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null; rm -rf "$pgdir"; pgdir=""

echo "== portal seed-demo --calls $BIG (SQLite) =="
export DATABASE_URL="sqlite://$work/seed.db?mode=rwc"
"$bin" migrate >/dev/null
t0=$(date +%s.%N)
"$bin" seed-demo --calls "$BIG" >/dev/null
seed_secs=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.0f}')")
echo "seed-demo: $seed_secs s"
rm -f "$work"/seed.db*

echo "== $BIG calls in one customer (SQLite) =="
export DATABASE_URL="sqlite://$work/big.db?mode=rwc"
setup_org
read -r big_rate big_secs < <(import_rate "$work/big.csv" "$BIG")
echo "imported at $big_rate calls/s"
db_size=$(du -sh "$work"/big.db* | awk '{print $1}' | paste -sd+)
echo "violet tugboat orbit sandwich" | "$bin" user create --org bench --email bench@bench.example --role viewer --password-stdin >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUST_LOG=error LEPTOS_SITE_ADDR="127.0.0.1:$port" PORTAL_PUBLIC_URL="http://127.0.0.1:$port" \
  PORTAL_DATA_DIR="$work/data" LEPTOS_SITE_ROOT="$work/site" "$bin" serve &
server_pid=$!
pids+=($server_pid)
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

echo "== API latency, export and DuckDB =="
"$venv/bin/python" bench/voice_measure.py --port "$port" --pid "$server_pid" --csv "$work/big.csv" \
  --calls "$BIG" --out "$work/measure.env"
val() { sed -n "s/^$1=//p" "$work/measure.env"; }
verdict() { python3 -c "print('met' if $1 else 'NOT met')"; }

cat >> bench/RESULTS.md <<MD

## Voice data (issue: voice services)

Measured by bench/voice.sh on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server migrations bench 2>/dev/null || echo ' plus uncommitted changes'), perf build.
CDRs from \`bench/gen_cdrs.py\` (deterministic: 90 days, three services, 80% answered, ids in
time order as a switch's counters make them, far-end numbers random), stored with
\`portal calls import\` (parsing, validation, idempotent insert, hourly rollups by service and
by country, exact peak-channel recomputation) in 50,000-row transactions.

| measure | value | target | |
| --- | --- | --- | --- |
| ingest into SQLite, $INGEST calls | **$sqlite_rate calls/s** ($sqlite_secs s) | ≥ 100,000/s | $(verdict "$sqlite_rate >= 100000") |
| ingest into PostgreSQL 15 (fsync on, shared_buffers 512 MB), $INGEST calls | **$pg_rate calls/s** ($pg_secs s) | ≥ 50,000/s | $(verdict "$pg_rate >= 50000") |
| ingest of $BIG calls into one customer, SQLite | $big_rate calls/s ($big_secs s; database $db_size) | | |
| \`portal seed-demo --calls $BIG\` (generation included), SQLite | $seed_secs s | minutes | $(verdict "$seed_secs < 600") |

With $BIG calls in that customer (SQLite), $(val requests) sequential requests each, session cookie, on this machine:

| request | p50 | p95 | target | |
| --- | --- | --- | --- | --- |
| \`GET /api/v1/analytics/summary\`, last 30 days (with the previous 30 for comparison) | $(val summary_p50) ms | **$(val summary_p95) ms** | p95 < 20 ms | $(verdict "$(val summary_p95) < 20") |
| \`GET /api/v1/calls\` first page, \`result=failed\` (last 24 h) | $(val calls_failed_p50) ms | **$(val calls_failed_p95) ms** | p95 < 30 ms | $(verdict "$(val calls_failed_p95) < 30") |
| … \`number=$(val number)\`, last 30 days | $(val calls_number_p50) ms | **$(val calls_number_p95) ms** | p95 < 30 ms | $(verdict "$(val calls_number_p95) < 30") |
| … \`service=…&direction=inbound\` (last 24 h) | $(val calls_service_p50) ms | **$(val calls_service_p95) ms** | p95 < 30 ms | $(verdict "$(val calls_service_p95) < 30") |
| … \`min_mos=4.4&country=DE\` (last 24 h) | $(val calls_mos_p50) ms | **$(val calls_mos_p95) ms** | p95 < 30 ms | $(verdict "$(val calls_mos_p95) < 30") |

| export | value | target | |
| --- | --- | --- | --- |
| \`GET /api/v1/calls/export.csv\`, last 30 days: $(val export_rows) rows in $(val export_secs) s | **$(val export_rate) rows/s** | ≥ 200,000/s | $(verdict "$(val export_rate) >= 200000") |
| server memory (RSS) before → highest during the export | $(val rss_before_mb) MB → $(val rss_peak_mb) MB | flat | $(verdict "$(val rss_peak_mb) - $(val rss_before_mb) < 64") |

DuckDB $duckdb_version (PyPI, in-process, both cores) with the same $BIG calls loaded into a
native table beforehand (not timed), computing the same 30-day summary (calls, minutes, ASR,
ACD, NER, average MOS, peak channels per service by sweep, and the previous 30 days), median
of $(val duck_runs) runs: **$(val duck_ms) ms** (without the peak: $(val duck_simple_ms) ms).
The portal's p50 is $(val summary_p50) ms: DuckDB takes **$(val ratio)×** as long (without the
peak: $(val ratio_simple)×) — the portal reads $(val rollup_rows) hourly rollup rows instead
of the calls. Both answers agree: $(val agree).
MD
echo "== appended the voice section to bench/RESULTS.md =="
