//! The Security page's "Codes by e-mail" section: the second factor for people who cannot use
//! an authenticator app. Turning it on takes the password, then the 8-digit code the portal
//! e-mails (which proves the mailbox), and gives recovery codes to someone who had no second
//! factor; turning it off takes the password. Shown only where the user's organisation
//! accepts e-mail codes (never for carrier staff), or where the user has them on.

use leptos::{ev::SubmitEvent, html, prelude::*};

use crate::api::{
    auth::{
        confirm_email_codes, my_mfa_methods, start_email_codes, stop_email_codes,
        MfaMethodsResponse,
    },
    error::is_signed_out,
    ApiError,
};
use crate::components::{
    browser::in_browser,
    form::{normalize_email_code, CodeInput, CodeKind, Field, FormAlert, SubmitButton},
    recovery_codes::RecoveryCodesPanel,
    user_menu::use_current_user,
};
use crate::return_to::with_return_to;

/// Where the section stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EmailStep {
    /// On or off, with the action that fits.
    Overview,
    /// Turning on: the password.
    Password,
    /// Turning on: the code just e-mailed to this address.
    Code(String),
    /// Turned on: recovery codes to keep (none when the user keeps theirs).
    Done(Vec<String>),
    /// Turning off: the password.
    TurnOff,
}

/// Whether the section has anything to offer for `methods`: e-mail codes are on, or could be
/// (the organisation accepts them, and the user has a password for them to protect).
pub fn offers_email_codes(methods: &MfaMethodsResponse) -> bool {
    let has = |list: &[String]| list.iter().any(|m| m == "email");
    has(&methods.enrolled) || (has(&methods.allowed) && methods.has_password)
}

