-- Step-up for dangerous actions (issue 19): when the session last proved the user's strongest
-- factor, and how. A full session starts stepped up by its own sign-in; POST
-- /api/v1/auth/step-up proves it again. Sessions from before this migration have none, so
-- their first dangerous action asks for the proof.
ALTER TABLE sessions ADD COLUMN stepped_up_at BIGINT;
-- password, totp, recovery_code, or the sign-in method of a fresh sign-in (password,
-- password+totp, entra, entra+totp).
ALTER TABLE sessions ADD COLUMN stepped_up_via TEXT;
