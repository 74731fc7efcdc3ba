// The Calls page (/calls): the last 24 hours by default, filters, a call's details with its
// quality metrics, and the CSV export with visible progress, checked against the API. Signed
// in once with password + TOTP and once through the development Entra ID emulator; both
// sizes screenshotted.
import { expect, test } from "@playwright/test";
import { randomUUID } from "node:crypto";
import {
  createService,
  createTestCustomer,
  guardPage,
  importCalls,
  signInWithEmulator,
  signInWithTotp,
  visitAtBothSizes,
} from "./pages-support";

/** CDR rows for `service`: `n` calls in the last hours, alternating direction and result. */
function cdrRows(service: string, n: number): { rows: string[]; outbound: number } {
  const rows: string[] = [];
  let outbound = 0;
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const start = new Date(now - (i + 1) * 20 * 60_000);
    const answered = i % 3 !== 2;
    const answer = answered ? new Date(start.getTime() + 4_000) : null;
    const end = new Date(start.getTime() + (answered ? 125_000 : 15_000));
    const direction = i % 2 === 0 ? "outbound" : "inbound";
    if (direction === "outbound") outbound++;
    rows.push(
      [
        `call-${randomUUID()}`,
        service,
        start.toISOString(),
        answer ? answer.toISOString() : "",
        end.toISOString(),
        direction,
        "+442079460100",
        `+4420794601${String(i).padStart(2, "0")}`,
        answered ? "answered" : "busy",
        answered ? "200" : "486",
        answered ? "OK" : "Busy Here",
        answered ? (4.4 - i * 0.05).toFixed(2) : "",
        answered ? "3.2" : "",
        answered ? "0.4" : "",
        "GB",
      ].join(","),
    );
  }
  return { rows, outbound };
}

// Sign-in with TOTP or the emulator, data set-up and two screen sizes take longer than 30 s.
test.setTimeout(120_000);

test("filtering calls, a call's quality and the CSV export (password + TOTP)", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Calls");
  createService(customer.slug, "Main trunk");
  const { rows, outbound } = cdrRows("Main trunk", 12);
  importCalls(customer.slug, rows);
  await signInWithTotp(page, customer.adminEmail, "/calls");

  const table = page.getByTestId("calls-table").locator("tbody tr");
  await expect(table).toHaveCount(12);
  // The range inputs show the default range (the last 24 hours).
  await expect(page.locator("#calls-from")).not.toHaveValue("");

  await page.getByLabel("Direction").selectOption("outbound");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(table).toHaveCount(outbound);
  const api = await (await page.request.get("/api/v1/calls?direction=outbound")).json();
  expect(api.calls.length).toBe(outbound);

  // The newest outbound call's details.
  const first = api.calls[0];
  await table.first().getByRole("button", { name: /Details of the call/ }).click();
  const dialog = page.getByRole("dialog", { name: "Call details" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId("call-mos")).toContainText(String(first.mos));
  await expect(dialog).toContainText("200 OK");
  await expect(dialog).toContainText("Jitter");
  await expect(dialog).toContainText("Packet loss");
  await dialog.getByRole("button", { name: "Close" }).click();
  await expect(dialog).toBeHidden();

  // Export with progress: the status line counts the rows received.
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("calls.csv");
  await expect(page.getByTestId("export-status")).toContainText(`Export finished: ${outbound} rows`);

  await visitAtBothSizes(page, testInfo, "/calls", "calls-totp", async (p) => {
    await expect(p.getByTestId("calls-table")).toBeVisible();
  });
  guard.assertClean();
});

test("a Microsoft user narrows calls by minimum MOS", async ({ page }, testInfo) => {
  const guard = guardPage(page);
  const customer = createTestCustomer("Calls SSO");
  createService(customer.slug, "Teams calls", 30, "teams_direct_routing");
  importCalls(customer.slug, cdrRows("Teams calls", 6).rows);
  await signInWithEmulator(page, customer.slug, { returnTo: "/calls" });

  const table = page.getByTestId("calls-table").locator("tbody tr");
  await expect(table).toHaveCount(6);
  await page.getByLabel("Minimum MOS").fill("4.3");
  await page.getByRole("button", { name: "Apply filters" }).click();
  const api = await (await page.request.get("/api/v1/calls?min_mos=4.3")).json();
  expect(api.calls.length).toBeGreaterThan(0);
  await expect(table).toHaveCount(api.calls.length);

  await visitAtBothSizes(page, testInfo, "/calls", "calls-sso", async (p) => {
    await expect(p.getByTestId("calls-table")).toBeVisible();
  });
  guard.assertClean();
});
