// `make bench`, part 7 (driven by bench/firstvisit.sh): what a first visit to each page costs,
// in Debian's headless Chromium through Playwright (end2end's playwright-core), for every build
// named on the command line — the last monolithic build and the split build, served side by side.
//
//   node bench/firstvisit.mjs OUT.json NAME=URL [NAME=URL ...]
//
// Each URL is a running portal with the demo data (`portal seed-demo`). For each build:
//
// 1. Set-up through the JSON API, as end2end's signInWithTotp does: the demo's Contoso admin
//    and carrier staff member enrol an authenticator and sign in with password + TOTP code;
//    their cookies are kept (Playwright storage state) for the visits below. An invitation and a
//    password reset give real `/invite/…` and `/reset-password/…` links (development outbox); the
//    first service of `GET /api/v1/services` gives `/services/{id}`.
// 2. First visits: every page route in a fresh browser context (an empty HTTP cache), signed in
//    where the page needs it. Counted: every response whose path starts with `/pkg/`, from the
//    navigation until the layout says it hydrated (`.app[data-hydrated='true']`) and then no
//    request has been in flight for 500 ms. Bytes are the encoded (on-the-wire) body of each
//    response: Playwright's `request.sizes().responseBodySize`, which is CDP
//    `Network.loadingFinished.encodedDataLength` less the response's header bytes; each is
//    checked against its Content-Length.
// 3. Time to interactive on a slow profile: `/login` signed out and `/` signed in, 5 loads each,
//    every load in a fresh context (cookies reused, HTTP cache empty, `Network.clearBrowserCache`
//    too) under CDP `Emulation.setCPUThrottlingRate {rate: 4}` and
//    `Network.emulateNetworkConditions {latency: 150, downloadThroughput: 1.6 Mbit/s,
//    uploadThroughput: 750 kbit/s}`. TTI is `performance.now()` (milliseconds since navigation
//    start) when a MutationObserver, installed before any page script, sees the layout's
//    `data-hydrated` turn "true". The builds alternate load by load, so drift on this shared
//    machine falls on both alike.
//
// Writes OUT.json (bench/firstvisit.sh turns it into the RESULTS.md section and the verdicts).
import { createRequire } from "node:module";
import { createHmac, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "end2end", "package.json"));
const { chromium } = require("playwright-core");

const PASSWORD = "violet tugboat orbit sandwich"; // the demo accounts' published password
const ADMIN = "admin@contoso.example";
const STAFF = "noc@carrier.example";
const RESET_USER = "admin@fabrikam.example";
const TTI_RUNS = Number(process.env.FIRSTVISIT_TTI_RUNS ?? 5);
const SLOW = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const CPU_SLOWDOWN = 4;
const QUIET_MS = 500;
// The flags end2end/playwright.config.ts launches Chromium with (that file is TypeScript, which
// plain node cannot import): the measured browser is the tested one.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const [outPath, ...buildArgs] = process.argv.slice(2);
if (!outPath || buildArgs.length === 0) {
  console.error("usage: node bench/firstvisit.mjs OUT.json NAME=URL [NAME=URL ...]");
  process.exit(2);
}
const builds = buildArgs.map((arg) => {
  const [name, url] = arg.split(/=(.*)/s);
  return { name, url: url.replace(/\/$/, "") };
});

function log(...args) {
  console.log("firstvisit:", ...args);
}

// --- TOTP (RFC 6238, SHA-1, 6 digits, 30 s), as end2end/tests/support.ts computes it ---------
function base32Decode(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/[\s=-]/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}
function totp(secret, offsetSteps = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offsetSteps));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// --- set-up through the JSON API --------------------------------------------------------------
async function call(api, method, url, data, expected = [200, 201, 204]) {
  const res = await api.fetch(url, { method, data });
  if (!expected.includes(res.status())) {
    throw new Error(`${method} ${url}: HTTP ${res.status()} ${(await res.text()).slice(0, 300)}`);
  }
  const text = await res.text();
  return text ? JSON.parse(text) : {};
}

/**
 * Signs `email` in with password + TOTP in a context of its own: enrols an authenticator
 * (confirmed with the previous step's code), signs out, signs in again and sends the current
 * step's code. Returns the storage state (cookies) and the secret.
 */
