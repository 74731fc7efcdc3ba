// The provider console (/provider) end to end, with its own customers (CLI):
//
// - carrier staff, signed in with password + TOTP, search for a customer the test created (by
//   name, then by its linked tenant's id), see its SSO state, find the search kept in the URL
//   across a reload, clear a search that matches nothing, then "View as" that customer: the
//   staff customer switcher in the top bar names it and the overview shows its data, checked
//   through the API with `?org=`;
// - the development Entra ID emulator signs in users of a customer's linked tenant only, and
//   carrier staff belong to no customer, so staff cannot sign in through it. The second test
//   therefore signs a customer admin in through the emulator and checks that /provider tells
//   them it is for carrier staff only (and that the API refuses them too).
//
// Every visit is at 1280×800 and 375×812 with screenshots kept, and any console error or failed
// request fails the test (guardPage).
import { randomUUID } from "node:crypto";
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  PASSWORD,
  createTestCustomer,
  customerWithCalls,
  guardPage,
  portalCli,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";

const FORBIDDEN = "Only carrier staff can use the provider console.";

/** The customers table's row of `slug`. */
function row(page: Page, slug: string) {
  return page.getByTestId("customers").locator(`tbody tr[data-slug="${slug}"]`);
}

/** The API's view of the search `q` (as the signed-in page). */
async function searchThroughApi(page: Page, q: string) {
  const res = await page.request.get(`/api/v1/provider/organisations?q=${encodeURIComponent(q)}&limit=50`);
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

test("staff: search customers, see their SSO state and view a customer's pages (password + TOTP)", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  // The customer to find: SSO on with a linked tenant, two services and five calls today.
  const customer = customerWithCalls("Provider Search");
  const tenant = randomUUID();
  portalCli(["org", "sso", "enable", "--org", customer.slug]);
  portalCli(["org", "sso", "link-tenant", "--org", customer.slug, "--tenant", tenant]);
  // Another customer, so that the search has something to leave out.
  const other = createTestCustomer("Provider Other");
  const staffEmail = `staff-${randomUUID().slice(0, 8)}@carrier.example`;
  portalCli(["staff", "create", "--email", staffEmail, "--password-stdin"], `${PASSWORD}\n`);

  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, staffEmail, "/provider");
  await expect(page).toHaveURL(/\/provider$/);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Provider console", level: 1 })).toBeVisible();

  // Typing narrows the list, keeps the search in the URL and announces the count.
  const search = page.getByLabel("Search customers");
  await search.fill(customer.name);
  await expect(page).toHaveURL(new RegExp(`/provider\\?q=${encodeURIComponent(customer.name).replace(/%20/g, "(%20|\\+)")}$`));
  const count = page.getByTestId("customer-count");
  await expect(count).toHaveText(`1 customer matches “${customer.name}”.`);
  await expect(count).toHaveAttribute("role", "status");
  await expect(page.getByTestId("customers").locator("tbody tr")).toHaveCount(1);
  await expect(row(page, other.slug)).toHaveCount(0);

  // Its SSO state, as the API has it.
  const found = await searchThroughApi(page, customer.name);
  expect(found.total).toBe(1);
  expect(found.organisations[0].slug).toBe(customer.slug);
  expect(found.organisations[0].sso.enabled).toBe(true);
  expect(found.organisations[0].sso.tenants.map((t: { tenant_id: string }) => t.tenant_id)).toEqual([tenant]);
  const customerRow = row(page, customer.slug);
  await expect(customerRow).toHaveAttribute("data-sso", "on");
  await expect(customerRow.locator('[data-label="SSO"]')).toHaveText("On");
  await expect(customerRow.locator('[data-label="Tenants"]')).toHaveText("1");
  await expect(customerRow.locator('[data-label="Users"]')).toHaveText(String(found.organisations[0].users));
  const card = page.locator(`section.provider-org[data-slug="${customer.slug}"]`);
  await expect(card).toHaveAttribute("data-sso", "on");
  await expect(card.locator(`tr[data-tenant-id="${tenant}"]`)).toBeVisible();

  // A NOC engineer often has only the tenant id: it finds the customer too, in any case.
  await search.fill(tenant.toUpperCase());
  await expect(count).toHaveText(`1 customer matches “${tenant.toUpperCase()}”.`);
  await expect(row(page, customer.slug)).toBeVisible();
  expect((await searchThroughApi(page, tenant.toUpperCase())).organisations.map((o: { slug: string }) => o.slug)).toEqual([customer.slug]);

  // A reload (or a shared link) keeps the search.
  await page.reload();
  await waitForHydration(page);
  await expect(search).toHaveValue(tenant.toUpperCase());
  await expect(page.getByTestId("customers").locator("tbody tr")).toHaveCount(1);

  // Nothing matches: the page says so and how to get everyone back.
  await search.fill(`no such customer ${randomUUID().slice(0, 8)}`);
  const empty = page.getByTestId("customers-empty");
  await expect(empty).toContainText("No customer matches");
  await expect(count).toHaveText(/^No customer matches/);
  await empty.getByRole("button", { name: "Clear search" }).click();
  await expect(page).toHaveURL(/\/provider$/);
  await expect(search).toHaveValue("");
  await expect(search).toBeFocused();
  const everyone = await (await page.request.get("/api/v1/provider/organisations?limit=1")).json();
  await expect(count).toHaveText(`${everyone.total.toLocaleString("en-US")} customers.`);

  // Both sizes, with the search in the URL.
  await visitAtBothSizes(page, testInfo, `/provider?q=${encodeURIComponent(customer.slug)}`, "provider-search", async (p) => {
    await expect(row(p, customer.slug)).toBeVisible();
    await expect(p.getByTestId("customers").locator("tbody tr")).toHaveCount(1);
  });

  // "View as" picks the customer in the switcher and opens its overview.
  const requests: string[] = [];
  page.on("request", (r) => {
    if (/\/api\/v1\/(services|analytics)/.test(r.url())) requests.push(r.url());
  });
  await row(page, customer.slug).getByRole("link", { name: `View as ${customer.name}` }).click();
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { name: "Overview", level: 1 })).toBeVisible();
  await expect(page.locator(".org-bar")).toContainText(`You are acting for ${customer.name}`);
  await expect(page.getByLabel("Viewing customer")).toHaveValue(customer.slug);
  expect(await page.evaluate(() => sessionStorage.getItem("portal.org"))).toBe(customer.slug);

  // The overview is that customer's, as the API answers for it with ?org=.
  const services = await (await page.request.get(`/api/v1/services?org=${customer.slug}`)).json();
  const serviceNames = (services.services as { name: string }[]).map((s) => s.name).sort();
  expect(serviceNames).toEqual(["Trunk A", "Trunk B"]);
  const health = page.getByTestId("service-health");
  for (const name of serviceNames) await expect(health).toContainText(name);
  const from = await page.evaluate(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return d.toISOString();
  });
  const summary = await (
    await page.request.get(`/api/v1/analytics/summary?from=${encodeURIComponent(from)}&org=${customer.slug}`)
  ).json();
  expect(summary.current.calls).toBe(5);
  await expect(page.locator('[data-kpi="Calls"] .kpi-value')).toHaveText(String(summary.current.calls));
  expect(requests.length).toBeGreaterThan(0);
  for (const url of requests) expect(url).toContain(`org=${customer.slug}`);

  await visitAtBothSizes(page, testInfo, "/", "provider-view-as-overview", async (p) => {
    await expect(p.locator(".org-bar")).toContainText(customer.name);
    await expect(p.getByTestId("service-health")).toContainText("Trunk A");
  });

  // Single sign-on is the customer administrator's page: staff are sent to the console.
  await page.goto("/sso");
  await waitForHydration(page);
  await expect(page.getByTestId("sso-staff").getByRole("link", { name: "Open the provider console" })).toHaveAttribute(
    "href",
    `/provider?q=${customer.slug}`,
  );

  // Acting for the customer with an administrator's rights, staff invite its people.
  const invitee = `invited-by-staff-${randomUUID().slice(0, 8)}@${customer.slug}.example`;
  await page.goto("/users");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(invitee);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await expect(page.getByText(`Invitation sent to ${invitee}`)).toBeVisible();
  const users = await (await page.request.get(`/api/v1/users?org=${customer.slug}`)).json();
  expect((users.users as { email: string }[]).map((u) => u.email)).toContain(invitee);

  // Back in the console, the row of the customer being viewed says so, as the switcher does.
  await page.goto(`/provider?q=${encodeURIComponent(customer.slug)}`);
  await waitForHydration(page);
  await expect(row(page, customer.slug).locator(".badge.viewing")).toHaveText("Viewing");
  await expect(page.getByLabel("Viewing customer")).toHaveValue(customer.slug);

  // Switching in the top bar changes which row is marked: both read the same choice.
  // Text that matches several customers names none, and says so.
  const switcher = page.getByLabel("Viewing customer");
  await switcher.fill("Provider");
  await switcher.press("Enter");
  await expect(page.locator("#org-bar-hint")).toContainText(/\d+ customers match “Provider”/);
  await expect(switcher).toHaveValue("Provider");
  await switcher.fill(other.slug);
  await switcher.press("Enter");
  await expect(switcher).toHaveValue(other.slug);
  await waitForHydration(page);
  await expect(page).toHaveURL(/\/provider\?q=/);
  await expect(row(page, customer.slug)).toBeVisible();
  await expect(row(page, customer.slug).locator(".badge.viewing")).toHaveCount(0);
  await search.fill(other.slug);
  await expect(row(page, other.slug).locator(".badge.viewing")).toHaveText("Viewing");
  guard.assertClean();
});

test("a customer admin signed in through the Entra ID emulator is told the console is for staff", async ({ page }, testInfo) => {
  test.setTimeout(90_000);
  const customer = createTestCustomer("Provider Refused");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/provider", role: "admin", adminEmail: customer.adminEmail });
  await expect(page).toHaveURL(/\/provider$/);
  const me = await (await page.request.get("/api/v1/me")).json();
  expect(me.user.role).toBe("admin");
  expect(me.user.staff).toBe(false);

  await expect(page.getByText(FORBIDDEN)).toBeVisible();
  await expect(page.getByLabel("Search customers")).toHaveCount(0);
  await expect(page.getByTestId("customers")).toHaveCount(0);
  // The API refuses them as well (this request is the test's, not the page's).
  const res = await page.request.get(`/api/v1/provider/organisations?q=${customer.slug}`);
  expect(res.status()).toBe(403);
  expect((await res.json()).error.code).toBe("forbidden");

  await visitAtBothSizes(page, testInfo, "/provider", "provider-forbidden", async (p) => {
    await expect(p.getByText(FORBIDDEN)).toBeVisible();
  });
  guard.assertClean();
});
