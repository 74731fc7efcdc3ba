// The Analytics page (/analytics) end to end, each test with its own customer and calls (CLI):
// totals, figures by service and by country and the charts' summaries, checked against the
// API, for a period picked on the page. Signed in once with password + TOTP and once through
// the development Entra ID emulator; visited at 1280×800 and 375×812 with screenshots kept;
// any console error or failed request fails the test.
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  customerWithCalls,
  guardPage,
  minutesAgo,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(90_000);

/** The value of the totals' entry `label` ("Calls", "ASR" …). */
function total(page: Page, label: string) {
  return page
    .getByTestId("analytics-totals")
    .locator("div")
    .filter({ has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) })
    .locator("dd");
}

/** The API's figures since `from` (RFC 3339). */
async function summarySince(page: Page, from: string) {
  return (await (await page.request.get(`/api/v1/analytics/summary?from=${encodeURIComponent(from)}`)).json()).current;
}

test("analytics: the period picker changes the figures as the API counts them (password + TOTP)", async ({ page }, testInfo) => {
  // One more answered call on Trunk A, three days ago: in "7 days", not in "Today".
  const earlier = 3 * 24 * 60;
  const customer = customerWithCalls("Analytics", [
    `c1,Trunk A,${minutesAgo(earlier)},${minutesAgo(earlier)},${minutesAgo(earlier - 2)},outbound,+442071234567,+4989123456,answered,200,OK,4.2,4,0.1,DE`,
  ]);
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/analytics");
  await waitForHydration(page);

  // 7 days (the default): six calls; Trunk A answered three of four.
  expect((await summarySince(page, minutesAgo(7 * 24 * 60))).calls).toBe(6);
  await expect(total(page, "Calls")).toHaveText("6");
  const byService = page.getByTestId("analytics-by");
  await expect(byService.getByRole("row", { name: /Trunk A/ })).toContainText("75.0%");
  await expect(byService.getByRole("row", { name: /Trunk B/ })).toContainText("50.0%");

  // Today: the three-day-old call drops out.
  await page.getByRole("button", { name: "Today", exact: true }).click();
  await expect(page.getByRole("button", { name: "Today", exact: true })).toHaveAttribute("aria-pressed", "true");
  const midnight = await page.evaluate(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return d.toISOString();
  });
  const today = await summarySince(page, midnight);
  expect(today.calls).toBe(5);
  await expect(total(page, "Calls")).toHaveText("5");
  await expect(total(page, "ASR")).toHaveText(`${(today.asr * 100).toFixed(1)}%`);
  await expect(byService.getByRole("row", { name: /Trunk A/ })).toContainText("66.7%");
  await expect(page.locator("#analytics-calls").getByRole("img")).toHaveAttribute("aria-label", /Calls per hour, by service/);

  await visitAtBothSizes(page, testInfo, "/analytics", "analytics-totp", async (p) => {
    await expect(p.getByTestId("analytics-totals")).toBeVisible();
  });
  guard.assertClean();
});

test("analytics: figures by service and by country match the API (Microsoft sign-in)", async ({ page }, testInfo) => {
  const customer = customerWithCalls("Analytics SSO");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/analytics" });
  await expect(page).toHaveURL(/\/analytics$/);

  await expect(total(page, "Calls")).toHaveText("5");
  const byService = page.getByTestId("analytics-by");
  await expect(byService.getByRole("row", { name: /Trunk A/ })).toContainText("66.7%");

  await page.getByRole("button", { name: "By country" }).click();
  const byCountry = page.getByTestId("analytics-by");
  await expect(byCountry.getByRole("row", { name: /^US/ })).toBeVisible();
  const series = await (await page.request.get(`/api/v1/analytics/timeseries?by=country&bucket=day&from=${encodeURIComponent(minutesAgo(7 * 24 * 60))}`)).json();
  const countries = (series.series as { key: string }[]).map((s) => s.key).sort();
  expect(countries).toEqual(["FR", "GB", "US"]);
  await expect(byCountry.getByRole("row")).toHaveCount(1 + countries.length);
  await expect(page.locator("#analytics-asr").getByRole("img")).toHaveAttribute("aria-label", /ASR per day, by country/);
  await expect(page.locator("#analytics-mos").getByRole("img")).toHaveAttribute("aria-label", /US: lowest 4\.\d+/);

  await visitAtBothSizes(page, testInfo, "/analytics", "analytics-sso", async (p) => {
    await expect(p.getByTestId("analytics-totals")).toBeVisible();
  });
  guard.assertClean();
});