async function signInWithTotp(browser, base, email) {
  const context = await browser.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base } });
  const api = context.request;
  const first = await call(api, "POST", "/api/v1/auth/login", { email, password: PASSWORD });
  if (!["signed_in", "mfa_enrolment_required"].includes(first.status)) {
    throw new Error(`sign-in of ${email}: ${JSON.stringify(first)} (expected no authenticator yet)`);
  }
  const { secret } = await call(api, "POST", "/api/v1/me/mfa/totp", { password: PASSWORD });
  await call(api, "POST", "/api/v1/me/mfa/totp/confirm", { code: totp(secret, -1) });
  await call(api, "POST", "/api/v1/auth/logout");
  const second = await call(api, "POST", "/api/v1/auth/login", { email, password: PASSWORD });
  if (second.status !== "mfa_required") throw new Error(`second sign-in of ${email}: ${JSON.stringify(second)}`);
  await call(api, "POST", "/api/v1/auth/mfa", { code: totp(secret) });
  const me = await call(api, "GET", "/api/v1/me");
  if (me.user.auth_method !== "password+totp") throw new Error(`${email}: ${JSON.stringify(me.user)}`);
  // Only the cookies: the visits must not inherit the Origin header above.
  const state = await context.storageState();
  await context.close();
  return { state, secret };
}

