// The Single sign-on page (/sso) end to end, each test with its own customer: the
// organisation's SSO state as the carrier set it, its connected tenants, and the settings an
// admin saves, checked through the API. Signed in once with password + TOTP and once through
// the development Entra ID emulator (as an admin); visited at 1280×800 and 375×812 with
// screenshots kept; any console error or failed request fails the test. (sso.spec.ts covers
// connecting a tenant through the consent flow.)
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  createTestCustomer,
  guardPage,
  portalCli,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";
import { randomUUID } from "node:crypto";

// Sign-in with TOTP or the emulator and two screen sizes take longer than 30 s.
test.setTimeout(90_000);

type SsoSettings = {
  enabled: boolean;
  jit_provisioning: boolean;
  default_role: string;
  require_sso: boolean;
  tenants: { tenant_id: string; disabled: boolean }[];
};

async function ssoSettings(page: Page): Promise<SsoSettings> {
  const res = await page.request.get("/api/v1/organisation/sso");
  expect(res.ok(), `GET /api/v1/organisation/sso: ${res.status()}`).toBeTruthy();
  return res.json();
}

test("sso: an admin sees SSO off, then on with its tenant, and saves the settings (password + TOTP)", async ({ page }, testInfo) => {
  const customer = createTestCustomer("SSO page");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/sso");
  await expect(page).toHaveURL(/\/sso$/);
  await waitForHydration(page);

  // Not enabled by the carrier yet: the page says so and offers no settings.
  expect((await ssoSettings(page)).enabled).toBe(false);
  const status = page.getByTestId("sso-status");
  await expect(status).toHaveAttribute("data-enabled", "false");
  await expect(status).toContainText("Not enabled");
  await expect(page.getByTestId("tenants-empty")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save settings" })).toHaveCount(0);

  // The carrier enables SSO and links a tenant (CLI); the page shows both.
  const tenant = randomUUID();
  portalCli(["org", "sso", "enable", "--org", customer.slug]);
  portalCli(["org", "sso", "link-tenant", "--org", customer.slug, "--tenant", tenant]);
  await page.reload();
  await waitForHydration(page);
  await expect(status).toHaveAttribute("data-enabled", "true");
  await expect(page.getByTestId("sso-tenants").locator(`tr[data-tenant-id="${tenant}"]`)).toContainText("Active");

  // Settings: no just-in-time accounts, engineers by default.
  await page.getByLabel(/just-in-time provisioning/).uncheck();
  await page.getByLabel("Default role").selectOption("engineer");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Single sign-on settings saved." })).toBeVisible();
  const saved = await ssoSettings(page);
  expect(saved).toMatchObject({ enabled: true, jit_provisioning: false, default_role: "engineer", require_sso: false });
  expect(saved.tenants.map((t) => t.tenant_id)).toEqual([tenant]);

  await visitAtBothSizes(page, testInfo, "/sso", "sso-totp", async (p) => {
    await expect(p.getByLabel("Default role")).toHaveValue("engineer");
  });
  guard.assertClean();
});

test("sso: an admin signed in with Microsoft sees the tenant and requires single sign-on", async ({ page }, testInfo) => {
  const customer = createTestCustomer("SSO page SSO");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/sso", role: "admin", adminEmail: customer.adminEmail });
  await expect(page).toHaveURL(/\/sso$/);

  const before = await ssoSettings(page);
  expect(before.enabled).toBe(true);
  expect(before.tenants).toHaveLength(1);
  await expect(page.getByTestId("sso-status")).toHaveAttribute("data-enabled", "true");
  const rows = page.getByTestId("sso-tenants").locator("tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute("data-tenant-id", before.tenants[0].tenant_id);

  await page.getByLabel("Require single sign-on").check();
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Single sign-on settings saved." })).toBeVisible();
  expect((await ssoSettings(page)).require_sso).toBe(true);

  await visitAtBothSizes(page, testInfo, "/sso", "sso-sso", async (p) => {
    await expect(p.getByLabel("Require single sign-on")).toBeChecked();
  });
  guard.assertClean();
});
