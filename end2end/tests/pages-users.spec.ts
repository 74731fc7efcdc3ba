// The Users page (/users): an admin invites someone, changes a role and deactivates a user,
// checked through the API; a viewer (signed in with Microsoft) sees the list without any
// controls. Both sizes screenshotted.
import { expect, test } from "@playwright/test";
import { randomUUID } from "node:crypto";
import {
  addUser,
  apiAs,
  createTestCustomer,
  guardPage,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
} from "./pages-support";

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(120_000);

test("an admin invites, changes a role and deactivates (password + TOTP)", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Users");
  const engineer = `eng-${randomUUID().slice(0, 8)}@${customer.slug}.example`;
  const leaver = `leaver-${randomUUID().slice(0, 8)}@${customer.slug}.example`;
  addUser(customer.slug, engineer, "engineer");
  addUser(customer.slug, leaver, "viewer");
  await signInWithTotp(page, customer.adminEmail, "/users");

  const table = page.getByTestId("users-table");
  await expect(table.locator("tbody tr[data-user-id]")).toHaveCount(3);
  // "Since" is the day someone joined; the time is in its tooltip (the column stays narrow
  // enough for the role selects and Deactivate buttons to fit a laptop's width).
  const since = table.locator(`tr[data-email="${customer.adminEmail}"] td[data-label="Since"] time`);
  await expect(since).toHaveAttribute("title", /\d:\d\d/);
  await expect(since).not.toContainText(":");

  // Invite.
  const invitee = `new-${randomUUID().slice(0, 8)}@${customer.slug}.example`;
  await page.getByLabel("Email address").fill(invitee);
  await page.getByLabel("Role", { exact: true }).selectOption("engineer");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByText(`Invitation sent to ${invitee}`)).toBeVisible();

  // Change the engineer's role to viewer.
  const engineerRow = table.locator(`tr[data-email="${engineer}"]`);
  await engineerRow.getByLabel(`Role of ${engineer}`).selectOption("viewer");
  await engineerRow.getByRole("button", { name: "Save role" }).click();
  await expect(page.getByText("Role changed to Viewer.")).toBeVisible();

  // Deactivate the leaver.
  const leaverRow = table.locator(`tr[data-email="${leaver}"]`);
  await leaverRow.getByRole("button", { name: `Deactivate ${leaver}` }).click();
  await page.getByRole("group", { name: "Confirm deactivation" }).getByRole("button", { name: "Deactivate" }).click();
  await expect(leaverRow).toContainText("Deactivated");

  const users = (await (await page.request.get("/api/v1/users")).json()).users as {
    email: string;
    role: string;
    deactivated: boolean;
  }[];
  const by = (email: string) => users.find((u) => u.email === email)!;
  expect(by(invitee).role).toBe("engineer");
  expect(by(engineer).role).toBe("viewer");
  expect(by(leaver).deactivated).toBe(true);

  await visitAtBothSizes(page, testInfo, "/users", "users-totp", async (p) => {
    await expect(p.getByTestId("users-table")).toBeVisible();
  });
  guard.assertClean();
});

test("a viewer signed in with Microsoft sees the users without controls", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Users SSO");
  const email = await signInWithEmulator(page, customer.slug, { returnTo: "/users" });
  await expect(page).toHaveURL(/\/users/);
  const table = page.getByTestId("users-table");
  await expect(table.locator(`tr[data-email="${email}"]`)).toContainText("Microsoft identity linked");
  await expect(page.getByRole("button", { name: "Send invitation" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Deactivate/ })).toHaveCount(0);

  const admin = await apiAs(page, customer.adminEmail);
  const users = (await (await admin.get("/api/v1/users")).json()).users as { email: string; sso_identity: boolean; role: string }[];
  const me = users.find((u) => u.email === email)!;
  expect(me.sso_identity).toBe(true);
  expect(me.role).toBe("viewer");
  await admin.dispose();

  await visitAtBothSizes(page, testInfo, "/users", "users-sso", async (p) => {
    await expect(p.getByTestId("users-table")).toBeVisible();
  });
  guard.assertClean();
});
