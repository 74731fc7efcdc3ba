// The monitoring pages end to end: overview, services and a service's page, analytics and
// porting, each with its own customer and data (CLI), signed in with password + TOTP and
// through the development Entra ID emulator; staff switch customers. Every page is visited at
// 1280×800 and 375×812 with screenshots kept, and any console error or failed request fails
// the test (guardPage).
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  createService,
  createTestCustomer,
  guardPage,
  importCalls,
  portalCli,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
  PASSWORD,
} from "./pages-support";

/** RFC 3339 of `minutes` ago, whole seconds. */
function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A customer with two services and five calls in the last few minutes: three on Trunk A
 * (two answered to the US, one busy to GB), two on Trunk B (one answered to GB, one failed).
 */
function customerWithCalls(name: string) {
  const customer = createTestCustomer(name);
  createService(customer.slug, "Trunk A", 10);
  createService(customer.slug, "Trunk B", 4, "teams_direct_routing", "DE");
  // Within the current hour where possible, and never before today's local midnight.
  const start = (m: number) => minutesAgo(Math.min(m, new Date().getMinutes() + new Date().getHours() * 60));
  const rows = [
    `a1,Trunk A,${start(6)},${start(6)},${start(4)},outbound,+442071234567,+14155550100,answered,200,OK,4.4,3,0.1,US`,
    `a2,Trunk A,${start(5)},${start(5)},${start(2)},outbound,+442071234567,+14155550101,answered,200,OK,4.0,5,0.2,US`,
    `a3,Trunk A,${start(5)},,${start(5)},outbound,+442071234567,+442071239999,busy,486,Busy Here,,,,GB`,
    `b1,Trunk B,${start(3)},${start(3)},${start(1)},inbound,+442079990000,+4930123456,answered,200,OK,3.6,9,1.5,GB`,
    `b2,Trunk B,${start(2)},,${start(2)},outbound,+4930123456,+33123456789,failed,503,Service Unavailable,,,,FR`,
  ];
  importCalls(customer.slug, rows);
  return customer;
}

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

test("services: the list, a service's utilisation against its limit and its numbers", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = customerWithCalls("Services");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/services");
  await waitForHydration(page);

  const table = page.getByTestId("services-table");
  await expect(table.getByRole("row")).toHaveCount(3);
  await expect(table).toContainText("Teams Direct Routing");
  await table.getByRole("link", { name: "Trunk A" }).click();
  await expect(page).toHaveURL(/\/services\/[^/]+$/);
  await expect(page.getByRole("heading", { name: "Trunk A", level: 1 })).toBeVisible();
  const id = decodeURIComponent(page.url().split("/services/")[1]);

  const detail = await (await page.request.get(`/api/v1/services/${encodeURIComponent(id)}`)).json();
  expect(detail.channel_limit ?? detail.service?.channel_limit).toBe(10);
  const peak = detail.utilisation.peak_channels;
  await expect(page.getByRole("img", { name: new RegExp(`^Peak channels: ${peak} of 10 channels`) })).toBeVisible();
  await expect(page.locator("#service-utilisation").getByRole("img")).toHaveAttribute("aria-label", /Peak channels per hour/);
  await expect(page.locator("#service-utilisation .chart-legend")).toContainText("Channel limit");
  await expect(page.locator("#service-calls").getByRole("img")).toHaveAttribute("aria-label", /Calls per hour/);
  await expect(page.getByTestId("history-empty")).toBeVisible();
  await expect(page.getByTestId("service-numbers-empty")).toBeVisible();

  // A service of another customer is not found.
  await page.goto("/services/does-not-exist");
  guard.allow(/\/api\/v1\/services\/does-not-exist/);
  await expect(page.getByTestId("service-not-found")).toBeVisible();

  await visitAtBothSizes(page, testInfo, "/services", "services", async (p) => {
    await expect(p.getByTestId("services-table")).toBeVisible();
  });
  await visitAtBothSizes(page, testInfo, `/services/${encodeURIComponent(id)}`, "service-detail", async (p) => {
    await expect(p.getByRole("heading", { name: "Trunk A", level: 1 })).toBeVisible();
  });
  guard.assertClean();
});

