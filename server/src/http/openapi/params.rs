//! Query parameters that many routes share, written once for the OpenAPI document.

// Never constructed: only the derived parameter list is used (the caller extractor reads
// `org` itself).
#![allow(dead_code)]

use utoipa::IntoParams;

/// `?org=SLUG`, on every organisation-scoped route.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActingFor {
    /// Carrier staff only: the slug of the organisation acted for
    org: Option<String>,
}
