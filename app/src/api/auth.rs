//! Sign-in, MFA and sessions: `/api/v1/auth/…` and `/api/v1/me…`.

use serde::{Deserialize, Serialize};

use super::{client, ApiError};
use crate::return_to::with_return_to;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The sign-in address.
    #[cfg_attr(feature = "ssr", schema(format = Email))]
    pub email: String,
    /// The password.
    #[cfg_attr(feature = "ssr", schema(min_length = 1))]
    pub password: String,
}

/// Where a sign-in stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInStatus {
    /// Every factor passed; the session is full.
    SignedIn,
    /// The password was right; the authenticator code is needed (`POST /api/v1/auth/mfa`).
    MfaRequired,
    /// The organisation requires MFA and the user has none: enrol first (`/api/v1/me/mfa/totp`).
    MfaEnrolmentRequired,
}

/// The path of the code step of a password sign-in.
pub const MFA_PATH: &str = "/login/mfa";

/// The code step asking for a recovery code instead of an authenticator code.
pub const MFA_RECOVERY_PATH: &str = "/login/mfa?kind=recovery";

/// The Security page in its required-enrolment mode.
pub const ENROL_REQUIRED_PATH: &str = "/security?enrol=required";

/// The page a sign-in step that answered `status` leads to, for both encodings (the page's
/// script after a JSON answer, the server's redirect after a form post); `return_to` is already
/// sanitised (`crate::return_to::sanitize_return_to`) and travels on.
pub fn sign_in_step_path(status: SignInStatus, return_to: &str) -> String {
    match status {
        SignInStatus::SignedIn => return_to.to_string(),
        SignInStatus::MfaRequired => with_return_to(MFA_PATH, return_to),
        SignInStatus::MfaEnrolmentRequired => with_return_to(ENROL_REQUIRED_PATH, return_to),
    }
}

/// The answer to a sign-in step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInResponse {
    /// Where the sign-in stands.
    pub status: SignInStatus,
    /// After a recovery code was used: how many unused codes remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_codes_remaining: Option<u32>,
    /// With `mfa_required`: the user's factor is e-mail, and a code was just sent to them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_code_sent: bool,
}

/// The code step asking for the code sent by e-mail.
pub const MFA_EMAIL_PATH: &str = "/login/mfa?kind=email";

/// [`sign_in_step_path`] for a whole answer: a sign-in whose code went out by e-mail goes to
/// the code step in its e-mail form.
pub fn sign_in_answer_path(answer: &SignInResponse, return_to: &str) -> String {
    if answer.status == SignInStatus::MfaRequired && answer.email_code_sent {
        with_return_to(MFA_EMAIL_PATH, return_to)
    } else {
        sign_in_step_path(answer.status, return_to)
    }
}

/// `POST /api/v1/auth/mfa`: a 6-digit code, or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaRequest {
    /// The code as typed (spaces and dashes are ignored).
    pub code: String,
}

/// `POST /api/v1/auth/step-up`: a fresh proof of the signed-in user's factor before a
/// dangerous action. A user with an authenticator app sends `code`; a user without a second
/// factor sends `password`; a user signed in with Microsoft signs in with Microsoft again
/// (or sends `code` when they have an authenticator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StepUpRequest {
    /// A current authenticator code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The password (users without a second factor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Steps the session up with a code or the password.
pub async fn step_up(request: StepUpRequest) -> Result<OkResponse, ApiError> {
    client::send_json(gloo_net::http::Method::POST, "/auth/step-up", &request).await
}

/// The signed-in user, as `GET /api/v1/me` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeUser {
    /// Opaque id.
    pub id: String,
    /// Display address.
    pub email: String,
    /// Display name (may be empty).
    pub name: String,
    /// `admin`, `engineer` or `viewer`; `None` for staff.
    pub role: Option<String>,
    /// Carrier staff.
    pub staff: bool,
    /// Whether the user has a confirmed authenticator app.
    pub mfa_enabled: bool,
    /// Whether the user has a portal password (users who only sign in with Microsoft have
    /// none, so nothing that asks for the password applies to them).
    #[serde(default)]
    pub has_password: bool,
    /// How this session signed in: `password`, `password+totp`, `password+email`, `entra` or
    /// `entra+totp`.
    pub auth_method: String,
    /// Whether the user receives sign-in codes by e-mail.
    #[serde(default)]
    pub email_codes: bool,
    /// The second factors that count for the user (`totp`, `email`): what their organisation
    /// accepts (carrier staff: `totp`).
    #[serde(default)]
    pub mfa_methods_allowed: Vec<String>,
}

