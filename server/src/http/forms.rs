//! The sign-in forms as plain form posts: the no-JavaScript encoding of the sign-in steps,
//! not a second API.
//!
//! The sign-in (`/login`), code (`/login/mfa`), forgotten-password (`/login/forgot`),
//! reset (`/reset-password/{token}`) and invitation (`/invite/{token}`) pages render a
//! `<form method="post">` without an `action`, so before the wasm has hydrated (or without
//! JavaScript) a browser posts it, `application/x-www-form-urlencoded`, to the page's own URL.
//! Each handler here reads the fields and calls the function its JSON twin calls
//! (`auth::sign_in_with_password`, `auth::sign_in_with_code`, `invitations::request_reset_link`,
//! `invitations::set_password_with_link`): the same checks, limits, sessions and audit entries.
//! The CSRF rule covers these posts like the API's (`csrf.rs`: every mutation of a page path).
//! Only the answer differs: a 303 to the next page (Post/Redirect/Get), or back to the form's
//! page with `?error=CODE` (`app::api::form_post`), which the page shows in the JSON answer's
//! words. Redirects keep `return_to` only as `sanitize_return_to` lets it through, and never
//! carry a password or a code.

use axum::{
    extract::{FromRequest, Path, Request, State},
    http::{StatusCode, Uri},
    response::{IntoResponse, Redirect, Response},
    routing::post,
    Form, Router,
};
use serde::{de::DeserializeOwned, Deserialize};

use app::api::{
    auth::{sign_in_answer_path, sign_in_step_path, MFA_EMAIL_PATH, MFA_PATH, MFA_RECOVERY_PATH},
    form_post::{email_param, with_query, FormRefusal, WeakPassword},
};
use app::components::password_link::is_link_token;
use app::return_to::{sanitize_return_to, with_return_to, RETURN_TO_PARAM};

use crate::{audit::RequestMeta, auth::session::Authenticated};

use super::{auth, invitations, ApiError, AppState};

/// The page of the first sign-in step.
const SIGN_IN_PATH: &str = "/login";

/// The forgotten-password page.
const FORGOT_PASSWORD_PATH: &str = "/login/forgot";

/// The form posts, each at its page's path (the pages themselves are the app's GET routes).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(SIGN_IN_PATH, post(sign_in))
        .route(MFA_PATH, post(code))
        .route(FORGOT_PASSWORD_PATH, post(forgot_password))
        .route("/reset-password/{token}", post(reset_password))
        .route("/invite/{token}", post(accept_invitation))
}

/// A page form's fields, from an `application/x-www-form-urlencoded` body; any other body is
/// refused (415) before the handler runs: no browser sends one from these pages. A body that
/// stops arriving gets 408.
struct PageForm<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(fields)) => Ok(PageForm(fields)),
            Err(e) if super::error::is_body_timeout(&e) => {
                Err(super::error::request_timeout().into_response())
            }
            Err(_) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the form as application/x-www-form-urlencoded, as a browser does.",
            )
            .into_response()),
        }
    }
}

/// The sign-in form's fields.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
}

/// The code form's field: `code` (the authenticator input) or `recovery-code` (the input the
/// page shows instead when asked for a recovery code).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CodeForm {
    code: String,
    #[serde(rename = "recovery-code")]
    recovery_code: String,
}

/// The forgotten-password form's field.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ForgotPasswordForm {
    email: String,
}

/// The link pages' fields: the new password, typed twice.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewPasswordForm {
    #[serde(rename = "new-password")]
    new_password: String,
    #[serde(rename = "confirm-password")]
    confirm_password: String,
}

/// `POST /login`: the password step.
async fn sign_in(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    uri: Uri,
    PageForm(form): PageForm<SignInForm>,
) -> Response {
    let return_to = return_to_of(&uri);
    match auth::sign_in_with_password(&state, &meta, current.as_ref(), &form.email, &form.password)
        .await
    {
        Ok((answer, cookie)) => {
            (cookie, see_other(&sign_in_answer_path(&answer, &return_to))).into_response()
        }
        Err(e) => back_to(
            &with_return_to(SIGN_IN_PATH, &return_to),
            e,
            &email_param(&form.email),
        ),
    }
}

