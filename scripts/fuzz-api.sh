#!/usr/bin/env bash
# Schemathesis (PyPI, installed by scripts/tools.sh into .tools/venv) against the portal's
# own OpenAPI document, on a fresh database seeded with the demo data: every operation fuzzed
# from the document (coverage, fuzzing and the stateful phase that follows the document's
# links), as each kind of caller the API has:
#   - a signed-in customer admin, and a signed-in carrier staff member (the provider console;
#     customers' routes with and without ?org=), each with a session cookie and a same-origin
#     Origin, without the
#     operations that end or downgrade that very session (signing out, changing the password
#     or the authenticator, requiring MFA or SSO, wrong step-up secrets: each ends the run's
#     credentials);
#   - those session-ending operations, with a session of their own;
#   - API tokens of each scope: read_write, read, ingest;
#   - nobody (no credential).
# One worker: with two, Hypothesis parses source in two threads at once and CPython 3.11's
# parser state is shared between them ("AST constructor recursion depth mismatch").
# Checks: all of Schemathesis' but `positive_data_acceptance`, which expects every request
# the document allows to be accepted; the API also has rules JSON Schema cannot state (from
# not after to, a service id that exists, a porting date not in the past), which answer 422.
# Any 5xx, an answer outside the documented statuses or schema, an error without the
# `{"error":{"code","message"}}` shape, or a request the document forbids that is accepted
# fails the run.
#
#   scripts/fuzz-api.sh [SECONDS]   time budget of the longest runs (default 25; the
#                                    others take a fraction of it)
# On PostgreSQL when PORTAL_TEST_DATABASE_URL is set (scripts/with-postgres.sh), else SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-25}
st=$PWD/.tools/venv/bin/st
[ -x "$st" ] || { echo "fuzz-api.sh: schemathesis is not installed (run scripts/tools.sh test)" >&2; exit 1; }
bin=$PWD/target/debug/portal
[ -x "$bin" ] || { echo "fuzz-api.sh: build the server first (cargo build -p server --bin portal)" >&2; exit 1; }

work=$(mktemp -d /tmp/portal-fuzz.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -n "${PORTAL_TEST_DATABASE_URL:-}" ]; then
  name="fuzz_$(date +%s)_$$"
  psql -q "$PORTAL_TEST_DATABASE_URL" -c "CREATE DATABASE $name" >/dev/null
  export DATABASE_URL="${PORTAL_TEST_DATABASE_URL%/*}/$name"
  backend=PostgreSQL
else
  export DATABASE_URL="sqlite://$work/portal.db?mode=rwc"
  backend=SQLite
fi
export PORTAL_DATA_DIR="$work/data" LEPTOS_SITE_ADDR="127.0.0.1:$port" PORTAL_PUBLIC_URL="$base" \
  LEPTOS_SITE_ROOT="$work/site" RUST_LOG=warn
mkdir -p "$work/site"

"$bin" migrate >/dev/null
"$bin" seed-demo >"$work/seed.log"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || { echo "fuzz-api.sh: the portal did not start:" >&2; cat "$work/server.log" >&2; exit 1; }

