//! The Security page's "Authenticator app" section: see whether MFA is on, set up an app
//! (password → QR code and key → confirming code → recovery codes), turn it off, or replace
//! the recovery codes.

use leptos::{ev::SubmitEvent, html, prelude::*};

use crate::api::{
    auth::{
        confirm_totp, disable_totp, regenerate_recovery_codes, start_totp_enrolment, MeResponse,
        TotpEnrolResponse,
    },
    error::is_signed_out,
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::{
    browser::{copy_to_clipboard, use_clipboard_available},
    form::{normalize_totp_code, CodeInput, CodeKind, Field, FormAlert, SubmitButton},
    recovery_codes::RecoveryCodesPanel,
    user_menu::{use_current_user, MeState},
};
use crate::return_to::with_return_to;

/// Where the section stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TotpStep {
    /// Whether MFA is on, with the actions that fit.
    Overview,
    /// Setting up: asking for the password.
    EnrolPassword,
    /// Setting up: the QR code and key, and the confirming code.
    EnrolScan(TotpEnrolResponse),
    /// New recovery codes, shown once.
    Codes {
        /// The codes.
        codes: Vec<String>,
        /// What produced them.
        after: CodesFor,
    },
    /// Turning MFA off: password and a code.
    TurnOff,
    /// Replacing the recovery codes: password and a code.
    Regenerate,
}

/// What produced a set of recovery codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodesFor {
    /// Setting up the authenticator app.
    Enrolment,
    /// "Generate new recovery codes".
    Regeneration,
}

/// The two actions that need the password and a current code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reauth {
    /// `DELETE /api/v1/me/mfa/totp`.
    TurnOff,
    /// `POST /api/v1/me/mfa/recovery-codes`.
    Regenerate,
}

/// A base32 secret in blocks of four (`JBSW Y3DP EHPK 3PXP`), easier to type; spaces and
/// padding are dropped and letters upper-cased first.
pub fn format_secret_groups(secret: &str) -> String {
    let cleaned: Vec<char> = secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    cleaned
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The secret as copied to the clipboard: what [`format_secret_groups`] shows, without the
/// spaces (some apps refuse them).
pub fn secret_for_copy(secret: &str) -> String {
    format_secret_groups(secret).replace(' ', "")
}

/// The message after the recovery codes were put away.
pub fn done_notice(after: CodesFor) -> &'static str {
    match after {
        CodesFor::Enrolment => {
            "Your authenticator app is set up. Signing in with your password now also asks for a code from the app."
        }
        CodesFor::Regeneration => {
            "Your new recovery codes are active. The old ones no longer work."
        }
    }
}

/// The section's shared state, handed to each step.
#[derive(Clone, Copy)]
struct Flow {
    step: RwSignal<TotpStep>,
    /// A success message shown above the current step (`role="status"`).
    notice: RwSignal<Option<String>>,
    /// Set when the session has ended: the section then only offers to sign in again.
    signed_out: RwSignal<Option<String>>,
    me: LocalResource<MeState>,
    enrol_required: bool,
    return_to: StoredValue<String>,
    heading: NodeRef<html::H2>,
}

impl Flow {
    /// Goes to `step`. The password forms focus their input themselves; otherwise keyboard
    /// focus moves to the top of the section (the clicked button is gone, and the QR code and
    /// the recovery codes are read from the top).
    fn show(self, step: TotpStep) {
        let focus_heading = !matches!(
            step,
            TotpStep::EnrolPassword | TotpStep::TurnOff | TotpStep::Regenerate
        );
        self.step.set(step);
        if focus_heading {
            let heading = self.heading;
            request_animation_frame(move || {
                if let Some(heading) = heading.get_untracked() {
                    let _ = heading.focus();
                }
            });
        }
    }

    /// Shows `error` in the form's alert, or ends the section when the session is gone.
    fn fail(self, error: ApiError, form_error: WriteSignal<Option<String>>) {
        if is_signed_out(&error) {
            self.signed_out.set(Some(error.to_string()));
        } else {
            form_error.set(Some(error.to_string()));
        }
    }

