// The Services pages (/services and /services/{id}) end to end, each test with its own customer
// and data (CLI and JSON API): the list with health, a service's utilisation against its
// limit, its charts and its numbers, checked against the API. Signed in once with password +
// TOTP and once through the development Entra ID emulator; both pages visited at 1280×800 and
// 375×812 with screenshots kept; any console error or failed request fails the test.
import { expect, test } from "@playwright/test";
import {
  DESKTOP,
  apiAs,
  customerWithCalls,
  expectNumbersOnOneLine,
  guardPage,
  portNumbersIn,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(90_000);

test("services: the list, a service's utilisation against its limit and its numbers (password + TOTP)", async ({ page }, testInfo) => {
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

  // A service of another customer (or none) is not found.
  await page.goto("/services/does-not-exist");
  guard.allow(/\/api\/v1\/services\/does-not-exist/);
  await expect(page.getByTestId("service-not-found")).toBeVisible();

  await visitAtBothSizes(page, testInfo, "/services", "services-totp", async (p) => {
    await expect(p.getByTestId("services-table")).toBeVisible();
  });
  await visitAtBothSizes(page, testInfo, `/services/${encodeURIComponent(id)}`, "service-detail-totp", async (p) => {
    await expect(p.getByRole("heading", { name: "Trunk A", level: 1 })).toBeVisible();
  });
  guard.assertClean();
});

test("services: a viewer signed in with Microsoft sees a service's numbers, each on one line", async ({ page }, testInfo) => {
  const customer = customerWithCalls("Services SSO");
  await page.goto("/login");
  const admin = await apiAs(page, customer.adminEmail);
  const { numbers, serviceId } = await portNumbersIn(admin, "Trunk B", 3);
  await admin.dispose();
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/services" });
  await expect(page).toHaveURL(/\/services$/);

  const table = page.getByTestId("services-table");
  await expect(table.getByRole("row")).toHaveCount(3);
  await table.getByRole("link", { name: "Trunk B" }).click();
  await expect(page).toHaveURL(new RegExp(`/services/${serviceId}$`));
  await expect(page.getByRole("heading", { name: "Trunk B", level: 1 })).toBeVisible();

  // The numbers routed over the service, as the API lists them.
  const listed = await (await page.request.get(`/api/v1/numbers?service=${encodeURIComponent(serviceId)}`)).json();
  expect(listed.numbers.map((n: { e164: string }) => n.e164).sort()).toEqual([...numbers].sort());
  const rows = page.getByTestId("service-numbers").locator("tbody tr");
  await expect(rows).toHaveCount(3);
  for (const n of numbers) await expect(rows.filter({ hasText: n })).toHaveCount(1);
  // Trunk B's limit is 4 channels; the gauge says so.
  await expect(page.getByRole("img", { name: /^Peak channels: \d+ of 4 channels/ })).toBeVisible();

  await visitAtBothSizes(page, testInfo, "/services", "services-sso", async (p) => {
    await expect(p.getByTestId("services-table")).toBeVisible();
  });
  await visitAtBothSizes(page, testInfo, `/services/${encodeURIComponent(serviceId)}`, "service-detail-sso", async (p) => {
    await expect(p.getByTestId("service-numbers").locator("tbody tr")).toHaveCount(3);
    await expectNumbersOnOneLine(p);
  });
  guard.assertClean();
});
