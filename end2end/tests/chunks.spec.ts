// Every page is a lazily loaded wasm chunk (app/src/routes.rs): the pages of one group share
// `pkg/split_pages_<group>.<hash>.wasm` in the split build `make e2e` serves. After hydration,
// going to a page of another group downloads its chunk while the page's first API reads are
// already under way; a chunk that cannot be downloaded shows the page's error state, never a
// blank page or a panic. The tests start on the overview (group "monitor") and go to Numbers
// (group "voice").
import { expect, test, type Page } from "@playwright/test";
import { customerWithCalls, guardPage, signInWithTotp, waitForHydration } from "./pages-support";

test.setTimeout(90_000);

const VOICE_CHUNK = "**/pkg/split_pages_voice.*.wasm";

/** Signs in as a fresh customer's admin and ends on the overview, hydrated. */
async function onTheOverview(page: Page, name: string) {
  const customer = customerWithCalls(name);
  await signInWithTotp(page, customer.adminEmail, "/");
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
}

async function openNumbers(page: Page) {
  await page.getByRole("navigation").getByRole("link", { name: "Numbers" }).first().click();
}

async function expectNumbersPage(page: Page) {
  await expect(page.getByRole("heading", { name: "Numbers", level: 1 })).toBeVisible();
  // The list, or its empty state: the page's own data arrived and rendered.
  await expect(page.getByTestId(/^numbers-(table|empty)$/)).toBeVisible();
}

test("a page's chunk downloads while its data is already being read", async ({ page }) => {
  const guard = guardPage(page);
  await onTheOverview(page, "Chunks parallel");

  let releaseChunk = () => {};
  const chunkHeld = new Promise<void>((resolve) => (releaseChunk = resolve));
  let chunkRequested = false;
  await page.route(VOICE_CHUNK, async (route) => {
    chunkRequested = true;
    await chunkHeld;
    await route.continue();
  });
  const numbersRead = page.waitForRequest((req) => new URL(req.url()).pathname === "/api/v1/numbers");

  await openNumbers(page);
  // The read starts while the chunk is still held back: no waterfall.
  await numbersRead;
  expect(chunkRequested).toBe(true);
  await expect(page.getByRole("heading", { name: "Numbers", level: 1 })).toHaveCount(0);

  releaseChunk();
  await expectNumbersPage(page);
  guard.assertClean();
});

test("a chunk the network drops shows the error with Try again, which loads the page", async ({ page }) => {
  // The browser reports the dropped download itself, and the splitter's loader (JS generated
  // by cargo-leptos' wasm_split_cli_support) leaves the failed fetch unobserved while it waits
  // for the shared chunks, which Chromium reports as an uncaught "Failed to fetch"; the wasm
  // learns of the failure through the loader's callback. Nothing else may go wrong.
  const guard = guardPage(page, [
    /request failed: GET .*\/split_pages_voice\..*\.wasm \(net::ERR_FAILED\)/,
    /console error: Failed to load resource: net::ERR_FAILED \(.*\/split_pages_voice\./,
    /^page error: Failed to fetch$/,
    /^console error: TypeError: Failed to fetch\s+at [^\n]*\/pkg\/__wasm_split\./,
  ]);
  await onTheOverview(page, "Chunks offline");

  // Offline until the person tries again. The router's preload and the page's own load each
  // try once (a failed load is not remembered), so both fail here.
  let offline = true;
  let failures = 0;
  await page.route(VOICE_CHUNK, async (route) => {
    if (offline) {
      failures += 1;
      await route.abort("failed");
    } else {
      await route.continue();
    }
  });
  await openNumbers(page);
  const alert = page.getByTestId("chunk-error");
  await expect(alert).toContainText("This page could not be loaded. The portal could not be reached.");
  await expect(page).toHaveURL(/\/numbers$/);
  // The shell is still there and working: no blank page, no panic.
  await expect(page.getByRole("navigation").getByRole("link", { name: "Numbers" }).first()).toBeVisible();

  expect(failures).toBeGreaterThan(0);
  offline = false;
  await alert.getByRole("button", { name: "Try again" }).click();
  await expectNumbersPage(page);
  await expect(alert).toHaveCount(0);
  guard.assertClean();
});

test("a chunk that is gone (a newer deploy) asks for a reload, which brings the page back", async ({ page }) => {
  // The browser reports the 404 and the failed compile itself; nothing else may go wrong.
  const guard = guardPage(page, [
    /HTTP 404 for GET .*\/split_pages_voice\..*\.wasm/,
    /console error: Failed to load resource: the server responded with a status of 404 .*\/split_pages_voice\./,
    /console error: TypeError: Failed to execute 'compile' on 'WebAssembly': HTTP status code is not ok \(.*\/__wasm_split\./,
  ]);
  await onTheOverview(page, "Chunks gone");

  await page.route(VOICE_CHUNK, (route) =>
    route.fulfill({ status: 404, contentType: "text/plain", body: "Not Found" }),
  );
  await openNumbers(page);
  const alert = page.getByTestId("chunk-error");
  await expect(alert).toContainText("the portal has been updated since this tab was opened");
  await expect(alert.getByRole("button", { name: "Try again" })).toHaveCount(0);

  // The "new deploy" is in place: the reload gets a page that names files that exist.
  await page.unroute(VOICE_CHUNK);
  await alert.getByRole("button", { name: "Reload the page" }).click();
  await waitForHydration(page);
  await expectNumbersPage(page);
  guard.assertClean();
});
