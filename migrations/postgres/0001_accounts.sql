-- Organisations (the carrier's customers), their users and carrier staff, and the audit log.
-- Timestamps are UTC milliseconds since the Unix epoch; ids are UUID text.

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT REFERENCES organisations (id) ON DELETE CASCADE,
    -- Display address; for SSO users it is whatever the identity provider sent.
    email           TEXT NOT NULL,
    -- The lower-cased address used for password sign-in: unique across the portal,
    -- NULL for users who cannot sign in with a password by email.
    login_email     TEXT UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    role            TEXT CHECK (role IN ('admin', 'engineer', 'viewer')),
    is_staff        BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash   TEXT,
    created_at      BIGINT NOT NULL,
    deactivated_at  BIGINT,
    -- Staff belong to no customer and have no customer role; customer users have both.
    CHECK ((is_staff AND org_id IS NULL AND role IS NULL)
        OR (NOT is_staff AND org_id IS NOT NULL AND role IS NOT NULL))
);
CREATE INDEX users_by_org ON users (org_id);

CREATE TABLE audit_log (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT NOT NULL,
    actor_user_id  TEXT,
    -- Who acted, for people reading the log: an email, or "cli" for the command line.
    actor_label    TEXT NOT NULL,
    org_id         TEXT,
    action         TEXT NOT NULL,
    target         TEXT,
    ip             TEXT,
    user_agent     TEXT,
    -- JSON object: before/after values, failure reasons.
    details        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_org_time ON audit_log (org_id, at);
CREATE INDEX audit_log_by_time ON audit_log (at);
