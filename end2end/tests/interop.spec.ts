// Sign-in with Microsoft against an independent OpenID Provider: npm's oidc-provider (OpenID
// Certified, oidc-provider/server.mjs) posing as one Entra ID tenant, with the issuer
// `http://127.0.0.1:3108/<tenant>/v2.0` and a `tid` claim. The second portal (port 3109, see
// playwright.config.ts) has the customer "Interop Ltd" with SSO enabled and that tenant linked,
// so a new user of the tenant is provisioned just in time.
import { expect, test, type Browser, type Page } from "@playwright/test";
import { DESKTOP, keepScreenshot, waitForHydration, watchForErrors } from "./support";

const PORTAL = process.env.E2E_INTEROP_URL!;
const IDP = /^http:\/\/127\.0\.0\.1:\d+\/interaction\/[A-Za-z0-9_-]+$/;
// The sign-in page asks whether someone is signed in (401 when not), which Chromium logs.
const EXPECTED_REFUSALS = [/status of 401/];

function escapeRegExp(s: string) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

type Me = { status: number; body: any };

/** `GET /api/v1/me` from the page, with the browser's own cookies. */
async function me(page: Page): Promise<Me> {
  return page.evaluate(async () => {
    const r = await fetch("/api/v1/me", { headers: { Accept: "application/json" } });
    return { status: r.status, body: await r.json().catch(() => null) };
  });
}

/** From the portal's sign-in page through the provider's pages (login, then consent). */
async function startAtPortal(page: Page) {
  await page.goto(`${PORTAL}/login?return_to=%2Fsecurity`);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await expect(page).toHaveURL(IDP);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
}

async function signInAtProvider(page: Page, login: string) {
  await page.getByLabel("Login name").fill(login);
  await page.getByLabel("Password").fill("any password will do");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Allow access" })).toBeVisible();
  await page.getByRole("button", { name: "Allow" }).click();
}

/** A whole sign-in in a fresh browser (no session at the portal or the provider). */
async function signInFresh(browser: Browser, login: string): Promise<Me> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchForErrors(page, EXPECTED_REFUSALS);
  await startAtPortal(page);
  await signInAtProvider(page, login);
  await expect(page).toHaveURL(`${PORTAL}/security`);
  await waitForHydration(page);
  const answer = await me(page);
  errors.assertClean();
  await context.close();
  return answer;
}

test("sign in with Microsoft through oidc-provider: provisioned just in time, same user next time", async ({ page, browser }, testInfo) => {
  test.setTimeout(90_000);
  const errors = watchForErrors(page, EXPECTED_REFUSALS);
  await page.setViewportSize(DESKTOP);
  const login = "adele.vance@interop.example";

  await startAtPortal(page);
  await keepScreenshot(page, testInfo, "interop-provider-login");
  await signInAtProvider(page, login);

  // Back at the portal, signed in, on the page the sign-in started from.
  await expect(page).toHaveURL(`${PORTAL}/security`);
  await waitForHydration(page);
  const first = await me(page);
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  expect(first.body.user).toMatchObject({ email: login, auth_method: "entra", role: "viewer", staff: false });
  expect(first.body.organisation).toMatchObject({ slug: "interop", name: "Interop Ltd" });
  await keepScreenshot(page, testInfo, "interop-signed-in");
  errors.assertClean();

  // The same login name again (a fresh browser, so the provider asks again) is the same user:
  // users are keyed by (tid, oid), and oid derives from the login name.
  const again = await signInFresh(browser, login);
  expect(again.status).toBe(200);
  expect(again.body.user.id).toBe(first.body.user.id);

  // Another person of the same tenant is another user.
  const other = await signInFresh(browser, "megan.bowen@interop.example");
  expect(other.status).toBe(200);
  expect(other.body.user).toMatchObject({ email: "megan.bowen@interop.example", auth_method: "entra" });
  expect(other.body.user.id).not.toBe(first.body.user.id);
});

test("cancelling at the provider ends on the portal's sign-in page, saying so, signed out", async ({ page }, testInfo) => {
  const errors = watchForErrors(page, EXPECTED_REFUSALS);
  await page.setViewportSize(DESKTOP);
  await startAtPortal(page);
  // oidc-provider answers the cancelled interaction with error=access_denied to the callback.
  await page.getByRole("link", { name: "Cancel" }).click();
  await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(PORTAL)}/login\\?error=access_denied&return_to=(%2F|/)security$`));
  await waitForHydration(page);
  await expect(page.getByTestId("sign-in-error")).toContainText("Sign-in with Microsoft was cancelled or refused");
  await keepScreenshot(page, testInfo, "interop-cancelled");
  expect((await me(page)).status).toBe(401);
  errors.assertClean();
});
