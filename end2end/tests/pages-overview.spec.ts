// The Overview page (/) end to end, with its own customer and data (CLI): KPIs, the calls
// chart, utilisation and health checked against the API, signed in with password + TOTP; the
// call to action for numbers without an emergency address followed by a viewer signed in
// through the development Entra ID emulator; staff switch customers. Every visit is at
// 1280×800 and 375×812 with screenshots kept, and any console error or failed request fails
// the test (guardPage). Services, analytics and porting have specs of their own.
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  PASSWORD,
  PHONE,
  apiAs,
  customerWithCalls,
  expectNumbersOnOneLine,
  guardPage,
  portNumbersIn,
  portalCli,
  signInStaff,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";

async function kpiValue(page: Page, label: string) {
  return page.locator(`[data-kpi="${label}"] .kpi-value`);
}

test("overview: KPIs, calls chart, utilisation and health match the API (password + TOTP)", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = customerWithCalls("Overview");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/");
  await waitForHydration(page);

  // The navigation offers every page, grouped.
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const label of ["Overview", "Services", "Calls", "Analytics", "Numbers", "Emergency addresses", "Porting", "Users", "API tokens", "Audit log", "Security"]) {
    await expect(nav.getByRole("link", { name: label, exact: true })).toBeVisible();
  }

  // KPIs of today, checked against the API's summary for the same range.
  await expect(await kpiValue(page, "Calls")).toHaveText("5");
  const from = await page.evaluate(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return d.toISOString();
  });
  const summary = await (await page.request.get(`/api/v1/analytics/summary?from=${encodeURIComponent(from)}`)).json();
  expect(summary.current.calls).toBe(5);
  expect(summary.current.answered).toBe(3);
  await expect(await kpiValue(page, "ASR")).toHaveText("60.0%");
  // Today so far is compared with the same hours yesterday, as the API answers for compare=day_before.
  await expect(page.locator('[data-kpi="Calls"]')).toContainText("the same hours yesterday");
  const dayBefore = await (
    await page.request.get(`/api/v1/analytics/summary?from=${encodeURIComponent(from)}&compare=day_before`)
  ).json();
  expect(Date.parse(dayBefore.range.from) - Date.parse(dayBefore.previous_range.from)).toBe(24 * 3600 * 1000);
  await expect(page.locator('[data-kpi="Peak channels"] .kpi-detail')).toContainText("on Trunk");

  // The calls chart: an accessible summary, a tooltip on keyboard focus, a table fallback.
  const chart = page.locator("#overview-calls");
  await expect(chart.getByRole("img")).toHaveAttribute("aria-label", /Calls per hour, by service/);
  const focusable = chart.locator('.chart-hit[tabindex="0"]');
  await focusable.focus();
  await page.keyboard.press("End");
  await expect(chart.locator(".chart-tooltip")).toBeVisible();
  await expect(chart.locator(".chart-tooltip")).toContainText("Trunk A");
  await chart.getByRole("button", { name: "Show as table" }).click();
  const table = chart.getByRole("table");
  await expect(table).toBeVisible();
  await expect(table.getByRole("columnheader", { name: "Trunk B" })).toBeVisible();
  await chart.getByRole("button", { name: "Show as chart" }).click();

  // One gauge per service, against its limit.
  await expect(page.getByRole("img", { name: /^Trunk A: \d+ of 10 channels/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /^Trunk B: \d+ of 4 channels/ })).toBeVisible();

  // Service health and incidents load (a new customer has no probe yet, no incident).
  await expect(page.getByTestId("service-health")).toContainText("Trunk A");
  await expect(page.getByTestId("incidents-empty")).toBeVisible();
  // No number lacks an address: no call to action.
  await expect(page.getByTestId("missing-addresses")).toHaveCount(0);

  // 30 days: the same five calls, daily buckets.
  await page.getByRole("button", { name: "30 days" }).click();
  await expect(page.locator("#overview-calls").getByRole("img")).toHaveAttribute("aria-label", /Calls per day/);
  await expect(await kpiValue(page, "Calls")).toHaveText("5");

  await visitAtBothSizes(page, testInfo, "/", "overview", async (p) => {
    await expect(await kpiValue(p, "Calls")).toHaveText("5");
  });
  guard.assertClean();
});

