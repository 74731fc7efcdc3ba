// Helpers shared by the specs of the portal's pages (pages-*.spec.ts):
//
// - `guardPage(page)` fails the test on any browser console error, page error, failed request
//   or HTTP error answer (4xx/5xx) the page itself receives — call `assertClean()` at the end;
// - `signInWithTotp(page, …)` signs in through the sign-in page with password + authenticator
//   code (the enrolment is done through the JSON API first);
// - `signInWithEmulator(page, …)` signs in through the development Entra ID emulator as a user
//   of a fresh tenant linked to the customer (each call makes its own tenant: a tenant links to
//   one customer only and all specs share one database);
// - `visitAtBothSizes(page, testInfo, path, name)` opens a page at 1280×800 and at 375×812,
//   checks nothing overflows sideways on the phone, and keeps both screenshots as artifacts;
// - `portalCli(args)`, `apiAs(page)`: data set-up through the CLI and the JSON API.
// - `customerWithCalls`, `portNumbersIn`, `signInWithPassword`: shared fixtures of several specs;
// - `expectNumbersOnOneLine(page)`: no phone number on the page breaks across lines.
import { expect, type APIResponse, type Page, type TestInfo } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DESKTOP, PASSWORD, PHONE, keepScreenshot, signInStaff, totp, waitForHydration } from "./support";

export { DESKTOP, PASSWORD, PHONE, keepScreenshot, signInStaff, totp, waitForHydration };

/** What `guardPage` saw; `assertClean` fails the test when it saw anything. */
export type PageGuard = {
  problems: string[];
  /** Ignore problems matching `re` from now on (an error the test provokes on purpose). */
  allow(re: RegExp): void;
  assertClean(): void;
};

/**
 * Records every console error, uncaught page error, failed request and HTTP error response
 * (status ≥ 400) of `page`. A request cancelled by navigating away (`net::ERR_ABORTED`) is
 * not a failure. Requests made with `page.request` (outside the page) are not watched.
 */
