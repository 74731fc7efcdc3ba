// The Emergency addresses page (/emergency-addresses): create and edit through the dialog,
// the refusal to delete an address a number uses (409 address_in_use, its message on the
// row), deleting an unused one; checked through the API. Signed in once with password +
// TOTP and once through the development Entra ID emulator (as an engineer); both sizes
// screenshotted.
import { expect, test } from "@playwright/test";
import { randomInt } from "node:crypto";
import {
  apiAs,
  createService,
  createTestCustomer,
  guardPage,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
} from "./pages-support";

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(120_000);

test("create, edit, refuse and delete addresses (password + TOTP)", async ({ page }, testInfo) => {
  // The in-use refusal is provoked on purpose.
  const guard = guardPage(page, [
    /HTTP 409 for DELETE .*\/api\/v1\/emergency-addresses\//,
    /status of 409 \(Conflict\).*\/api\/v1\/emergency-addresses\//,
  ]);
  const customer = createTestCustomer("Addresses");
  createService(customer.slug, "Trunk");
  await signInWithTotp(page, customer.adminEmail, "/emergency-addresses");
  const origin = new URL(page.url()).origin;

  await expect(page.getByTestId("addresses-empty")).toBeVisible();
  await page.getByRole("button", { name: "Add address" }).click();
  const dialog = page.getByRole("dialog", { name: "Add an emergency address" });
  await dialog.getByLabel("Name").fill("Berlin office");
  await dialog.getByLabel("Street").fill("Unter den Linden");
  await dialog.getByLabel("House number").fill("5");
  await dialog.getByLabel("Postal code").fill("10117");
  await dialog.getByLabel("City or town").fill("Berlin");
  // A bad country code is refused by the API at the field.
  guard.allow(/HTTP 422 for POST .*\/api\/v1\/emergency-addresses/);
  guard.allow(/status of 422 \(Unprocessable Entity\).*\/api\/v1\/emergency-addresses/);
  await dialog.getByLabel("Country code").fill("XX");
  await dialog.getByRole("button", { name: "Save address" }).click();
  await expect(dialog.locator("#address-country-error")).toBeVisible();
  await dialog.getByLabel("Country code").fill("de");
  await dialog.getByRole("button", { name: "Save address" }).click();
  await expect(dialog).toBeHidden();
  const rows = page.getByTestId("addresses-table").locator("tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Unter den Linden 5, 10117 Berlin, DE");

  let list = await (await page.request.get("/api/v1/emergency-addresses")).json();
  expect(list.addresses).toHaveLength(1);
  const id = list.addresses[0].id;
  expect(list.addresses[0].country).toBe("DE");

  // Edit.
  await page.getByRole("button", { name: "Edit Berlin office" }).click();
  const edit = page.getByRole("dialog", { name: "Edit “Berlin office”" });
  await edit.getByLabel("House number").fill("7");
  await edit.getByRole("button", { name: "Save address" }).click();
  await expect(edit).toBeHidden();
  list = await (await page.request.get("/api/v1/emergency-addresses")).json();
  expect(list.addresses[0].house_number).toBe("7");

  // A number uses it: deleting is refused with the API's explanation.
  const services = await (await page.request.get("/api/v1/services")).json();
  const number = `+49301${randomInt(100_000, 999_999)}`;
  const order = await page.request.post("/api/v1/port-orders", {
    data: {
      numbers: [number],
      losing_carrier: "Old Telco",
      requested_for: new Date().toISOString().slice(0, 10),
      country: "DE",
      service_id: services.services[0].id,
    },
    headers: { Origin: origin },
  });
  expect(order.ok()).toBeTruthy();
  const patched = await page.request.patch(`/api/v1/numbers/${encodeURIComponent(number)}`, {
    data: { emergency_address_id: id },
    headers: { Origin: origin },
  });
  expect(patched.ok()).toBeTruthy();
  await page.reload();
  await expect(rows.first()).toContainText("1 number");
  await page.getByRole("button", { name: "Delete Berlin office" }).click();
  await page.getByRole("button", { name: "Delete address" }).click();
  await expect(page.getByTestId("delete-error")).toContainText("1 number still uses this emergency address");
  list = await (await page.request.get("/api/v1/emergency-addresses")).json();
  expect(list.addresses).toHaveLength(1);

  // Once the number has moved away, it can go.
  await page.request.patch(`/api/v1/numbers/${encodeURIComponent(number)}`, {
    data: { emergency_address_id: null },
    headers: { Origin: origin },
  });
  await page.reload();
  await page.getByRole("button", { name: "Delete Berlin office" }).click();
  await page.getByRole("button", { name: "Delete address" }).click();
  await expect(page.getByTestId("addresses-empty")).toBeVisible();
  list = await (await page.request.get("/api/v1/emergency-addresses")).json();
  expect(list.addresses).toHaveLength(0);

  await visitAtBothSizes(page, testInfo, "/emergency-addresses", "addresses-totp");
  guard.assertClean();
});

test("an engineer signed in with Microsoft adds an address", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Addresses SSO");
  await signInWithEmulator(page, customer.slug, {
    returnTo: "/emergency-addresses",
    role: "engineer",
    adminEmail: customer.adminEmail,
  });
  await page.goto("/emergency-addresses");
  await page.getByRole("button", { name: "Add address" }).click();
  const dialog = page.getByRole("dialog", { name: "Add an emergency address" });
  await dialog.getByLabel("Street").fill("Rue de Rivoli");
  await dialog.getByLabel("House number").fill("1");
  await dialog.getByLabel("Postal code").fill("75001");
  await dialog.getByLabel("City or town").fill("Paris");
  await dialog.getByLabel("Country code").fill("FR");
  await dialog.getByRole("button", { name: "Save address" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("addresses-table")).toContainText("Rue de Rivoli 1, 75001 Paris, FR");

  const admin = await apiAs(page, customer.adminEmail);
  const list = await (await admin.get("/api/v1/emergency-addresses")).json();
  expect(list.addresses.map((a: { city: string }) => a.city)).toEqual(["Paris"]);
  await admin.dispose();

  await visitAtBothSizes(page, testInfo, "/emergency-addresses", "addresses-sso", async (p) => {
    await expect(p.getByTestId("addresses-table")).toBeVisible();
  });
  guard.assertClean();
});
