// An independent OpenID Provider for the interoperability test (tests/interop.spec.ts): npm's
// `oidc-provider` (OpenID Certified), dressed up as one Microsoft Entra ID tenant so the
// portal's relying party runs against an implementation that is not our own emulator.
// Version 8.x on purpose: 9.x declares Node 22 its minimum (it warns "Unsupported runtime" on
// the Node 20 this machine has); 8.x supports Node 18 and later.
//
//   OIDC_PORT=3108 OIDC_TENANT=<guid> OIDC_CLIENT_ID=… OIDC_CLIENT_SECRET=… \
//   PORTAL_URL=http://127.0.0.1:3109 node end2end/oidc-provider/server.mjs
//
// - The provider is mounted under `/<tenant>/v2.0`, its issuer `http://127.0.0.1:PORT/<tenant>/v2.0`
//   (Entra's v2.0 issuer shape); its own discovery is `<issuer>/.well-known/openid-configuration`.
// - `GET /organizations/v2.0/.well-known/openid-configuration` is Entra's multi-tenant discovery:
//   the provider's document with `issuer` replaced by the template
//   `http://127.0.0.1:PORT/{tenantid}/v2.0`, which is where the portal reads its endpoints from.
// - One confidential client: client_secret_post, code flow only, PKCE S256 required.
// - A fresh 2048-bit RSA signing key (RS256, with a `kid`) each start; tokens live in memory.
// - ID tokens carry `sub`, `tid`, `oid` (a GUID derived from the login name, so the same
//   login is the same user), `ver: "2.0"`, `email`, `preferred_username`, `name`
//   (`conformIdTokenClaims: false` puts the scope claims into the ID token of the code flow).
//
// Interactions are our own minimal pages rather than oidc-provider's `devInteractions`: those
// pull a web font from the internet and are not meant to be driven by tests. Ours:
//   GET  /interaction/:uid          the login form ("Login name", "Password", "Sign in") or the
//                                    consent page ("Allow"), each with a "Cancel" link
//   POST /interaction/:uid/login     any login name with any non-empty password signs in
//   POST /interaction/:uid/consent   grants the requested scopes and claims
//   GET  /interaction/:uid/abort     ends the request with error=access_denied at the client
// Nothing here talks to anything but the browser and the portal on this machine.
import * as crypto from "node:crypto";
import * as http from "node:http";
import Provider from "oidc-provider";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`oidc-provider: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(process.env.OIDC_PORT ?? 3108);
const tenant = required("OIDC_TENANT").toLowerCase();
const clientId = required("OIDC_CLIENT_ID");
const clientSecret = required("OIDC_CLIENT_SECRET");
const portalUrl = required("PORTAL_URL").replace(/\/$/, "");
const origin = `http://127.0.0.1:${port}`;
const mountPath = `/${tenant}/v2.0`;
const issuer = `${origin}${mountPath}`;
const log = (msg) => console.log(`oidc-provider: ${msg}`);

