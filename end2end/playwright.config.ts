// Playwright runs the built portal (target/debug/portal from `cargo leptos build`) against a
// fresh SQLite database, in Debian's headless Chromium (no browser download).
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
  webServer: {
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
      PORTAL_PUBLIC_URL: baseURL,
      RUST_LOG: "warn",
    },
  },
});
