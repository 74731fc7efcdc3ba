//! `/api/v1/port-orders`: orders that move the organisation's numbers from another carrier
//! (the losing carrier) to us. Any role reads; engineers and admins (and `read_write` tokens)
//! create them.

use serde::{Deserialize, Serialize};

use super::{
    client::{self, percent_encode},
    ApiError,
};

/// One step of a porting order's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortOrderEventInfo {
    /// Opaque id.
    pub id: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The order's status from then on.
    pub status: String,
    /// Why, e.g. the losing carrier's rejection reason (may be empty).
    pub note: String,
    /// Who or what moved it: a user's email, a token's name, the carrier's NOC.
    pub actor: String,
}

/// A porting order with its numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortOrderInfo {
    /// Opaque id.
    pub id: String,
    /// The carrier the numbers leave.
    pub losing_carrier: String,
    /// The date the customer asked for (`YYYY-MM-DD`, UTC).
    pub requested_for: String,
    /// The firm order commitment date the losing carrier confirmed (`YYYY-MM-DD`, UTC).
    pub foc_date: Option<String>,
    /// `draft`, `submitted`, `confirmed`, `completed`, `rejected` or `cancelled`.
    pub status: String,
    /// Whether it is still open (`draft`, `submitted` or `confirmed`).
    pub open: bool,
    /// The numbers it moves (E.164), sorted.
    pub numbers: Vec<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// `GET /api/v1/port-orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortOrdersResponse {
    /// Newest first.
    pub orders: Vec<PortOrderInfo>,
}

/// `GET /api/v1/port-orders/{id}` and the answer to `POST /api/v1/port-orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PortOrderDetail {
    /// The order and its numbers.
    #[serde(flatten)]
    pub order: PortOrderInfo,
    /// Every status it went through, oldest first.
    pub events: Vec<PortOrderEventInfo>,
}

/// `POST /api/v1/port-orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePortOrderRequest {
    /// 1–100 numbers in E.164 (`+` and 8–15 digits), each once, none held on our network
    /// (except released) or in another open order.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 100))]
    pub numbers: Vec<String>,
    /// Required: the carrier the numbers leave (at most 200 characters, no control
    /// characters).
    #[cfg_attr(
        feature = "ssr",
        schema(
            max_length = 200,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
        )
    )]
    pub losing_carrier: String,
    /// The date asked for (`YYYY-MM-DD`), today or later (UTC), at most 365 days ahead.
    #[cfg_attr(feature = "ssr", schema(format = Date))]
    pub requested_for: String,
    /// ISO 3166-1 alpha-2 country of the numbers (an order ports numbers of one country).
    #[cfg_attr(feature = "ssr", schema(pattern = "^\\s*[A-Za-z]{2}\\s*$"))]
    pub country: String,
    /// `geographic` (default), `national`, `toll_free` or `mobile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = "^(geographic|national|toll_free|mobile)$")
    )]
    pub number_type: Option<String>,
    /// One of the organisation's services to route the numbers over once ported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
}

/// The path of [`list_port_orders`].
pub const LIST_PATH: &str = "/port-orders";

/// The organisation's porting orders.
pub async fn list_port_orders() -> Result<PortOrdersResponse, ApiError> {
    client::get(LIST_PATH).await
}

/// One porting order with its status history.
pub async fn get_port_order(id: &str) -> Result<PortOrderDetail, ApiError> {
    client::get(&format!("/port-orders/{}", percent_encode(id))).await
}

/// Submits a porting order.
pub async fn create_port_order(
    request: &CreatePortOrderRequest,
) -> Result<PortOrderDetail, ApiError> {
    client::send_json(gloo_net::http::Method::POST, "/port-orders", request).await
}
