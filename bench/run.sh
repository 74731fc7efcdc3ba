#!/usr/bin/env bash
# `make bench`: measurements too long for tests. Writes bench/RESULTS.md.
#  1. sign-in server time against one Argon2id verification, and TOTP verification time
#     (server/benches/auth.rs, in-process, no network);
#  2. requests per second of the session-authenticated GET /api/v1/me against a bare axum
#     handler returning a body of the same size (server/examples/bare_json.rs), both with wrk,
#     64 connections, 20 s, in the same run on the same machine;
#  3. the SSO callback's server time with the signing keys cached, and JWKS fetches under a
#     flood of tokens with unknown kids (server/benches/sso.rs, the emulator as Entra ID);
#  4. the voice data: CDR ingest rates, the dashboard API at 10 M calls, the calls export and
#     DuckDB on the same calls (bench/voice.sh, which appends its section);
#  5. the release wasm's size against the 350 KB brotli budget (bench/wasm.sh, its own section;
#     `make bench` fails when the wasm is over it, after writing every section);
#  6. where that size goes: the wasm of the layout alone, with one and two pages, whole, and
#     with every page an island (bench/wasm-floor.sh, its own section).
#  7. the first visit of every page in headless Chromium, the split build beside the last
#     monolithic one: /pkg bytes per page against 350 KB (260 KB for /login), the sum of the
#     chunks, and time to interactive on a slow profile (bench/firstvisit.sh, its own section;
#     `make bench` fails when a budget is exceeded, after writing every section).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk (Debian package)"
  [ "$(id -u)" = 0 ] || { echo "bench: wrk is missing; install it (apt-get install wrk)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

DURATION=${BENCH_SECONDS:-20}
CONNECTIONS=64
work=$(mktemp -d /tmp/portal-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== building (profile perf) =="
cargo build --profile perf -p server --bin portal --example bare_json
cargo bench --profile perf -p server --bench auth --no-run
cargo bench --profile perf -p server --bench sso --no-run

echo "== sign-in and TOTP costs =="
cargo bench --profile perf -p server --bench auth | tee "$work/auth.txt"
echo "== SSO callback and JWKS flood =="
cargo bench --profile perf -p server --bench sso | tee -a "$work/auth.txt"
val() { sed -n "s/^$1=//p" "$work/auth.txt"; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
portal_port=$(free_port)
bare_port=$(free_port)
export DATABASE_URL="sqlite://$work/portal.db?mode=rwc"
bin=target/perf/portal
$bin org create --name "Bench Ltd" --slug bench >/dev/null
echo "violet tugboat orbit sandwich" | $bin user create --org bench --email bench@bench.example --role viewer --password-stdin >/dev/null

RUST_LOG=error LEPTOS_SITE_ADDR="127.0.0.1:$portal_port" PORTAL_PUBLIC_URL="http://127.0.0.1:$portal_port" \
  PORTAL_DATA_DIR="$work/data" LEPTOS_SITE_ROOT="$work/site" $bin serve &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$portal_port/readyz" >/dev/null && break; sleep 0.1; done

cookie=$(curl -fs -D - -o /dev/null -H 'content-type: application/json' -H "origin: http://127.0.0.1:$portal_port" \
  -d '{"email":"bench@bench.example","password":"violet tugboat orbit sandwich"}' \
  "http://127.0.0.1:$portal_port/api/v1/auth/login" | sed -n 's/^set-cookie: \(__Host-portal_session=[^;]*\).*/\1/ip' | tr -d '\r')
[ -n "$cookie" ] || { echo "bench: sign-in failed" >&2; exit 1; }
me_bytes=$(curl -fs -H "cookie: $cookie" "http://127.0.0.1:$portal_port/api/v1/me" | wc -c)

cargo run -q --profile perf -p server --example bare_json -- "127.0.0.1:$bare_port" "$me_bytes" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$bare_port/" >/dev/null && break; sleep 0.1; done
bare_bytes=$(curl -fs "http://127.0.0.1:$bare_port/" | wc -c)

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
# This machine's throughput drifts by ±20% between runs (a shared VM), so the two servers are
# measured in alternating rounds and the median of the per-round ratios is reported.
ROUNDS=${BENCH_ROUNDS:-3}
ratios=()
table=""
non2xx=0
for round in $(seq "$ROUNDS"); do
  echo "== round $round: wrk, bare axum handler ($bare_bytes bytes) =="
  wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency "http://127.0.0.1:$bare_port/" | tee "$work/bare.txt"
  echo "== round $round: wrk, GET /api/v1/me with a session ($me_bytes bytes) =="
  wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency -H "cookie: $cookie" "http://127.0.0.1:$portal_port/api/v1/me" | tee "$work/me.txt"
  n=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$work/me.txt")
  non2xx=$((non2xx + ${n:-0}))
  b=$(rps "$work/bare.txt"); m=$(rps "$work/me.txt")
  r=$(python3 -c "print(f'{$m / $b:.3f}')")
  ratios+=("$r")
  table+="| $round | $b | $m | $r |"$'\n'
done
ratio=$(python3 -c "import statistics; print(f'{statistics.median([$(IFS=,; echo "${ratios[*]}")]):.3f}')")

verdict() { python3 -c "print('met' if $1 else 'NOT met')"; }
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)
# Decided before writing: the redirect below truncates RESULTS.md, which would count itself.
dirty=$( [ -n "$(git status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md')" ] && echo ' plus uncommitted changes' || true)
cat > bench/RESULTS.md <<MD
# Benchmark results

Written by \`make bench\` (bench/run.sh) on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD)$dirty,
on $(nproc) cores ($cpu), build profile \`perf\` (release optimisation, no LTO).

## Sign-in (issue: local sign-in)

| measure | value | target | |
| --- | --- | --- | --- |
| one Argon2id verification (19 MiB, t=2, p=1), mean | $(val argon2_verify_ms_mean) ms | | |
| password sign-in, server time (request in, response out, in-process), mean | $(val login_ms_mean) ms | | |
| sign-in ÷ verification | $(val login_over_verify) | ≤ 1.3 | $(verdict "$(val login_over_verify) <= 1.3") |
| TOTP verification (±1 step window), mean | $(val totp_verify_us_mean) µs | < 1000 µs | $(verdict "$(val totp_verify_us_mean) < 1000") |

Medians: verification $(val argon2_verify_ms_median) ms, sign-in $(val login_ms_median) ms (40 interleaved rounds).

## Session-authenticated \`GET /api/v1/me\`

wrk, 2 threads, $CONNECTIONS connections, ${DURATION} s per server and round, the two servers
alternating for $ROUNDS rounds on this machine (wrk shares the 2 cores with the server). SQLite
database. Both servers use the mimalloc allocator. Bodies: bare $bare_bytes bytes, portal
$me_bytes bytes.

| round | bare axum handler, fixed JSON (requests/s) | portal \`GET /api/v1/me\` (cookie → session, user, organisation, MFA state) (requests/s) | ratio |
| --- | --- | --- | --- |
${table}
Median ratio: **$ratio** (target ≥ 0.5: $(verdict "$ratio >= 0.5")). Non-2xx answers during the runs: ${non2xx}.

## Sign in with Microsoft Entra ID (issue: SSO)

In-process portal; the development emulator plays Entra ID on a local port. Server time is the
portal's own \`sso_callback_server_seconds\` histogram: the callback without the token call to
the identity provider (ID-token validation with cached keys, tenant check, user lookup, session
and audit writes on SQLite).

| measure | value | target | |
| --- | --- | --- | --- |
| callback server time, mean of $(val sso_callbacks) sign-ins | $(val sso_callback_ms_mean) ms | < 2 ms | $(verdict "$(val sso_callback_ms_mean) < 2") |
| share of callbacks under 2 ms | $(val sso_callback_share_under_2ms) | | |
| JWKS fetches while $(val unknown_kid_tokens) tokens with unknown kids arrive within a minute | $(val jwks_fetches_during_flood) | ≤ 1 | $(verdict "$(val jwks_fetches_during_flood) <= 1") |
MD
echo "== voice data: ingest, API latency at 10 M calls, export, DuckDB (bench/voice.sh) =="
bench/voice.sh
echo "== front-end size: the release wasm against its brotli budget (bench/wasm.sh) =="
wasm_status=0; bench/wasm.sh || wasm_status=$?
echo "== front-end size: where the wasm goes, layout and pages (bench/wasm-floor.sh) =="
# Its failure must not keep the first-visit budgets below from being measured.
floor_status=0; bench/wasm-floor.sh || floor_status=$?
echo "== first visits, page by page, split against monolith (bench/firstvisit.sh) =="
firstvisit_status=0; FIRSTVISIT_COMMAND="make bench" bench/firstvisit.sh || firstvisit_status=$?
echo "== written bench/RESULTS.md =="
cat bench/RESULTS.md
[ "$wasm_status" = 0 ] || echo "bench: the release wasm is over its budget (bench/wasm.sh)" >&2
[ "$floor_status" = 0 ] || echo "bench: bench/wasm-floor.sh failed" >&2
[ "$firstvisit_status" = 0 ] || echo "bench: a first-visit budget is exceeded (bench/firstvisit.sh)" >&2
[ "$wasm_status" = 0 ] && [ "$floor_status" = 0 ] && [ "$firstvisit_status" = 0 ]
