-- Single-use links sent by email: invitations (set a first password) and password resets.
CREATE TABLE user_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 (hex) of the token in the link; the token itself is never stored.
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX user_tokens_by_user ON user_tokens (user_id, purpose);
