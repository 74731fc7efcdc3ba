//! Single sign-on with Microsoft Entra ID, end to end over the real router and the
//! development emulator served on its own port (so the portal talks to it over HTTP, as it
//! would to Entra). One test binary; its modules:
//!
//! - `harness`: the portal and the emulator, and the browser's side of a trip;
//! - `sign_in`: the happy path, `return_to`, the public origin, whether SSO is there at all;
//! - `tokens`: one case per bad-token class, and the JWKS rules;
//! - `failures`: the identity provider down or untrustworthy, bad callbacks, floods, caps;
//! - `provisioning`: identities, just-in-time users and invitations, linking an identity;
//! - `tenants`: the tenant check, requiring SSO, disabling and unlinking tenants;
//! - `consent`: admin consent and its proof sign-in;
//! - `mfa_evidence`: the customer's policy for sign-ins without multi-factor evidence.
#![allow(clippy::unwrap_used)]

// The shared helpers live beside the test binaries, not inside this one's folder.
#[path = "../support/mod.rs"]
mod support;

mod harness;

mod consent;
mod failures;
mod mfa_evidence;
mod provisioning;
mod sign_in;
mod tenants;
mod tokens;
