-- E-mail one-time codes (issue 19): an opt-in second factor for local users, the
-- organisation's choice of which second factors count, and the count of wrong codes in a row
-- moved from the authenticator enrolment to the user, so it bounds every kind of code.

-- Which second factors count for the organisation's password sign-ins. At least one stays
-- allowed (checked by the portal before it writes).
ALTER TABLE organisations ADD COLUMN mfa_totp_allowed INTEGER NOT NULL DEFAULT 1 CHECK (mfa_totp_allowed IN (0, 1));
ALTER TABLE organisations ADD COLUMN mfa_email_allowed INTEGER NOT NULL DEFAULT 1 CHECK (mfa_email_allowed IN (0, 1));

-- Wrong authenticator, e-mail or recovery codes in a row, and when that locked the codes.
ALTER TABLE users ADD COLUMN failed_codes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN codes_locked_at INTEGER;
UPDATE users SET
    failed_codes = COALESCE((SELECT t.failed_codes FROM user_totp t WHERE t.user_id = users.id), 0),
    codes_locked_at = (SELECT t.codes_locked_at FROM user_totp t WHERE t.user_id = users.id);
ALTER TABLE user_totp DROP COLUMN failed_codes;
ALTER TABLE user_totp DROP COLUMN codes_locked_at;

-- A user who signs in with codes sent by e-mail (confirmed with a first code).
CREATE TABLE user_email_otp (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enabled_at  INTEGER NOT NULL
);

-- The one e-mail code a user has outstanding: a new one replaces it, a right one deletes it.
CREATE TABLE email_codes (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- enrol: confirms turning the method on; sign_in: completes a pending sign-in;
    -- step_up: proves the factor before a dangerous action.
    purpose     TEXT NOT NULL CHECK (purpose IN ('enrol', 'sign_in', 'step_up')),
    -- The session the code was sent for; no other session can use it.
    session_id  TEXT NOT NULL,
    -- HMAC-SHA256 under a key derived from PORTAL_SECRET_KEY: 10^8 codes are too few to
    -- store with a plain hash.
    code_hash   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
