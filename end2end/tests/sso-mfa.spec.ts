// Multi-factor evidence from Entra ID, as a customer's IT admin and their users meet it: the
// admin tells the portal to refuse Microsoft sign-ins that show no second factor, a user whose
// sign-in went "with a password only" lands on the sign-in page with what to do, and the same
// user with multi-factor authentication gets in. Uses a fresh tenant of its own (through
// "Use another account"), so it links none of the emulator's demo tenants.
import { randomUUID } from "node:crypto";
import { expect, test, type Browser, type TestInfo } from "@playwright/test";
import { DESKTOP, createCustomer, createStaff, keepScreenshot, signIn, signInStaff, waitForHydration, watchForErrors } from "./support";
import { portalCli } from "./pages-support";

/** A fresh browser that signs in with Microsoft as `email` of `tenant`, choosing how. */
async function microsoftSignIn(browser: Browser, testInfo: TestInfo, tenant: string, email: string, mfa: boolean, shot?: string) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  await page.goto("/auth/microsoft/login?return_to=%2Fcalls");
  await expect(page.getByRole("heading", { name: "Pick an account" })).toBeVisible();
  await page.getByText("Use another account").click();
  const other = page.locator("details[open] form");
  await other.getByLabel("Tenant ID").fill(tenant);
  await other.getByLabel("Name").fill("Nadia Evidence");
  await other.getByLabel("Email").fill(email);
  await other.getByLabel(mfa ? "With multi-factor authentication" : "With a password only").check();
  if (shot) await keepScreenshot(page, testInfo, shot);
  await other.getByRole("button", { name: "Sign in" }).click();
  return { context, page };
}

test("a customer that requires MFA evidence refuses a Microsoft sign-in without it and explains why", async ({ browser, page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = createCustomer("Evidence Bank");
  const tenant = randomUUID();
  portalCli(["org", "sso", "enable", "--org", customer.slug]);
  portalCli(["org", "sso", "link-tenant", "--org", customer.slug, "--tenant", tenant]);
  const email = `nadia-${tenant.slice(0, 8)}@evidence.example`;

  // The customer's admin chooses "Refuse the sign-in" on the Single sign-on page.
  const errors = watchForErrors(page);
  await signIn(page, customer.adminEmail, undefined, "/sso");
  await expect(page).toHaveURL(/\/sso/);
  await waitForHydration(page);
  const policy = page.getByLabel("When Microsoft shows no second factor");
  await expect(policy).toHaveValue("off");
  await policy.selectOption("required");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByText("Single sign-on settings saved.")).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel("When Microsoft shows no second factor")).toHaveValue("required");
  await keepScreenshot(page, testInfo, "sso-mfa-evidence-setting");
  errors.assertClean();

  // With a password only: back on the sign-in page, told what happened and whom to ask.
  const without = await microsoftSignIn(browser, testInfo, tenant, email, false, "sso-mfa-emulator-choice");
  await expect(without.page).toHaveURL(/\/login\?error=sso_mfa_required/);
  await waitForHydration(without.page);
  await expect(without.page.getByText("this one did not")).toBeVisible();
  await keepScreenshot(without.page, testInfo, "sso-mfa-refused");
  expect((await without.page.request.get("/api/v1/me")).status()).toBe(401);
  await without.context.close();

  // With multi-factor authentication: signed in, where they were going.
  const withMfa = await microsoftSignIn(browser, testInfo, tenant, email, true);
  await expect(withMfa.page).toHaveURL(/\/calls/);
  const me = await (await withMfa.page.request.get("/api/v1/me")).json();
  expect(me.user.auth_method).toBe("entra");
  expect(me.user.email).toBe(email);
  await withMfa.context.close();
});

test("carrier staff set a customer's MFA evidence policy in the provider console", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = createCustomer("Evidence Console");
  // The refused value below is a 422, which Chromium logs as a failed resource.
  const errors = watchForErrors(page, [/status of 422/]);
  await signInStaff(page, createStaff(), `/provider?q=${customer.slug}`);
  await waitForHydration(page);
  const card = page.locator(`section.provider-org[data-slug="${customer.slug}"]`);
  const policy = card.getByLabel(`When Microsoft shows no second factor for ${customer.name}`);
  await expect(policy).toHaveValue("off");
  await policy.selectOption("portal_factor");
  const context = card.getByLabel(`Authentication context (optional) for ${customer.name}`);
  // A value Entra never uses is refused beside the field, and nothing is saved.
  await context.fill("c0");
  await page.getByRole("button", { name: `Save MFA policy for ${customer.name}`, exact: true }).click();
  await expect(card.getByRole("alert")).toContainText("not an authentication context id");
  await context.fill("C2");
  await page.getByRole("button", { name: `Save MFA policy for ${customer.name}`, exact: true }).click();
  await expect(card.getByText(`${customer.name}: Microsoft sign-ins without multi-factor evidence now also need the portal authenticator code.`)).toBeVisible();
  await expect(context).toHaveValue("c2");
  await card.scrollIntoViewIfNeeded();
  await keepScreenshot(page, testInfo, "provider-mfa-evidence");
  const saved = await (await page.request.get(`/api/v1/provider/organisations/${customer.slug}`)).json();
  expect(saved.sso.mfa_evidence).toBe("portal_factor");
  expect(saved.sso.auth_context).toBe("c2");
  errors.assertClean();
});
