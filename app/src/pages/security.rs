//! `/security`: the signed-in person's authenticator app, recovery codes, linked Microsoft
//! account, password and sessions.
//!
//! With `?enrol=required` it is the step a sign-in waits on when the organisation requires an
//! authenticator app (carrier staff always need one): the page starts at the password prompt, shows no sessions (the half
//! finished sign-in has no full session yet) and ends with a "Continue" to `return_to`.
//!
//! `?linked=microsoft` and `?error=CODE` are the return of the "Link your Microsoft account"
//! flow; the Microsoft account section shows what they mean.

pub mod authenticator;
pub mod email_codes;
pub mod microsoft;
pub mod password;
pub mod sessions;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{form::NeedsJavaScript, layout::is_enrolment_required};
use crate::return_to::sanitize_return_to;

use self::{
    authenticator::AuthenticatorSection,
    email_codes::EmailCodesSection,
    microsoft::{link_outcome, MicrosoftSection},
    password::PasswordSection,
    sessions::SessionsSection,
};

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![
        crate::api::auth::SESSIONS_PATH.to_string(),
        crate::api::sso::IDENTITIES_PATH.to_string(),
    ]
}

/// The Security page.
#[component]
pub fn SecurityPage() -> impl IntoView {
    // The mode is read once: the page is only reached through links and full page loads,
    // and the server and the browser see the same URL, so both render the same.
    let query = use_query_map();
    let enrol_required = query.with_untracked(|q| is_enrolment_required(q.get("enrol").as_deref()));
    let return_to = query.with_untracked(|q| sanitize_return_to(q.get("return_to").as_deref()));
    let microsoft_outcome = query
        .with_untracked(|q| link_outcome(q.get("linked").as_deref(), q.get("error").as_deref()));

    // A password change ends the other sessions: the sessions list then reloads.
    let sessions_changed = Trigger::new();

    let heading = if enrol_required {
        "Set up a second factor"
    } else {
        "Security"
    };

    view! {
        <Title text=heading />
        <section class="page security-page" class:auth-card=enrol_required>
            <h1>{heading}</h1>
            <NeedsJavaScript />
            {enrol_required
                .then(|| {
                    view! {
                        <div class="alert warn" data-testid="enrolment-required">
                            <p>
                                <strong>
                                    "Your account needs a second factor before you can use the portal."
                                </strong>
                            </p>
                            <p>
                                "Your organisation requires one for password sign-ins (the carrier's own staff always sign in with one). Install an authenticator app on your phone (for example Microsoft Authenticator or Google Authenticator), then follow the steps below; it takes about a minute. Where your organisation allows it, you can have codes e-mailed to you instead."
                            </p>
                        </div>
                    }
                })}
            <AuthenticatorSection enrol_required=enrol_required return_to=return_to.clone() />
            <EmailCodesSection enrol_required=enrol_required return_to=return_to />
            {(!enrol_required)
                .then(|| {
                    view! {
                        <MicrosoftSection outcome=microsoft_outcome />
                        <PasswordSection sessions_changed=sessions_changed />
                        <SessionsSection reload=sessions_changed />
                    }
                })}
        </section>
    }
}
