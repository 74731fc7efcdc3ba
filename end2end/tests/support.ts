// Shared helpers: fail a test on any unexpected browser console error or failed request, wait
// for hydration, keep screenshots, create accounts with the portal's CLI, compute TOTP codes.
import { expect, type Page, type TestInfo } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };
export const PASSWORD = "violet tugboat orbit sandwich";

/**
 * Records console errors, page errors, failed requests and 5xx responses; `assertClean` fails
 * on any that does not match one of `allowed` (for errors a test provokes on purpose, such as
 * the 401 of a wrong password, which Chromium logs to the console).
 */
export function watchForErrors(page: Page, allowed: RegExp[] = []) {
  const problems: string[] = [];
  const note = (text: string) => {
    if (!allowed.some((re) => re.test(text))) problems.push(text);
  };
  page.on("console", (msg) => {
    if (msg.type() === "error") note(`console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => note(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    // A navigation away cancels the page's pending fetches; that is not a failure.
    if (req.failure()?.errorText !== "net::ERR_ABORTED") note(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("response", (res) => {
    if (res.status() >= 500) note(`HTTP ${res.status()} for ${res.url()}`);
  });
  return {
    assertClean() {
      expect(problems, problems.join("\n")).toEqual([]);
    },
  };
}

/** Waits until the wasm bundle has hydrated the page (the layout marks itself). */
export async function waitForHydration(page: Page) {
  await expect(page.locator(".app[data-hydrated='true']")).toHaveCount(1);
}

/** Saves a full-page screenshot under the test's output directory. */
export async function keepScreenshot(page: Page, testInfo: TestInfo, name: string) {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

function portal(args: string[], input?: string) {
  return execFileSync(process.env.E2E_PORTAL_BIN!, args, {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "warn" },
    input,
    encoding: "utf8",
  });
}

/** Creates an organisation with a fresh slug; returns the slug. */
export function createOrg(prefix = "org"): string {
  const slug = `${prefix}-${randomUUID().slice(0, 8)}`;
  portal(["org", "create", "--name", `${prefix} ${slug}`, "--slug", slug]);
  return slug;
}

/** Creates a customer user with `PASSWORD` in a new organisation; returns the email. */
export function createUser(role = "admin"): string {
  const org = createOrg();
  const email = `user-${randomUUID().slice(0, 8)}@${org}.example`;
  portal(["user", "create", "--org", org, "--email", email, "--role", role, "--password-stdin"], `${PASSWORD}\n`);
  return email;
}

/** RFC 4648 base32 decoding (what authenticator apps read). */
function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const clean = text.replace(/[\s=-]/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret, `offsetSteps` from now. */
export function totp(secretBase32: string, offsetSteps = 0): string {
  const step = Math.floor(Date.now() / 1000 / 30) + offsetSteps;
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/** Waits until the next TOTP step begins, so a code of the previous step is not reused. */
export async function nextTotpStep(page: Page) {
  const msIntoStep = Date.now() % 30_000;
  await page.waitForTimeout(30_000 - msIntoStep + 250);
}

/** Signs in through the sign-in page with email and password. */
export async function signIn(page: Page, email: string, password = PASSWORD, returnTo?: string) {
  await page.goto(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : "/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Creates a carrier staff member with `PASSWORD`; returns the email. */
export function createStaff(): string {
  const email = `staff-${randomUUID().slice(0, 8)}@carrier.example`;
  portal(["staff", "create", "--email", email, "--password-stdin"], `${PASSWORD}\n`);
  return email;
}

/** A customer made by `createCustomer`: its slug, its (unique) name and its admin's email. */
export type Customer = { slug: string; name: string; adminEmail: string };

/** Creates a customer named "`name` <suffix>" with one admin user who has `PASSWORD`. */
export function createCustomer(name: string): Customer {
  const suffix = randomUUID().slice(0, 8);
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${suffix}`;
  const fullName = `${name} ${suffix}`;
  portal(["org", "create", "--name", fullName, "--slug", slug]);
  const adminEmail = `admin-${suffix}@${slug}.example`;
  portal(["user", "create", "--org", slug, "--email", adminEmail, "--role", "admin", "--password-stdin"], `${PASSWORD}\n`);
  return { slug, name: fullName, adminEmail };
}

/** The authenticator secret of each staff member this worker signed in, by email. */
const staffSecrets = new Map<string, { secret: string; lastStep: number }>();

/**
 * Signs carrier staff `email` in through the sign-in page. Staff always need an authenticator:
 * the first sign-in goes through the set-up the page requires (`/security?enrol=required`),
 * later ones through the code page, with a time step not used before. Ends on `returnTo`.
 */
export async function signInStaff(page: Page, email: string, returnTo = "/") {
  await signIn(page, email, PASSWORD, returnTo);
  const known = staffSecrets.get(email);
  if (!known) {
    await expect(page).toHaveURL(/\/security\?enrol=required/);
    await waitForHydration(page);
    await expect(page.getByTestId("enrolment-required")).toContainText("needs a second factor");
    // The required set-up starts at its first step: the password.
    await page.getByRole("textbox", { name: "Password" }).fill(PASSWORD);
    await page.getByRole("button", { name: "Continue" }).click();
    const secret = (await page.getByTestId("totp-secret").innerText()).replace(/\s/g, "");
    const step = Math.floor(Date.now() / 30_000);
    await page.getByLabel("Code from the app").fill(totp(secret));
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByTestId("recovery-codes")).toBeVisible();
    staffSecrets.set(email, { secret, lastStep: step });
    await page.getByRole("link", { name: "Continue" }).click();
  } else {
    await expect(page).toHaveURL(/\/login\/mfa/);
    await waitForHydration(page);
    // A step may be used once: after the last one used, at most one ahead of now.
    let step = Math.max(Math.floor(Date.now() / 30_000) - 1, known.lastStep + 1);
    while (step > Math.floor(Date.now() / 30_000) + 1) {
      await page.waitForTimeout(1_000);
    }
    step = Math.max(step, Math.floor(Date.now() / 30_000) - 1);
    await page.getByLabel("Authentication code").fill(totp(known.secret, step - Math.floor(Date.now() / 30_000)));
    await page.getByRole("button", { name: "Verify" }).click();
    known.lastStep = step;
  }
  await expect(page).toHaveURL(new RegExp(`${returnTo.replace(/[?]/g, "\\?")}$`));
  await waitForHydration(page);
}
