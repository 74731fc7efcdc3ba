//! The Single sign-on page's "Two-step sign-in" card: whether the organisation's password
//! sign-ins need a second factor, and which second factors count (an authenticator app, codes
//! by e-mail). Only the organisation's administrators see it; saving is a dangerous action
//! (the step-up dialog may ask for a fresh proof first).

use leptos::{ev::SubmitEvent, prelude::*};

use crate::api::audit::{
    get_mfa_policy, set_customer_mfa_policy, set_mfa_policy, MfaPolicy, MfaPolicyRequest,
};
use crate::components::{
    browser::in_browser,
    form::{hint_id, FormAlert, SubmitButton},
};

/// The methods a policy lists, in the API's names, from the two boxes.
pub fn methods_of(totp: bool, email: bool) -> Vec<String> {
    let mut methods = Vec::new();
    if totp {
        methods.push("totp".to_string());
    }
    if email {
        methods.push("email".to_string());
    }
    methods
}

/// Why the boxes cannot be saved as they are, if they cannot.
pub fn methods_problem(totp: bool, email: bool) -> Option<&'static str> {
    (!totp && !email).then_some("Choose at least one second factor that counts.")
}

/// The card, loading the policy first.
#[component]
pub fn SignInPolicyCard() -> impl IntoView {
    let policy = LocalResource::new(get_mfa_policy);
    view! {
        <section class="card sso-section" aria-labelledby="mfa-policy-title" data-testid="mfa-policy">
            <header class="card-header">
                <h2 id="mfa-policy-title">"Two-step sign-in"</h2>
            </header>
            <Transition fallback=|| view! { <div class="skeleton skeleton-short" aria-busy="true" aria-label="Loading the sign-in policy"></div> }>
                {move || Suspend::new(async move {
                    match in_browser(policy).await {
                        Ok(policy) => view! { <PolicyForm policy=policy /> }.into_any(),
                        Err(error) => view! {
                            <p class="alert error" role="alert">
                                "The sign-in policy could not be loaded. " {error.to_string()}
                            </p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The policy's form: the signed-in administrator's own organisation, or (carrier staff in
/// the provider console) the customer `customer` names by slug and name.
#[component]
pub fn PolicyForm(
    policy: MfaPolicy,
    #[prop(optional)] customer: Option<(String, String)>,
) -> impl IntoView {
    // Ids stay unique with one form per customer card in the console.
    let prefix = customer
        .as_ref()
        .map_or(String::new(), |(slug, _)| format!("org-{slug}-"));
    let id = move |name: &str| format!("{prefix}{name}");
    let (required_id, methods_id, totp_id, email_id) = (
        id("mfa-required"),
        id("mfa-methods"),
        id("mfa-method-totp"),
        id("mfa-method-email"),
    );
    let for_whom = customer
        .as_ref()
        .map(|(_, name)| format!(" for {name}"))
        .unwrap_or_default();
    let slug = customer.map(|(slug, _)| slug);
    let has = |m: &str| policy.methods.iter().any(|x| x == m);
    let required = RwSignal::new(policy.required);
    let totp = RwSignal::new(has("totp"));
    let email = RwSignal::new(has("email"));
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (notice, set_notice) = signal(None::<&'static str>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_notice.set(None);
        let (t, e) = (totp.get_untracked(), email.get_untracked());
        if let Some(problem) = methods_problem(t, e) {
            set_error.set(Some(problem.to_string()));
            return;
        }
        set_error.set(None);
        set_busy.set(true);
        let change = MfaPolicyRequest {
            required: Some(required.get_untracked()),
            methods: Some(methods_of(t, e)),
        };
        let slug = slug.clone();
        leptos::task::spawn_local(async move {
            let saved = match slug {
                Some(slug) => set_customer_mfa_policy(slug, change).await,
                None => set_mfa_policy(change).await,
            };
            match saved {
                Ok(saved) => {
                    required.set(saved.required);
                    totp.set(saved.methods.iter().any(|m| m == "totp"));
                    email.set(saved.methods.iter().any(|m| m == "email"));
                    set_notice.set(Some("The sign-in policy is saved."));
                }
                Err(e) => set_error.set(Some(e.to_string())),
            }
            set_busy.set(false);
        });
    };
    view! {
        <form class="form" method="post" on:submit=submit aria-busy=move || busy.get().then_some("true")>
            <div class="check-field">
                <input id=required_id.clone() name="required" type="checkbox" aria-describedby=hint_id(&required_id) bind:checked=required />
                <div>
                    <label for=required_id.clone()>
                        "Require a second factor for password sign-ins"
                        <span class="visually-hidden">{for_whom.clone()}</span>
                    </label>
                    <p class="field-hint" id=hint_id(&required_id)>
                        "People who sign in with a password must then also give a code. Anyone without a second factor sets one up at their next sign-in. Microsoft sign-ins follow the Entra ID rules instead."
                    </p>
                </div>
            </div>
            <fieldset class="field">
                <legend class="field-label">"Second factors that count" <span class="visually-hidden">{for_whom}</span></legend>
                <p class="field-hint" id=hint_id(&methods_id)>
                    "A code by e-mail is weaker than an authenticator app: anyone who can read the person's e-mail can use it. People whose only factor no longer counts set up one that does at their next sign-in."
                </p>
                <div class="check-field">
                    <input id=totp_id.clone() name="methods" value="totp" type="checkbox" aria-describedby=hint_id(&methods_id) bind:checked=totp />
                    <label for=totp_id>"Authenticator app"</label>
                </div>
                <div class="check-field">
                    <input id=email_id.clone() name="methods" value="email" type="checkbox" aria-describedby=hint_id(&methods_id) bind:checked=email />
                    <label for=email_id>"Code by e-mail"</label>
                </div>
            </fieldset>
            <FormAlert message=error />
            <div role="status" class="status-region">
                {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
            </div>
            <div class="actions">
                <SubmitButton label="Save sign-in policy" busy_label="Saving…" busy=busy />
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_boxes_become_the_api_list_and_one_must_stay() {
        assert_eq!(methods_of(true, true), vec!["totp", "email"]);
        assert_eq!(methods_of(false, true), vec!["email"]);
        assert!(methods_problem(false, false).is_some());
        assert_eq!(methods_problem(true, false), None);
    }
}
