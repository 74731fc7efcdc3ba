//! Parameters that several routes share, written once for the OpenAPI document.

// Never constructed: only the derived parameter list is used (the caller extractor reads
// `org` itself; handlers take path segments with `Path`).
#![allow(dead_code)]

use utoipa::IntoParams;

/// `?org=SLUG`, on every organisation-scoped route.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActingFor {
    /// Carrier staff only: the slug of the organisation acted for
    org: Option<String>,
}

/// `{id}`: a user of the organisation.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserId {
    /// The user id
    id: String,
}

/// `{id}`: an emergency address of the organisation.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AddressId {
    /// The emergency address id
    id: String,
}

/// `{token}`: the token of an emailed link.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LinkToken {
    /// The token from the emailed link
    token: String,
}

/// `{slug}`: a customer, in the provider console's routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CustomerSlug {
    /// The customer organisation's slug
    slug: String,
}

/// `{slug}` and `{tenant}`: a customer's linked tenant, in the provider console's routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CustomerTenant {
    /// The customer organisation's slug
    slug: String,
    /// The Entra ID tenant id (a GUID)
    tenant: String,
}
