// Shared helpers: fail a test on any browser console error or failed request, wait for
// hydration, and keep a screenshot of each page as a test artifact.
import { expect, type Page, type TestInfo } from "@playwright/test";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

/** Records console errors, page errors and failed requests; `assertClean` fails on any. */
export function watchForErrors(page: Page) {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on("response", (res) => {
    if (res.status() >= 500) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  return {
    assertClean() {
      expect(problems, problems.join("\n")).toEqual([]);
    },
  };
}

/** Waits until the wasm bundle has hydrated the page (the layout marks itself). */
export async function waitForHydration(page: Page) {
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
}

/** Saves a full-page screenshot under the test's output directory. */
export async function keepScreenshot(page: Page, testInfo: TestInfo, name: string) {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}