// Entra's identities: `oid` is the user's object id in the tenant (a GUID), `sub` is pairwise
// per application (opaque). Both derive from the login name, so signing in again with the
// same name is the same person.
function digest(label, value) {
  return crypto.createHash("sha256").update(`${label}\0${value}`).digest();
}
function guidFrom(label, value) {
  const b = digest(label, value).subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4 layout
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const accounts = new Map(); // accountId (sub) -> login name
function accountIdFor(login) {
  const sub = digest(`sub ${clientId}`, login).toString("base64url").slice(0, 43);
  accounts.set(sub, login);
  return sub;
}
function displayName(login) {
  const local = login.split("@")[0];
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(" ");
}

const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: "jwk" }),
  kid: `interop-${crypto.randomBytes(6).toString("hex")}`,
  alg: "RS256",
  use: "sig",
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${portalUrl}/auth/microsoft/callback`],
      token_endpoint_auth_method: "client_secret_post",
      response_types: ["code"],
      grant_types: ["authorization_code"],
      id_token_signed_response_alg: "RS256",
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString("base64url")] },
  pkce: { methods: ["S256"], required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  claims: {
    openid: ["sub", "tid", "oid", "ver"],
    profile: ["name", "preferred_username"],
    email: ["email"],
  },
  conformIdTokenClaims: false,
  ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
  async findAccount(_ctx, sub) {
    const login = accounts.get(sub);
    if (!login) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          tid: tenant,
          oid: guidFrom(`oid ${tenant}`, login),
          ver: "2.0",
          email: login,
          preferred_username: login,
          name: displayName(login),
        };
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page("Error", `<p role="alert">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? "")}</p>`);
  },
});
provider.on("server_error", (_ctx, err) => log(`server_error ${err.stack ?? err}`));
provider.on("grant.error", (_ctx, err) => log(`token endpoint refused: ${err.error ?? ""} ${err.error_description ?? err.message}`));
provider.on("authorization.error", (_ctx, err) => log(`authorization refused: ${err.error ?? ""} ${err.error_description ?? err.message}`));
provider.on("grant.success", (ctx) => log(`token issued to ${ctx.oidc.client?.clientId}`));
const providerCallback = provider.callback();

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(title)} · Interop IdP</title></head>` +
    `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}
function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
  res.end(body);
}
async function formBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, "text/plain", "interaction mismatch\n");
  const { prompt, params, session } = details;
  const base = `/interaction/${uid}`;
  const cancel = `<p><a href="${base}/abort">Cancel</a></p>`;

  if (req.method === "GET" && action === "") {
    if (prompt.name === "login") {
      return send(res, 200, "text/html; charset=utf-8", page("Sign in",
        `<form method="post" action="${base}/login">` +
        `<p><label for="login">Login name</label> <input id="login" name="login" type="text" required autocomplete="username"></p>` +
        `<p><label for="password">Password</label> <input id="password" name="password" type="password" required autocomplete="current-password"></p>` +
        `<p><button type="submit">Sign in</button></p></form>${cancel}`));
    }
    if (prompt.name === "consent") {
      return send(res, 200, "text/html; charset=utf-8", page("Allow access",
        `<p>${escapeHtml(params.client_id)} asks for: ${escapeHtml(params.scope)}</p>` +
        `<form method="post" action="${base}/consent"><p><button type="submit">Allow</button></p></form>${cancel}`));
    }
    return send(res, 501, "text/plain", `prompt ${prompt.name} not implemented\n`);
  }
  if (req.method === "POST" && action === "login" && prompt.name === "login") {
    const form = await formBody(req);
    const login = (form.get("login") ?? "").trim().toLowerCase();
    if (!login || !form.get("password")) return send(res, 400, "text/plain", "login and password are required\n");
    log(`login ${login}`);
    return provider.interactionFinished(req, res, { login: { accountId: accountIdFor(login) } }, { mergeWithLastSubmission: false });
  }
  if (req.method === "POST" && action === "consent" && prompt.name === "consent") {
    await formBody(req);
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { missingOIDCScope, missingOIDCClaims } = prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(" "));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    const grantId = await grant.save();
    log(`consent ${params.scope}`);
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === "GET" && action === "abort") {
    log("interaction cancelled");
    return provider.interactionFinished(
      req, res,
      { error: "access_denied", error_description: "End-User aborted interaction" },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 405, "text/plain", "not allowed\n");
}

async function organizationsDiscovery(res) {
  const r = await fetch(`${issuer}/.well-known/openid-configuration`);
  const doc = await r.json();
  doc.issuer = `${origin}/{tenantid}/v2.0`;
  send(res, 200, "application/json", JSON.stringify(doc));
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, origin);
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|consent|abort))?$/.exec(url.pathname);
    if (url.pathname === "/organizations/v2.0/.well-known/openid-configuration" && req.method === "GET") {
      return await organizationsDiscovery(res);
    }
    if (m) return await interaction(req, res, m[1], m[2] ?? "");
    if (url.pathname === mountPath || url.pathname.startsWith(`${mountPath}/`)) {
      // Mounted the way express does it: `originalUrl` keeps the prefix, `url` loses it, and
      // oidc-provider derives the mount path (for the URLs it writes) from the two.
      log(`${req.method} ${url.pathname}`);
      req.originalUrl = req.url;
      req.url = req.url.slice(mountPath.length) || "/";
      return providerCallback(req, res);
    }
    send(res, 404, "text/plain", "not found\n");
  } catch (err) {
    log(`error ${req.method} ${req.url}: ${err.stack ?? err}`);
    if (!res.headersSent) send(res, err.statusCode ?? 500, "text/plain", `${err.name}: ${err.message}\n`);
    else res.end();
  }
});
server.listen(port, "127.0.0.1", () => log(`issuer ${issuer} (client ${clientId}) on ${origin}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
