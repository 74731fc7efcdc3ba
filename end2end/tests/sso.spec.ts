// Single sign-on with Microsoft Entra ID end to end, against the development Entra ID emulator
// (/dev-idp on the same portal): carrier staff enable SSO for a customer, the customer's admin
// connects their tenant (admin consent, then a proof sign-in), a user of that tenant signs in
// with Microsoft; a user of a tenant that is not connected is refused and told why.
//
// The emulator's demo tenants have fixed GUIDs and a tenant links to one customer only, while
// every spec of a run shares one database. So: this file links FABRIKAM (Alex Wilber) to the
// customer it creates, and nothing links CONTOSO (Adele, Megan, Lee) or personal accounts,
// which makes them the refused tenants. A new spec that links a demo tenant must pick another.
import { expect, test, type Browser, type Page, type TestInfo } from "@playwright/test";
import {
  DESKTOP,
  PHONE,
  createCustomer,
  createStaff,
  keepScreenshot,
  signIn,
  signInStaff,
  waitForHydration,
  watchForErrors,
} from "./support";

const FABRIKAM = "b3e9d0f4-8a61-4f2e-bc35-7d1a9c6e2f80";
const ALEX = "Alex Wilber alex.wilber@fabrikam.example";
const MEGAN = "Megan Bowen megan.bowen@contoso.example";
const SAM = "Sam Personal sam@outlook.example";
const EMULATOR = /^http:\/\/127\.0\.0\.1:\d+\/dev-idp\//;

/** `GET /api/v1/me` with the page's cookies (outside the page, so a 401 logs nothing). */
async function me(page: Page) {
  const res = await page.request.get("/api/v1/me");
  return { status: res.status(), body: await res.json() };
}

/** The emulator's account picker: checks it and picks `account` (one click). */
async function pickAccount(page: Page, testInfo: TestInfo, account: string, screenshot?: string) {
  await expect(page).toHaveURL(EMULATOR);
  await expect(page.getByRole("heading", { name: "Pick an account" })).toBeVisible();
  if (screenshot) await keepScreenshot(page, testInfo, screenshot);
  await page.getByRole("button", { name: account, exact: true }).click();
}

/** A fresh browser on `/login` that chooses "Sign in with Microsoft" and picks `account`. */
async function signInWithMicrosoft(browser: Browser, testInfo: TestInfo, account: string, screenshot?: string) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const errors = watchForErrors(page);
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await pickAccount(page, testInfo, account, screenshot);
  return { context, page, errors };
}

