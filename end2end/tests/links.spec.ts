// Emailed links end to end: an admin invites through the API, the invitee follows the link from
// the development outbox and chooses a password; a forgotten password is reset the same way.
import { expect, test } from "@playwright/test";
import { PASSWORD, PHONE, createUser, keepScreenshot, signIn, waitForHydration, watchForErrors } from "./support";

test("an invitee follows the emailed link, sets a password and signs in", async ({ page }, testInfo) => {
  const errors = watchForErrors(page, [/status of 422/]);
  const admin = createUser("admin");
  await signIn(page, admin);
  await expect(page).toHaveURL(/\/$/);
  const invitee = `invitee-${Date.now()}@${admin.split("@")[1]}`;
  const res = await page.request.post("/api/v1/users/invitations", {
    data: { email: invitee, role: "viewer" },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(201);
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await expect(page).toHaveURL(/\/login/);

  await page.goto("/dev/outbox");
  await page.locator("article", { hasText: invitee }).first().getByRole("link").click();
  await expect(page).toHaveURL(/\/invite\//);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: /^Join / })).toBeVisible();
  await expect(page.getByLabel("Email address")).toHaveValue(invitee);

  // A guessable password is refused with the server's reason.
  await page.getByLabel("New password", { exact: true }).fill("password12345");
  await page.getByLabel("Confirm the new password").fill("password12345");
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByText(/too easy to guess/)).toBeVisible();

  await page.getByLabel("New password", { exact: true }).fill("quiet harbour lantern 42");
  await page.getByLabel("Confirm the new password").fill("quiet harbour lantern 42");
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByText("Your password is set.")).toBeVisible();
  await keepScreenshot(page, testInfo, "invite-done");

  await signIn(page, invitee, "quiet harbour lantern 42");
  await expect(page).toHaveURL(/\/$/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.role).toBe("viewer");
  errors.assertClean();
});

test("a forgotten password is reset through the emailed link", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await page.setViewportSize(PHONE);
  const email = createUser("engineer");
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/login\/forgot/);
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send link" }).click();
  await expect(page.getByText(/If an account uses this address/)).toBeVisible();
  await keepScreenshot(page, testInfo, "forgot-sent-phone");

  // The link is mailed after the answer (which takes the same time for every address).
  await expect(async () => {
    await page.goto("/dev/outbox");
    await expect(page.locator("article", { hasText: email })).not.toHaveCount(0, { timeout: 1_000 });
  }).toPass();
  await page.locator("article", { hasText: email }).first().getByRole("link").click();
  await expect(page).toHaveURL(/\/reset-password\//);
  await waitForHydration(page);
  await page.getByLabel("New password", { exact: true }).fill("fresh meadow compass 77");
  await page.getByLabel("Confirm the new password").fill("fresh meadow compass 77");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password has been changed.")).toBeVisible();
  await keepScreenshot(page, testInfo, "reset-done-phone");

  await signIn(page, email, "fresh meadow compass 77");
  await expect(page).toHaveURL(/\/$/);
  // The old password no longer works.
  const old = await page.request.post("/api/v1/auth/login", {
    data: { email, password: PASSWORD },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(old.status()).toBe(401);
  errors.assertClean();
});
