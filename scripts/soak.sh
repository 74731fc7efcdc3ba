#!/usr/bin/env bash
# `make soak`: load, faults and hostile input, judged (scripts/soak/soak.py says what and how).
# Builds the portal with the `perf` profile (release optimisation without LTO: the figures are
# a release build's, in minutes rather than a quarter of an hour on two cores) and the debug
# build the fuzz and the disk-full test use, then runs every phase against a throwaway
# PostgreSQL cluster (scripts/with-postgres.sh) and SQLite files under /tmp.
#   scripts/soak.sh [PHASE ...]     only those phases
# Knobs: SOAK_USERS (200), SOAK_SECONDS (60), SOAK_MINUTES (10), SOAK_FUZZ_SECS (60),
# SOAK_UPLOAD_ROWS (1000000), SOAK_INGEST (2).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"
scripts/tools.sh soak
echo "== building the portal (perf profile, and debug for the fuzz) =="
cargo build -q --profile perf -p server --bin portal
cargo build -q -p server --bin portal
ulimit -n 65536 2>/dev/null || true
exec scripts/with-postgres.sh .tools/locust-venv/bin/python scripts/soak/soak.py "$@"