/// The "Codes by e-mail" section.
#[component]
pub fn EmailCodesSection(
    /// The sign-in waits for a second factor to be set up (the page's required mode).
    enrol_required: bool,
    /// Where "Continue" leads after a required set-up (already sanitised).
    return_to: String,
) -> impl IntoView {
    let methods = LocalResource::new(|| async { my_mfa_methods().await });
    let step = RwSignal::new(EmailStep::Overview);
    let notice = RwSignal::new(None::<String>);
    let signed_out = RwSignal::new(None::<String>);
    let return_to = StoredValue::new(return_to);
    let me = use_current_user().me;
    let fail = move |e: ApiError, form_error: WriteSignal<Option<String>>| {
        if is_signed_out(&e) {
            signed_out.set(Some(e.to_string()));
        } else {
            form_error.set(Some(e.to_string()));
        }
    };
    let finished = move |codes: Vec<String>| {
        methods.refetch();
        me.refetch();
        if codes.is_empty() && !enrol_required {
            notice.set(Some(
                "Codes by e-mail are on. Signing in with your password can now also be confirmed with a code we e-mail you."
                    .to_string(),
            ));
            step.set(EmailStep::Overview);
        } else {
            step.set(EmailStep::Done(codes));
        }
    };

    let body = move || {
        if let Some(message) = signed_out.get() {
            let back_to = if enrol_required {
                return_to.get_value()
            } else {
                "/security".to_string()
            };
            return view! {
                <div class="alert error" role="alert">
                    <p>{message}</p>
                    <p><a href=with_return_to("/login", &back_to) rel="external">"Sign in again"</a></p>
                </div>
            }
            .into_any();
        }
        match step.get() {
            EmailStep::Overview => view! {
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match in_browser(methods).await {
                            Ok(m) => view! {
                                <EmailOverview
                                    methods=m
                                    enrol_required=enrol_required
                                    on_start=move || { notice.set(None); step.set(EmailStep::Password) }
                                    on_stop=move || { notice.set(None); step.set(EmailStep::TurnOff) }
                                />
                            }
                            .into_any(),
                            Err(e) => view! {
                                <p class="alert error" role="alert">
                                    "Your e-mail code settings could not be loaded. " {e.to_string()}
                                </p>
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            }
            .into_any(),
            EmailStep::Password => view! {
                <PasswordStep
                    intro="Enter your password. We then e-mail you an 8-digit code to check that the messages reach you."
                    label="Send the code"
                    busy_label="Sending…"
                    on_cancel=move || step.set(EmailStep::Overview)
                    on_submit=move |password, set_busy, set_error| {
                        leptos::task::spawn_local(async move {
                            match start_email_codes(password).await {
                                Ok(sent) => step.set(EmailStep::Code(sent.sent_to)),
                                Err(e) => { set_busy.set(false); fail(e, set_error) }
                            }
                        });
                    }
                />
            }
            .into_any(),
            EmailStep::Code(address) => view! {
                <ConfirmStep
                    address=address
                    on_restart=move || step.set(EmailStep::Password)
                    on_done=finished
                    on_signed_out=move |message| signed_out.set(Some(message))
                />
            }
            .into_any(),
            EmailStep::Done(codes) => {
                let finish = if enrol_required {
                    view! { <a class="button" href=return_to.get_value() rel="external">"Continue"</a> }.into_any()
                } else {
                    view! {
                        <button type="button" class="button" on:click=move |_| {
                            notice.set(Some("Codes by e-mail are on.".to_string()));
                            step.set(EmailStep::Overview);
                        }>"Done"</button>
                    }
                    .into_any()
                };
                if codes.is_empty() {
                    view! {
                        <p class="alert ok">"Codes by e-mail are on. Your recovery codes stay as they were."</p>
                        <div class="actions">{finish}</div>
                    }
                    .into_any()
                } else {
                    view! {
                        <RecoveryCodesPanel codes=codes account=None>
                            {finish}
                        </RecoveryCodesPanel>
                    }
                    .into_any()
                }
            }
            EmailStep::TurnOff => view! {
                <PasswordStep
                    intro="Confirm with your password. Without codes by e-mail, signing in asks for your other second factor, or only your password if you have none."
                    label="Turn off"
                    busy_label="Turning off…"
                    on_cancel=move || step.set(EmailStep::Overview)
                    on_submit=move |password, set_busy, set_error| {
                        leptos::task::spawn_local(async move {
                            match stop_email_codes(password).await {
                                Ok(_) => {
                                    methods.refetch();
                                    me.refetch();
                                    notice.set(Some("Codes by e-mail are off.".to_string()));
                                    step.set(EmailStep::Overview);
                                }
                                Err(e) => { set_busy.set(false); fail(e, set_error) }
                            }
                        });
                    }
                />
            }
            .into_any(),
        }
    };

    view! {
        <section class="card security-section" aria-labelledby="email-codes-title" data-testid="email-codes">
            <header class="card-header">
                <h2 id="email-codes-title">
                    {if enrol_required { "Or: codes by e-mail" } else { "Codes by e-mail" }}
                </h2>
            </header>
            <div role="status" class="status-region">
                {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
            </div>
            {body}
        </section>
    }
}

/// On or off, and the button that changes it.
#[component]
fn EmailOverview(
    methods: MfaMethodsResponse,
    enrol_required: bool,
    on_start: impl Fn() + Copy + Send + Sync + 'static,
    on_stop: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let on = methods.enrolled.iter().any(|m| m == "email");
    let allowed = methods.allowed.iter().any(|m| m == "email");
    if on {
        let note = (!allowed).then(|| {
            view! {
                <p class="alert warn">
                    "Your organisation no longer accepts codes by e-mail: set up an authenticator app, then turn this off."
                </p>
            }
        });
        return view! {
            <div data-testid="email-codes-status" data-email-codes="on">
                <p class="status-line">
                    <span class="badge ok">"On"</span>
                    "Codes go to " <strong>{methods.email}</strong> "."
                </p>
                {note}
                <div class="actions">
                    <button type="button" class="button secondary danger" on:click=move |_| on_stop()>
                        "Turn off"
                    </button>
                </div>
            </div>
        }
        .into_any();
    }
    if !offers_email_codes(&methods) {
        return view! {
            <p class="muted" data-testid="email-codes-status" data-email-codes="not-allowed">
                {if methods.has_password {
                    "Codes by e-mail are not available for your account: your organisation does not accept them (carrier staff always use an authenticator app)."
                } else {
                    "You sign in with Microsoft Entra ID, where your organisation's own rules ask for the second step: you have no portal password for codes by e-mail to protect."
                }}
            </p>
        }
        .into_any();
    }
    let intro = if enrol_required {
        "No authenticator app? We can e-mail you a code each time you sign in instead. It is weaker than an app: anyone who can read your e-mail can use it."
    } else {
        "No authenticator app? We can e-mail you a code each time you sign in. It is weaker than an app: anyone who can read your e-mail can use it."
    };
    view! {
        <div data-testid="email-codes-status" data-email-codes="off">
            <p>{intro}</p>
            <p class="muted">"Codes go to " <strong>{methods.email}</strong> "."</p>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| on_start()>
                    "Use codes by e-mail"
                </button>
            </div>
        </div>
    }
    .into_any()
}

/// A password form (turning on, turning off).
#[component]
fn PasswordStep(
    intro: &'static str,
    label: &'static str,
    busy_label: &'static str,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    on_submit: impl Fn(String, WriteSignal<bool>, WriteSignal<Option<String>>)
        + Copy
        + Send
        + Sync
        + 'static,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        let typed = password.get_untracked();
        password.set(String::new());
        on_submit(typed, set_busy, set_error);
    };
    view! {
        <form class="form" method="post" on:submit=submit>
            <p>{intro}</p>
            <Field label="Password" for_id="email-codes-password">
                <input
                    id="email-codes-password"
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
                <SubmitButton label=label busy_label=busy_label busy=busy />
                <button type="button" class="button secondary" on:click=move |_| on_cancel()>"Cancel"</button>
            </div>
        </form>
    }
}

/// The code just e-mailed, which turns the method on.
#[component]
fn ConfirmStep(
    address: String,
    on_restart: impl Fn() + Copy + Send + Sync + 'static,
    on_done: impl Fn(Vec<String>) + Copy + Send + Sync + 'static,
    on_signed_out: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (field_error, set_field_error) = signal(None::<String>);
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let typed = match normalize_email_code(&code.get_untracked()) {
            Ok(typed) => typed,
            Err(hint) => {
                set_field_error.set(Some(hint.to_string()));
                return;
            }
        };
        set_field_error.set(None);
        set_error.set(None);
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match confirm_email_codes(typed).await {
                Ok(answer) => on_done(answer.recovery_codes),
                Err(e) => {
                    set_busy.set(false);
                    code.set(String::new());
                    if is_signed_out(&e) {
                        on_signed_out(e.to_string());
                    } else {
                        set_error.set(Some(e.to_string()));
                    }
                }
            }
        });
    };
    view! {
        <form class="form" method="post" on:submit=submit>
            <p>"We e-mailed an 8-digit code to " <strong>{address}</strong> ". Enter it within 10 minutes."</p>
            <Field label="Code from the e-mail" for_id="email-codes-code" error=field_error>
                <CodeInput
                    id="email-codes-code"
                    kind=CodeKind::Email
                    value=code
                    invalid=Signal::derive(move || field_error.with(Option::is_some))
                    input_ref=input
                />
            </Field>
            <FormAlert message=error />
            <div class="actions">
                <SubmitButton label="Turn on" busy_label="Checking…" busy=busy />
                <button type="button" class="button link" on:click=move |_| on_restart()>
                    "No e-mail? Send a new code"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(enrolled: &[&str], allowed: &[&str]) -> MfaMethodsResponse {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        MfaMethodsResponse {
            enrolled: list(enrolled),
            allowed: list(allowed),
            usable: Vec::new(),
            email: "a@b.example".into(),
            recovery_codes_left: 0,
            has_password: true,
        }
    }

    #[test]
    fn the_section_shows_where_email_codes_are_allowed_or_on() {
        assert!(offers_email_codes(&methods(&[], &["totp", "email"])));
        assert!(offers_email_codes(&methods(&["email"], &["totp"])));
        assert!(!offers_email_codes(&methods(&["totp"], &["totp"])));
        let mut sso_only = methods(&[], &["totp", "email"]);
        sso_only.has_password = false;
        assert!(!offers_email_codes(&sso_only));
    }
}
