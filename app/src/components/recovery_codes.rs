//! Fresh recovery codes, shown once: after setting up an authenticator app and after
//! generating new codes. The person can download them as a text file or copy them.

use leptos::prelude::*;

use crate::components::browser::{copy_to_clipboard, use_clipboard_available};
use crate::product::PRODUCT_NAME;

/// The file name offered for download.
pub const RECOVERY_CODES_FILE_NAME: &str = "recovery-codes.txt";

/// The codes as the downloaded or copied text: a heading, one code a line, and how to use
/// them. Lines end with CRLF so the file reads well in Windows Notepad too.
pub fn recovery_codes_text(codes: &[String], account: Option<&str>) -> String {
    let mut lines = vec![format!("{PRODUCT_NAME}: recovery codes")];
    if let Some(account) = account.filter(|a| !a.is_empty()) {
        lines.push(format!("Account: {account}"));
    }
    lines.push(String::new());
    lines.extend(codes.iter().cloned());
    lines.push(String::new());
    lines.push("Each code works once, in place of a code from your authenticator app.".to_string());
    lines.push("Generating new codes on the Security page makes these stop working.".to_string());
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text
}

/// A `data:` URL holding `text` as a UTF-8 plain-text file.
pub fn text_data_url(text: &str) -> String {
    let mut url = String::from("data:text/plain;charset=utf-8,");
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

/// The codes, a warning to store them, and Download and Copy buttons. `children` are the
/// actions that follow ("Done" or "Continue").
#[component]
pub fn RecoveryCodesPanel(
    /// The ten new codes.
    codes: Vec<String>,
    /// Whose codes these are, for the downloaded file (the email address).
    account: Option<String>,
    /// What comes after.
    children: Children,
) -> impl IntoView {
    let text = recovery_codes_text(&codes, account.as_deref());
    let href = text_data_url(&text);
    let (copy_status, set_copy_status) = signal(None::<&'static str>);
    let can_copy = use_clipboard_available();
    let copy = move |_| {
        let text = text.clone();
        copy_to_clipboard(&text, move |ok| {
            set_copy_status.set(Some(if ok {
                "The recovery codes are on the clipboard."
            } else {
                "The codes could not be copied. Select them and copy them yourself, or download them."
            }));
        });
    };

    view! {
        <div class="recovery-codes-panel" data-testid="recovery-codes">
            <div class="alert warn">
                <p>
                    <strong>"Store these recovery codes somewhere safe now"</strong>
                    ", such as a password manager. They are shown only this once."
                </p>
                <p>
                    "If you lose your phone or cannot get into your e-mail, each code lets you sign in once instead of a code."
                </p>
            </div>
            <ol class="recovery-codes" aria-label="Recovery codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <div class="actions">
                <a class="button secondary" href=href download=RECOVERY_CODES_FILE_NAME>
                    "Download"
                </a>
                <Show when=move || can_copy.get()>
                    <button type="button" class="button secondary" on:click=copy.clone()>
                        "Copy"
                    </button>
                </Show>
            </div>
            <p class="status-text" role="status">{move || copy_status.get()}</p>
            <div class="actions">{children()}</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> Vec<String> {
        vec!["abcde-23456".to_string(), "fghjk-78923".to_string()]
    }

    #[test]
    fn the_text_lists_one_code_a_line() {
        let text = recovery_codes_text(&codes(), Some("ana@example.com"));
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "Voice Customer Portal: recovery codes");
        assert_eq!(lines[1], "Account: ana@example.com");
        assert_eq!(lines[2], "");
        assert_eq!(lines[3], "abcde-23456");
        assert_eq!(lines[4], "fghjk-78923");
        assert!(text.ends_with("\r\n"));
    }

    #[test]
    fn the_account_line_is_left_out_when_unknown() {
        let text = recovery_codes_text(&codes(), None);
        assert!(!text.contains("Account:"));
        let text = recovery_codes_text(&codes(), Some(""));
        assert!(!text.contains("Account:"));
    }

    #[test]
    fn the_data_url_is_fully_encoded() {
        assert_eq!(
            text_data_url("ab-12\r\nx y:é"),
            "data:text/plain;charset=utf-8,ab-12%0D%0Ax%20y%3A%C3%A9"
        );
    }
}
