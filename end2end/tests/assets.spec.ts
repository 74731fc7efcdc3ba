// The front end's files as a browser gets them: content-hashed names under /pkg, sent compressed
// (brotli or gzip, whichever the browser accepts) and cached for a year, and the page hydrates
// with them; so do the page's wasm chunks (the split build, app/src/routes.rs) and the splitter's
// loader. (server/tests/static_assets.rs covers each rule in detail.) Needs a hashed split build,
// as `make e2e` makes it (`LEPTOS_HASH_FILES=true cargo leptos build --release --split
// --precompress`); a plain `cargo leptos build` serves plain names and fails here on the first
// /pkg request.
import { expect, test, type Response } from "@playwright/test";
import { DESKTOP, PHONE, keepScreenshot, waitForHydration, watchForErrors } from "./support";

const HASHED = /\/pkg\/(portal|__wasm_split|split_pages_[a-z]+|chunk_[0-9]+)\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/;

for (const [label, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
  test(`${label}: the wasm, JS and CSS come hashed, compressed and cached for a year`, async ({ page }, testInfo) => {
    const errors = watchForErrors(page);
    const assets: Response[] = [];
    page.on("response", (res) => {
      if (new URL(res.url()).pathname.startsWith("/pkg/")) assets.push(res);
    });
    await page.setViewportSize(size);
    await page.goto("/login");
    await waitForHydration(page);

    const byKind = new Map<string, Response>();
    for (const res of assets) {
      const m = new URL(res.url()).pathname.match(HASHED);
      expect(m, `an unhashed /pkg request: ${res.url()}`).not.toBeNull();
      if (m![1] === "portal") byKind.set(m![2], res);
    }
    expect([...byKind.keys()].sort()).toEqual(["css", "js", "wasm"]);
    // The sign-in page's chunk came too, before hydration (its preload link).
    expect(assets.some((res) => /\/pkg\/split_pages_auth\./.test(res.url()))).toBe(true);

    for (const res of assets) {
      const kind = new URL(res.url()).pathname;
      expect(res.status(), kind).toBe(200);
      const h = await res.allHeaders();
      expect(["br", "gzip"], `${kind} content-encoding`).toContain(h["content-encoding"]);
      expect(h["cache-control"], kind).toBe("public, max-age=31536000, immutable");
      expect(h["vary"]?.toLowerCase() ?? "", kind).toContain("accept-encoding");
    }

    // Brotli for a client that asks for it (Chromium offers it only over HTTPS), and the
    // file as it is for one that accepts no encoding.
    const wasmUrl = byKind.get("wasm")!.url();
    const br = await page.request.get(wasmUrl, { headers: { "accept-encoding": "br" } });
    expect(br.status()).toBe(200);
    expect(br.headers()["content-encoding"]).toBe("br");
    const plain = await page.request.get(wasmUrl, { headers: { "accept-encoding": "identity" } });
    expect(plain.headers()["content-encoding"]).toBeUndefined();
    expect((await plain.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));

    await keepScreenshot(page, testInfo, `assets-${label}`);
    errors.assertClean();
  });
}
