#!/usr/bin/env bash
# Installs what `make run` / `make test` need and is missing; each check takes well under a
# second once the tool is there, so a second run finishes within seconds.
#   scripts/tools.sh build   the Rust toolchain pieces: wasm32 target, cargo-leptos,
#                            wasm-bindgen (the exact Cargo.lock version), wasm-opt (npm binaryen)
#   scripts/tools.sh test    plus Debian's chromium and postgresql, the end-to-end npm packages
#                            and Schemathesis (PyPI, in .tools/venv) for the API fuzz
#   scripts/tools.sh soak    plus Locust (PyPI, in .tools/locust-venv) for `make soak`
# Nothing is downloaded from GitHub or a CDN: crates.io, npm, PyPI and Debian's packages only.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
SCHEMATHESIS_VERSION=4.32.5
LOCUST_VERSION=2.47.0
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
[ -n "$WASM_BINDGEN_VERSION" ] || { echo "tools.sh: no exact wasm-bindgen pin in Cargo.toml" >&2; exit 1; }
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

say() { echo "tools: $*"; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "tools.sh: please install these Debian packages (needs root): $*" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

build_tools() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (must equal the library's version)"
    # --locked first; its lockfile can name a crate version the registry has since withdrawn,
    # in which case resolve afresh within the same wasm-bindgen version.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --force \
      || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
  if ! command -v wasm-opt >/dev/null 2>&1; then
    say "installing wasm-opt (npm binaryen) into .tools/"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --silent binaryen@132.0.0 >/dev/null
  fi
}

test_tools() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  if ! .tools/venv/bin/st --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
    say "installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into .tools/venv"
    mkdir -p .tools
    python3 -m venv .tools/venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .tools/venv; }
    .tools/venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  fi
  if [ ! -x end2end/node_modules/.bin/playwright ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the end-to-end test packages (npm ci)"
    (cd end2end && npm ci --no-audit --no-fund --silent)
  fi
}

# Locust in a virtualenv of its own: its pins (gevent, flask, requests) are not Schemathesis'.
soak_tools() {
  if ! .tools/locust-venv/bin/locust --version 2>/dev/null | grep -q "^locust $LOCUST_VERSION "; then
    say "installing locust $LOCUST_VERSION (PyPI) into .tools/locust-venv"
    mkdir -p .tools
    python3 -m venv .tools/locust-venv 2>/dev/null || { apt_install python3-venv; python3 -m venv .tools/locust-venv; }
    .tools/locust-venv/bin/pip install --quiet --disable-pip-version-check "locust==$LOCUST_VERSION"
  fi
}

case "${1:-build}" in
  build) build_tools ;;
  test) build_tools; test_tools ;;
  soak) build_tools; test_tools; soak_tools ;;
  *) echo "usage: scripts/tools.sh build|test|soak" >&2; exit 2 ;;
esac
