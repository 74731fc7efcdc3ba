// The Numbers page (/numbers): filters kept in the URL, "Load more" over the keyset cursor,
// the edit dialog (assignment, service, emergency address) checked through the API, CSV
// export, and no edit controls for a viewer. Signed in once with password + TOTP and once
// through the development Entra ID emulator; both sizes screenshotted.
import { expect, test, type Page } from "@playwright/test";
import { randomInt } from "node:crypto";
import {
  apiAs,
  createService,
  createTestCustomer,
  guardPage,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
} from "./pages-support";

/** `count` fresh E.164 numbers in one block (unique across the shared test database). */
function freshNumbers(count: number): string[] {
  const base = randomInt(10_000, 99_999);
  return Array.from({ length: count }, (_, i) => `+44207${base}${String(i).padStart(3, "0")}`);
}

type Api = { get: Page["request"]["get"]; post: Page["request"]["post"] };

/** Ports `count` numbers in for the signed-in customer over `serviceName`; returns them. */
async function portNumbers(api: Api, serviceName: string, count: number, origin?: string) {
  const headers = origin ? { Origin: origin } : undefined;
  const services = await (await api.get("/api/v1/services")).json();
  const service = services.services.find((s: { name: string }) => s.name === serviceName);
  const numbers = freshNumbers(count);
  const today = new Date().toISOString().slice(0, 10);
  const res = await api.post("/api/v1/port-orders", {
    data: { numbers, losing_carrier: "Old Telco", requested_for: today, country: "GB", service_id: service.id },
    headers,
  });
  expect(res.ok(), `port order: ${res.status()} ${await res.text()}`).toBeTruthy();
  return { numbers, serviceId: service.id as string };
}

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(120_000);

test("an engineer filters, pages and edits numbers (password + TOTP)", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Numbers");
  createService(customer.slug, "London trunk");
  await signInWithTotp(page, customer.adminEmail, "/numbers");
  const origin = new URL(page.url()).origin;
  const { numbers } = await portNumbers(page.request, "London trunk", 60, origin);
  const address = await (
    await page.request.post("/api/v1/emergency-addresses", {
      data: { label: "HQ", street: "Baker Street", house_number: "221b", postal_code: "NW1 6XE", city: "London", country: "GB" },
      headers: { Origin: origin },
    })
  ).json();

  // A link with filters opens the filtered list; the first page holds 50, "Load more" the rest.
  await page.goto("/numbers?missing_emergency_address=true&country=GB");
  const rows = page.getByTestId("numbers-table").locator("tbody tr");
  await expect(rows).toHaveCount(50);
  await expect(page.getByLabel("Missing an emergency address")).toBeChecked();
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(rows).toHaveCount(60);
  await expect(page.getByText("Showing all 60 numbers.")).toBeVisible();

  // The search goes into the URL.
  await page.getByRole("searchbox", { name: "Search" }).fill(numbers[7]);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/q=%2B44207/);
  await expect(rows).toHaveCount(1);

  // Edit: assignment label and emergency address.
  await page.getByRole("button", { name: `Edit ${numbers[7]}` }).click();
  const dialog = page.getByRole("dialog", { name: `Edit ${numbers[7]}` });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Assignment").fill("Reception desk");
  await dialog.getByLabel("Emergency address").selectOption(address.id);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  await expect(rows.first()).toContainText("Reception desk");
  await expect(rows.first()).toContainText("HQ");

  const listed = await (await page.request.get(`/api/v1/numbers?q=${encodeURIComponent(numbers[7])}`)).json();
  expect(listed.numbers[0].assignment).toBe("Reception desk");
  expect(listed.numbers[0].emergency_address_id).toBe(address.id);

  // CSV export of the filtered list (the saved number no longer misses an address, so it is
  // exported with a search of its own).
  await page.goto(`/numbers?q=${encodeURIComponent(numbers[7])}`);
  await expect(rows).toHaveCount(1);
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  expect((await download).suggestedFilename()).toBe("numbers.csv");
  await expect(page.getByTestId("export-status")).toContainText("Export finished: 1 row");

  await visitAtBothSizes(page, testInfo, "/numbers", "numbers-totp", async (p) => {
    await expect(p.getByTestId("numbers-table")).toBeVisible();
  });
  guard.assertClean();
});

test("a viewer signed in with Microsoft sees numbers without edit controls", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Numbers SSO");
  createService(customer.slug, "Teams DR", 30, "teams_direct_routing");
  await page.goto("/login");
  const admin = await apiAs(page, customer.adminEmail);
  const { numbers } = await portNumbers(admin, "Teams DR", 3);
  await admin.dispose();

  await signInWithEmulator(page, customer.slug, { returnTo: "/numbers" });
  await expect(page).toHaveURL(/\/numbers/);
  const rows = page.getByTestId("numbers-table").locator("tbody tr");
  await expect(rows).toHaveCount(3);
  await expect(page.getByRole("button", { name: /^Edit/ })).toHaveCount(0);

  await page.getByLabel("Status").selectOption("porting_in");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/status=porting_in/);
  await expect(rows).toHaveCount(3);
  const listed = await (await page.request.get("/api/v1/numbers?status=porting_in")).json();
  expect(listed.numbers.map((n: { e164: string }) => n.e164).sort()).toEqual([...numbers].sort());

  await visitAtBothSizes(page, testInfo, "/numbers?status=porting_in", "numbers-sso", async (p) => {
    await expect(p.getByTestId("numbers-table")).toBeVisible();
  });
  guard.assertClean();
});
