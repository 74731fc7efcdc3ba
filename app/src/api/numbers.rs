//! `/api/v1/numbers` and `/api/v1/emergency-addresses`: the organisation's phone numbers and
//! the civic addresses emergency calls from them are routed to. Any role reads; engineers and
//! admins (and `read_write` tokens) change them.

use serde::{Deserialize, Deserializer, Serialize};

use super::{client, ApiError};

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A civic address emergency services are sent to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmergencyAddressInfo {
    /// Opaque id.
    pub id: String,
    /// The customer's own name for it, e.g. `London HQ, 3rd floor`.
    pub label: String,
    /// Street name.
    pub street: String,
    /// House number (with any suffix).
    pub house_number: String,
    /// Postal code.
    pub postal_code: String,
    /// City or town.
    pub city: String,
    /// State, province or county (may be empty).
    pub region: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// How many of the organisation's numbers use it.
    pub numbers_count: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// `GET /api/v1/emergency-addresses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmergencyAddressesResponse {
    /// By label.
    pub addresses: Vec<EmergencyAddressInfo>,
}

/// `POST /api/v1/emergency-addresses` and `PUT /api/v1/emergency-addresses/{id}` (which
/// replaces every field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmergencyAddressRequest {
    /// The customer's name for it; when empty, made from the street, house number and city.
    /// Every text field: at most 200 characters, no control characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
    )]
    pub label: String,
    /// Required.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub street: String,
    /// Required.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub house_number: String,
    /// Required.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub postal_code: String,
    /// Required.
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub city: String,
    /// Optional.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")
    )]
    pub region: String,
    /// Required: an assigned ISO 3166-1 alpha-2 code (either case).
    #[cfg_attr(feature = "ssr", schema(pattern = "^\\s*[A-Za-z]{2}\\s*$"))]
    pub country: String,
}

/// One of the organisation's phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NumberInfo {
    /// E.164 with the leading `+`.
    pub e164: String,
    /// `geographic`, `national`, `toll_free` or `mobile`.
    pub number_type: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `active`, `reserved`, `porting_in`, `porting_out` or `released`.
    pub status: String,
    /// The service it is routed over.
    pub service_id: Option<String>,
    /// That service's name.
    pub service_name: Option<String>,
    /// Who or what answers it (a Teams user's UPN, a queue…).
    pub assignment: Option<String>,
    /// Whether it may place emergency calls (then it has an emergency address).
    pub emergency_calling: bool,
    /// Its emergency address.
    pub emergency_address_id: Option<String>,
    /// That address's label.
    pub emergency_address_label: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// `GET /api/v1/numbers`: one page, by E.164.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NumbersResponse {
    /// The page.
    pub numbers: Vec<NumberInfo>,
    /// Pass as `cursor` for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// `PATCH /api/v1/numbers/{e164}`: a field left out is unchanged, `null` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NumberPatch {
    /// Who or what answers it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignment: Option<Option<String>>,
    /// One of the organisation's services.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = "uuid"))]
    pub service_id: Option<Option<String>>,
    /// One of the organisation's emergency addresses.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, format = "uuid"))]
    pub emergency_address_id: Option<Option<String>>,
}

/// The path of [`list_numbers`].
pub fn list_path(query: &str) -> String {
    format!("/numbers?{query}")
}

/// A page of numbers; `query` is the query string without `?` (may be empty).
pub async fn list_numbers(query: &str) -> Result<NumbersResponse, ApiError> {
    client::get(&list_path(query)).await
}

/// Changes a number.
pub async fn update_number(e164: &str, patch: &NumberPatch) -> Result<NumberInfo, ApiError> {
    let e164 = e164.replace('+', "%2B");
    client::send_json(
        gloo_net::http::Method::PATCH,
        &format!("/numbers/{e164}"),
        patch,
    )
    .await
}

/// The path of [`list_emergency_addresses`].
pub const EMERGENCY_ADDRESSES_PATH: &str = "/emergency-addresses";

/// The organisation's emergency addresses.
pub async fn list_emergency_addresses() -> Result<EmergencyAddressesResponse, ApiError> {
    client::get(EMERGENCY_ADDRESSES_PATH).await
}

/// Creates an emergency address.
pub async fn create_emergency_address(
    req: &EmergencyAddressRequest,
) -> Result<EmergencyAddressInfo, ApiError> {
    client::send_json(gloo_net::http::Method::POST, "/emergency-addresses", req).await
}

/// Replaces an emergency address.
pub async fn update_emergency_address(
    id: &str,
    req: &EmergencyAddressRequest,
) -> Result<EmergencyAddressInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::PUT,
        &format!("/emergency-addresses/{id}"),
        req,
    )
    .await
}

/// Deletes an emergency address no number uses; answers it as it was.
pub async fn delete_emergency_address(id: &str) -> Result<EmergencyAddressInfo, ApiError> {
    client::send_json(
        gloo_net::http::Method::DELETE,
        &format!("/emergency-addresses/{id}"),
        &(),
    )
    .await
}
