// The API tokens page (/api-tokens): an admin creates a token (its secret shown once, then
// usable as a Bearer token), sees it listed and revokes it, checked through the API; a
// Microsoft-signed-in admin does the same; a viewer is told the page is for admins.
// Both sizes screenshotted.
import { expect, test, type Page } from "@playwright/test";
import { createTestCustomer, guardPage, signInWithEmulator, signInWithTotp, visitAtBothSizes } from "./pages-support";

async function createAndRevoke(page: Page, name: string) {
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Scope").selectOption("read");
  await page.getByLabel("Valid for (days)").fill("30");
  await page.getByRole("button", { name: "Create token" }).click();
  const secretBox = page.getByTestId("token-secret");
  await expect(secretBox).toBeVisible();
  const secret = await page.getByLabel("The new token").inputValue();
  expect(secret).toMatch(/^vcp_/);

  // The secret works as a Bearer token (outside the page: no cookie).
  const { request } = await import("@playwright/test");
  const origin = new URL(page.url()).origin;
  const bearer = await request.newContext({ baseURL: origin, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  expect((await bearer.get("/api/v1/services")).status()).toBe(200);

  await page.getByRole("button", { name: "I have saved it" }).click();
  await expect(secretBox).toBeHidden();
  const row = page.getByTestId("tokens-table").locator("tbody tr[data-token-id]").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(secret.slice(0, 12));

  await row.getByRole("button", { name: `Revoke ${name}` }).click();
  await page.getByRole("button", { name: "Revoke token" }).click();
  await expect(row.getByTestId("token-status")).toHaveText("Revoked");

  const tokens = (await (await page.request.get("/api/v1/api-tokens")).json()).tokens as { name: string; status: string }[];
  expect(tokens.find((t) => t.name === name)?.status).toBe("revoked");
  expect((await bearer.get("/api/v1/services")).status()).toBe(401);
  await bearer.dispose();
}

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(120_000);

test("an admin creates, uses and revokes a token (password + TOTP)", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Tokens");
  await signInWithTotp(page, customer.adminEmail, "/api-tokens");
  await expect(page.getByTestId("tokens-empty")).toBeVisible();
  await createAndRevoke(page, "Billing export");
  await visitAtBothSizes(page, testInfo, "/api-tokens", "tokens-totp", async (p) => {
    await expect(p.getByTestId("tokens-table")).toBeVisible();
  });
  guard.assertClean();
});

test("a Microsoft-signed-in admin manages tokens; a viewer may not", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Tokens SSO");
  await signInWithEmulator(page, customer.slug, { returnTo: "/api-tokens" });
  await expect(page.getByTestId("forbidden")).toContainText("Only an administrator");
  await expect(page.getByRole("button", { name: "Create token" })).toHaveCount(0);

  await signInWithEmulator(page, customer.slug, { returnTo: "/api-tokens", role: "admin", adminEmail: customer.adminEmail });
  await page.goto("/api-tokens");
  await createAndRevoke(page, "Monitoring");
  await visitAtBothSizes(page, testInfo, "/api-tokens", "tokens-sso", async (p) => {
    await expect(p.getByTestId("tokens-table")).toBeVisible();
  });
  guard.assertClean();
});
