-- Single sign-on with Microsoft Entra ID: the customer's SSO settings, its linked tenants,
-- the Microsoft identities of users, and OIDC transactions in flight.

-- Turned on by carrier staff; the rest is the customer's choice.
ALTER TABLE organisations ADD COLUMN sso_enabled INTEGER NOT NULL DEFAULT 0 CHECK (sso_enabled IN (0, 1));
-- Unknown users of a linked tenant get an account at their first sign-in.
ALTER TABLE organisations ADD COLUMN sso_jit INTEGER NOT NULL DEFAULT 1 CHECK (sso_jit IN (0, 1));
ALTER TABLE organisations ADD COLUMN sso_default_role TEXT NOT NULL DEFAULT 'viewer' CHECK (sso_default_role IN ('admin', 'engineer', 'viewer'));
-- Password sign-in is off for the customer's users.
ALTER TABLE organisations ADD COLUMN sso_required INTEGER NOT NULL DEFAULT 0 CHECK (sso_required IN (0, 1));

CREATE TABLE sso_tenants (
    -- The Entra tenant id (a GUID, lower case). A tenant links to one customer only.
    tenant_id   TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    linked_at   INTEGER NOT NULL,
    -- An email, or "cli".
    linked_by   TEXT NOT NULL,
    -- A disabled tenant stays linked but its users cannot sign in.
    disabled_at INTEGER
);
CREATE INDEX sso_tenants_by_org ON sso_tenants (org_id);

-- Users are keyed by (tenant, object id), never by email.
CREATE TABLE user_identities (
    tenant_id   TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- What the identity provider last sent as email / preferred_username: display only.
    email       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, object_id)
);
CREATE INDEX user_identities_by_user ON user_identities (user_id);

-- An authorization request in flight. The browser holds a random value in the
-- __Host-portal_oidc cookie; only its SHA-256 is stored. Deleted at first use.
CREATE TABLE oidc_transactions (
    cookie_hash    TEXT PRIMARY KEY NOT NULL,
    -- login: sign in; link: add an identity to the signed-in user;
    -- consent: waiting for the admin-consent redirect; consent_proof: the admin's proof sign-in.
    purpose        TEXT NOT NULL CHECK (purpose IN ('login', 'link', 'consent', 'consent_proof')),
    state          TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL DEFAULT '/',
    org_id         TEXT,
    user_id        TEXT,
    tenant_id      TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX oidc_transactions_by_expiry ON oidc_transactions (expires_at);

-- The tenant an SSO session came from, so that disabling the tenant ends it at once.
ALTER TABLE sessions ADD COLUMN tenant_id TEXT;
CREATE INDEX sessions_by_tenant ON sessions (tenant_id);
