// Playwright runs the built portal (target/debug/portal) with the front end as a release ships
// it (`make e2e` runs `LEPTOS_HASH_FILES=true cargo leptos build --release --split --precompress
// --frontend-only`: per-page wasm chunks, hashed names, .br/.gz twins) against a
// fresh SQLite database, in Debian's headless Chromium (no browser download). Beside it run
// npm's oidc-provider (port 3108) and a second portal (3109) that signs in against it.
import { defineConfig, devices } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
// The config is loaded by the runner and again by each worker: the first load makes the
// directory and the workers inherit it through the environment, so all share one database.
if (!process.env.E2E_DATA_DIR) {
  process.env.E2E_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "portal-e2e-"));
}
const dataDir = process.env.E2E_DATA_DIR;
const root = path.resolve(__dirname, "..");
process.env.E2E_DATABASE_URL = `sqlite://${dataDir}/portal.db?mode=rwc`;
process.env.E2E_PORTAL_BIN = `${root}/target/debug/portal`;
// The release front end's hash file: the debug server reads it instead of one beside itself.
const hashFile = process.env.E2E_HASH_FILE ?? `${root}/target/release/hash.txt`;

// The interoperability test (tests/interop.spec.ts): npm's oidc-provider as one Entra ID tenant
// (oidc-provider/server.mjs) and a second portal, with its own database, that signs in against it.
const idpPort = Number(process.env.E2E_INTEROP_IDP_PORT ?? 3108);
const interopPort = Number(process.env.E2E_INTEROP_PORT ?? 3109);
const idpURL = `http://127.0.0.1:${idpPort}`;
const interopURL = `http://127.0.0.1:${interopPort}`;
if (!process.env.E2E_INTEROP_DATA_DIR) {
  process.env.E2E_INTEROP_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "portal-e2e-interop-"));
}
const interopDataDir = process.env.E2E_INTEROP_DATA_DIR;
process.env.E2E_INTEROP_URL = interopURL;
const interopTenant = "5f0c6a1e-3b7d-4c29-8e41-9a2d7b6c0f13";
process.env.E2E_INTEROP_TENANT = interopTenant;
const interopClient = { id: "portal-interop", secret: "interop-client-secret-not-for-production" };

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined } }],
  webServer: [
    {
      command: `${root}/target/debug/portal serve`,
      cwd: root,
      url: `${baseURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        DATABASE_URL: process.env.E2E_DATABASE_URL,
        PORTAL_DATA_DIR: dataDir,
        LEPTOS_SITE_ROOT: `${root}/target/site`,
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_HASH_FILE_NAME: hashFile,
        PORTAL_PUBLIC_URL: baseURL,
        RUST_LOG: "warn",
      },
    },
    {
      name: "oidc-provider",
      command: "node oidc-provider/server.mjs",
      cwd: __dirname,
      url: `${idpURL}/organizations/v2.0/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "pipe",
      stderr: "pipe",
      gracefulShutdown: { signal: "SIGTERM", timeout: 2_000 },
      env: {
        OIDC_PORT: String(idpPort),
        OIDC_TENANT: interopTenant,
        OIDC_CLIENT_ID: interopClient.id,
        OIDC_CLIENT_SECRET: interopClient.secret,
        PORTAL_URL: interopURL,
      },
    },
    {
      name: "portal-interop",
      command: `${__dirname}/oidc-provider/start-portal.sh`,
      cwd: root,
      url: `${interopURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
      env: {
        PORTAL_BIN: process.env.E2E_PORTAL_BIN,
        DATABASE_URL: `sqlite://${interopDataDir}/portal.db?mode=rwc`,
        PORTAL_DATA_DIR: interopDataDir,
        INTEROP_TENANT: interopTenant,
        ENTRA_AUTHORITY: idpURL,
        ENTRA_CLIENT_ID: interopClient.id,
        ENTRA_CLIENT_SECRET: interopClient.secret,
        LEPTOS_SITE_ROOT: `${root}/target/site`,
        LEPTOS_SITE_ADDR: `127.0.0.1:${interopPort}`,
        LEPTOS_HASH_FILE_NAME: hashFile,
        PORTAL_PUBLIC_URL: interopURL,
        RUST_LOG: "warn",
      },
    },
  ],
});
