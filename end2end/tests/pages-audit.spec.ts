// The Audit log page (/audit): an admin filters the log by kind of action and finds the
// change just made, matching the API; a Microsoft-signed-in admin does the same. Both sizes
// screenshotted.
import { expect, test, type Page } from "@playwright/test";
import { createTestCustomer, guardPage, signInWithEmulator, signInWithTotp, visitAtBothSizes } from "./pages-support";

async function addAddress(page: Page, city: string) {
  const origin = new URL(page.url()).origin;
  const res = await page.request.post("/api/v1/emergency-addresses", {
    data: { label: `${city} office`, street: "Main Street", house_number: "1", postal_code: "12345", city, country: "GB" },
    headers: { Origin: origin },
  });
  expect(res.ok()).toBeTruthy();
}

async function filterForAddresses(page: Page, city: string) {
  await page.goto("/audit");
  await expect(page.getByTestId("audit-table")).toBeVisible();
  await page.getByLabel("Action").selectOption("emergency_address.");
  await page.getByRole("button", { name: "Apply filters" }).click();
  const rows = page.getByTestId("audit-table").locator("tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("emergency_address.created");
  await rows.first().getByText("Show").click();
  await expect(rows.first().locator("pre")).toContainText(city);

  const api = await (await page.request.get("/api/v1/audit?action=emergency_address.")).json();
  expect(api.entries).toHaveLength(1);
  expect(api.entries[0].action).toBe("emergency_address.created");
}

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(120_000);

test("an admin finds a change in the audit log (password + TOTP)", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Audit");
  await signInWithTotp(page, customer.adminEmail, "/audit");
  await addAddress(page, "Leeds");
  await filterForAddresses(page, "Leeds");
  await visitAtBothSizes(page, testInfo, "/audit", "audit-totp", async (p) => {
    await expect(p.getByTestId("audit-table")).toBeVisible();
  });
  guard.assertClean();
});

test("a Microsoft-signed-in admin filters the audit log", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Audit SSO");
  await signInWithEmulator(page, customer.slug, { returnTo: "/audit", role: "admin", adminEmail: customer.adminEmail });
  await addAddress(page, "York");
  await filterForAddresses(page, "York");
  await visitAtBothSizes(page, testInfo, "/audit", "audit-sso", async (p) => {
    await expect(p.getByTestId("audit-table")).toBeVisible();
  });
  guard.assertClean();
});
