//! Form building blocks shared by the sign-in, MFA and security pages: a labelled field, the
//! authenticator-code input, a submit button that shows progress, and the alert region; plus
//! the checks on codes a person types.

use leptos::{html, prelude::*};

/// Digits in an authenticator-app (TOTP) code.
pub const TOTP_DIGITS: usize = 6;

/// Characters in a recovery code, without its dash (`xxxxx-xxxxx`).
pub const RECOVERY_CODE_CHARS: usize = 10;

/// Why a typed code was not sent.
pub const TOTP_CODE_HINT: &str = "Enter the 6-digit code from your authenticator app.";

/// Digits in a code sent by e-mail.
pub const EMAIL_CODE_DIGITS: usize = 8;

/// Why a typed e-mailed code was not sent.
pub const EMAIL_CODE_HINT: &str = "Enter the 8-digit code from the e-mail we sent you.";

/// The 8-digit e-mailed code as sent to the server, if `raw` is one; spaces and dashes are
/// ignored (the mail shows `1234 5678`).
pub fn normalize_email_code(raw: &str) -> Result<String, &'static str> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if code.len() == EMAIL_CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(EMAIL_CODE_HINT)
    }
}

/// Why a typed recovery code was not sent.
pub const RECOVERY_CODE_HINT: &str =
    "Enter one of your recovery codes: 10 letters and digits, like abcde-23456.";

/// The 6-digit code as sent to the server, if `raw` is one; spaces and dashes are ignored
/// (apps often show `123 456`).
pub fn normalize_totp_code(raw: &str) -> Result<String, &'static str> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if code.len() == TOTP_DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(TOTP_CODE_HINT)
    }
}

/// The recovery code as sent to the server (`xxxxx-xxxxx`, lower case), if `raw` has that
/// shape; spaces are ignored and the dash is optional. Whether the code is valid is the
/// server's decision: this only catches typing slips before a try is spent.
pub fn normalize_recovery_code(raw: &str) -> Result<String, &'static str> {
    let chars: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if chars.len() == RECOVERY_CODE_CHARS && chars.bytes().all(|b| b.is_ascii_alphanumeric()) {
        let (first, second) = chars.split_at(RECOVERY_CODE_CHARS / 2);
        Ok(format!("{first}-{second}"))
    } else {
        Err(RECOVERY_CODE_HINT)
    }
}

/// The id of a field's hint text.
pub fn hint_id(field_id: &str) -> String {
    format!("{field_id}-hint")
}

/// The id of a field's error text.
pub fn error_id(field_id: &str) -> String {
    format!("{field_id}-error")
}

/// The ids an input's `aria-describedby` lists: its hint (when it has one) and its error
/// (while there is one).
pub fn described_by(field_id: &str, has_hint: bool, has_error: bool) -> Option<String> {
    let ids: Vec<String> = [
        has_hint.then(|| hint_id(field_id)),
        has_error.then(|| error_id(field_id)),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// `false` on the server and until the page has hydrated, then `true`.
///
/// Effects run only in the browser, so the server and the first client render agree.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// What the input with id `id` holds while the page hydrates: what a person typed (or the
/// browser filled in) before the wasm arrived. `None` on the server, after hydration (a page
/// reached by navigating inside the app has nothing typed yet, and an element with the same id
/// may still belong to the page being left), and when there is no such input.
pub fn typed_before_hydration(id: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let hydrating = Owner::current_shared_context().is_some_and(|c| c.during_hydration());
        if !hydrating {
            return None;
        }
        web_sys::window()?
            .document()?
            .get_element_by_id(id)?
            .dyn_into::<web_sys::HtmlInputElement>()
            .ok()
            .map(|input| input.value())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = id;
        None
    }
}

/// The signal behind the input with id `id` (for `bind:value`): at hydration, what was typed
/// into it before (so hydrating does not wipe it), else `initial()`.
///
/// `initial()` is also what the server rendered, so the two agree whenever nothing was typed.
pub fn field_value(id: &str, initial: impl FnOnce() -> String) -> RwSignal<String> {
    RwSignal::new(typed_before_hydration(id).unwrap_or_else(initial))
}

/// The title and the spoken addition of a submit button whose form waits for the page to
/// finish loading.
pub const STILL_LOADING: &str =
    "Still loading: this form works in a moment, once the page has finished loading.";

/// A label, the control (`children`), an optional hint and the field's error. The error is
/// inserted as an alert, so screen readers announce it when it appears.
///
/// The control itself is written by the page, so it keeps every attribute it needs; it
/// should use `id=for_id` and `aria-describedby=described_by(...)`.
#[component]
pub fn Field(
    /// The visible label.
    label: &'static str,
    /// The id of the control the label is for.
    #[prop(into)]
    for_id: String,
    /// A short help text below the label.
    #[prop(optional)]
    hint: Option<&'static str>,
    /// The error shown below the control.
    #[prop(optional, into)]
    error: Signal<Option<String>>,
    /// The control.
    children: Children,
) -> impl IntoView {
    let hint_view = hint.map(|text| {
        view! { <p class="field-hint" id=hint_id(&for_id)>{text}</p> }
    });
    let error_element_id = error_id(&for_id);
    view! {
        <div class="field" class:has-error=move || error.with(Option::is_some)>
            <label class="field-label" for=for_id.clone()>{label}</label>
            {hint_view}
            {children()}
            {move || {
                error
                    .get()
                    .map(|message| {
                        view! { <p class="field-error" id=error_element_id.clone() role="alert">{message}</p> }
                    })
            }}
        </div>
    }
}

/// Which kind of code an MFA input takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// A 6-digit code from the authenticator app.
    Totp,
    /// A recovery code, `xxxxx-xxxxx`.
    Recovery,
    /// An 8-digit code sent by e-mail.
    Email,
}