export function guardPage(page: Page, allowed: RegExp[] = []): PageGuard {
  const allow = [...allowed];
  const problems: string[] = [];
  const note = (text: string) => {
    if (!allow.some((re) => re.test(text))) problems.push(text);
  };
  page.on("console", (msg) => {
    if (msg.type() === "error") note(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on("pageerror", (err) => note(`page error: ${err.message}`));
  page.on("requestfailed", (req) => {
    if (req.failure()?.errorText !== "net::ERR_ABORTED") {
      note(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`);
    }
  });
  page.on("response", (res) => {
    if (res.status() >= 400) note(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
  });
  return {
    problems,
    allow(re: RegExp) {
      allow.push(re);
    },
    assertClean() {
      expect(problems, problems.join("\n")).toEqual([]);
    },
  };
}

/** Runs the portal's CLI against the test database; returns its standard output. */
export function portalCli(args: string[], input?: string): string {
  return execFileSync(process.env.E2E_PORTAL_BIN!, args, {
    env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: "warn" },
    input,
    encoding: "utf8",
  });
}

/** A fresh customer: slug, name, and an admin (password `PASSWORD`, no MFA yet). */
export type TestCustomer = { slug: string; name: string; adminEmail: string };

/** Creates a customer "`name` <suffix>" and its admin. */
export function createTestCustomer(name: string): TestCustomer {
  const suffix = randomUUID().slice(0, 8);
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${suffix}`;
  const fullName = `${name} ${suffix}`;
  portalCli(["org", "create", "--name", fullName, "--slug", slug]);
  const adminEmail = `admin-${suffix}@${slug}.example`;
  addUser(slug, adminEmail, "admin");
  return { slug, name: fullName, adminEmail };
}

/** Adds a user with `PASSWORD` and `role` to the customer `slug`. */
export function addUser(slug: string, email: string, role: "admin" | "engineer" | "viewer") {
  portalCli(["user", "create", "--org", slug, "--email", email, "--role", role, "--password-stdin"], `${PASSWORD}\n`);
}

/** Creates a service with the CLI. */
export function createService(slug: string, name: string, channels = 30, kind = "sip_trunk", country = "GB") {
  portalCli(["service", "create", "--org", slug, "--kind", kind, "--name", name, "--country", country, "--channels", String(channels)]);
}

/**
 * Imports call records (DESIGN's CDR columns) for the customer `slug`; `rows` are the lines
 * after the header. Returns the CLI's report.
 */
export function importCalls(slug: string, rows: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdr-")), "calls.csv");
  const header = "id,service,start,answer,end,direction,from,to,result,sip_code,sip_reason,mos,jitter_ms,packet_loss_pct,country";
  fs.writeFileSync(file, [header, ...rows].join("\n") + "\n");
  return portalCli(["calls", "import", file, "--org", slug]);
}

/** RFC 3339 of `minutes` ago, whole seconds. */
export function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A customer with two services and five calls in the last few minutes: three on Trunk A
 * (10 channels; two answered to the US, one busy to GB), two on Trunk B (4 channels, Teams
 * Direct Routing in DE; one answered to GB, one failed to FR). `extraRows` are more CDR lines.
 */
export function customerWithCalls(name: string, extraRows: string[] = []): TestCustomer {
  const customer = createTestCustomer(name);
  createService(customer.slug, "Trunk A", 10);
  createService(customer.slug, "Trunk B", 4, "teams_direct_routing", "DE");
  // Within the current hour where possible, and never before today's local midnight.
  const start = (m: number) => minutesAgo(Math.min(m, new Date().getMinutes() + new Date().getHours() * 60));
  importCalls(customer.slug, [
    `a1,Trunk A,${start(6)},${start(6)},${start(4)},outbound,+442071234567,+14155550100,answered,200,OK,4.4,3,0.1,US`,
    `a2,Trunk A,${start(5)},${start(5)},${start(2)},outbound,+442071234567,+14155550101,answered,200,OK,4.0,5,0.2,US`,
    `a3,Trunk A,${start(5)},,${start(5)},outbound,+442071234567,+442071239999,busy,486,Busy Here,,,,GB`,
    `b1,Trunk B,${start(3)},${start(3)},${start(1)},inbound,+442079990000,+4930123456,answered,200,OK,3.6,9,1.5,GB`,
    `b2,Trunk B,${start(2)},,${start(2)},outbound,+4930123456,+33123456789,failed,503,Service Unavailable,,,,FR`,
    ...extraRows,
  ]);
  return customer;
}

/** `count` fresh E.164 numbers in one block (unique across the shared test database). */
export function freshE164(count: number): string[] {
  const base = 10_000 + Math.floor(Math.random() * 90_000);
  return Array.from({ length: count }, (_, i) => `+44207${base}${String(i).padStart(3, "0")}`);
}

/**
 * Submits a porting order of `count` fresh GB numbers over the service `serviceName` through
 * the API (`api` is signed in; `origin` is needed when it is a page's `request`). The numbers
 * exist at once (status `porting_in`, no emergency address). Returns them and the service id.
 */
export async function portNumbersIn(
  api: { get: Page["request"]["get"]; post: Page["request"]["post"] },
  serviceName: string,
  count: number,
  origin?: string,
): Promise<{ numbers: string[]; serviceId: string }> {
  const services = await (await ok(await api.get("/api/v1/services"), "services")).json();
  const service = (services.services as { id: string; name: string }[]).find((s) => s.name === serviceName);
  expect(service, `service ${serviceName}`).toBeTruthy();
  const numbers = freshE164(count);
  const today = new Date().toISOString().slice(0, 10);
  await ok(
    await api.post("/api/v1/port-orders", {
      data: { numbers, losing_carrier: "Old Telco", requested_for: today, country: "GB", service_id: service!.id },
      headers: origin ? { Origin: origin } : undefined,
    }),
    "port order",
  );
  return { numbers, serviceId: service!.id };
}

/**
 * Signs `page` in with a password only (through the JSON API, so the browser context holds
 * the session): for staff and accounts without MFA. Leaves the page on `/login`.
 */
export async function signInWithPassword(page: Page, email: string) {
  if (!page.url().startsWith("http")) await page.goto("/login");
  const res = await ok(
    await page.request.post("/api/v1/auth/login", { data: { email, password: PASSWORD }, headers: originHeaders(page) }),
    `sign-in of ${email}`,
  );
  expect((await res.json()).status, `${email} must not need MFA`).toBe("signed_in");
}

/**
 * Checks that every phone number (`.e164`) on the page is on one line: its text's layout
 * boxes all sit on the same line.
 */
export async function expectNumbersOnOneLine(page: Page) {
  const broken = await page.locator(".e164").evaluateAll((els) =>
    els
      .filter((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set(
          Array.from(range.getClientRects())
            .filter((r) => r.width > 0)
            .map((r) => Math.round(r.top)),
        );
        return tops.size > 1;
      })
      .map((el) => el.textContent ?? ""),
  );
  expect(broken, `numbers broken across lines: ${broken.join(", ")}`).toEqual([]);
}

/** The headers a same-origin mutating request needs to pass the CSRF check. */
function originHeaders(page: Page): Record<string, string> {
  const base = new URL(page.url().startsWith("http") ? page.url() : (process.env.E2E_BASE_URL ?? "http://127.0.0.1:3107"));
  return { Origin: base.origin };
}

async function ok(res: APIResponse, what: string) {
  expect(res.ok(), `${what}: HTTP ${res.status()} ${await res.text()}`).toBeTruthy();
  return res;
}

/**
 * Signs in as `email` with password + TOTP: enrols an authenticator through the API
 * (sign in, start, confirm, sign out), then signs in through the sign-in page and the code
 * page, ending on `returnTo` (default `/`). Returns the TOTP secret.
 */
export async function signInWithTotp(page: Page, email: string, returnTo = "/"): Promise<string> {
  if (!page.url().startsWith("http")) await page.goto("/login");
  const headers = originHeaders(page);
  await ok(await page.request.post("/api/v1/auth/login", { data: { email, password: PASSWORD }, headers }), "login");
  const start = await ok(await page.request.post("/api/v1/me/mfa/totp", { data: { password: PASSWORD }, headers }), "start TOTP");
  const secret: string = (await start.json()).secret;
  // The previous step's code confirms; the sign-in below then uses the current one, which
  // the server accepts as later than the last used (no waiting for the next 30 s step).
  await ok(await page.request.post("/api/v1/me/mfa/totp/confirm", { data: { code: totp(secret, -1) }, headers }), "confirm TOTP");
  await ok(await page.request.post("/api/v1/auth/logout", { headers }), "logout");

  await page.goto(`/login?return_to=${encodeURIComponent(returnTo)}`);
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/login\/mfa/);
  await waitForHydration(page);
  await page.getByLabel("Authentication code").fill(totp(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page).not.toHaveURL(/\/login/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.auth_method).toBe("password+totp");
  return secret;
}

/**
 * Signs in through the development Entra ID emulator as a Microsoft user of the customer
 * `slug`: turns SSO on for it, links a fresh tenant, and picks "Use another account" with
 * that tenant. The user is provisioned just in time with the customer's default role
 * (`viewer`) unless `role` asks for another, which the customer's admin then grants through
 * the API (`adminEmail` is needed for that). Ends on `returnTo`; returns the user's email.
 */
export async function signInWithEmulator(
  page: Page,
  slug: string,
  options: { returnTo?: string; role?: "admin" | "engineer" | "viewer"; adminEmail?: string } = {},
): Promise<string> {
  const returnTo = options.returnTo ?? "/";
  const tenant = randomUUID();
  portalCli(["org", "sso", "enable", "--org", slug]);
  portalCli(["org", "sso", "link-tenant", "--org", slug, "--tenant", tenant]);
  const email = `sso-${tenant.slice(0, 8)}@${slug}.example`;

  const signIn = async () => {
    await page.goto(`/auth/microsoft/login?return_to=${encodeURIComponent(returnTo)}`);
    await expect(page).toHaveURL(/\/dev-idp\//);
    await expect(page.getByRole("heading", { name: "Pick an account" })).toBeVisible();
    await page.getByText("Use another account").click();
    await page.getByLabel("Tenant ID").fill(tenant);
    await page.getByLabel("Name").fill(`SSO ${tenant.slice(0, 8)}`);
    await page.getByLabel("Email").fill(email);
    await page.locator("details[open] form").getByRole("button", { name: "Sign in" }).click();
    await expect(page).not.toHaveURL(/\/dev-idp\/|\/login/);
    await waitForHydration(page);
  };
  await signIn();

  if (options.role && options.role !== "viewer") {
    if (!options.adminEmail) throw new Error("signInWithEmulator: a role other than viewer needs adminEmail");
    // The admin, in a request context of its own, grants the role; the user signs in again
    // so the session carries it.
    const adminApi = await apiAs(page, options.adminEmail);
    const list = await (await ok(await adminApi.get("/api/v1/users"), "users")).json();
    const user = (list.users as { id: string; email: string }[]).find((u) => u.email === email);
    expect(user, `the SSO user ${email} is listed`).toBeTruthy();
    await ok(await adminApi.patch(`/api/v1/users/${user!.id}`, { data: { role: options.role } }), "change role");
    await adminApi.dispose();
    await signIn();
  }
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.auth_method).toBe("entra");
  return email;
}

/**
 * A request context signed in (password only) as `email`, for checking results through the
 * API or setting data up; it sends the `Origin` the CSRF check wants. `dispose()` it at the end.
 */
export async function apiAs(page: Page, email: string) {
  const { request } = await import("@playwright/test");
  const baseURL = new URL(page.url().startsWith("http") ? page.url() : "http://127.0.0.1").origin;
  const context = await request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
  const res = await context.post("/api/v1/auth/login", { data: { email, password: PASSWORD } });
  expect(res.ok(), `API sign-in of ${email}: HTTP ${res.status()}`).toBeTruthy();
  const status = (await res.json()).status;
  expect(status, `${email} must not need MFA for apiAs`).toBe("signed_in");
  return context;
}

/**
 * Opens `path` at 1280×800 and at 375×812 (hydrated, then `ready` awaited at each size),
 * checks that the phone layout does not scroll sideways, and keeps a full-page screenshot of
 * each as `<name>-desktop` / `<name>-phone`. Leaves the page at the desktop size.
 */
export async function visitAtBothSizes(
  page: Page,
  testInfo: TestInfo,
  pagePath: string,
  name: string,
  ready?: (page: Page) => Promise<void>,
) {
  for (const [size, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.goto(pagePath);
    await waitForHydration(page);
    if (ready) await ready(page);
    if (size === "phone") {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${pagePath} scrolls sideways at 375 px`).toBeLessThanOrEqual(0);
    }
    await keepScreenshot(page, testInfo, `${name}-${size}`);
  }
}
