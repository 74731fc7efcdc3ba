#!/usr/bin/env bash
# The second portal of the interoperability test (tests/interop.spec.ts): signs in with
# Microsoft against oidc-provider (server.mjs) instead of the development emulator.
# Playwright's config sets the environment: PORTAL_BIN, DATABASE_URL (a fresh SQLite file),
# INTEROP_TENANT, ENTRA_AUTHORITY, ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET, PORTAL_PUBLIC_URL,
# LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT, PORTAL_DATA_DIR.
# Creates the customer "Interop Ltd" (slug interop) with SSO enabled and the test tenant
# linked, then becomes `portal serve`.
set -euo pipefail
: "${PORTAL_BIN:?}" "${DATABASE_URL:?}" "${INTEROP_TENANT:?}" "${ENTRA_AUTHORITY:?}"

"$PORTAL_BIN" org create --name "Interop Ltd" --slug interop
"$PORTAL_BIN" org sso enable --org interop
"$PORTAL_BIN" org sso link-tenant --org interop --tenant "$INTEROP_TENANT"
exec "$PORTAL_BIN" serve