# A session of the demo's Fabrikam admin (password only), as its cookie value.
session() {
  local jar="$work/jar.$RANDOM"
  curl -sf -c "$jar" -H "Origin: $base" -H 'content-type: application/json' \
    -d '{"email":"admin@fabrikam.example","password":"violet tugboat orbit sandwich"}' \
    "$base/api/v1/auth/login" >/dev/null
  awk '$6 == "__Host-portal_session" { print $7 }' "$jar"
}
token() {
  curl -sf -H "Cookie: __Host-portal_session=$1" -H "Origin: $base" -H 'content-type: application/json' \
    -d "{\"name\":\"fuzz $2\",\"scope\":\"$2\",\"expires_in_days\":1}" "$base/api/v1/api-tokens" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])'
}
# A full session of the demo's carrier staff: staff set up an authenticator at their first
# sign-in, so this signs in, enrols TOTP and confirms it with the current code (RFC 6238).
staff_session() {
  python3 - "$base" <<'PY'
import base64, hashlib, hmac, json, struct, sys, time, urllib.error, urllib.request
base, password = sys.argv[1], "violet tugboat orbit sandwich"
def call(path, body, cookie=None):
    headers = {"Origin": base, "Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = "__Host-portal_session=" + cookie
    req = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method="POST")
    try:
        res = urllib.request.urlopen(req)
    except urllib.error.HTTPError as e:
        res = e
    fresh = [h.split(";")[0].split("=", 1)[1] for h in res.headers.get_all("Set-Cookie") or []
             if h.startswith("__Host-portal_session=") and "Max-Age=0" not in h]
    return json.loads(res.read() or b"null"), (fresh[0] if fresh else cookie)
_, cookie = call("/api/v1/auth/login", {"email": "noc@carrier.example", "password": password})
enrolment, cookie = call("/api/v1/me/mfa/totp", {"password": password}, cookie)
secret = enrolment["secret"]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = digest[-1] & 15
code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000
_, cookie = call("/api/v1/me/mfa/totp/confirm", {"code": "%06d" % code}, cookie)
print(cookie)
PY
}
admin=$(session)
[ -n "$admin" ] || { echo "fuzz-api.sh: could not sign in as the demo admin" >&2; exit 1; }
staff=$(staff_session)
[ "$(curl -s -H "Cookie: __Host-portal_session=$staff" "$base/api/v1/me" | python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["staff"])')" = True ] \
  || { echo "fuzz-api.sh: could not sign in as the demo's carrier staff" >&2; exit 1; }
read_write=$(token "$admin" read_write)
read_only=$(token "$admin" read)
ingest=$(token "$admin" ingest)

# The operations that end, replace or downgrade the caller's own session.
session_enders='^(logout|login|complete_mfa|revoke_session|change_password|disable_totp|regenerate_recovery_codes|start_totp_enrolment|confirm_totp_enrolment|set_mfa_policy|update_sso_settings|step_up|start_email_codes|confirm_email_codes|stop_email_codes)$'

failed=0
passed=0
# run LABEL SECONDS SESSION TOKEN [st options]: the credentials go through Schemathesis'
# own auth configuration (not a bare header), so that it knows them for what they are and
# also tries each operation without them.
run() {
  local label=$1 budget=$2 session=$3 bearer=$4
  shift 4
  local config="$work/schemathesis.toml"
  : >"$config"
  [ -n "$session" ] && printf '[auth.openapi.session]\napi_key = "%s"\n' "$session" >>"$config"
  [ -n "$bearer" ] && printf '[auth.openapi.api_token]\nbearer = "%s"\n' "$bearer" >>"$config"
  echo "== schemathesis on $backend: $label (${budget}s) =="
  # From the run's own directory: Schemathesis keeps a cache of past failures in the working
  # directory, and each run starts afresh.
  if (cd "$work" && "$st" --config-file "$config" run "$base/api/v1/openapi.json" --max-time "$budget" --workers 1 \
    --checks all --exclude-checks positive_data_acceptance --warnings off \
    --suppress-health-check all --seed 1 "$@") >"$work/st.log" 2>&1; then
    passed=$((passed + 1))
    grep -E "generated" "$work/st.log" | tail -n 1
  else
    failed=$((failed + 1))
    cat "$work/st.log"
  fi
}

half=$(( (secs + 1) / 2 ))
origin=(-H "Origin: $base")
run "customer admin session" "$secs" "$admin" "" "${origin[@]}" \
  --exclude-operation-id-regex "$session_enders"
run "session-ending operations, own session" "$half" "$(session)" "" "${origin[@]}" \
  --include-operation-id-regex "$session_enders"
run "carrier staff session" "$secs" "$staff" "" "${origin[@]}" \
  --exclude-operation-id-regex "$session_enders"
run "read_write API token" "$secs" "" "$read_write"
run "read API token" "$half" "" "$read_only"
run "ingest API token" "$half" "" "$ingest"
run "no credential" "$half" "" ""

if grep -q "panicked" "$work/server.log"; then
  echo "fuzz-api.sh: the server panicked:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  failed=$((failed + 1))
fi
if [ "$failed" != 0 ]; then
  echo "-- the portal's log, errors only (last 40) --"
  grep -E "ERROR|WARN" "$work/server.log" | tail -n 40 || true
fi
echo "schemathesis on $backend: $passed passed, $failed failed"
[ "$failed" = 0 ]