test("analytics: figures by service and by country match the API (Microsoft sign-in)", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = customerWithCalls("Analytics");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/analytics" });
  await expect(page).toHaveURL(/\/analytics$/);

  const totals = page.getByTestId("analytics-totals");
  await expect(totals).toContainText("5");
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

  await visitAtBothSizes(page, testInfo, "/analytics", "analytics", async (p) => {
    await expect(p.getByTestId("analytics-totals")).toBeVisible();
  });
  guard.assertClean();
});

test("porting: an engineer submits an order and sees its timeline; a viewer cannot submit", async ({ browser, page }, testInfo) => {
  test.setTimeout(120_000);
  const customer = createTestCustomer("Porting");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/porting");
  await waitForHydration(page);
  await expect(page.getByTestId("orders-empty")).toBeVisible();

  const suffix = String(Date.now()).slice(-6);
  const numbers = [`+44207${suffix}1`, `+44207${suffix}2`];
  await page.getByText("New porting order").click();
  await page.getByLabel("Numbers to port").fill(`${numbers[0]}\n${numbers[1].replace(/(\d{4})$/, " $1")}`);
  await page.getByLabel("Losing carrier").fill("Old Telco");
  await page.getByLabel("Country").fill("gb");
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page.getByRole("status").filter({ hasText: "was submitted" })).toContainText("2 numbers from Old Telco");

  // The order is stored as sent, and its timeline is shown.
  const list = await (await page.request.get("/api/v1/port-orders")).json();
  expect(list.orders).toHaveLength(1);
  expect(list.orders[0].numbers).toEqual(numbers.sort());
  expect(list.orders[0].losing_carrier).toBe("Old Telco");
  await expect(page.getByTestId("port-orders").getByRole("row")).toHaveCount(2);
  const timeline = page.getByTestId("order-timeline");
  await expect(timeline.locator("li")).toHaveCount((await (await page.request.get(`/api/v1/port-orders/${list.orders[0].id}`)).json()).events.length);

  // A number that is not E.164 is refused before anything is sent.
  await page.getByLabel("Numbers to port").fill("02071234567");
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "02071234567" })).toBeVisible();

  await visitAtBothSizes(page, testInfo, "/porting", "porting", async (p) => {
    await expect(p.getByTestId("port-orders")).toBeVisible();
  });
  guard.assertClean();

  // A Microsoft user (viewer) sees the orders but no form.
  const context = await browser.newContext({ viewport: DESKTOP });
  const viewer = await context.newPage();
  const viewerGuard = guardPage(viewer);
  await signInWithEmulator(viewer, customer.slug, { returnTo: "/porting" });
  await expect(viewer.getByTestId("port-orders")).toBeVisible();
  await expect(viewer.getByText("New porting order")).toHaveCount(0);
  viewerGuard.assertClean();
  await context.close();
});

test("staff: the customer switcher scopes every page to the chosen customer", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = customerWithCalls("Switcher");
  const staffEmail = `staff-${Date.now()}@carrier.example`;
  portalCli(["staff", "create", "--email", staffEmail, "--password-stdin"], `${PASSWORD}\n`);
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(staffEmail);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page);

  // Before choosing, the page asks for a customer instead of failing.
  await expect(page.getByTestId("choose-customer")).toBeVisible();
  const switcher = page.getByLabel("Viewing customer");
  await expect(switcher.locator(`option[value="${customer.slug}"]`)).toHaveCount(1);
  const requests: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/v1/services") || r.url().includes("/api/v1/analytics")) requests.push(r.url());
  });
  await switcher.selectOption(customer.slug);
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
  guard.assertClean();
});