/// An organisation in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrganisationSummary {
    /// Opaque id.
    pub id: String,
    /// Short identifier.
    pub slug: String,
    /// Name.
    pub name: String,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeResponse {
    /// The user.
    pub user: MeUser,
    /// Their organisation; `None` for staff.
    pub organisation: Option<OrganisationSummary>,
}

/// `POST /api/v1/me/mfa/totp`: start enrolment (needs the password again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TotpEnrolRequest {
    /// The user's password.
    pub password: String,
}

/// A pending enrolment: what the authenticator app needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TotpEnrolResponse {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/…` URI the QR code encodes.
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

/// `POST /api/v1/me/mfa/totp/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TotpConfirmRequest {
    /// A current code from the app.
    pub code: String,
}

/// Fresh recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecoveryCodesResponse {
    /// Ten single-use codes.
    pub recovery_codes: Vec<String>,
}

/// `DELETE /api/v1/me/mfa/totp` and `POST /api/v1/me/mfa/recovery-codes`: password and a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReauthRequest {
    /// The user's password.
    pub password: String,
    /// A current code from the app.
    pub code: String,
}

/// `GET /api/v1/me/mfa` and `GET /api/v1/auth/mfa`: the user's second factors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaMethodsResponse {
    /// Set up: `totp` (an authenticator app), `email` (codes by e-mail).
    pub enrolled: Vec<String>,
    /// What the user's organisation accepts (carrier staff: `totp`).
    pub allowed: Vec<String>,
    /// Set up and accepted: what a sign-in or a step-up takes.
    pub usable: Vec<String>,
    /// The address e-mail codes go to.
    pub email: String,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// Whether the user has a portal password (a second factor protects only that).
    #[serde(default)]
    pub has_password: bool,
}

/// `POST /api/v1/me/mfa/email` and `DELETE /api/v1/me/mfa/email`: the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordRequest {
    /// The user's password.
    pub password: String,
}

/// An e-mailed code is on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmailCodeSent {
    /// The address it went to.
    pub sent_to: String,
    /// Seconds it stays valid.
    pub expires_in_secs: u32,
}

/// Paths of the e-mail code routes.
pub const ME_MFA_PATH: &str = "/me/mfa";
/// `POST`/`DELETE`: turn e-mail codes on (sends the confirming code) / off.
pub const EMAIL_CODES_PATH: &str = "/me/mfa/email";
/// `POST`: the confirming code.
pub const EMAIL_CODES_CONFIRM_PATH: &str = "/me/mfa/email/confirm";
/// `GET`: the pending sign-in's factors.
pub const SIGN_IN_MFA_PATH: &str = "/auth/mfa";
/// `POST`: a code for the pending sign-in.
pub const SIGN_IN_EMAIL_CODE_PATH: &str = "/auth/mfa/email-code";
/// `POST`: a code for a step-up.
pub const STEP_UP_EMAIL_CODE_PATH: &str = "/auth/step-up/email-code";

/// The signed-in (or enrolling) user's second factors.
pub async fn my_mfa_methods() -> Result<MfaMethodsResponse, ApiError> {
    client::get(ME_MFA_PATH).await
}

/// The pending sign-in's second factors.
pub async fn sign_in_mfa_methods() -> Result<MfaMethodsResponse, ApiError> {
    client::get(SIGN_IN_MFA_PATH).await
}

/// Turns e-mail codes on: checks the password and e-mails the confirming code.
pub async fn start_email_codes(password: String) -> Result<EmailCodeSent, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        EMAIL_CODES_PATH,
        &PasswordRequest { password },
    )
    .await
}

/// Confirms e-mail codes with the e-mailed code; returns recovery codes (empty when the user
/// keeps the ones they have).
pub async fn confirm_email_codes(code: String) -> Result<RecoveryCodesResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        EMAIL_CODES_CONFIRM_PATH,
        &TotpConfirmRequest { code },
    )
    .await
}

/// Turns e-mail codes off.
pub async fn stop_email_codes(password: String) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::DELETE,
        EMAIL_CODES_PATH,
        &PasswordRequest { password },
    )
    .await
}

/// E-mails a code for the pending sign-in.
pub async fn send_sign_in_email_code() -> Result<EmailCodeSent, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        SIGN_IN_EMAIL_CODE_PATH,
        &serde_json::json!({}),
    )
    .await
}

/// E-mails a code for a step-up.
pub async fn send_step_up_email_code() -> Result<EmailCodeSent, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        STEP_UP_EMAIL_CODE_PATH,
        &serde_json::json!({}),
    )
    .await
}