/// The input for an authenticator or recovery code, with the attributes that make phones
/// offer the right keyboard and autofill (`one-time-code`).
#[component]
pub fn CodeInput(
    /// The input's id (a [`Field`]'s `for_id`).
    #[prop(into)]
    id: String,
    /// Which kind of code.
    kind: CodeKind,
    /// The typed value.
    value: RwSignal<String>,
    /// Focus on page load.
    #[prop(optional)]
    autofocus: bool,
    /// Whether the field shows an error.
    #[prop(optional, into)]
    invalid: Signal<bool>,
    /// The field has a hint (for `aria-describedby`).
    #[prop(optional)]
    has_hint: bool,
    /// Lets the page focus the input.
    #[prop(optional)]
    input_ref: NodeRef<html::Input>,
) -> impl IntoView {
    let describe_id = id.clone();
    let describedby = move || described_by(&describe_id, has_hint, invalid.get());
    let aria_invalid = move || invalid.get().then_some("true");
    let (pattern, maxlength, size) = match kind {
        CodeKind::Email => ("[0-9]{4}[\\- ]?[0-9]{4}", "9", "10"),
        _ => ("[0-9]{3} ?[0-9]{3}", "7", "8"),
    };
    match kind {
        CodeKind::Totp | CodeKind::Email => view! {
            <input
                id=id
                name="code"
                class="input code-input"
                type="text"
                inputmode="numeric"
                autocomplete="one-time-code"
                pattern=pattern
                maxlength=maxlength
                size=size
                required
                autofocus=autofocus
                spellcheck="false"
                aria-invalid=aria_invalid
                aria-describedby=describedby
                node_ref=input_ref
                bind:value=value
            />
        }
        .into_any(),
        CodeKind::Recovery => view! {
            <input
                id=id
                name="recovery-code"
                class="input code-input"
                type="text"
                autocomplete="off"
                autocapitalize="none"
                pattern="[A-Za-z0-9]{5}[\\- ]?[A-Za-z0-9]{5}"
                maxlength="11"
                size="12"
                required
                autofocus=autofocus
                spellcheck="false"
                aria-invalid=aria_invalid
                aria-describedby=describedby
                node_ref=input_ref
                bind:value=value
            />
        }
        .into_any(),
    }
}

/// A form's submit button: disabled while `busy`, when it also shows `busy_label` and a
/// spinner; and, unless the form `works_without_js`, disabled until the page has hydrated.
///
/// Before hydration a submit would be a plain HTML form post, and only the sign-in forms
/// (sign-in, code, forgotten password, reset, invitation) have a server route that takes one.
/// Every other form waits: its button says it is still loading (in its title, and to screen
/// readers in its name), and a disabled default button also keeps Enter from submitting.
#[component]
pub fn SubmitButton(
    /// The label at rest.
    label: &'static str,
    /// The label while the request runs ("Signing in…").
    busy_label: &'static str,
    /// Whether the request runs.
    #[prop(optional, into)]
    busy: Signal<bool>,
    /// Extra classes (e.g. `full-width`).
    #[prop(optional)]
    class: &'static str,
    /// The server also takes the form as a plain form post, so it may be sent before the page
    /// has hydrated (or without JavaScript at all).
    #[prop(optional)]
    works_without_js: bool,
    /// Disabled for another reason too (e.g. while another action on the page runs).
    #[prop(optional, into)]
    disabled: Signal<bool>,
    /// A name for screen readers that says more than the label ("Link tenant for Contoso").
    #[prop(optional, into)]
    accessible_name: Option<String>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let loading = move || !works_without_js && !hydrated.get();
    let aria_label = move || {
        accessible_name.as_ref().map(|name| {
            if loading() {
                format!("{name} ({STILL_LOADING})")
            } else {
                name.clone()
            }
        })
    };
    view! {
        <button
            type="submit"
            class=format!("button {class}")
            disabled=move || busy.get() || disabled.get() || loading()
            aria-busy=move || busy.get().then_some("true")
            aria-label=aria_label
            title=move || loading().then_some(STILL_LOADING)
            data-loading=move || loading().then_some("true")
        >
            {move || {
                if busy.get() {
                    view! {
                        <span class="spinner" aria-hidden="true"></span>
                        <span>{busy_label}</span>
                    }
                        .into_any()
                } else if loading() {
                    view! {
                        <span>{label}</span>
                        <span class="visually-hidden">" (" {STILL_LOADING} ")"</span>
                    }
                        .into_any()
                } else {
                    view! { <span>{label}</span> }.into_any()
                }
            }}
        </button>
    }
}

