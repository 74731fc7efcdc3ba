-- Break-glass administrators (issue 19): named administrators of an organisation that requires
-- single sign-on who may still sign in with their password and authenticator app, so that the
-- customer is not locked out while its Entra ID is down. At most three per organisation, each
-- an active admin with an authenticator app (checked by the portal under the organisation
-- row's lock); every use is audited and mailed to the other administrators.
ALTER TABLE users ADD COLUMN break_glass INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1));
