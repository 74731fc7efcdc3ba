-- Sessions, TOTP enrolments, recovery codes, the shared rate-limit ledger, and the
-- per-organisation "MFA required for password sign-ins" policy.

ALTER TABLE organisations ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0 CHECK (mfa_required IN (0, 1));

CREATE TABLE sessions (
    -- Opaque id shown in the sessions list; never the cookie value.
    id            TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 (hex) of the cookie value: a stolen table cannot be replayed as cookies.
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- full: signed in; mfa_pending: password passed, code awaited;
    -- mfa_enrolment: password passed, the organisation requires enrolment first.
    state         TEXT NOT NULL CHECK (state IN ('full', 'mfa_pending', 'mfa_enrolment')),
    auth_method   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    -- Absolute end of the session (or of the pending step).
    expires_at    INTEGER NOT NULL,
    mfa_failures  INTEGER NOT NULL DEFAULT 0,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE user_totp (
    user_id        TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- XChaCha20-Poly1305 under PORTAL_SECRET_KEY, bound to user_id.
    secret_sealed  TEXT NOT NULL,
    -- NULL while the enrolment waits for its first code.
    confirmed_at   INTEGER,
    -- The last time step a code was accepted for; a step is usable once.
    last_step      INTEGER NOT NULL DEFAULT -1,
    created_at     INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- HMAC-SHA256 under a key derived from PORTAL_SECRET_KEY.
    code_hash  TEXT NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- Failed attempts, shared by every portal instance, for rate limits.
CREATE TABLE auth_failures (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    scope  TEXT NOT NULL,
    key    TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX auth_failures_lookup ON auth_failures (scope, key, at);
