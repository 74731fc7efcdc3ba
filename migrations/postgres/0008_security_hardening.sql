-- Security hardening (issue 15): a lifetime cap on wrong codes, carrier approval of tenants
-- linked through admin consent, SSO sign-in bound to an invitation link, and carrier staff
-- who must have a second factor.

-- Wrong codes in a row (authenticator or recovery codes, at sign-in or to confirm a change),
-- counted before each code is checked; a right code sets it back to 0. At 100 the account's
-- code step is locked until a password reset or an administrator clears it.
ALTER TABLE user_totp ADD COLUMN failed_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE user_totp ADD COLUMN codes_locked_at BIGINT;

-- A tenant linked through admin consent waits for carrier staff: until approved_at is set its
-- users cannot sign in. Tenants linked before this migration (by staff, the CLI or consent
-- before approval existed) count as approved when they were linked.
ALTER TABLE sso_tenants ADD COLUMN approved_at BIGINT;
ALTER TABLE sso_tenants ADD COLUMN approved_by TEXT;
UPDATE sso_tenants SET approved_at = linked_at, approved_by = linked_by;

-- The flows in flight gain `invitation` (an invitee accepting with Microsoft). The table only
-- holds flows of the last few minutes, so it is made anew rather than rebuilt (as SQLite must, since it cannot change a CHECK):
-- a flow in flight during the upgrade starts again.
DROP TABLE oidc_transactions;
CREATE TABLE oidc_transactions (
    cookie_hash    TEXT PRIMARY KEY NOT NULL,
    -- login: sign in; link: add an identity to the signed-in user; invitation: accept an
    -- invitation with Microsoft; consent: waiting for the admin-consent redirect;
    -- consent_proof: the admin's proof sign-in.
    purpose        TEXT NOT NULL CHECK (purpose IN ('login', 'link', 'invitation', 'consent', 'consent_proof')),
    state          TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL DEFAULT '/',
    org_id         TEXT,
    user_id        TEXT,
    tenant_id      TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oidc_transactions_by_expiry ON oidc_transactions (expires_at);

-- Carrier staff sessions that were signed in with a password alone end now; their next
-- sign-in leads them through setting up an authenticator.
DELETE FROM sessions WHERE user_id IN (
    SELECT u.id FROM users u WHERE u.is_staff AND NOT EXISTS (
        SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL));
