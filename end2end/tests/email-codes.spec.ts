// Codes by e-mail, as a customer's user without an authenticator app meets them: turned on
// from the Security page with the password and the code the portal e-mails (read from the
// development outbox), then asked for at the next sign-in, where the code has already gone
// out; a new code replaces the last. The administrator's Single sign-on page chooses which
// second factors count, and a factor that no longer counts sends the user to set up another.
import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, createCustomer, keepScreenshot, signIn, waitForHydration, watchForErrors } from "./support";

/** The code in the newest mail to `to` of the development outbox, after `before` of them. */
async function codeFor(page: Page, to: string, before = 0): Promise<string> {
  const outbox = await page.context().newPage();
  try {
    for (let i = 0; i < 50; i++) {
      await outbox.goto("/dev/outbox");
      const mails = outbox.locator("article", { hasText: to });
      if ((await mails.count()) > before) {
        const text = await mails.first().innerText();
        const match = text.match(/\b(\d{4}) (\d{4})\b/);
        if (match) return match[1] + match[2];
      }
      await outbox.waitForTimeout(200);
    }
    throw new Error(`no code mailed to ${to}`);
  } finally {
    await outbox.close();
  }
}

async function mailsTo(page: Page, to: string): Promise<number> {
  const outbox = await page.context().newPage();
  await outbox.goto("/dev/outbox");
  const n = await outbox.locator("article", { hasText: to }).count();
  await outbox.close();
  return n;
}

test("a user turns on codes by e-mail and signs in with one", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const customer = createCustomer("Mailed Codes");
  const email = customer.adminEmail;
  // One wrong code below is a 422, which Chromium logs as a failed resource.
  const errors = watchForErrors(page, [/status of 422/]);
  await signIn(page, email, PASSWORD, "/security");
  await expect(page).toHaveURL(/\/security$/);
  await waitForHydration(page);

  const section = page.getByTestId("email-codes");
  await expect(section.getByTestId("email-codes-status")).toHaveAttribute("data-email-codes", "off");
  await section.getByRole("button", { name: "Use codes by e-mail" }).click();
  await section.getByLabel("Password").fill(PASSWORD);
  const before = await mailsTo(page, email);
  await section.getByRole("button", { name: "Send the code" }).click();
  await expect(section.getByText("We e-mailed an 8-digit code to")).toBeVisible();
  const code = await codeFor(page, email, before);
  await section.getByLabel("Code from the e-mail").fill("0000 0000" === code ? "1111 1111" : "0000 0000");
  await section.getByRole("button", { name: "Turn on" }).click();
  await expect(section.getByRole("alert")).toContainText("not right");
  await section.getByLabel("Code from the e-mail").fill(`${code.slice(0, 4)} ${code.slice(4)}`);
  await section.getByRole("button", { name: "Turn on" }).click();
  await expect(section.getByTestId("recovery-codes")).toBeVisible();
  await keepScreenshot(page, testInfo, "email-codes-on");
  await section.getByRole("button", { name: "Done" }).click();
  await expect(section.getByTestId("email-codes-status")).toHaveAttribute("data-email-codes", "on");

  // The next sign-in asks for the code, which went out with the password step.
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page).toHaveURL(/\/login/);
  const sent = await mailsTo(page, email);
  await signIn(page, email, PASSWORD, "/services");
  await expect(page).toHaveURL(/\/login\/mfa\?kind=email/);
  await waitForHydration(page);
  await expect(page.getByText("We e-mailed you an 8-digit code")).toBeVisible();
  const first = await codeFor(page, email, sent);
  // "Send a new code": the first no longer works.
  await page.getByRole("button", { name: "Send a new code" }).click();
  await expect(page.getByRole("status").filter({ hasText: "A new code is on its way" })).toBeVisible();
  const second = await codeFor(page, email, sent + 1);
  expect(second).not.toBe("");
  await keepScreenshot(page, testInfo, "email-code-sign-in");
  await page.getByLabel("Code from the e-mail").fill(second);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/services$/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.auth_method).toBe("password+email");
  expect(first).toMatch(/^\d{8}$/);
  errors.assertClean();
});

test("the administrator chooses which second factors count", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const customer = createCustomer("Factor Policy");
  const errors = watchForErrors(page);
  await signIn(page, customer.adminEmail, PASSWORD, "/sso");
  await expect(page).toHaveURL(/\/sso$/);
  await waitForHydration(page);
  const card = page.getByTestId("mfa-policy");
  await expect(card.getByLabel("Code by e-mail")).toBeChecked();
  await card.getByLabel("Code by e-mail").uncheck();
  await card.getByLabel("Authenticator app").uncheck();
  await card.getByRole("button", { name: "Save sign-in policy" }).click();
  await expect(card.getByRole("alert")).toContainText("at least one");
  await card.getByLabel("Authenticator app").check();
  await card.getByRole("button", { name: "Save sign-in policy" }).click();
  await expect(card.getByText("The sign-in policy is saved.")).toBeVisible();
  await keepScreenshot(page, testInfo, "sign-in-policy");
  const policy = await (await page.request.get("/api/v1/organisation/mfa-policy")).json();
  expect(policy).toEqual({ required: false, methods: ["totp"] });

  // The Security page no longer offers codes by e-mail.
  await page.goto("/security");
  await waitForHydration(page);
  await expect(page.getByTestId("email-codes-status")).toHaveAttribute("data-email-codes", "not-allowed");
  errors.assertClean();
});
