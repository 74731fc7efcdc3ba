// Local sign-in end to end: enrol an authenticator on the Security page, sign out, sign in
// with password and code, then with a recovery code; wrong codes and passwords say so.
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  PASSWORD,
  PHONE,
  createUser,
  keepScreenshot,
  nextTotpStep,
  signIn,
  totp,
  waitForHydration,
  watchForErrors,
} from "./support";

// Chromium logs each refused fetch (401 for a wrong code, signed-out /me) as a console error.
const EXPECTED_REFUSALS = [/status of 401/];

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page).toHaveURL(/\/login/);
}

test("enrol TOTP, then sign in with a code and with a recovery code", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const errors = watchForErrors(page, EXPECTED_REFUSALS);
  const email = createUser("engineer");
  await page.setViewportSize(DESKTOP);

  // A signed-out visit to the Security page goes through sign-in and comes back.
  await page.goto("/security");
  await expect(page).toHaveURL(/\/login\?return_to=%2Fsecurity/);
  await waitForHydration(page);
  await keepScreenshot(page, testInfo, "sign-in-desktop");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/security$/);
  await waitForHydration(page);

  // Enrol: password, then the QR code and the key, then a code computed from the key.
  await expect(page.getByTestId("mfa-status")).toHaveAttribute("data-mfa", "off");
  await page.getByRole("button", { name: "Set up authenticator app" }).click();
  await page.getByRole("textbox", { name: "Password" }).fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").innerText()).replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await keepScreenshot(page, testInfo, "security-enrol-qr");
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByRole("button", { name: "Confirm" }).click();
  const codesPanel = page.getByTestId("recovery-codes");
  await expect(codesPanel).toBeVisible();
  const recoveryCodes = (await codesPanel.innerText()).match(/[a-z2-9]{5}-[a-z2-9]{5}/g) ?? [];
  expect(recoveryCodes).toHaveLength(10);
  await keepScreenshot(page, testInfo, "security-recovery-codes");
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("mfa-status")).toHaveAttribute("data-mfa", "on");

  // The API agrees.
  const me = await page.request.get("/api/v1/me");
  expect((await me.json()).user.mfa_enabled).toBe(true);

  // Sign out; sign in with password and a fresh code.
  await signOut(page);
  await nextTotpStep(page);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/login\/mfa/);
  await waitForHydration(page);
  const codeInput = page.getByLabel("Authentication code");
  await expect(codeInput).toHaveAttribute("autocomplete", "one-time-code");
  await keepScreenshot(page, testInfo, "mfa-desktop");

  // A wrong code says so and keeps the sign-in.
  await codeInput.fill("000000");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toContainText("not right");
  await page.getByLabel("Authentication code").fill(totp(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page);
  expect((await (await page.request.get("/api/v1/me")).json()).user.auth_method).toBe("password+totp");

  // Sign out; sign in with a recovery code instead.
  await signOut(page);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/login\/mfa/);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Use a recovery code instead" }).click();
  await page.getByLabel("Recovery code").fill(recoveryCodes[0]);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText("You have 9 recovery codes left")).toBeVisible();
  await keepScreenshot(page, testInfo, "mfa-recovery-accepted");
  await page.getByRole("link", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/$/);

  // The same recovery code does not work twice.
  await signOut(page);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/login\/mfa/);
  await waitForHydration(page);
  await page.getByRole("link", { name: "Use a recovery code instead" }).click();
  await page.getByLabel("Recovery code").fill(recoveryCodes[0]);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("alert")).toContainText("not right");
  errors.assertClean();
});

test("a wrong password says what happened and keeps the user on the sign-in page", async ({ page }, testInfo) => {
  const errors = watchForErrors(page, EXPECTED_REFUSALS);
  await page.setViewportSize(PHONE);
  const email = createUser("viewer");
  await signIn(page, email, "definitely not the password");
  await expect(page.getByRole("alert")).toContainText("email or password is not right");
  await expect(page).toHaveURL(/\/login$/);
  await keepScreenshot(page, testInfo, "sign-in-wrong-password-phone");
  errors.assertClean();
});

test("the Security page lists this session and can end another", async ({ browser }, testInfo) => {
  const email = createUser("viewer");
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signIn(otherPage, email);
  await expect(otherPage).toHaveURL(/\/$/);

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchForErrors(page, EXPECTED_REFUSALS);
  await page.setViewportSize(PHONE);
  await signIn(page, email, undefined, "/security");
  await expect(page).toHaveURL(/\/security$/);
  await waitForHydration(page);
  const sessions = page.getByTestId("sessions");
  await expect(sessions.getByRole("row")).toHaveCount(3); // header + two sessions
  await keepScreenshot(page, testInfo, "security-sessions-phone");
  const otherRow = sessions.getByRole("row").filter({ hasNot: page.getByText("This device") }).last();
  await otherRow.getByRole("button", { name: "Sign out" }).click();
  await expect(sessions.getByRole("row")).toHaveCount(2);
  // The other browser is signed out on the server.
  expect((await otherPage.request.get("/api/v1/me")).status()).toBe(401);
  errors.assertClean();
  await other.close();
  await context.close();
});