/// `POST /login/mfa`: the code step of the request's pending sign-in.
async fn code(
    State(state): State<AppState>,
    meta: RequestMeta,
    current: Option<Authenticated>,
    uri: Uri,
    PageForm(form): PageForm<CodeForm>,
) -> Response {
    let return_to = return_to_of(&uri);
    // A refusal comes back to the kind of code the person was typing.
    let (typed, page) = if form.code.is_empty() && !form.recovery_code.is_empty() {
        (form.recovery_code, MFA_RECOVERY_PATH)
    } else if crate::auth::email_code::normalize(&form.code).is_some() {
        (form.code, MFA_EMAIL_PATH)
    } else {
        (form.code, MFA_PATH)
    };
    let page = with_return_to(page, &return_to);
    match auth::sign_in_with_code(&state, &meta, current, &typed).await {
        // After a recovery code the page says how many are left before going on, as it does
        // after the JSON answer.
        Ok((answer, cookie)) => match answer.recovery_codes_remaining {
            Some(left) => (
                cookie,
                see_other(&with_query(
                    &page,
                    &[&format!("recovery_codes_left={left}")],
                )),
            )
                .into_response(),
            None => (
                cookie,
                see_other(&sign_in_step_path(answer.status, &return_to)),
            )
                .into_response(),
        },
        Err(e) => back_to(&page, e, ""),
    }
}

/// `POST /login/forgot`: asks for a reset link; the same answer whoever the address is.
async fn forgot_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    PageForm(form): PageForm<ForgotPasswordForm>,
) -> Response {
    match invitations::request_reset_link(&state, meta, &form.email).await {
        Ok(()) => see_other(&with_query(FORGOT_PASSWORD_PATH, &["requested=1"])),
        Err(e) => back_to(FORGOT_PASSWORD_PATH, e, &email_param(&form.email)),
    }
}

/// `POST /reset-password/{token}`.
async fn reset_password(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
    PageForm(form): PageForm<NewPasswordForm>,
) -> Response {
    set_password(state, meta, "reset-password", "reset", token, form).await
}

/// `POST /invite/{token}`: accepts the invitation by choosing a password.
async fn accept_invitation(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(token): Path<String>,
    PageForm(form): PageForm<NewPasswordForm>,
) -> Response {
    set_password(state, meta, "invite", "invite", token, form).await
}

/// Sets the password with the link `token` of `purpose`, whose page is `/{page}/{token}`.
async fn set_password(
    state: AppState,
    meta: RequestMeta,
    page: &str,
    purpose: &str,
    token: String,
    form: NewPasswordForm,
) -> Response {
    // Anything but a token's characters could not be a link, and must not reach a Location.
    if !is_link_token(&token) {
        return invitations::invalid_link().into_response();
    }
    let page = format!("/{page}/{token}");
    // The page checks this before sending the JSON request; here it is the server's to check,
    // before the link is looked at.
    if form.new_password != form.confirm_password {
        return see_other(&with_query(
            &page,
            &[&FormRefusal::PasswordMismatch.to_query()],
        ));
    }
    match invitations::set_password_with_link(&state, &meta, &token, purpose, &form.new_password)
        .await
    {
        Ok(()) => see_other(&with_query(&page, &["password_set=1"])),
        Err(e) => back_to(&page, e, ""),
    }
}

/// The sanitised `return_to` of the page the form was posted from (a form without `action`
/// posts to its page's URL, query included); `/` when there is none or it is refused.
fn return_to_of(uri: &Uri) -> String {
    let raw = uri.query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == RETURN_TO_PARAM)
            .map(|(_, value)| value.into_owned())
    });
    sanitize_return_to(raw.as_deref())
}

/// 303 to `location`. Bytes a header cannot carry (a `return_to` may hold any non-control
/// text, `é` or a space) are percent-encoded, which a browser reads as the same URL.
fn see_other(location: &str) -> Response {
    let mut header_safe = String::with_capacity(location.len());
    for byte in location.bytes() {
        if byte.is_ascii_graphic() {
            header_safe.push(char::from(byte));
        } else {
            header_safe.push_str(&format!("%{byte:02X}"));
        }
    }
    Redirect::to(&header_safe).into_response()
}

