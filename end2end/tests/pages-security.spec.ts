// The Security page (/security) end to end, each test with its own customer: the own
// sessions (one ended from the page, checked through the API), the authenticator app's state
// and the linked Microsoft account. Signed in once with password + TOTP and once through the
// development Entra ID emulator; visited at 1280×800 and 375×812 with screenshots kept; any
// console error or failed request fails the test. (sign-in.spec.ts and sso.spec.ts cover
// enrolment, recovery codes and linking.)
import { expect, test } from "@playwright/test";
import {
  DESKTOP,
  apiAs,
  createTestCustomer,
  guardPage,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";

// Sign-in with TOTP or the emulator and two screen sizes take longer than 30 s.
test.setTimeout(90_000);

type Session = { id: string; current: boolean; auth_method: string };

test("security: MFA is on and another session is signed out from the page (password + TOTP)", async ({ page }, testInfo) => {
  const customer = createTestCustomer("Security");
  // A second session, elsewhere (before MFA is turned on, so a password is enough).
  await page.goto("/login");
  const elsewhere = await apiAs(page, customer.adminEmail);
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/security");
  await expect(page).toHaveURL(/\/security$/);
  await waitForHydration(page);

  await expect(page.getByTestId("mfa-status")).toHaveAttribute("data-mfa", "on");
  const sessions = page.getByTestId("sessions");
  await expect(sessions.getByRole("row")).toHaveCount(3); // header + two sessions
  const listed: Session[] = (await (await page.request.get("/api/v1/me/sessions")).json()).sessions;
  expect(listed).toHaveLength(2);
  const current = listed.find((s) => s.current)!;
  expect(current.auth_method).toBe("password+totp");
  const currentRow = sessions.locator(`tr[data-session-id="${current.id}"]`);
  await expect(currentRow).toContainText("This device");
  await expect(currentRow).toContainText("Password and authenticator app");

  const other = listed.find((s) => !s.current)!;
  await sessions.locator(`tr[data-session-id="${other.id}"]`).getByRole("button", { name: /^Sign out/ }).click();
  await expect(sessions.getByRole("row")).toHaveCount(2);
  // Ended on the server: the other session is signed out, this one is the only one left.
  expect((await elsewhere.get("/api/v1/me")).status()).toBe(401);
  await elsewhere.dispose();
  const after: Session[] = (await (await page.request.get("/api/v1/me/sessions")).json()).sessions;
  expect(after.map((s) => s.id)).toEqual([current.id]);

  await visitAtBothSizes(page, testInfo, "/security", "security-totp", async (p) => {
    await expect(p.getByTestId("sessions").getByRole("row")).toHaveCount(2);
    await expect(p.getByTestId("mfa-status")).toBeVisible();
  });
  guard.assertClean();
});

test("security: a Microsoft user sees their linked account, MFA through Microsoft and their session", async ({ page }, testInfo) => {
  const customer = createTestCustomer("Security SSO");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  const email = await signInWithEmulator(page, customer.slug, { returnTo: "/security" });
  await expect(page).toHaveURL(/\/security$/);

  // No portal password: the second step happens at Microsoft.
  await expect(page.getByTestId("mfa-status")).toHaveAttribute("data-mfa", "sso-only");
  const identities = (await (await page.request.get("/api/v1/me/identities")).json()).identities as { email: string; tenant_id: string }[];
  expect(identities.map((i) => i.email)).toEqual([email]);
  const table = page.getByTestId("microsoft-identities");
  await expect(table).toContainText(email);
  await expect(table).toContainText(identities[0].tenant_id);

  const listed: Session[] = (await (await page.request.get("/api/v1/me/sessions")).json()).sessions;
  expect(listed).toHaveLength(1);
  expect(listed[0].auth_method).toBe("entra");
  const row = page.getByTestId("sessions").locator(`tr[data-session-id="${listed[0].id}"]`);
  await expect(row).toContainText("This device");
  await expect(row).toContainText("Microsoft Entra ID");

  await visitAtBothSizes(page, testInfo, "/security", "security-sso", async (p) => {
    await expect(p.getByTestId("microsoft-identities")).toBeVisible();
    await expect(p.getByTestId("sessions").getByRole("row")).toHaveCount(2);
  });
  guard.assertClean();
});
