// The Porting page (/porting) end to end, each test with its own customer: submitting an order
// and following its status timeline, checked against the API; a viewer gets no form. Signed in
// once with password + TOTP and once through the development Entra ID emulator; visited at
// 1280×800 and 375×812 (with an order's timeline open, its numbers each on one line) with
// screenshots kept; any console error or failed request fails the test.
import { expect, test, type Page } from "@playwright/test";
import {
  DESKTOP,
  addUser,
  createTestCustomer,
  expectNumbersOnOneLine,
  freshE164,
  guardPage,
  signInWithEmulator,
  signInWithPassword,
  signInWithTotp,
  visitAtBothSizes,
  waitForHydration,
} from "./pages-support";

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(90_000);

/** Fills in and submits the "New porting order" form. */
async function submitOrder(page: Page, numbersText: string, carrier: string) {
  await page.getByText("New porting order").click();
  await page.getByLabel("Numbers to port").fill(numbersText);
  await page.getByLabel("Losing carrier").fill(carrier);
  await page.getByLabel("Country").fill("gb");
  await page.getByRole("button", { name: "Submit order" }).click();
}

/** Checks the order listed by the API against what was sent, and its timeline on the page. */
async function expectOrderAndTimeline(page: Page, numbers: string[], carrier: string) {
  const list = await (await page.request.get("/api/v1/port-orders")).json();
  expect(list.orders).toHaveLength(1);
  expect(list.orders[0].numbers).toEqual([...numbers].sort());
  expect(list.orders[0].losing_carrier).toBe(carrier);
  await expect(page.getByTestId("port-orders").getByRole("row")).toHaveCount(2);
  const detail = await (await page.request.get(`/api/v1/port-orders/${list.orders[0].id}`)).json();
  await expect(page.getByTestId("order-timeline").locator("li")).toHaveCount(detail.events.length);
  await expect(page.getByTestId("order-detail")).toContainText(numbers[0]);
  // The requested day reads in the browser's language, and is the same day in any time zone.
  const day = await page.evaluate(
    (date) =>
      new Intl.DateTimeFormat(navigator.language, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(
        new Date(date),
      ),
    list.orders[0].requested_for as string,
  );
  await expect(page.getByTestId("port-orders").getByRole("row").nth(1).locator("[data-label='Requested for']")).toHaveText(day);
  await expect(page.getByTestId("order-detail")).toContainText(day);
}

/** Visits /porting at both sizes with the order's timeline open. */
async function visitWithTimeline(page: Page, testInfo: Parameters<typeof visitAtBothSizes>[1], name: string) {
  await visitAtBothSizes(page, testInfo, "/porting", name, async (p) => {
    await p.getByTestId("port-orders").getByRole("button", { name: /^Timeline/ }).first().click();
    await expect(p.getByTestId("order-timeline")).toBeVisible();
    await expectNumbersOnOneLine(p);
  });
}

test("porting: an admin submits an order and sees its timeline; a viewer cannot submit (password + TOTP)", async ({ browser, page }, testInfo) => {
  const customer = createTestCustomer("Porting");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithTotp(page, customer.adminEmail, "/porting");
  await waitForHydration(page);
  await expect(page.getByTestId("orders-empty")).toBeVisible();

  const numbers = freshE164(2);
  // Spaces inside a number are allowed in the form and removed before sending.
  await submitOrder(page, `${numbers[0]}\n${numbers[1].replace(/(\d{4})$/, " $1")}`, "Old Telco");
  await expect(page.getByRole("status").filter({ hasText: "was submitted" })).toContainText("2 numbers from Old Telco");
  await expectOrderAndTimeline(page, numbers, "Old Telco");

  // A number that is not E.164 is refused before anything is sent.
  await page.getByLabel("Numbers to port").fill("02071234567");
  await page.getByRole("button", { name: "Submit order" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "02071234567" })).toBeVisible();

  await visitWithTimeline(page, testInfo, "porting-totp");
  guard.assertClean();

  // A viewer sees the orders but no form.
  const viewerEmail = `viewer-${Date.now()}@${customer.slug}.example`;
  addUser(customer.slug, viewerEmail, "viewer");
  const context = await browser.newContext({ viewport: DESKTOP });
  const viewer = await context.newPage();
  const viewerGuard = guardPage(viewer);
  await signInWithPassword(viewer, viewerEmail);
  await viewer.goto("/porting");
  await waitForHydration(viewer);
  await expect(viewer.getByTestId("port-orders")).toBeVisible();
  await expect(viewer.getByText("New porting order")).toHaveCount(0);
  viewerGuard.assertClean();
  await context.close();
});

test("porting: an engineer signed in with Microsoft submits an order and follows it", async ({ page }, testInfo) => {
  const customer = createTestCustomer("Porting SSO");
  const guard = guardPage(page);
  await page.setViewportSize(DESKTOP);
  await signInWithEmulator(page, customer.slug, { returnTo: "/porting", role: "engineer", adminEmail: customer.adminEmail });
  await expect(page).toHaveURL(/\/porting$/);
  await expect(page.getByTestId("orders-empty")).toBeVisible();

  const numbers = freshE164(3);
  await submitOrder(page, numbers.join(", "), "Legacy Carrier");
  await expect(page.getByRole("status").filter({ hasText: "was submitted" })).toContainText("3 numbers from Legacy Carrier");
  await expectOrderAndTimeline(page, numbers, "Legacy Carrier");
  // The row names the first number and how many more.
  await expect(page.getByTestId("port-orders").getByRole("row").nth(1)).toContainText("and 2 more");

  await visitWithTimeline(page, testInfo, "porting-sso");
  guard.assertClean();
});