/// Where a form's errors appear. The alert element is inserted when there is a message, so
/// screen readers announce it.
#[component]
pub fn FormAlert(
    /// The message; `None` shows nothing.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="form-alert-region">
            {move || {
                message
                    .get()
                    .map(|text| view! { <p class="alert error" role="alert">{text}</p> })
            }}
        </div>
    }
}

/// A message shown when the page needs JavaScript (it talks to the API from the browser). The
/// sign-in forms do not: the server also takes them as plain form posts.
#[component]
pub fn NeedsJavaScript() -> impl IntoView {
    view! {
        <noscript>
            <p class="alert warn">
                "This page needs JavaScript. Turn it on in your browser's settings and reload the page."
            </p>
        </noscript>
    }
}

/// A field's error text, announced when it appears.
#[component]
pub fn FieldError(
    /// The control's id (the error gets `{id}-error`).
    id: &'static str,
    /// The message.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        message.get().map(|text| {
            view! {
                <p class="field-error" id=error_id(id) role="alert">{text}</p>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_codes_are_six_digits_with_optional_spacing() {
        assert_eq!(normalize_totp_code("123456"), Ok("123456".to_string()));
        assert_eq!(normalize_totp_code(" 123 456 "), Ok("123456".to_string()));
        assert_eq!(normalize_totp_code("123-456"), Ok("123456".to_string()));
    }

    #[test]
    fn other_totp_input_is_refused() {
        for raw in [
            "",
            "12345",
            "1234567",
            "12345a",
            "１２３４５６",
            "abcde-23456",
        ] {
            assert_eq!(normalize_totp_code(raw), Err(TOTP_CODE_HINT), "{raw:?}");
        }
    }

    #[test]
    fn recovery_codes_are_normalised_to_the_displayed_shape() {
        assert_eq!(
            normalize_recovery_code("abcde-23456"),
            Ok("abcde-23456".to_string())
        );
        assert_eq!(
            normalize_recovery_code("ABCDE23456"),
            Ok("abcde-23456".to_string())
        );
        assert_eq!(
            normalize_recovery_code(" abcde 23456 "),
            Ok("abcde-23456".to_string())
        );
    }

    #[test]
    fn other_recovery_input_is_refused() {
        for raw in [
            "",
            "abcde-2345",
            "abcde-234567",
            "abcde_23456",
            "äbcde-23456",
            "123456",
        ] {
            assert_eq!(
                normalize_recovery_code(raw),
                Err(RECOVERY_CODE_HINT),
                "{raw:?}"
            );
        }
    }

    /// What the server sends for a submit button (the state before hydration).
    #[cfg(feature = "ssr")]
    fn server_html(view: impl FnOnce() -> AnyView) -> String {
        let owner = Owner::new();
        owner.with(|| view().to_html())
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn before_hydration_a_form_that_needs_the_app_says_it_is_still_loading() {
        let html = server_html(|| {
            view! { <SubmitButton label="Save address" busy_label="Saving…" /> }.into_any()
        });
        assert!(html.contains(" disabled"), "{html}");
        assert!(
            html.contains(&format!("title=\"{STILL_LOADING}\"")),
            "{html}"
        );
        assert!(html.contains("data-loading=\"true\""), "{html}");
        assert!(html.contains("visually-hidden"), "{html}");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn before_hydration_a_sign_in_form_can_be_sent() {
        let html = server_html(|| {
            view! { <SubmitButton label="Sign in" busy_label="Signing in…" works_without_js=true /> }
                .into_any()
        });
        assert!(!html.contains("disabled"), "{html}");
        assert!(!html.contains("Still loading"), "{html}");
        assert!(html.contains("Sign in"), "{html}");
    }

    #[test]
    fn described_by_lists_hint_and_error() {
        assert_eq!(described_by("code", false, false), None);
        assert_eq!(
            described_by("code", true, false),
            Some("code-hint".to_string())
        );
        assert_eq!(
            described_by("code", false, true),
            Some("code-error".to_string())
        );
        assert_eq!(
            described_by("code", true, true),
            Some("code-hint code-error".to_string())
        );
    }
}
