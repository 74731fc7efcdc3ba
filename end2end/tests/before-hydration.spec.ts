// Before the wasm arrives (a slow connection) and without JavaScript: the sign-in forms are
// plain HTML forms the server takes as form posts (the no-JavaScript encoding of the same
// sign-in as the JSON API), and hydration keeps what a person typed meanwhile.
//
// The wasm is held back with `page.route` on `**/pkg/*.wasm` until the test lets it through.
import { expect, request, test, type Browser, type Page } from "@playwright/test";
import { PASSWORD, createUser, keepScreenshot, totp, waitForHydration, watchForErrors } from "./support";

/** Holds every wasm download of `page` until `release()` is called. */
async function holdWasm(page: Page) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await released;
    // The page may have navigated away meanwhile; its request is then gone.
    await route.continue().catch(() => {});
  });
  return release;
}

/** A browser without JavaScript; with it off, Chromium refuses the page's script preloads (the
 * main JS and the chunk loader, `__wasm_split.<hash>.js`) under the page's CSP, which is not a
 * problem of the page. */
async function withoutJavaScript(browser: Browser) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const errors = watchForErrors(page, [/\/pkg\/(portal|__wasm_split)\.[^ ]*\.js \(csp\)$/]);
  return { context, page, errors };
}

/** Sends the sign-in form of `/login?return_to=…` with `email` and `PASSWORD`. */
async function sendSignInForm(page: Page, email: string, returnTo: string) {
  await page.goto(`/login?return_to=${encodeURIComponent(returnTo)}`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The page has not hydrated (the layout marks itself once it has). */
async function expectNotHydrated(page: Page) {
  await expect(page.locator(".app[data-hydrated='false']")).toHaveCount(1);
}

test("Enter before the wasm has arrived signs in", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const email = createUser();
  const release = await holdWasm(page);
  await page.goto("/login?return_to=%2Fnumbers", { waitUntil: "domcontentloaded" });
  await expectNotHydrated(page);
  // The sign-in button works before hydration: it is not the "still loading" kind.
  await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  // The server took the form post and sent the browser on, signed in.
  await expect(page).toHaveURL(/\/numbers$/);
  await keepScreenshot(page, testInfo, "signed-in-before-hydration");
  release();
  await waitForHydration(page);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.email).toBe(email);
  errors.assertClean();
});

test("wrong credentials before the wasm has arrived come back with the message", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const email = createUser();
  const release = await holdWasm(page);
  await page.goto("/login", { waitUntil: "domcontentloaded" });
  await expectNotHydrated(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("not the password at all");
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await expect(page).toHaveURL(/\/login\?error=invalid_credentials&email=/);
  expect(page.url()).not.toContain("password");
  const alert = page.getByRole("alert").filter({ hasText: "The email or password is not right" });
  await expect(alert).toHaveText("The email or password is not right. Check them and try again.");
  // The address is kept; the password is not.
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
  await keepScreenshot(page, testInfo, "refused-before-hydration");
  release();
  await waitForHydration(page);
  // Hydration keeps the message and the address; no session was made.
  await expect(alert).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(email);
  expect((await page.request.get("/api/v1/me")).status()).toBe(401);
  errors.assertClean();
});

test("without JavaScript, password and authenticator code sign in", async ({ browser, baseURL }, testInfo) => {
  // An account with an authenticator, set up through the JSON API.
  const email = createUser();
  const api = await request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL! } });
  expect((await api.post("/api/v1/auth/login", { data: { email, password: PASSWORD } })).ok()).toBeTruthy();
  const start = await api.post("/api/v1/me/mfa/totp", { data: { password: PASSWORD } });
  expect(start.ok()).toBeTruthy();
  const secret: string = (await start.json()).secret;
  // The previous step's code confirms, so the sign-in below may use the current one.
  const confirmed = await api.post("/api/v1/me/mfa/totp/confirm", { data: { code: totp(secret, -1) } });
  expect(confirmed.ok()).toBeTruthy();
  const recoveryCodes: string[] = (await confirmed.json()).recovery_codes;
  await api.dispose();

  const { context, page, errors } = await withoutJavaScript(browser);
  await sendSignInForm(page, email, "/calls");
  await expect(page).toHaveURL(/\/login\/mfa\?return_to=\/calls$/);

  // A wrong code comes back with the JSON answer's words.
  const right = totp(secret);
  const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, "0");
  await page.getByLabel("Authentication code").fill(wrong);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/login\/mfa\?return_to=\/calls&error=invalid_code$/);
  await expect(page.getByRole("alert").filter({ hasText: "That code is not right" })).toBeVisible();
  await keepScreenshot(page, testInfo, "no-js-wrong-code");

  await page.getByLabel("Authentication code").fill(right);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).toHaveURL(/\/calls$/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.email).toBe(email);
  expect(me.user.auth_method).toBe("password+totp");
  errors.assertClean();
  await context.close();

  // A recovery code instead: the switch is a link, so it works without JavaScript too.
  const { context: second, page: other, errors: otherErrors } = await withoutJavaScript(browser);
  await sendSignInForm(other, email, "/calls");
  await other.getByRole("link", { name: "Use a recovery code instead" }).click();
  await expect(other).toHaveURL(/\/login\/mfa\?kind=recovery&return_to=\/calls$/);
  await other.getByLabel("Recovery code").fill(recoveryCodes[0]);
  await other.getByRole("button", { name: "Verify" }).click();
  await expect(other.getByText("Recovery code accepted. You have 9 recovery codes left.")).toBeVisible();
  await other.getByRole("link", { name: "Continue" }).click();
  await expect(other).toHaveURL(/\/calls$/);
  otherErrors.assertClean();
  await second.close();
});

