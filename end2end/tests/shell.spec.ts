// The app shell: layout, navigation at desktop and phone widths, hydration, and the 404 page.
import { expect, test } from "@playwright/test";
import { DESKTOP, PHONE, createUser, keepScreenshot, signIn, waitForHydration, watchForErrors } from "./support";

test("desktop: the layout shows navigation, the user, the portal status and the build version", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  const email = createUser();
  await page.setViewportSize(DESKTOP);
  await signIn(page, email);
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page);

  await expect(page.getByRole("link", { name: "Voice Customer Portal" })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav).toBeVisible();
  await expect(nav.getByRole("link", { name: "Overview" })).toHaveAttribute("aria-current", "page");
  await expect(page.getByRole("button", { name: "Menu" })).toBeHidden();
  await expect(page.locator("footer")).toContainText(/Version \d+\.\d+\.\d+/);
  await expect(page.locator(".topbar")).toContainText(email);

  // The status card is loaded in the browser through the typed API client.
  const status = page.getByTestId("system-status");
  await expect(status).toContainText("Reachable");
  const api = await page.request.get("/api/v1/status");
  expect(api.ok()).toBeTruthy();
  await expect(status).toContainText((await api.json()).version);

  await keepScreenshot(page, testInfo, "overview-desktop");
  errors.assertClean();
});

test("phone: the menu button opens and closes the navigation after hydration", async ({ page }, testInfo) => {
  const errors = watchForErrors(page);
  await page.setViewportSize(PHONE);
  await signIn(page, createUser());
  await expect(page).toHaveURL(/\/$/);
  await waitForHydration(page);

  const menu = page.getByRole("button", { name: "Menu" });
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(menu).toBeVisible();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(nav).toBeHidden();

  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await expect(nav).toBeVisible();
  await keepScreenshot(page, testInfo, "overview-phone-menu-open");

  // Choosing a destination closes the menu again.
  await nav.getByRole("link", { name: "Overview" }).click();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(nav).toBeHidden();

  // Nothing overflows sideways at 375 px.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await keepScreenshot(page, testInfo, "overview-phone");
  errors.assertClean();
});

test("an unknown page answers 404 with a way back", async ({ page }, testInfo) => {
  await signIn(page, createUser());
  await expect(page).toHaveURL(/\/$/);
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to the overview" })).toHaveAttribute("href", "/");
  await keepScreenshot(page, testInfo, "not-found");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a signed-out visit lands on the sign-in page, which renders completely", async ({ page }) => {
    await page.setViewportSize(DESKTOP);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login\?return_to=%2F$/);
    await expect(page.getByLabel("Email")).toBeVisible();
    await expect(page.getByLabel("Password", { exact: true })).toBeVisible();
  });
});