/// One of the user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// Opaque id (not the cookie value).
    pub id: String,
    /// When it signed in (RFC 3339, UTC).
    pub created_at: String,
    /// Last request (RFC 3339, UTC).
    pub last_seen_at: String,
    /// Client IP at sign-in.
    pub ip: Option<String>,
    /// A short description of the browser and system, e.g. "Chrome on Windows".
    pub device: String,
    /// How it signed in: `password`, `password+totp` or `entra`.
    pub auth_method: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// `GET /api/v1/me/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionsResponse {
    /// Newest first.
    pub sessions: Vec<SessionInfo>,
}

/// Status-only answer (`{"status": "ok"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OkResponse {
    /// Always `ok`.
    pub status: String,
}

/// Signs in with email and password.
pub async fn login(email: String, password: String) -> Result<SignInResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/auth/login",
        &LoginRequest { email, password },
    )
    .await
}

/// Completes a pending sign-in with a code.
pub async fn submit_mfa_code(code: String) -> Result<SignInResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/auth/mfa",
        &MfaRequest { code },
    )
    .await
}

/// Signs out (ends the session on the server).
pub async fn logout() -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/auth/logout",
        &serde_json::json!({}),
    )
    .await
}

/// The signed-in user.
pub async fn me() -> Result<MeResponse, ApiError> {
    client::get("/me").await
}

/// Starts TOTP enrolment.
pub async fn start_totp_enrolment(password: String) -> Result<TotpEnrolResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/me/mfa/totp",
        &TotpEnrolRequest { password },
    )
    .await
}

/// Confirms TOTP enrolment; returns the recovery codes.
pub async fn confirm_totp(code: String) -> Result<RecoveryCodesResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/me/mfa/totp/confirm",
        &TotpConfirmRequest { code },
    )
    .await
}

/// Turns TOTP off.
pub async fn disable_totp(password: String, code: String) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::DELETE,
        "/me/mfa/totp",
        &ReauthRequest { password, code },
    )
    .await
}

/// Replaces the recovery codes.
pub async fn regenerate_recovery_codes(
    password: String,
    code: String,
) -> Result<RecoveryCodesResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/me/mfa/recovery-codes",
        &ReauthRequest { password, code },
    )
    .await
}

/// The path of [`sessions`].
pub const SESSIONS_PATH: &str = "/me/sessions";

/// The user's sessions.
pub async fn sessions() -> Result<SessionsResponse, ApiError> {
    client::get(SESSIONS_PATH).await
}

/// Ends one of the user's sessions.
pub async fn revoke_session(id: String) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::DELETE,
        &format!("/me/sessions/{id}"),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/users/invitations`: an organisation admin invites someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationRequest {
    /// The invitee's email address.
    pub email: String,
    /// `admin`, `engineer` or `viewer`.
    pub role: String,
}

/// The invitation that was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationResponse {
    /// The new user's id.
    pub user_id: String,
    /// Their email address.
    pub email: String,
    /// When the link expires (RFC 3339, UTC).
    pub expires_at: String,
}

/// `GET /api/v1/auth/invitations/{token}`: what an invitation link is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationInfo {
    /// The invitee's email address (their sign-in name).
    pub email: String,
    /// The organisation they join.
    pub organisation: String,
    /// When the link expires (RFC 3339, UTC).
    pub expires_at: String,
    /// The invitee may accept with their organisation's Microsoft account instead of choosing
    /// a password (a form post of `token` to `/auth/microsoft/invitation`).
    #[serde(default)]
    pub microsoft: bool,
}

/// A new password for an invitation or reset link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetPasswordRequest {
    /// The new password.
    pub password: String,
}

/// `POST /api/v1/auth/password-reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordResetRequest {
    /// The sign-in address.
    #[cfg_attr(feature = "ssr", schema(format = Email))]
    pub email: String,
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// The current password.
    pub current_password: String,
    /// The new password.
    pub new_password: String,
}

/// What an invitation link is for.
pub async fn invitation(token: String) -> Result<InvitationInfo, ApiError> {
    client::get(&format!("/auth/invitations/{token}")).await
}

/// Accepts an invitation by choosing a password.
pub async fn accept_invitation(token: String, password: String) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        &format!("/auth/invitations/{token}/accept"),
        &SetPasswordRequest { password },
    )
    .await
}

/// Asks for a password-reset email.
pub async fn request_password_reset(email: String) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        "/auth/password-reset",
        &PasswordResetRequest { email },
    )
    .await
}

/// Sets a new password with a reset link.
pub async fn reset_password(token: String, password: String) -> Result<OkResponse, ApiError> {
    client::send_json(
        gloo_net::http::Method::POST,
        &format!("/auth/password-reset/{token}"),
        &SetPasswordRequest { password },
    )
    .await
}
