//! `/audit`: the audit log, newest first, for organisation administrators (their
//! organisation) and carrier staff (every customer, or the chosen one). Filters: the kind of
//! action (a prefix such as `auth.` or a full action), the actor, and a time range; "Load
//! more" pages back in time. Each entry's details (before and after values, reasons) open in
//! place.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;

use crate::api::{
    audit::{list_audit, AuditEntry},
    client::percent_encode,
};
use crate::components::browser::in_browser;
use crate::components::{
    access::{can_administer, AccessGate},
    data_table::{DataTable, LoadMore},
    empty_state::EmptyState,
    form::{FormAlert, NeedsJavaScript, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};
use crate::format::format_datetime_local;
use crate::pages::calls::{local_input_to_rfc3339, parse_utc_ms};

/// This page's path.
pub const AUDIT_PATH: &str = "/audit";

/// What someone who may not read the log sees.
pub const AUDIT_FORBIDDEN_MESSAGE: &str =
    "Only an administrator of your organisation can read the audit log. Ask one of your organisation's portal administrators.";

/// The kinds of action offered in the filter: action prefix and label.
pub const ACTION_KINDS: [(&str, &str); 13] = [
    ("auth.", "Sign-ins and sign-outs"),
    ("mfa.", "Authenticator apps"),
    ("password.", "Passwords"),
    ("session.", "Sessions"),
    ("user.", "Users and invitations"),
    ("api_token.", "API tokens"),
    ("number.", "Numbers"),
    ("emergency_address.", "Emergency addresses"),
    ("sso.", "Single sign-on"),
    ("org.", "Organisation settings"),
    ("service.", "Services"),
    ("calls.", "Call records"),
    ("port_order.", "Porting orders"),
];

/// The audit log's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// An action prefix or a whole action.
    pub action: String,
    /// An exact actor (an email, `cli`).
    pub actor: String,
    /// From (RFC 3339), inclusive.
    pub from: Option<String>,
    /// Before (RFC 3339).
    pub to: Option<String>,
}

impl AuditFilter {
    /// The API query string for the page before `cursor` (the first page without one).
    pub fn query_string(&self, cursor: Option<i64>) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [("action", self.action.trim()), ("actor", self.actor.trim())] {
            if !value.is_empty() {
                pairs.push(format!("{key}={}", percent_encode(value)));
            }
        }
        for (key, value) in [("from", &self.from), ("to", &self.to)] {
            if let Some(value) = value {
                pairs.push(format!("{key}={}", percent_encode(value)));
            }
        }
        if let Some(cursor) = cursor {
            pairs.push(format!("cursor={cursor}"));
        }
        pairs.join("&")
    }
}

/// An action name in words where it is known: "auth.login_failed" → "Sign-ins and sign-outs:
/// login failed".
pub fn action_text(action: &str) -> String {
    match action.split_once('.') {
        Some((kind, what)) => {
            let prefix = format!("{kind}.");
            match ACTION_KINDS.iter().find(|(p, _)| *p == prefix) {
                Some((_, label)) => format!("{label}: {}", what.replace('_', " ")),
                None => action.to_string(),
            }
        }
        None => action.to_string(),
    }
}

/// The details as indented JSON; empty for `null` or `{}`.
pub fn details_text(details: &serde_json::Value) -> String {
    let empty = details.is_null() || details.as_object().is_some_and(|o| o.is_empty());
    if empty {
        String::new()
    } else {
        serde_json::to_string_pretty(details).unwrap_or_default()
    }
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![crate::api::audit::list_path(
        &AuditFilter::default().query_string(None),
    )]
}

/// The audit log page.
#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log" />
        <section class="page data-page audit-page">
            <h1>"Audit log"</h1>
            <NeedsJavaScript />
            <AccessGate
                allowed=can_administer
                forbidden_message=AUDIT_FORBIDDEN_MESSAGE
                return_to=AUDIT_PATH
                loading_label="Loading the audit log"
                page=|_| view! { <AuditView /> }.into_any()
            />
        </section>
    }
}