test("what was typed before hydration is still there after it, with the focus", async ({ page }) => {
  const errors = watchForErrors(page);
  const email = createUser();
  const release = await holdWasm(page);
  await page.goto("/login", { waitUntil: "domcontentloaded" });
  await expectNotHydrated(page);
  const password = page.getByLabel("Password", { exact: true });
  await page.getByLabel("Email").fill(email);
  await password.fill(PASSWORD);
  await expect(password).toBeFocused();
  release();
  await waitForHydration(page);
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(password).toHaveValue(PASSWORD);
  await expect(password).toBeFocused();
  // The hydrated form sends what was typed (its signals hold it, not only the DOM).
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.email).toBe(email);
  errors.assertClean();
});

test("before hydration no other page offers a form that would post anywhere", async ({ page }) => {
  // The dashboard's forms render in the browser today; any one the server renders must wait
  // (SubmitButton keeps it disabled, "still loading", until hydrated: see form.rs's tests).
  const errors = watchForErrors(page);
  const email = createUser();
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);

  const release = await holdWasm(page);
  for (const path of ["/", "/services", "/numbers", "/emergency-addresses", "/calls", "/analytics", "/porting", "/users", "/api-tokens", "/audit", "/security", "/sso"]) {
    await page.goto(path, { waitUntil: "domcontentloaded" });
    await expectNotHydrated(page);
    const sendable = page.locator("form button[type=submit]:not([disabled]), form input[type=submit]:not([disabled])");
    expect(await sendable.count(), `${path} offers a form before hydration`).toBe(0);
    const waiting = page.locator("button[type=submit][data-loading='true']");
    for (let i = 0; i < (await waiting.count()); i++) {
      await expect(waiting.nth(i)).toHaveAttribute("title", /Still loading/);
    }
  }
  release();
  await waitForHydration(page);
  errors.assertClean();
});

test("without JavaScript, a forgotten password is reset through the emailed link", async ({ browser }, testInfo) => {
  const email = createUser("engineer");
  const { context, page, errors } = await withoutJavaScript(browser);
  await page.goto("/login/forgot");
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send link" }).click();
  await expect(page).toHaveURL(/\/login\/forgot\?requested=1$/);
  await expect(page.getByText(/If an account uses this address/)).toBeVisible();

  // The link is mailed after the answer.
  await expect(async () => {
    await page.goto("/dev/outbox");
    await expect(page.locator("article", { hasText: email })).toHaveCount(1, { timeout: 500 });
  }).toPass();
  await page.locator("article", { hasText: email }).first().getByRole("link").click();
  await expect(page).toHaveURL(/\/reset-password\//);
  const link = page.url();

  // Two different entries come back to the form with the browser's own words for it.
  await page.getByLabel("New password", { exact: true }).fill("quiet harbour lantern 42");
  await page.getByLabel("Confirm the new password").fill("quiet harbour lantern 24");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page).toHaveURL(`${link}?error=password_mismatch`);
  await expect(page.getByRole("alert")).toHaveText("The two passwords are not the same. Type the same password in both fields.");
  await keepScreenshot(page, testInfo, "no-js-reset-mismatch");

  await page.getByLabel("New password", { exact: true }).fill("quiet harbour lantern 42");
  await page.getByLabel("Confirm the new password").fill("quiet harbour lantern 42");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page).toHaveURL(`${link}?password_set=1`);
  await expect(page.getByText("Your password has been changed.")).toBeVisible();

  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("quiet harbour lantern 42");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  errors.assertClean();
  await context.close();
});
