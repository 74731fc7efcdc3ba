//! "Confirm it's you": the dialog a dangerous action opens when the server wants a fresh proof
//! of the person's factor (401 `step_up_required`, see `api::step_up`). It asks for what the
//! server named in that answer: a code from the authenticator app, a code it e-mails (the
//! person's factor is e-mail), the password (no second factor), or a new sign-in with
//! Microsoft. Confirmed, the action is sent again; cancelled, the action's
//! page shows the refusal as it shows any error.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::hooks::use_location;

use crate::api::{
    auth::{send_step_up_email_code, step_up, StepUpRequest},
    sso::MICROSOFT_LOGIN_PATH,
    step_up::{dialog_open, finish, proof_wanted},
};
use crate::components::{
    dialog::Dialog,
    form::{FormAlert, SubmitButton},
};
use crate::return_to::with_return_to;

/// The dialog, once in the layout; shown while an action waits for it.
#[component]
pub fn StepUpDialog() -> impl IntoView {
    let open = dialog_open();
    let proof = proof_wanted();
    let location = use_location();
    let (pathname, search) = (location.pathname, location.search);
    let with = Signal::derive(move || match proof.get().as_str() {
        "code" => "code",
        "email_code" => "email_code",
        "microsoft" => "microsoft",
        _ => "password",
    });
    let secret = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (sent_to, set_sent_to) = signal(None::<String>);
    let close = move || {
        secret.set(String::new());
        set_error.set(None);
        set_sent_to.set(None);
        finish(false);
    };
    let send_code = move |_| {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        leptos::task::spawn_local(async move {
            let sent = send_step_up_email_code().await;
            set_busy.set(false);
            match sent {
                Ok(sent) => set_sent_to.set(Some(sent.sent_to)),
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let value = secret.get_untracked();
        if value.trim().is_empty() {
            set_error.set(Some(match with.get_untracked() {
                "code" => "Enter the code from your authenticator app.".to_string(),
                "email_code" => "Enter the code from the e-mail.".to_string(),
                _ => "Enter your password.".to_string(),
            }));
            return;
        }
        let request = if with.get_untracked() != "password" {
            StepUpRequest {
                code: Some(value),
                password: None,
            }
        } else {
            StepUpRequest {
                code: None,
                password: Some(value),
            }
        };
        set_busy.set(true);
        set_error.set(None);
        leptos::task::spawn_local(async move {
            let result = step_up(request).await;
            set_busy.set(false);
            match result {
                Ok(_) => {
                    secret.set(String::new());
                    set_sent_to.set(None);
                    finish(true);
                }
                Err(e) if matches!(e.code(), Some("session_ended" | "unauthenticated")) => {
                    // Signed out: the waiting action fails with its own sign-in prompt.
                    set_error.set(None);
                    secret.set(String::new());
                    finish(false);
                }
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    let microsoft_href = move || {
        let here = pathname.get() + &search.get();
        let here = if here.is_empty() {
            "/".to_string()
        } else {
            here
        };
        with_return_to(MICROSOFT_LOGIN_PATH, &here)
    };
    let body = move || {
        match with.get() {
        "microsoft" => view! {
            <p>"For your security, this needs a fresh sign-in. Sign in again with Microsoft, then do it again."</p>
            <div class="actions">
                <button type="button" class="button secondary" on:click=move |_| close()>"Cancel"</button>
                <a class="button" href=microsoft_href rel="external">"Sign in again with Microsoft"</a>
            </div>
        }
        .into_any(),
        kind => {
            let email = kind == "email_code";
            let code = kind == "code" || email;
            let email_step = email.then(|| view! {
                <p>
                    {move || match sent_to.get() {
                        Some(to) => format!("We e-mailed a code to {to}. It works for 10 minutes."),
                        None => "We e-mail you an 8-digit code.".to_string(),
                    }}
                    " "
                    <button type="button" class="button link" data-testid="step-up-send-code" on:click=send_code>
                        {move || if sent_to.with(Option::is_some) { "Send a new code" } else { "E-mail me the code" }}
                    </button>
                </p>
            });
            view! {
                <form class="form" method="post" on:submit=submit>
                    <p>
                        {match kind {
                            "code" => "For your security, confirm it's you: enter the current code from your authenticator app.",
                            "email_code" => "For your security, confirm it's you with a code sent to your e-mail.",
                            _ => "For your security, confirm it's you: enter your password.",
                        }}
                    </p>
                    {email_step}
                    <div class="field">
                        <label class="field-label" for="step-up-secret">
                            {match kind {
                                "code" => "Authenticator code",
                                "email_code" => "Code from the e-mail",
                                _ => "Password",
                            }}
                        </label>
                        <input
                            id="step-up-secret"
                            name=if code { "code" } else { "password" }
                            class="input"
                            class:mono=code
                            type=if code { "text" } else { "password" }
                            inputmode=if code { "numeric" } else { "text" }
                            autocomplete=if code { "one-time-code" } else { "current-password" }
                            maxlength=if code { "10" } else { "1024" }
                            bind:value=secret
                        />
                    </div>
                    <FormAlert message=error />
                    <div class="actions">
                        <button type="button" class="button secondary" on:click=move |_| close()>"Cancel"</button>
                        <SubmitButton label="Confirm" busy_label="Checking…" busy=busy />
                    </div>
                </form>
            }
            .into_any()
        }
    }
    };
    view! {
        <Dialog
            id="step-up"
            title="Confirm it's you"
            open=Signal::derive(move || open.get())
            on_close=Callback::new(move |_| close())
        >
            {body}
        </Dialog>
    }
}