#[component]
fn AuditView() -> impl IntoView {
    let applied = RwSignal::new(AuditFilter::default());
    let results = LocalResource::new(move || {
        let filter = applied.get();
        async move {
            list_audit(&filter.query_string(None))
                .await
                .map(|page| (filter, page))
        }
    });
    view! {
        <section class="card filter-card" aria-labelledby="audit-filter-title">
            <h2 id="audit-filter-title" class="visually-hidden">"Filter the audit log"</h2>
            <AuditFilterForm applied=applied />
        </section>
        <Transition fallback=|| view! { <SkeletonTable label="Loading the audit log" /> }>
            {move || Suspend::new(async move {
                match in_browser(results).await {
                    Ok((filter, page)) => view! {
                        <AuditResults filter=filter entries=page.entries next_cursor=page.next_cursor />
                    }
                    .into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The audit log"
                            return_to=AUDIT_PATH
                            forbidden_message=AUDIT_FORBIDDEN_MESSAGE
                            on_retry=Callback::new(move |()| results.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditFilterForm(applied: RwSignal<AuditFilter>) -> impl IntoView {
    let action = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let from_value = local_input_to_rfc3339(&from.get_untracked());
        let to_value = local_input_to_rfc3339(&to.get_untracked());
        if let (Some(f), Some(t)) = (&from_value, &to_value) {
            if parse_utc_ms(f) >= parse_utc_ms(t) {
                set_error.set(Some(
                    "The range’s start must be before its end.".to_string(),
                ));
                return;
            }
        }
        set_error.set(None);
        applied.set(AuditFilter {
            action: action.get_untracked(),
            actor: actor.get_untracked(),
            from: from_value,
            to: to_value,
        });
    };
    view! {
        <form class="filter-form" on:submit=submit>
            <div class="field">
                <label class="field-label" for="audit-action">"Action"</label>
                <select id="audit-action" class="input select" on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="">"All actions"</option>
                    {ACTION_KINDS
                        .iter()
                        .map(|(prefix, label)| view! { <option value=*prefix>{*label}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field grow">
                <label class="field-label" for="audit-actor">"Actor"</label>
                <input id="audit-actor" class="input" type="text" placeholder="Email address" autocomplete="off" bind:value=actor />
            </div>
            <div class="field">
                <label class="field-label" for="audit-from">"From"</label>
                <input id="audit-from" class="input" type="datetime-local" bind:value=from />
            </div>
            <div class="field">
                <label class="field-label" for="audit-to">"To"</label>
                <input id="audit-to" class="input" type="datetime-local" bind:value=to />
            </div>
            <div class="actions filter-actions">
                <SubmitButton label="Apply filters" busy_label="Applying…" />
            </div>
            <FormAlert message=error />
        </form>
    }
}

#[component]
fn AuditResults(
    filter: AuditFilter,
    entries: Vec<AuditEntry>,
    next_cursor: Option<i64>,
) -> impl IntoView {
    let rows = RwSignal::new(entries);
    let cursor = RwSignal::new(next_cursor);
    let (busy, set_busy) = signal(false);
    let (more_error, set_more_error) = signal(None::<String>);
    let filter = StoredValue::new(filter);
    let load_more = Callback::new(move |()| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        set_busy.set(true);
        set_more_error.set(None);
        let query = filter.with_value(|f| f.query_string(Some(c)));
        leptos::task::spawn_local(async move {
            match list_audit(&query).await {
                Ok(page) => {
                    rows.update(|r| r.extend(page.entries));
                    cursor.set(page.next_cursor);
                }
                Err(e) => {
                    set_more_error.set(Some(format!("More entries could not be loaded. {e}")))
                }
            }
            set_busy.set(false);
        });
    });
    if rows.with_untracked(Vec::is_empty) {
        let filtered = filter.with_value(|f| *f != AuditFilter::default());
        return view! {
            <EmptyState
                title=if filtered { "No entries match these filters." } else { "The audit log is empty." }.to_string()
                hint=if filtered {
                    "Choose another action, clear the actor or widen the time range."
                } else {
                    "Sign-ins and every change made in the portal or through the API are recorded here."
                }
                testid="audit-empty"
            />
        }
        .into_any();
    }
    view! {
        <DataTable
            caption="Audit log, newest first"
            columns=vec!["When", "Actor", "Action", "Target", "Details"]
            testid="audit-table"
        >
            <For
                each=move || rows.get()
                key=|e| e.id
                children=move |e| view! { <AuditRow entry=e /> }
            />
        </DataTable>
        <FormAlert message=more_error />
        <LoadMore
            has_more=Signal::derive(move || cursor.with(Option::is_some))
            busy=busy
            shown=Signal::derive(move || rows.with(Vec::len))
            noun=("entry", "entries")
            on_more=load_more
        />
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let details = details_text(&entry.details);
    let origin = entry.ip.clone().map(|ip| format!("From {ip}"));
    view! {
        <tr data-action=entry.action.clone()>
            <td data-label="When"><time datetime=entry.at.clone()>{format_datetime_local(&entry.at)}</time></td>
            <td data-label="Actor">
                <span class="break">{entry.actor.clone()}</span>
                {origin.map(|o| view! { <span class="muted small block">{o}</span> })}
            </td>
            <td data-label="Action">
                <span>{action_text(&entry.action)}</span>
                {(action_text(&entry.action) != entry.action)
                    .then(|| view! { <span class="mono muted small block">{entry.action.clone()}</span> })}
            </td>
            <td data-label="Target"><span class="mono wrap">{entry.target.clone().unwrap_or_else(|| "—".to_string())}</span></td>
            <td data-label="Details">
                {if details.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    view! {
                        <details class="audit-details">
                            <summary>"Show"</summary>
                            <pre class="mono">{details}</pre>
                        </details>
                    }
                    .into_any()
                }}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_holds_the_filters_that_are_set() {
        assert_eq!(AuditFilter::default().query_string(None), "");
        let filter = AuditFilter {
            action: "auth.".to_string(),
            actor: " ana@example.com ".to_string(),
            from: Some("2026-11-27T10:00:00.000Z".to_string()),
            to: None,
        };
        assert_eq!(
            filter.query_string(Some(42)),
            "action=auth.&actor=ana%40example.com&from=2026-11-27T10%3A00%3A00.000Z&cursor=42"
        );
    }

    #[test]
    fn actions_read_as_words_where_known() {
        assert_eq!(
            action_text("auth.login_failed"),
            "Sign-ins and sign-outs: login failed"
        );
        assert_eq!(action_text("number.updated"), "Numbers: updated");
        assert_eq!(action_text("port_order.created"), "Porting orders: created");
        assert_eq!(action_text("weird.thing"), "weird.thing");
        assert_eq!(action_text("odd"), "odd");
    }

    #[test]
    fn empty_details_show_nothing() {
        assert_eq!(details_text(&serde_json::Value::Null), "");
        assert_eq!(details_text(&serde_json::json!({})), "");
        assert!(details_text(&serde_json::json!({"before": 1})).contains("\"before\": 1"));
    }
}