test("staff enable SSO, the admin connects Fabrikam, a Fabrikam user signs in with Microsoft", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const customer = createCustomer("Fabrikam Voice");
  const staffEmail = createStaff();

  // 1. Carrier staff enable single sign-on for the customer in the provider console.
  const staffContext = await browser.newContext({ viewport: DESKTOP });
  const staff = await staffContext.newPage();
  const staffErrors = watchForErrors(staff);
  // Staff always sign in with an authenticator: the first sign-in sets it up.
  await signInStaff(staff, staffEmail);
  await staff.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Provider console" }).click();
  await expect(staff).toHaveURL(/\/provider$/);
  await expect(staff.getByRole("heading", { name: "Provider console", level: 1 })).toBeVisible();
  // The console shows a page of customers at a time: find this one, as staff would.
  await staff.getByLabel("Search customers").fill(customer.slug);
  await expect(staff).toHaveURL(new RegExp(`/provider\\?q=${customer.slug}$`));
  const card = staff.locator(`section.provider-org[data-slug="${customer.slug}"]`);
  await expect(card).toHaveAttribute("data-sso", "off");
  await card.scrollIntoViewIfNeeded();
  await keepScreenshot(staff, testInfo, "provider-before-enable");
  await staff.getByRole("button", { name: `Enable SSO for ${customer.name}`, exact: true }).click();
  await expect(staff.getByText(`Single sign-on is now enabled for ${customer.name}.`)).toBeVisible();
  await expect(card).toHaveAttribute("data-sso", "on");
  await keepScreenshot(staff, testInfo, "provider-after-enable");
  staffErrors.assertClean();
  await staffContext.close();

  // 2. The customer's admin connects their tenant from "Single sign-on".
  const adminContext = await browser.newContext({ viewport: DESKTOP });
  const admin = await adminContext.newPage();
  const adminErrors = watchForErrors(admin);
  await signIn(admin, customer.adminEmail);
  await expect(admin).toHaveURL(/\/$/);
  await waitForHydration(admin);
  await admin.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Single sign-on" }).click();
  await expect(admin).toHaveURL(/\/sso$/);
  await expect(admin.getByTestId("sso-status")).toHaveAttribute("data-enabled", "true");
  await expect(admin.getByTestId("tenants-empty")).toBeVisible();
  await keepScreenshot(admin, testInfo, "sso-before-connect");
  await admin.getByRole("link", { name: "Connect Microsoft Entra ID" }).click();

  // The emulator's admin-consent page: Fabrikam's administrator accepts.
  await expect(admin).toHaveURL(/\/dev-idp\/organizations\/v2\.0\/adminconsent\?/);
  await expect(admin.getByRole("heading", { name: "Permissions requested" })).toBeVisible();
  await keepScreenshot(admin, testInfo, "emulator-consent");
  await admin.getByRole("radio", { name: ALEX, exact: true }).check();
  await admin.getByRole("button", { name: "Accept", exact: true }).click();

  // The proof sign-in goes to Fabrikam's own authorize endpoint; Alex signs in once more.
  await expect(admin).toHaveURL(new RegExp(`/dev-idp/${FABRIKAM}/oauth2/v2\\.0/authorize\\?`));
  await pickAccount(admin, testInfo, ALEX, "emulator-proof-picker");

  // Back on /sso: connected, the tenant is listed, and it waits for the carrier's approval.
  await expect(admin).toHaveURL(new RegExp(`/sso\\?linked=${FABRIKAM}&pending=1$`));
  await waitForHydration(admin);
  await expect(admin.getByTestId("flow-success")).toContainText(`Tenant ${FABRIKAM} is now connected.`);
  await expect(admin.getByTestId("flow-success")).toContainText("once your account manager has approved it");
  const row = admin.getByTestId("sso-tenants").locator(`tr[data-tenant-id="${FABRIKAM}"]`);
  await expect(row).toContainText("Waiting for approval");
  await expect(row).toContainText(customer.adminEmail);
  await expect(admin.getByRole("link", { name: "Connect another tenant" })).toBeVisible();
  await keepScreenshot(admin, testInfo, "sso-connected-desktop");
  await admin.setViewportSize(PHONE);
  await expect(row).toBeVisible();
  await keepScreenshot(admin, testInfo, "sso-connected-phone");
  // The proof sign-in left the admin's own session as it was.
  const adminMe = await me(admin);
  expect(adminMe.body.user).toMatchObject({ email: customer.adminEmail, auth_method: "password", role: "admin" });
  adminErrors.assertClean();
  await adminContext.close();

  // Until then a Fabrikam user is refused and told why.
  const early = await signInWithMicrosoft(browser, testInfo, ALEX);
  await expect(early.page).toHaveURL(/\/login\?error=tenant_pending/);
  await waitForHydration(early.page);
  await expect(early.page.getByTestId("sign-in-error")).toContainText("waits for the carrier's approval");
  await keepScreenshot(early.page, testInfo, "refused-tenant-pending");
  early.errors.assertClean();
  await early.context.close();

  // 3. Carrier staff approve the connection in the provider console.
  const approverContext = await browser.newContext({ viewport: DESKTOP });
  const approver = await approverContext.newPage();
  const approverErrors = watchForErrors(approver);
  await signInStaff(approver, staffEmail, "/provider");
  await approver.getByLabel("Search customers").fill(customer.slug);
  await expect(approver).toHaveURL(new RegExp(`/provider\\?q=${customer.slug}$`));
  await expect(approver.getByTestId("customer-count")).toContainText("1 customer matches");
  const approverCard = approver.locator(`section.provider-org[data-slug="${customer.slug}"]`);
  const pendingRow = approverCard.locator(`tr[data-tenant-id="${FABRIKAM}"]`);
  await expect(pendingRow).toContainText("Waiting for approval");
  await keepScreenshot(approver, testInfo, "provider-tenant-waiting");
  await approver.getByRole("button", { name: `Approve tenant ${FABRIKAM} for ${customer.name}`, exact: true }).click();
  await expect(approver.getByText(`Tenant ${FABRIKAM} is approved for ${customer.name}`)).toBeVisible();
  await expect(pendingRow).toContainText("Active");
  approverErrors.assertClean();
  await approverContext.close();

  // 4. A Fabrikam user, signed out, opens a deep page and signs in with Microsoft.
  const userContext = await browser.newContext({ viewport: DESKTOP });
  const user = await userContext.newPage();
  const userErrors = watchForErrors(user);
  await user.goto("/security");
  await expect(user).toHaveURL(/\/login\?return_to=%2Fsecurity$/);
  await waitForHydration(user);
  await keepScreenshot(user, testInfo, "sign-in-return-to-security");
  await user.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await pickAccount(user, testInfo, ALEX, "emulator-sign-in-picker");
  await expect(user).toHaveURL(/\/security$/);
  await waitForHydration(user);
  await expect(user.getByRole("heading", { name: "Security", level: 1 })).toBeVisible();
  const userMe = await me(user);
  expect(userMe.status, JSON.stringify(userMe.body)).toBe(200);
  expect(userMe.body.user).toMatchObject({ email: "alex.wilber@fabrikam.example", auth_method: "entra", staff: false });
  expect(userMe.body.organisation).toMatchObject({ slug: customer.slug, name: customer.name });
  // A Microsoft-only user has no portal password: nothing that asks for one is offered.
  await expect(user.getByTestId("mfa-status")).toHaveAttribute("data-mfa", "sso-only");
  await expect(user.getByRole("button", { name: "Set up authenticator app" })).toHaveCount(0);
  await expect(user.getByTestId("password-section")).toHaveCount(0);
  await keepScreenshot(user, testInfo, "security-signed-in-with-microsoft");
  userErrors.assertClean();
  await userContext.close();

  // 5. The admin invites an engineer; the invitee accepts with Microsoft from the emailed link,
  // and the Microsoft account is bound to that invited account (not a new one).
  const inviterContext = await browser.newContext({ viewport: DESKTOP });
  const inviter = await inviterContext.newPage();
  await signIn(inviter, customer.adminEmail);
  await expect(inviter).toHaveURL(/\/$/);
  const invitee = `pat-${Date.now()}@${customer.slug}.example`;
  const invited = await inviter.request.post("/api/v1/users/invitations", {
    data: { email: invitee, role: "engineer" },
    headers: { origin: new URL(inviter.url()).origin },
  });
  expect(invited.status(), await invited.text()).toBe(201);
  await inviterContext.close();

  const inviteeContext = await browser.newContext({ viewport: PHONE });
  const pat = await inviteeContext.newPage();
  const patErrors = watchForErrors(pat);
  // The mail goes out after the invitation is made: the outbox shows it a moment later.
  await expect(async () => {
    await pat.goto("/dev/outbox");
    await expect(pat.locator("article", { hasText: invitee })).toHaveCount(1, { timeout: 1_000 });
  }).toPass();
  await expect(pat.locator("article", { hasText: invitee })).toContainText("Accept with Microsoft");
  await pat.locator("article", { hasText: invitee }).getByRole("link").click();
  await expect(pat).toHaveURL(/\/invite\//);
  await waitForHydration(pat);
  await expect(pat.getByRole("button", { name: "Accept with Microsoft" })).toBeVisible();
  await keepScreenshot(pat, testInfo, "invite-accept-with-microsoft-phone");
  await pat.getByRole("button", { name: "Accept with Microsoft" }).click();
  await expect(pat).toHaveURL(EMULATOR);
  await pat.getByText("Use another account").click();
  await pat.getByLabel("Tenant ID").fill(FABRIKAM);
  await pat.getByLabel("Name", { exact: true }).fill("Pat Invitee");
  await pat.getByLabel("Email", { exact: true }).fill(`pat.invitee@fabrikam.example`);
  await pat.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(pat).toHaveURL(/\/$/);
  await waitForHydration(pat);
  const patMe = await me(pat);
  expect(patMe.status, JSON.stringify(patMe.body)).toBe(200);
  expect(patMe.body.user).toMatchObject({ email: invitee, role: "engineer", auth_method: "entra" });
  patErrors.assertClean();
  await inviteeContext.close();
});

