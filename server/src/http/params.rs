//! Checking query parameters that were read as text: each refusal is 422 `invalid_field`
//! naming the parameter, with a message that says what it must be.

use crate::clock::parse_rfc3339_ms;

use super::{ApiError, ApiResult};

/// The RFC 3339 time `value` of the parameter `field`, in UTC milliseconds.
pub fn time(field: &str, value: &str) -> ApiResult<i64> {
    parse_rfc3339_ms(value)
        .map_err(|reason| ApiError::invalid_field(field, format!("{field}: {value:?} {reason}")))
}

/// `value` if it is one of `allowed`.
pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> ApiResult<String> {
    if allowed.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!("{field} must be one of {}.", allowed.join(", ")),
        ))
    }
}

/// The page size `limit`: `default` without one, else a whole number from 1 to `max`.
pub fn limit(value: Option<&str>, default: i64, max: i64) -> ApiResult<i64> {
    match value {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| ApiError::invalid_field("limit", format!("limit must be 1 to {max}."))),
        None => Ok(default),
    }
}
