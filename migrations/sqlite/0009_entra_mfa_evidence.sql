-- Multi-factor evidence from Microsoft Entra ID (issue 19): a customer can require that an
-- SSO sign-in proves a second factor in its ID token (`mfa` in `amr`, or the customer's
-- Conditional Access authentication context in `acrs`).
--   off:           the tenant's own policy is trusted (the behaviour before this migration);
--   portal_factor: without the evidence the user also enters their portal authenticator code;
--   required:      without the evidence the sign-in is refused.
ALTER TABLE organisations ADD COLUMN sso_mfa_evidence TEXT NOT NULL DEFAULT 'off'
    CHECK (sso_mfa_evidence IN ('off', 'portal_factor', 'required'));
-- The authentication context id (c1 … c99) the portal asks Entra for, in a claims challenge,
-- when a sign-in of this customer came back without evidence. NULL: none configured.
ALTER TABLE organisations ADD COLUMN sso_auth_context TEXT;

-- The flows in flight gain `login_mfa`: the second trip of a sign-in, asking the user's
-- tenant for the authentication context. Made anew as in 0008: a flow in flight during the
-- upgrade starts again.
DROP TABLE oidc_transactions;
CREATE TABLE oidc_transactions (
    cookie_hash    TEXT PRIMARY KEY NOT NULL,
    -- login: sign in; login_mfa: a sign-in sent back to its tenant for the authentication
    -- context; link: add an identity to the signed-in user; invitation: accept an invitation
    -- with Microsoft; consent: waiting for the admin-consent redirect; consent_proof: the
    -- admin's proof sign-in.
    purpose        TEXT NOT NULL CHECK (purpose IN ('login', 'login_mfa', 'link', 'invitation', 'consent', 'consent_proof')),
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