test("a user of a tenant that is not connected is refused, told why and whom to ask", async ({ browser }, testInfo) => {
  // Contoso's tenant is linked to no customer in this run (see the top of the file).
  const contoso = await signInWithMicrosoft(browser, testInfo, MEGAN, "emulator-login-picker");
  await expect(contoso.page).toHaveURL(/\/login\?error=tenant_not_linked/);
  await waitForHydration(contoso.page);
  const refusal = contoso.page.getByRole("alert").filter({ hasText: "not connected" });
  await expect(refusal).toBeVisible();
  await expect(refusal).toHaveAttribute("data-testid", "sign-in-error");
  await expect(refusal).toContainText("Microsoft Entra ID tenant is not connected to this portal");
  await expect(refusal).toContainText("Ask your IT administrator");
  await keepScreenshot(contoso.page, testInfo, "refused-tenant-not-linked");
  expect((await me(contoso.page)).status).toBe(401);
  contoso.errors.assertClean();
  await contoso.context.close();

  // A personal Microsoft account is refused too, with its own reason.
  const personal = await signInWithMicrosoft(browser, testInfo, SAM);
  await expect(personal.page).toHaveURL(/\/login\?error=consumer_account/);
  await waitForHydration(personal.page);
  await expect(personal.page.getByTestId("sign-in-error")).toContainText("Personal Microsoft accounts cannot sign in. Use your work or school account.");
  await expect(personal.page.getByRole("alert").filter({ hasText: "Personal Microsoft accounts" })).toBeVisible();
  await keepScreenshot(personal.page, testInfo, "refused-personal-account");
  expect((await me(personal.page)).status).toBe(401);
  personal.errors.assertClean();
  await personal.context.close();
});