/** The first link to `pathPrefix` in the development outbox that mentions `text`. */
async function outboxLink(api, pathPrefix, text) {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const html = await (await api.get("/dev/outbox")).text();
    for (const article of html.split(/<article/).slice(1)) {
      if (!article.includes(text)) continue;
      const m = article.match(new RegExp(`href="https?://[^/"]+(${pathPrefix}[^"]+)"`));
      if (m) return m[1].replace(/&amp;/g, "&");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${pathPrefix} link for ${text} in /dev/outbox`);
}

/** Everything a build's visits need: signed-in states and the pages with their real ids. */
async function setUp(browser, build) {
  const base = build.url;
  const admin = await signInWithTotp(browser, base, ADMIN);
  const staff = await signInWithTotp(browser, base, STAFF);

  const context = await browser.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base }, storageState: admin.state });
  const api = context.request;
  const { services } = await call(api, "GET", "/api/v1/services");
  if (!services?.length) throw new Error(`${build.name}: the demo customer has no services`);
  const invitee = `firstvisit-${randomUUID().slice(0, 8)}@contoso.example`;
  await call(api, "POST", "/api/v1/users/invitations", { email: invitee, role: "viewer" });
  const invite = await outboxLink(api, "/invite/", invitee);
  await context.close();

  const anon = await browser.newContext({ baseURL: base, extraHTTPHeaders: { Origin: base } });
  await call(anon.request, "POST", "/api/v1/auth/password-reset", { email: RESET_USER }, [200, 202, 204]);
  const reset = await outboxLink(anon.request, "/reset-password/", RESET_USER);
  await anon.close();

  const none = { cookies: [], origins: [] };
  // [label, path, storage state, how to prepare the fresh context]
  const pages = [
    ["/", "/", admin.state],
    ["/login", "/login", none],
    ["/login/mfa", "/login/mfa", none, "mfa-pending"],
    ["/login/forgot", "/login/forgot", none],
    ["/invite/{token}", invite, none],
    ["/reset-password/{token}", reset, none],
    ["/security", "/security", admin.state],
    ["/sso", "/sso", admin.state],
    ["/provider", "/provider", staff.state],
    ["/services", "/services", admin.state],
    ["/services/{id}", `/services/${services[0].id}`, admin.state],
    ["/analytics", "/analytics", admin.state],
    ["/porting", "/porting", admin.state],
    ["/numbers", "/numbers", admin.state],
    ["/emergency-addresses", "/emergency-addresses", admin.state],
    ["/calls", "/calls", admin.state],
    ["/users", "/users", admin.state],
    ["/api-tokens", "/api-tokens", admin.state],
    ["/audit", "/audit", admin.state],
  ].map(([label, url, state, prepare]) => ({ label, url, state, prepare }));
  return { admin, staff, pages, none };
}

// --- first visits -----------------------------------------------------------------------------
const isPkg = (url) => new URL(url).pathname.startsWith("/pkg/");

/** Resolves once no request of `page` has been in flight for `QUIET_MS` (at most `maxMs`). */
function quiet(inflight, maxMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    let quietSince = inflight.size === 0 ? Date.now() : null;
    const timer = setInterval(() => {
      const now = Date.now();
      if (inflight.size > 0) quietSince = null;
      else if (quietSince === null) quietSince = now;
      if ((quietSince !== null && now - quietSince >= QUIET_MS) || now - started > maxMs) {
        clearInterval(timer);
        resolve(quietSince !== null && now - quietSince >= QUIET_MS);
      }
    }, 50);
  });
}

async function firstVisit(browser, build, target) {
  const context = await browser.newContext({ baseURL: build.url, storageState: target.state, viewport: { width: 1280, height: 800 } });
  if (target.prepare === "mfa-pending") {
    // A sign-in waiting for its code: the state in which /login/mfa shows its form.
    const res = await context.request.post("/api/v1/auth/login", {
      data: { email: ADMIN, password: PASSWORD },
      headers: { Origin: build.url },
    });
    const status = (await res.json()).status;
    if (status !== "mfa_required") throw new Error(`${build.name}: MFA-pending sign-in gave ${status}`);
  }
  const page = await context.newPage();
  const inflight = new Set();
  const pkg = [];
  const sizes = [];
  const problems = [];
  let hydrated = false;
  page.on("request", (req) => {
    inflight.add(req);
    if (isPkg(req.url())) pkg.push({ url: new URL(req.url()).pathname, afterHydration: hydrated, bytes: null });
  });
  const settle = (req) => inflight.delete(req);
  page.on("requestfailed", (req) => {
    settle(req);
    if (req.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on("requestfinished", (req) => {
    if (isPkg(req.url())) {
      sizes.push(
        (async () => {
          const res = await req.response();
          const s = await req.sizes();
          const headers = await res.allHeaders();
          const entry = pkg.find((p) => p.url === new URL(req.url()).pathname && p.bytes === null);
          Object.assign(entry, {
            status: res.status(),
            bytes: s.responseBodySize,
            contentLength: headers["content-length"] ? Number(headers["content-length"]) : null,
            encoding: headers["content-encoding"] ?? "identity",
            acceptEncoding: (await req.allHeaders())["accept-encoding"] ?? "",
          });
        })(),
      );
    }
    settle(req);
  });
  // First lines only: a panic's message is followed by its whole stack.
  const firstLines = (text) => text.split("\n").filter(Boolean).slice(0, 2).join(" ").slice(0, 240);
  page.on("pageerror", (err) => problems.push(`page error: ${firstLines(err.message)}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error: ${firstLines(msg.text())}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });

  const t0 = Date.now();
  await page.goto(target.url, { waitUntil: "commit" });
  await page.waitForSelector(".app[data-hydrated='true']", { state: "attached", timeout: 60_000 });
  hydrated = true;
  const hydratedMs = Date.now() - t0;
  const idle = await quiet(inflight, 20_000);
  await Promise.all(sizes);
  const finalPath = new URL(page.url()).pathname;
  await context.close();

  const expectedPath = new URL(target.url, build.url).pathname;
  if (finalPath !== expectedPath) problems.push(`ended on ${finalPath}, not ${expectedPath}`);
  for (const p of pkg) {
    if (p.bytes === null) problems.push(`${p.url}: no response`);
    else if (p.contentLength !== null && p.contentLength !== p.bytes) {
      problems.push(`${p.url}: ${p.bytes} bytes received, Content-Length ${p.contentLength}`);
    }
  }
  const bytes = pkg.reduce((sum, p) => sum + (p.bytes ?? 0), 0);
  return {
    page: target.label,
    path: target.url,
    bytes,
    bytesAtHydration: pkg.filter((p) => !p.afterHydration).reduce((sum, p) => sum + (p.bytes ?? 0), 0),
    requests: pkg.length,
    hydratedMs,
    idle,
    pkg,
    problems,
  };
}

// --- time to interactive on the slow profile --------------------------------------------------
const HYDRATION_PROBE = `
  (() => {
    const observer = new MutationObserver((mutations) => {
      for (const m of mutations) {
        if (m.target.classList?.contains("app") && m.target.getAttribute("data-hydrated") === "true") {
          window.__firstvisitHydratedAt = performance.now();
          observer.disconnect();
          return;
        }
      }
    });
    observer.observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
  })();
`;

