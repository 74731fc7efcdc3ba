// Automated WCAG 2 A/AA check (axe-core, including its `color-contrast` rule) of every portal
// page, in the light and in the dark theme. The theme follows the browser's
// `prefers-color-scheme` (style/main.css), which Playwright emulates. Pages are checked with
// data on them: a customer with services, calls, numbers (one missing an emergency address),
// an address, a porting order, an API token, an invitation and single sign-on with a tenant,
// seen by its admin; the provider console by staff; the sign-in page signed out.
//
// A violation fails the test; the report names the page, theme, rule, element and — for
// contrast — the colours and ratio axe measured.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { randomUUID } from "node:crypto";
import {
  DESKTOP,
  PASSWORD,
  customerWithCalls,
  portNumbersIn,
  portalCli,
  signInStaff,
  signInWithPassword,
  waitForHydration,
} from "./pages-support";

/** What axe checks: WCAG 2.0/2.1 level A and AA rules, `color-contrast` among them. */
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

type Theme = "light" | "dark";

/**
 * Opens `path`, waits until it is hydrated and nothing is loading (no skeleton or busy region
 * is left), and returns axe's violations as readable lines.
 */
async function violationsOf(page: Page, path: string, theme: Theme, open?: (page: Page) => Promise<void>): Promise<string[]> {
  await page.goto(path);
  await waitForHydration(page);
  await expect(page.locator('[aria-busy="true"], .skeleton')).toHaveCount(0);
  await expect(page.locator("h1").first()).toBeVisible();
  const where = open ? `${path} (opened)` : path;
  if (open) {
    await open(page);
    await expect(page.locator('[aria-busy="true"], .skeleton')).toHaveCount(0);
  }
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const lines: string[] = [];
  for (const violation of results.violations) {
    for (const node of violation.nodes) {
      const contrast = node.any.find((check) => check.id === "color-contrast")?.data as
        | { fgColor?: string; bgColor?: string; contrastRatio?: number; expectedContrastRatio?: string; fontSize?: string; fontWeight?: string }
        | undefined;
      const detail = contrast?.contrastRatio
        ? `ratio ${contrast.contrastRatio} (needs ${contrast.expectedContrastRatio}), text ${contrast.fgColor} on ${contrast.bgColor}, ${contrast.fontSize} ${contrast.fontWeight}`
        : (node.failureSummary ?? "").replace(/\s+/g, " ");
      lines.push(`${where} [${theme}] ${violation.id}: ${node.target.join(" ")} — ${detail}\n    ${node.html.slice(0, 160)}`);
    }
  }
  return lines;
}

/**
 * A customer with data on every page, and staff. Made once per worker run (both themes look
 * at the same data).
 */
const fixture = (() => {
  let made: { adminEmail: string; staffEmail: string; serviceId: string; slug: string } | undefined;
  return async (page: Page) => {
    if (made) return made;
    const customer = customerWithCalls("Contrast");
    const tenant = randomUUID();
    portalCli(["org", "sso", "enable", "--org", customer.slug]);
    portalCli(["org", "sso", "link-tenant", "--org", customer.slug, "--tenant", tenant]);
    const staffEmail = `staff-contrast-${randomUUID().slice(0, 8)}@carrier.example`;
    portalCli(["staff", "create", "--email", staffEmail, "--password-stdin"], `${PASSWORD}\n`);

    await signInWithPassword(page, customer.adminEmail);
    const origin = new URL(page.url()).origin;
    const headers = { Origin: origin };
    const { serviceId } = await portNumbersIn(page.request, "Trunk A", 3, origin);
    const post = async (url: string, data: object) => {
      const res = await page.request.post(url, { data, headers });
      expect(res.ok(), `${url}: ${res.status()} ${await res.text()}`).toBeTruthy();
    };
    await post("/api/v1/emergency-addresses", {
      label: "Head office",
      street: "Baker Street",
      house_number: "221b",
      postal_code: "NW1 6XE",
      city: "London",
      country: "GB",
    });
    await post("/api/v1/api-tokens", { name: "Billing export", scope: "read", expires_in_days: 30 });
    await post("/api/v1/users/invitations", { email: `invitee-${randomUUID().slice(0, 8)}@contrast.example`, role: "viewer" });
    made = { adminEmail: customer.adminEmail, staffEmail, serviceId, slug: customer.slug };
    return made;
  };
})();

for (const theme of ["light", "dark"] as const) {
  test(`every page passes axe's WCAG A/AA checks, colour contrast included, in the ${theme} theme`, async ({ browser }) => {
    test.setTimeout(240_000);
    const found: string[] = [];

    // Signed out: the sign-in page.
    const context = await browser.newContext({ viewport: DESKTOP, colorScheme: theme });
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: theme });
    found.push(...(await violationsOf(page, "/login", theme)));

    // A customer's admin: every customer page.
    const { adminEmail, staffEmail, serviceId, slug } = await fixture(page);
    await signInWithPassword(page, adminEmail);
    for (const path of [
      "/",
      "/services",
      `/services/${encodeURIComponent(serviceId)}`,
      "/numbers",
      "/emergency-addresses",
      "/calls",
      "/analytics",
      "/porting",
      "/users",
      "/api-tokens",
      "/audit",
      "/security",
      "/sso",
    ]) {
      found.push(...(await violationsOf(page, path, theme)));
    }
    // What opens on top: a number's edit dialog, a call's details, an order's timeline, a
    // chart's tooltip and its table.
    found.push(
      ...(await violationsOf(page, "/numbers", theme, async (p) => {
        await p.getByRole("button", { name: /^Edit \+/ }).first().click();
        await expect(p.getByRole("dialog")).toBeVisible();
      })),
      ...(await violationsOf(page, "/calls", theme, async (p) => {
        await p.getByRole("button", { name: /^Details of the call/ }).first().click();
        await expect(p.getByTestId("call-detail")).toBeVisible();
      })),
      ...(await violationsOf(page, "/porting", theme, async (p) => {
        await p.getByTestId("port-orders").getByRole("button", { name: /^Timeline/ }).first().click();
        await expect(p.getByTestId("order-timeline")).toBeVisible();
      })),
      ...(await violationsOf(page, "/", theme, async (p) => {
        await p.locator('#overview-calls .chart-hit[tabindex="0"]').focus();
        await p.keyboard.press("End");
        await expect(p.locator("#overview-calls .chart-tooltip")).toBeVisible();
      })),
      ...(await violationsOf(page, "/", theme, async (p) => {
        await p.locator("#overview-calls").getByRole("button", { name: "Show as table" }).click();
        await expect(p.locator("#overview-calls").getByRole("table")).toBeVisible();
      })),
    );
    await context.close();

    // Staff: the provider console, then a customer's pages with the switcher's bar on top (and
    // the Single sign-on page, which sends staff to the console).
    const staffContext = await browser.newContext({ viewport: DESKTOP, colorScheme: theme });
    const staff = await staffContext.newPage();
    await signInStaff(staff, staffEmail);
    found.push(...(await violationsOf(staff, "/provider", theme)));
    await staff.evaluate((chosen) => sessionStorage.setItem("portal.org", chosen), slug);
    found.push(...(await violationsOf(staff, "/", theme)));
    found.push(...(await violationsOf(staff, "/sso", theme)));
    await staffContext.close();

    expect(found, `axe found ${found.length} problem(s):\n${found.join("\n")}`).toEqual([]);
  });
}
