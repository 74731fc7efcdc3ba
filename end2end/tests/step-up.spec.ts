// Step-up for dangerous actions, as an admin meets it: a browser session that signed in with
// the password alone, before the admin set up an authenticator app (in another session), may
// no longer create an API token on that proof. Creating one opens "Confirm it's you"; Cancel
// leaves the page with the refusal; the current code from the app lets the action through,
// sent again without retyping the form.
import { expect, test } from "@playwright/test";
import { PASSWORD, createCustomer, keepScreenshot, nextTotpStep, signIn, totp, waitForHydration, watchForErrors } from "./support";
import { apiAs } from "./pages-support";

test("a dangerous action asks the admin to confirm it's them, then goes through", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const customer = createCustomer("Step Up");
  // The refusals below are 401s and one wrong code, which Chromium logs as failed resources.
  const errors = watchForErrors(page, [/status of 401/]);
  await signIn(page, customer.adminEmail, PASSWORD, "/api-tokens");
  await expect(page).toHaveURL(/\/api-tokens/);
  await waitForHydration(page);

  // Meanwhile, in another session, the admin sets up an authenticator app.
  const api = await apiAs(page, customer.adminEmail);
  const setup = await (await api.post("/api/v1/me/mfa/totp", { data: { password: PASSWORD } })).json();
  const secret = setup.secret as string;
  expect((await api.post("/api/v1/me/mfa/totp/confirm", { data: { code: totp(secret) } })).ok()).toBeTruthy();
  await api.dispose();

  const create = async () => {
    await page.getByLabel("Name").fill("Nightly export");
    await page.getByLabel("Scope").selectOption("read");
    await page.getByLabel("Valid for (days)").fill("30");
    await page.getByRole("button", { name: "Create token" }).click();
  };
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });

  // Cancel: nothing is created and the page says why.
  await create();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel("Authenticator code")).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText("needs a fresh check")).toBeVisible();

  // A wrong code is refused in the dialog; the right one sends the action again.
  await create();
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Authenticator code").fill("000000");
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog.getByRole("alert")).toContainText("not right");
  await keepScreenshot(page, testInfo, "step-up-dialog");
  await nextTotpStep(page);
  await dialog.getByLabel("Authenticator code").fill(totp(secret));
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("token-secret")).toBeVisible();
  const tokens = (await (await page.request.get("/api/v1/api-tokens")).json()).tokens as { name: string }[];
  expect(tokens.filter((t) => t.name === "Nightly export")).toHaveLength(1);
  errors.assertClean();
});
