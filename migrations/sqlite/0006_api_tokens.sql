-- API tokens: an organisation's credentials for scripts and machines (`Authorization: Bearer`).
-- The secret is shown once at creation; only its SHA-256 (hex) is stored, with a short
-- visible prefix so people can tell their tokens apart. Revoked tokens stay for the record.

CREATE TABLE api_tokens (
    id                  TEXT PRIMARY KEY NOT NULL,
    org_id              TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    -- read: viewer rights; read_write: engineer rights; ingest: machine ingest of call records only.
    scope               TEXT NOT NULL CHECK (scope IN ('read', 'read_write', 'ingest')),
    -- The first characters of the secret ("vcp_" and 8 more), for identification only.
    prefix              TEXT NOT NULL,
    -- SHA-256 (hex) of the whole secret.
    token_hash          TEXT NOT NULL UNIQUE,
    created_by_user_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- An email, or "cli".
    created_by_label    TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    -- Required: every token expires (at most a year after creation).
    expires_at          INTEGER NOT NULL,
    -- Coarse: written at most once a minute per token.
    last_used_at        INTEGER,
    revoked_at          INTEGER,
    revoked_by_label    TEXT
);
CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created_at);