test("overview: a viewer signed in with Microsoft follows the missing-address call to action", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = customerWithCalls("Overview SSO");
  await page.goto("/login");
  const admin = await apiAs(page, customer.adminEmail);
  const { numbers } = await portNumbersIn(admin, "Trunk B", 2);
  await admin.dispose();
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/" });
  await expect(page).toHaveURL(/\/$/);

  // Today's KPIs are the customer's five calls, as the API counts them.
  await expect(await kpiValue(page, "Calls")).toHaveText("5");
  const missing = await (await page.request.get("/api/v1/numbers?missing_emergency_address=true")).json();
  expect(missing.numbers.map((n: { e164: string }) => n.e164).sort()).toEqual([...numbers].sort());
  const cta = page.getByTestId("missing-addresses");
  await expect(cta).toContainText("2 numbers have no emergency address.");
  await cta.getByRole("link", { name: "Review these numbers" }).click();
  await expect(page).toHaveURL(/\/numbers\?missing_emergency_address=true/);
  await expect(page.getByTestId("numbers-table").locator("tbody tr")).toHaveCount(2);
  // Each number stays on one line, also in the phone's one-card-per-row layout.
  await expectNumbersOnOneLine(page);
  await page.setViewportSize(PHONE);
  await expectNumbersOnOneLine(page);
  await page.setViewportSize(DESKTOP);
  // A viewer may look but not change.
  await expect(page.getByRole("button", { name: /^Edit/ })).toHaveCount(0);

  await visitAtBothSizes(page, testInfo, "/", "overview-sso", async (p) => {
    await expect(p.getByTestId("missing-addresses")).toBeVisible();
    await expect(await kpiValue(p, "Calls")).toHaveText("5");
  });
  guard.assertClean();
});

test("staff: the customer switcher scopes every page to the chosen customer", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = customerWithCalls("Switcher");
  const staffEmail = `staff-${Date.now()}@carrier.example`;
  portalCli(["staff", "create", "--email", staffEmail, "--password-stdin"], `${PASSWORD}\n`);
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  // Staff always sign in with an authenticator: this first sign-in sets it up.
  await signInStaff(page, staffEmail);

  // Before choosing, the page asks for a customer instead of failing.
  await expect(page.getByTestId("choose-customer")).toBeVisible();
  // The switcher searches the server as staff type and offers what it finds.
  const switcher = page.getByLabel("Viewing customer");
  await switcher.pressSequentially(customer.name.slice(0, 12));
  await expect(page.locator(`#org-switcher-options option[value="${customer.slug}"]`)).toHaveCount(1);
  const requests: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/v1/services") || r.url().includes("/api/v1/analytics")) requests.push(r.url());
  });
  // Enter on the slug switches to that customer.
  await switcher.fill(customer.slug);
  await switcher.press("Enter");
  await expect(switcher).toHaveValue(customer.slug);
  await waitForHydration(page);
  await expect(page.locator(".org-bar")).toContainText(customer.name);
  await expect(await kpiValue(page, "Calls")).toHaveText("5");

  // The choice holds across navigation, and every request names the customer.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Services" }).click();
  await expect(page.getByTestId("services-table")).toContainText("Trunk B");
  expect(requests.length).toBeGreaterThan(0);
  for (const url of requests) expect(url).toContain(`org=${customer.slug}`);

  await visitAtBothSizes(page, testInfo, "/services", "services-staff", async (p) => {
    await expect(p.locator(".org-bar")).toContainText(customer.name);
  });

  // "Stop viewing" forgets the customer in this tab: the page asks for one again.
  await page.getByRole("button", { name: "Stop viewing" }).click();
  await expect(page.getByTestId("choose-customer")).toBeVisible();
  await expect(page.getByLabel("Viewing customer")).toHaveValue("");
  expect(await page.evaluate(() => sessionStorage.getItem("portal.org"))).toBeNull();
  guard.assertClean();
});