/// 303 back to the form's page with the refusal `e` stands for, and `extra` (the typed
/// address, already encoded, or nothing).
fn back_to(page: &str, e: ApiError, extra: &str) -> Response {
    let refusal = refusal_of(&e);
    see_other(&with_query(page, &[&refusal.to_query(), extra]))
}

/// The form refusal of an error the shared step function answered; an internal error is
/// logged here, since no JSON answer will.
fn refusal_of(e: &ApiError) -> FormRefusal {
    match e.code() {
        "invalid_field" if e.field() == Some("email") => FormRefusal::InvalidEmail,
        "invalid_field" if e.field() == Some("password") => FormRefusal::MissingPassword,
        "invalid_credentials" => FormRefusal::InvalidCredentials,
        "sso_required" => FormRefusal::SsoRequired,
        "rate_limited" => FormRefusal::RateLimited {
            retry_after_secs: e.retry_after_secs().unwrap_or(60),
        },
        "invalid_code" => FormRefusal::InvalidCode,
        // Both refusals share the API's code; the message tells them apart.
        "mfa_expired" if e.message() == app::api::form_post::SIGN_IN_DROPPED_MESSAGE => {
            FormRefusal::SignInDropped
        }
        "mfa_expired" | "unauthenticated" => FormRefusal::MfaExpired,
        "codes_locked" => FormRefusal::CodesLocked,
        "invalid_link" => FormRefusal::InvalidLink,
        "weak_password" => FormRefusal::WeakPassword(match e.message() {
            app::api::form_post::PASSWORD_TOO_SHORT_MESSAGE => WeakPassword::TooShort,
            app::api::form_post::PASSWORD_TOO_LONG_MESSAGE => WeakPassword::TooLong,
            _ => WeakPassword::Guessable,
        }),
        "database_unreachable" => {
            e.log_internal();
            FormRefusal::DatabaseUnreachable
        }
        "storage_full" => {
            e.log_internal();
            FormRefusal::StorageFull
        }
        "internal" => {
            e.log_internal();
            FormRefusal::Internal
        }
        other => {
            tracing::error!(
                code = other,
                "a form post got a refusal it has no words for"
            );
            FormRefusal::Internal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_is_read_from_the_query_and_sanitised() {
        let uri: Uri = "/login?error=invalid_credentials&return_to=%2Fcalls%3Fresult%3Dfailed"
            .parse()
            .unwrap_or_else(|_| Uri::from_static("/"));
        assert_eq!(return_to_of(&uri), "/calls?result=failed");
        for hostile in [
            "/login?return_to=https://evil.example",
            "/login?return_to=//evil.example",
            "/login?return_to=%2F%2Fevil.example",
            "/login?return_to=/%5Cevil.example",
            "/login?return_to=/login/mfa",
        ] {
            let uri: Uri = hostile.parse().unwrap_or_else(|_| Uri::from_static("/"));
            assert_eq!(return_to_of(&uri), "/", "{hostile}");
        }
        assert_eq!(return_to_of(&Uri::from_static("/login")), "/");
    }

    #[test]
    fn every_sign_in_refusal_has_its_form_code() {
        let cases = [
            (ApiError::invalid_field("email", "x"), "invalid_email"),
            (ApiError::invalid_field("password", "x"), "missing_password"),
            (
                crate::auth::AuthError::InvalidCredentials.into(),
                "invalid_credentials",
            ),
            (
                crate::auth::AuthError::SignInDropped.into(),
                "sign_in_dropped",
            ),
            (
                crate::auth::AuthError::NoPendingSignIn.into(),
                "mfa_expired",
            ),
            (crate::auth::AuthError::CodesLocked.into(), "codes_locked"),
            (
                crate::auth::AuthError::RateLimited {
                    retry_after_secs: 120,
                }
                .into(),
                "rate_limited",
            ),
            (invitations::invalid_link(), "invalid_link"),
        ];
        for (error, code) in cases {
            assert_eq!(refusal_of(&error).code(), code);
        }
        assert_eq!(
            refusal_of(
                &crate::auth::AuthError::RateLimited {
                    retry_after_secs: 120
                }
                .into()
            ),
            FormRefusal::RateLimited {
                retry_after_secs: 120
            }
        );
    }
}