    /// The signed-in email address, when known (for the recovery codes file).
    fn email(self) -> Option<String> {
        match self.me.get_untracked() {
            Some(MeState::SignedIn(me)) => Some(me.user.email),
            _ => None,
        }
    }
}

/// Focuses `input` once it is on the page (steps appear after a click, where `autofocus`
/// does not apply).
fn focus_when_mounted(input: NodeRef<html::Input>) {
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
}

/// The "Authenticator app" section.
#[component]
pub fn AuthenticatorSection(
    /// The organisation requires an app before the sign-in can finish.
    enrol_required: bool,
    /// Where "Continue" leads after a required enrolment (already sanitised).
    return_to: String,
) -> impl IntoView {
    let flow = Flow {
        step: RwSignal::new(if enrol_required {
            TotpStep::EnrolPassword
        } else {
            TotpStep::Overview
        }),
        notice: RwSignal::new(None),
        signed_out: RwSignal::new(None),
        me: use_current_user().me,
        enrol_required,
        return_to: StoredValue::new(return_to),
        heading: NodeRef::new(),
    };
    let sign_in_again = move || {
        let back_to = if flow.enrol_required {
            flow.return_to.get_value()
        } else {
            "/security".to_string()
        };
        with_return_to("/login", &back_to)
    };

    view! {
        <section class="card security-section" aria-labelledby="authenticator-title">
            <header class="card-header">
                <h2 id="authenticator-title" tabindex="-1" node_ref=flow.heading>
                    "Authenticator app"
                </h2>
            </header>
            <div role="status" class="status-region">
                {move || flow.notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
            </div>
            {move || match flow.signed_out.get() {
                Some(message) => {
                    view! {
                        <div class="alert error" role="alert">
                            <p>{message}</p>
                            <p>
                                <a href=sign_in_again rel="external">"Sign in again"</a>
                            </p>
                        </div>
                    }
                        .into_any()
                }
                None => {
                    match flow.step.get() {
                        TotpStep::Overview => view! { <TotpOverview flow=flow /> }.into_any(),
                        TotpStep::EnrolPassword => view! { <EnrolPasswordForm flow=flow /> }.into_any(),
                        TotpStep::EnrolScan(enrolment) => {
                            view! { <EnrolScan flow=flow enrolment=enrolment /> }.into_any()
                        }
                        TotpStep::Codes { codes, after } => {
                            view! { <CodesStep flow=flow codes=codes after=after /> }.into_any()
                        }
                        TotpStep::TurnOff => {
                            view! { <ReauthForm flow=flow purpose=Reauth::TurnOff /> }.into_any()
                        }
                        TotpStep::Regenerate => {
                            view! { <ReauthForm flow=flow purpose=Reauth::Regenerate /> }.into_any()
                        }
                    }
                }
            }}
        </section>
    }
}

/// Whether MFA is on, and the buttons to change it.
#[component]
fn TotpOverview(flow: Flow) -> impl IntoView {
    let skeleton = || {
        view! { <div class="skeleton skeleton-short" aria-busy="true" aria-label="Loading your security settings"></div> }
    };
    view! {
        <Transition fallback=skeleton>
            {move || Suspend::new(async move {
                match in_browser(flow.me).await {
                    MeState::SignedIn(me) => view! { <TotpStatus flow=flow me=me /> }.into_any(),
                    MeState::SignedOut(error) if error.code() == Some("mfa_enrolment_required") => {
                        view! {
                            <div class="alert warn" role="alert">
                                <p>{error.to_string()}</p>
                                <p>
                                    <a href="/security?enrol=required" rel="external">
                                        "Set up your authenticator app"
                                    </a>
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    MeState::SignedOut(error) => {
                        view! {
                            <div class="alert error" role="alert">
                                <p>{error.to_string()}</p>
                                <p>
                                    <a href=with_return_to("/login", "/security") rel="external">
                                        "Sign in again"
                                    </a>
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    MeState::Failed(error) => {
                        view! {
                            <div class="alert error" role="alert">
                                <p>"Your security settings could not be loaded. " {error.to_string()}</p>
                                <p>
                                    <button type="button" class="button secondary small" on:click=move |_| flow.me.refetch()>
                                        "Try again"
                                    </button>
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    MeState::NotRequested => ().into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TotpStatus(flow: Flow, me: MeResponse) -> impl IntoView {
    let enabled = me.user.mfa_enabled;
    let signed_in_with_entra = me.user.auth_method == "entra";
    let entra_note = signed_in_with_entra.then(|| {
        view! {
            <p class="muted">
                "You signed in with Microsoft Entra ID, where your organisation's own rules ask for the second step. An authenticator app here protects sign-ins with your portal password."
            </p>
        }
    });
    if !me.user.has_password && !enabled {
        // Nothing here can protect a password that does not exist; say where MFA happens.
        return view! {
            <div data-testid="mfa-status" data-mfa="sso-only">
                <p class="status-line">
                    <span class="badge ok">"Microsoft"</span>
                    "You sign in with Microsoft Entra ID, where your organisation's own rules ask for the second step. You have no portal password, so there is no authenticator app to set up here."
                </p>
            </div>
        }
        .into_any();
    }
    if enabled {
        view! {
            <div data-testid="mfa-status" data-mfa="on">
                <p class="status-line">
                    <span class="badge ok">"On"</span>
                    "Signing in with your password also asks for a code from your authenticator app."
                </p>
                {entra_note}
                <div class="actions">
                    <button type="button" class="button secondary" on:click=move |_| {
                        flow.notice.set(None);
                        flow.show(TotpStep::Regenerate);
                    }>"Generate new recovery codes"</button>
                    <button type="button" class="button secondary danger" on:click=move |_| {
                        flow.notice.set(None);
                        flow.show(TotpStep::TurnOff);
                    }>"Turn off"</button>
                </div>
            </div>
        }
        .into_any()
    } else {
        let why = if me.user.email_codes {
            "Signing in with your password is confirmed with a code we e-mail you. An authenticator app is stronger: anyone who can read your e-mail can use those codes."
        } else {
            "Your password alone is enough to sign in. Add an authenticator app so that a stolen password is not enough."
        };
        view! {
            <div data-testid="mfa-status" data-mfa="off">
                <p class="status-line">
                    <span class="badge warn">"Off"</span>
                    {why}
                </p>
                {entra_note}
                <div class="actions">
                    <button type="button" class="button" on:click=move |_| {
                        flow.notice.set(None);
                        flow.show(TotpStep::EnrolPassword);
                    }>"Set up authenticator app"</button>
                </div>
            </div>
        }
        .into_any()
    }
}

/// The "Cancel" button of a step; not offered during a required enrolment.
#[component]
fn CancelButton(flow: Flow) -> impl IntoView {
    (!flow.enrol_required).then(|| {
        view! {
            <button type="button" class="button secondary" on:click=move |_| flow.show(TotpStep::Overview)>
                "Cancel"
            </button>
        }
    })
}

/// Setting up, step 1: the password (the server asks again before changing sign-in).
#[component]
fn EnrolPasswordForm(flow: Flow) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let input = NodeRef::<html::Input>::new();
    focus_when_mounted(input);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        let typed = password.get_untracked();
        leptos::task::spawn_local(async move {
            match start_totp_enrolment(typed).await {
                Ok(enrolment) => flow.show(TotpStep::EnrolScan(enrolment)),
                Err(e) => {
                    set_busy.set(false);
                    password.set(String::new());
                    flow.fail(e, set_error);
                }
            }
        });
    };

    view! {
        <form class="form" method="post" on:submit=submit>
            <p class="step-label">"Step 1 of 3"</p>
            <p>"Enter your password to start setting up the app."</p>
            <Field label="Password" for_id="enrol-password">
                <input
                    id="enrol-password"
                    name="password"
                    class="input"
                    type="password"
                    autocomplete="current-password"
                    required
                    node_ref=input
                    bind:value=password
                />
            </Field>
            <FormAlert message=error />
            <div class="actions">
                <SubmitButton label="Continue" busy_label="Checking…" busy=busy />
                <CancelButton flow=flow />
            </div>
        </form>
    }
}

/// Setting up, step 2: the QR code and key, and the code that proves the app works.
#[component]
fn EnrolScan(flow: Flow, enrolment: TotpEnrolResponse) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (field_error, set_field_error) = signal(None::<String>);
    let (copy_status, set_copy_status) = signal(None::<&'static str>);
    let can_copy = use_clipboard_available();
    let input = NodeRef::<html::Input>::new();

    let grouped_secret = format_secret_groups(&enrolment.secret);
    let secret = secret_for_copy(&enrolment.secret);
    let copy_secret = move |_| {
        copy_to_clipboard(&secret, move |ok| {
            set_copy_status.set(Some(if ok {
                "The key is on the clipboard."
            } else {
                "The key could not be copied. Select it and copy it yourself."
            }));
        });
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let normalized = match normalize_totp_code(&code.get_untracked()) {
            Ok(value) => value,
            Err(hint) => {
                set_field_error.set(Some(hint.to_string()));
                return;
            }
        };
        set_field_error.set(None);
        set_error.set(None);
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match confirm_totp(normalized).await {
                Ok(answer) => {
                    flow.me.refetch();
                    flow.show(TotpStep::Codes {
                        codes: answer.recovery_codes,
                        after: CodesFor::Enrolment,
                    });
                }
                Err(e) => {
                    set_busy.set(false);
                    code.set(String::new());
                    if let Some(input) = input.get_untracked() {
                        let _ = input.focus();
                    }
                    flow.fail(e, set_error);
                }
            }
        });
    };

    view! {
        <div class="enrol-scan">
            <p class="step-label">"Step 2 of 3"</p>
            <ol class="steps">
                <li>
                    <p>"In your authenticator app, add an account and scan this QR code."</p>
                    <div
                        class="qr-code"
                        role="img"
                        aria-label="QR code that adds the portal to your authenticator app"
                        inner_html=enrolment.qr_svg
                    ></div>
                </li>
                <li>
                    <p>"Cannot scan it? Choose to enter a setup key in the app, and type this key:"</p>
                    <p class="secret-row">
                        <code class="secret-key" data-testid="totp-secret" aria-label="Setup key">
                            {grouped_secret}
                        </code>
                        <Show when=move || can_copy.get()>
                            <button type="button" class="button secondary small" on:click=copy_secret.clone()>
                                "Copy key"
                            </button>
                        </Show>
                    </p>
                    <p class="status-text" role="status">{move || copy_status.get()}</p>
                </li>
                <li>
                    <form class="form" method="post" on:submit=submit>
                        <Field
                            label="Code from the app"
                            for_id="enrol-code"
                            hint="The 6-digit code the app now shows for the portal."
                            error=field_error
                        >
                            <CodeInput
                                id="enrol-code"
                                kind=CodeKind::Totp
                                value=code
                                has_hint=true
                                invalid=Signal::derive(move || field_error.with(Option::is_some))
                                input_ref=input
                            />
                        </Field>
                        <FormAlert message=error />
                        <div class="actions">
                            <SubmitButton label="Confirm" busy_label="Confirming…" busy=busy />
                            <CancelButton flow=flow />
                        </div>
                    </form>
                </li>
            </ol>
        </div>
    }
}

/// Setting up, step 3 (or after "Generate new recovery codes"): the codes, once.
#[component]
fn CodesStep(flow: Flow, codes: Vec<String>, after: CodesFor) -> impl IntoView {
    let step_label = (after == CodesFor::Enrolment).then(|| {
        view! { <p class="step-label">"Step 3 of 3"</p> }
    });
    let finish = if flow.enrol_required {
        view! {
            <a class="button" href=flow.return_to.get_value() rel="external">
                "Continue"
            </a>
        }
        .into_any()
    } else {
        view! {
            <button type="button" class="button" on:click=move |_| {
                flow.notice.set(Some(done_notice(after).to_string()));
                flow.show(TotpStep::Overview);
            }>"Done"</button>
        }
        .into_any()
    };
    view! {
        {step_label}
        <RecoveryCodesPanel codes=codes account=flow.email()>
            {finish}
        </RecoveryCodesPanel>
    }
}

/// "Turn off" and "Generate new recovery codes": both need the password and a current code.
#[component]
fn ReauthForm(flow: Flow, purpose: Reauth) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (field_error, set_field_error) = signal(None::<String>);
    let password_input = NodeRef::<html::Input>::new();
    focus_when_mounted(password_input);

    let (intro, label, busy_label) = match purpose {
        Reauth::TurnOff => (
            "Without the app, signing in asks for your codes by e-mail if they are on, or only your password. Confirm with your password and a current code from the app.",
            "Turn off",
            "Turning off…",
        ),
        Reauth::Regenerate => (
            "New recovery codes replace all your current ones at once. Confirm with your password and a current code from the app.",
            "Generate new codes",
            "Generating…",
        ),
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let normalized = match normalize_totp_code(&code.get_untracked()) {
            Ok(value) => value,
            Err(hint) => {
                set_field_error.set(Some(hint.to_string()));
                return;
            }
        };
        set_field_error.set(None);
        set_error.set(None);
        set_busy.set(true);
        let typed_password = password.get_untracked();
        leptos::task::spawn_local(async move {
            let outcome = match purpose {
                Reauth::TurnOff => disable_totp(typed_password, normalized).await.map(|_| {
                    flow.me.refetch();
                    flow.notice.set(Some(
                        "The authenticator app is turned off. Your password alone now signs you in."
                            .to_string(),
                    ));
                    TotpStep::Overview
                }),
                Reauth::Regenerate => regenerate_recovery_codes(typed_password, normalized)
                    .await
                    .map(|answer| TotpStep::Codes {
                        codes: answer.recovery_codes,
                        after: CodesFor::Regeneration,
                    }),
            };
            match outcome {
                Ok(step) => flow.show(step),
                Err(e) => {
                    set_busy.set(false);
                    code.set(String::new());
                    flow.fail(e, set_error);
                }
            }
        });
    };

    view! {
        <form class="form" method="post" on:submit=submit>
            <p>{intro}</p>
            <Field label="Password" for_id="reauth-password">
                <input
                    id="reauth-password"
                    name="password"
                    class="input"
                    type="password"
                    autocomplete="current-password"
                    required
                    node_ref=password_input
                    bind:value=password
                />
            </Field>
            <Field label="Code from your authenticator app" for_id="reauth-code" error=field_error>
                <CodeInput
                    id="reauth-code"
                    kind=CodeKind::Totp
                    value=code
                    invalid=Signal::derive(move || field_error.with(Option::is_some))
                />
            </Field>
            <FormAlert message=error />
            <div class="actions">
                <SubmitButton label=label busy_label=busy_label busy=busy />
                <CancelButton flow=flow />
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::testing::api_error;

    #[test]
    fn secrets_are_shown_in_blocks_of_four() {
        assert_eq!(
            format_secret_groups("JBSWY3DPEHPK3PXP"),
            "JBSW Y3DP EHPK 3PXP"
        );
        assert_eq!(
            format_secret_groups("jbswy3dpehpk3pxpab"),
            "JBSW Y3DP EHPK 3PXP AB"
        );
        assert_eq!(format_secret_groups("JBSW Y3DP===="), "JBSW Y3DP");
        assert_eq!(format_secret_groups(""), "");
    }

    #[test]
    fn the_copied_secret_has_no_spaces() {
        assert_eq!(secret_for_copy("jbsw y3dp ehpk 3pxp"), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn only_a_lost_session_sends_back_to_sign_in() {
        assert!(is_signed_out(&api_error(401, "unauthenticated")));
        assert!(is_signed_out(&api_error(401, "mfa_expired")));
        assert!(!is_signed_out(&api_error(401, "invalid_credentials")));
        assert!(!is_signed_out(&api_error(401, "invalid_code")));
        assert!(!is_signed_out(&api_error(429, "rate_limited")));
        assert!(!is_signed_out(&ApiError::Network("offline".to_string())));
    }

    #[test]
    fn the_done_notice_fits_what_happened() {
        assert!(done_notice(CodesFor::Enrolment).contains("set up"));
        assert!(done_notice(CodesFor::Regeneration).contains("old ones no longer work"));
    }
}
