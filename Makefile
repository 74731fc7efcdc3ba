# The two commands: `make run` and `make test` (plus `make bench` for long measurements).
# Each installs what is missing first (scripts/tools.sh), so they work on a fresh machine.

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/.tools/node_modules/.bin:$(PATH)
export CARGO_TERM_COLOR ?= never

.PHONY: run test bench soak tools test-tools lint check-wasm test-sqlite test-postgres fuzz e2e build-site clean

## Serve the portal with live reload on http://localhost:3000 (SQLite under data/, demo data seeded).
## Unhashed file names: cargo-leptos' watch does not re-hash on rebuilds (see Cargo.toml hash-files).
## Split into per-page wasm chunks (`--split`) as a release is: the pages are lazy routes.
run: tools
	PORTAL_SEED_DEMO=true cargo leptos watch --split

## Every check: fmt, clippy, wasm, tests on SQLite and PostgreSQL, Playwright in Chromium.
test: test-tools lint check-wasm test-sqlite test-postgres fuzz e2e

tools:
	@scripts/tools.sh build

test-tools:
	@scripts/tools.sh test

lint:
	@echo "== cargo fmt --check =="
	cargo fmt --all --check
	@echo "== cargo clippy =="
	cargo clippy --workspace --all-targets -- -D warnings

check-wasm:
	@echo "== wasm check (frontend) =="
	cargo check -p frontend --target wasm32-unknown-unknown

test-sqlite:
	@echo "== unit and integration tests on SQLite =="
	cargo test --workspace

test-postgres:
	@echo "== integration tests on PostgreSQL =="
	scripts/with-postgres.sh cargo test -p server --test '*'

## Schemathesis against the API's OpenAPI document, about 2 minutes per database: every
## operation as a customer admin, as carrier staff, as API tokens of each scope and as nobody;
## any 5xx or undocumented answer fails.
fuzz:
	cargo build -p server --bin portal
	@echo "== API fuzz on SQLite (Schemathesis) =="
	scripts/fuzz-api.sh 20
	@echo "== API fuzz on PostgreSQL (Schemathesis) =="
	scripts/with-postgres.sh scripts/fuzz-api.sh 20

## The front end exactly as a release ships it: optimised, split into per-page wasm chunks,
## hashed names and precompressed .br/.gz twins (the tests check chunks, headers and twins).
## The server under test is the debug binary `cargo test` already built (its release build,
## with LTO, would add many minutes and test nothing the front end does not); it reads the
## release build's hash file (E2E_HASH_FILE in end2end/playwright.config.ts).
build-site:
	LEPTOS_HASH_FILES=true cargo leptos build --release --split --precompress --frontend-only
	cargo build -p server --bin portal

e2e: build-site
	@echo "== end-to-end tests (Playwright, headless Chromium) =="
	cd end2end && npx playwright test

clean:
	cargo clean
	rm -rf end2end/test-results end2end/playwright-report

## Long measurements (not part of `make test`); writes bench/RESULTS.md. The test tools too:
## bench/firstvisit.sh drives Chromium with end2end's Playwright, bench/voice.sh uses PostgreSQL.
bench: test-tools
	bench/run.sh

## Load, faults and hostile input, judged (issue 18; not part of `make test`, about 40 minutes):
## 200 signed-in users on SQLite and PostgreSQL, PostgreSQL stopped under load, a 10-minute
## soak, SIGTERM during a million-row upload and import, a full disk, a longer API fuzz.
## Prints a pass/fail table; the figures go to target/soak/REPORT.md.
soak: test-tools
	scripts/soak.sh