async function slowLoad(browser, build, pathname, state) {
  const context = await browser.newContext({ baseURL: build.url, storageState: state, viewport: { width: 1280, height: 800 } });
  await context.addInitScript(HYDRATION_PROBE);
  const page = await context.newPage();
  const inflight = new Set();
  page.on("request", (req) => inflight.add(req));
  page.on("requestfinished", (req) => inflight.delete(req));
  page.on("requestfailed", (req) => inflight.delete(req));
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.clearBrowserCache");
  await cdp.send("Network.emulateNetworkConditions", SLOW);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
  await page.goto(pathname, { waitUntil: "commit", timeout: 120_000 });
  await page.waitForFunction(() => window.__firstvisitHydratedAt !== undefined, null, { timeout: 120_000, polling: 100 });
  // Downloads may go on after hydration (chunks the page does not need yet): wait for them,
  // so that "last /pkg byte" below is the last one of the visit.
  await quiet(inflight, 60_000);
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const pkg = performance.getEntriesByType("resource").filter((r) => new URL(r.name).pathname.startsWith("/pkg/"));
    const tti = window.__firstvisitHydratedAt;
    const later = pkg.filter((r) => r.responseEnd > tti);
    return {
      tti,
      htmlDone: nav?.responseEnd ?? null,
      pkgDone: pkg.length ? Math.max(...pkg.map((r) => r.responseEnd)) : null,
      pkgRequests: pkg.length,
      // Still downloading when the page hydrated: not needed to hydrate it.
      pkgAfterTti: later.length,
      pkgAfterTtiBytes: later.reduce((sum, r) => sum + r.encodedBodySize, 0),
      protocol: nav?.nextHopProtocol ?? "",
      path: location.pathname,
    };
  });
  await context.close();
  if (timing.path !== pathname) throw new Error(`${build.name}: slow load of ${pathname} ended on ${timing.path}`);
  return timing;
}

// --- main -------------------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: CHROMIUM_ARGS,
});
const result = {
  chromium: browser.version(),
  playwright: require("playwright-core/package.json").version,
  bytesMethod:
    "Playwright request.sizes().responseBodySize: CDP Network.loadingFinished.encodedDataLength less the response header bytes, checked against Content-Length",
  ttiMethod: `performance.now() when .app[data-hydrated] turns "true" (MutationObserver installed before page scripts); fresh context per load, cache cleared; CPU ${CPU_SLOWDOWN}x slower, ${SLOW.latency} ms latency, ${(SLOW.downloadThroughput * 8) / 1e6} Mbit/s down, ${(SLOW.uploadThroughput * 8) / 1e3} kbit/s up`,
  builds: {},
};
try {
  const setups = {};
  for (const build of builds) {
    log(`${build.name}: set-up at ${build.url}`);
    setups[build.name] = await setUp(browser, build);
  }
  for (const build of builds) {
    const visits = [];
    for (const target of setups[build.name].pages) {
      const v = await firstVisit(browser, build, target);
      log(
        `${build.name} ${v.page}: ${(v.bytes / 1024).toFixed(1)} KB in ${v.requests} /pkg requests` +
          ` (hydrated after ${v.hydratedMs} ms${v.idle ? "" : ", never idle"})${v.problems.length ? ` PROBLEMS: ${v.problems.join("; ")}` : ""}`,
      );
      visits.push(v);
    }
    result.builds[build.name] = { url: build.url, visits, tti: { "/login": [], "/": [] } };
  }
  for (let run = 1; run <= TTI_RUNS; run += 1) {
    for (const [pathname, who] of [
      ["/login", "none"],
      ["/", "admin"],
    ]) {
      for (const build of builds) {
        const state = who === "admin" ? setups[build.name].admin.state : setups[build.name].none;
        const t = await slowLoad(browser, build, pathname, state);
        log(
          `slow load ${run}/${TTI_RUNS} ${build.name} ${pathname}: TTI ${t.tti.toFixed(0)} ms (HTML ${t.htmlDone?.toFixed(0)} ms, ` +
            `last /pkg byte ${t.pkgDone?.toFixed(0)} ms; ${t.pkgAfterTti} of ${t.pkgRequests} /pkg requests ended after TTI)`,
        );
        result.builds[build.name].tti[pathname].push(t);
      }
    }
  }
} finally {
  await browser.close();
}
fs.writeFileSync(outPath, JSON.stringify(result, null, 2));
log(`wrote ${outPath}`);
