// Break-glass administrators, as a customer's admin sets one up and uses it: on the Users page
// an admin names a second admin (who has an authenticator app) break-glass; once the
// organisation requires single sign-on, a password is refused for everyone else, while the
// break-glass admin signs in on the sign-in page with password and app code, and the other
// admin is told by mail.
import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { PASSWORD, createCustomer, keepScreenshot, signIn, totp, waitForHydration, watchForErrors } from "./support";
import { apiAs, portalCli } from "./pages-support";

test("a break-glass admin still signs in while single sign-on is required", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const customer = createCustomer("Glass");
  const glass = `glass-${randomUUID().slice(0, 8)}@${customer.slug}.example`;
  portalCli(["user", "create", "--org", customer.slug, "--email", glass, "--role", "admin", "--password-stdin"], `${PASSWORD}\n`);
  portalCli(["org", "sso", "enable", "--org", customer.slug]);
  portalCli(["org", "sso", "link-tenant", "--org", customer.slug, "--tenant", randomUUID()]);
  // The 403 is the other admin's password refused under "require SSO".
  const errors = watchForErrors(page, [/status of 403/]);
  await signIn(page, customer.adminEmail, PASSWORD, "/users");
  await expect(page).toHaveURL(/\/users$/);
  // Meanwhile the second admin sets up an authenticator app (through the API, as their
  // browser would).
  const api = await apiAs(page, glass);
  const setup = await (await api.post("/api/v1/me/mfa/totp", { data: { password: PASSWORD } })).json();
  const secret = setup.secret as string;
  expect((await api.post("/api/v1/me/mfa/totp/confirm", { data: { code: totp(secret) } })).ok()).toBeTruthy();
  await api.dispose();
  await page.reload();
  await waitForHydration(page);
  const row = page.locator(`tr[data-email="${glass}"]`);
  await row.getByRole("button", { name: `Make ${glass} a break-glass administrator` }).click();
  await expect(row.getByText("Break-glass", { exact: true })).toBeVisible();
  await expect(page.getByText("Now a break-glass administrator")).toBeVisible();
  await keepScreenshot(page, testInfo, "break-glass-named");
  const require = await page.request.put("/api/v1/organisation/sso", {
    data: { jit_provisioning: true, default_role: "viewer", require_sso: true },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(require.status()).toBe(200);
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page).toHaveURL(/\/login/);

  // Everyone else's password is refused.
  await signIn(page, customer.adminEmail, PASSWORD);
  await expect(page.getByText(/Microsoft/).first()).toBeVisible();
  await expect(page).toHaveURL(/\/login/);

  // The break-glass admin signs in with password and code.
  await signIn(page, glass, PASSWORD, "/");
  await expect(page).toHaveURL(/\/login\/mfa/);
  await waitForHydration(page);
  await page.getByLabel("Authentication code").fill(totp(secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.auth_method).toBe("break_glass+totp");

  // The other admin gets a mail about it.
  await expect(async () => {
    await page.goto("/dev/outbox");
    await expect(page.locator("article", { hasText: customer.adminEmail }).filter({ hasText: "Break-glass" })).toHaveCount(1);
  }).toPass({ timeout: 10_000 });
  errors.assertClean();
});
