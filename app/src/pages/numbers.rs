//! `/numbers`: the organisation's phone numbers: search and filters (kept in the page's query
//! string, so a link such as the overview's "numbers missing an emergency address" opens the
//! filtered list), a table with "Load more" (the API's keyset cursor), CSV export of the
//! filtered list, and, for engineers and admins, an edit dialog for the assignment label, the
//! service and the emergency address, with the API's refusals shown at the field.

mod edit;

use edit::EditNumberForm;
use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

use crate::api::{
    client::percent_encode,
    numbers::{list_numbers, NumberInfo},
    services::list_services,
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::{
    access::{any_user, can_edit, AccessGate},
    csv_export::CsvExportButton,
    data_table::{DataTable, LoadMore},
    dialog::Dialog,
    empty_state::EmptyState,
    form::{hint_id, FormAlert, NeedsJavaScript, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};

/// This page's path.
pub const NUMBERS_PATH: &str = "/numbers";

/// Longest assignment label the API accepts, in characters.
pub const MAX_ASSIGNMENT_CHARS: usize = 256;

/// Number statuses: API value and label.
pub const STATUSES: [(&str, &str); 5] = [
    ("active", "Active"),
    ("reserved", "Reserved"),
    ("porting_in", "Porting in"),
    ("porting_out", "Porting out"),
    ("released", "Released"),
];

/// The filters of the numbers list, as in the page's (and the API's) query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumbersFilter {
    /// Part of the number or of the assignment label.
    pub q: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// One of [`STATUSES`].
    pub status: String,
    /// A service id.
    pub service: String,
    /// Only numbers without an assignment label.
    pub unassigned: bool,
    /// Only numbers without an emergency address.
    pub missing_emergency_address: bool,
}

/// Whether a query-string flag is on (`true` or `1`).
fn flag(value: Option<String>) -> bool {
    matches!(value.as_deref(), Some("true" | "1"))
}

impl NumbersFilter {
    /// The filters from a query string's values (`get` looks one up by name).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let text = |key: &str| get(key).map(|v| v.trim().to_string()).unwrap_or_default();
        NumbersFilter {
            q: text("q"),
            country: text("country").to_ascii_uppercase(),
            status: text("status"),
            service: text("service"),
            unassigned: flag(get("unassigned")),
            missing_emergency_address: flag(get("missing_emergency_address")),
        }
    }

    /// The query string (without `?`) of the filters that are set.
    pub fn to_query_string(&self) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("country", &self.country),
            ("status", &self.status),
            ("service", &self.service),
        ] {
            if !value.is_empty() {
                pairs.push(format!("{key}={}", percent_encode(value)));
            }
        }
        if self.unassigned {
            pairs.push("unassigned=true".to_string());
        }
        if self.missing_emergency_address {
            pairs.push("missing_emergency_address=true".to_string());
        }
        pairs.join("&")
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        *self == NumbersFilter::default()
    }
}

/// The page's own URL for `filter`.
pub fn numbers_page_url(filter: &NumbersFilter) -> String {
    let qs = filter.to_query_string();
    if qs.is_empty() {
        NUMBERS_PATH.to_string()
    } else {
        format!("{NUMBERS_PATH}?{qs}")
    }
}

/// The API query of the page after `cursor` for the filters `qs`.
pub fn next_page_query(qs: &str, cursor: &str) -> String {
    let cursor = format!("cursor={}", percent_encode(cursor));
    if qs.is_empty() {
        cursor
    } else {
        format!("{qs}&{cursor}")
    }
}

/// A status's label.
pub fn status_label(status: &str) -> String {
    STATUSES
        .iter()
        .find(|(value, _)| *value == status)
        .map(|(_, label)| label.to_string())
        .unwrap_or_else(|| status.replace('_', " "))
}

/// A number type's label.
pub fn number_type_label(number_type: &str) -> &str {
    match number_type {
        "geographic" => "Geographic",
        "national" => "National",
        "toll_free" => "Toll-free",
        "mobile" => "Mobile",
        other => other,
    }
}

/// The reads the page makes when it first renders, for its route to start ahead.
/// The filter comes from the address's query, as the page's own.
pub fn first_reads() -> Vec<String> {
    let filter = use_query_map().with_untracked(|q| NumbersFilter::from_query(|k| q.get(k)));
    vec![
        crate::api::services::LIST_PATH.to_string(),
        crate::api::numbers::list_path(&filter.to_query_string()),
    ]
}

/// The numbers page.
#[component]
pub fn NumbersPage() -> impl IntoView {
    view! {
        <Title text="Numbers" />
        <section class="page data-page numbers-page">
            <h1>"Numbers"</h1>
            <NeedsJavaScript />
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's numbers."
                return_to=NUMBERS_PATH
                loading_label="Loading numbers"
                page=|me| view! { <NumbersView editable=can_edit(&me) /> }.into_any()
            />
        </section>
    }
}

/// Filters, export and the list.
#[component]
fn NumbersView(editable: bool) -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(|q| NumbersFilter::from_query(|k| q.get(k))));
    let services = LocalResource::new(list_services);
    let results = LocalResource::new(move || {
        let qs = filter.get().to_query_string();
        async move { list_numbers(&qs).await.map(|page| (qs, page)) }
    });
    let export_path =
        Signal::derive(move || format!("/numbers/export.csv?{}", filter.get().to_query_string()));

    view! {
        <section class="card filter-card" aria-labelledby="numbers-filter-title">
            <h2 id="numbers-filter-title" class="visually-hidden">"Search and filter"</h2>
            {move || {
                let initial = filter.get();
                view! { <NumbersFilterForm initial=initial services=services /> }
            }}
        </section>
        <div class="list-toolbar">
            <CsvExportButton path=export_path filename="numbers.csv" label="Export CSV" />
        </div>
        <Transition fallback=|| view! { <SkeletonTable label="Loading numbers" /> }>
            {move || Suspend::new(async move {
                match in_browser(results).await {
                    Ok((qs, page)) => {
                        let filtered = !filter.get_untracked().is_empty();
                        view! {
                            <NumbersResults
                                qs=qs
                                numbers=page.numbers
                                next_cursor=page.next_cursor
                                editable=editable
                                filtered=filtered
                            />
                        }
                            .into_any()
                    }
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The numbers"
                            return_to=NUMBERS_PATH
                            on_retry=Callback::new(move |()| results.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The search and filter form; applying it changes the page's URL.
#[component]
fn NumbersFilterForm(
    initial: NumbersFilter,
    services: LocalResource<Result<crate::api::services::ServicesResponse, ApiError>>,
) -> impl IntoView {
    let q = RwSignal::new(initial.q.clone());
    let country = RwSignal::new(initial.country.clone());
    let status = RwSignal::new(initial.status.clone());
    let service = RwSignal::new(initial.service.clone());
    let unassigned = RwSignal::new(initial.unassigned);
    let missing = RwSignal::new(initial.missing_emergency_address);
    let navigate = use_navigate();
    let apply = {
        let navigate = navigate.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let filter = NumbersFilter {
                q: q.get_untracked().trim().to_string(),
                country: country.get_untracked().trim().to_ascii_uppercase(),
                status: status.get_untracked(),
                service: service.get_untracked(),
                unassigned: unassigned.get_untracked(),
                missing_emergency_address: missing.get_untracked(),
            };
            navigate(&numbers_page_url(&filter), NavigateOptions::default());
        }
    };
    let clear = move |_| navigate(NUMBERS_PATH, NavigateOptions::default());
    let initial_status = initial.status.clone();
    let initial_service = initial.service.clone();
    let has_filters = !initial.is_empty();

    view! {
        <form class="filter-form" role="search" on:submit=apply>
            <div class="field grow">
                <label class="field-label" for="numbers-q">"Search"</label>
                <input
                    id="numbers-q"
                    class="input"
                    type="search"
                    placeholder="Number or assignment"
                    bind:value=q
                />
            </div>
            <div class="field">
                <label class="field-label" for="numbers-country">"Country"</label>
                <input
                    id="numbers-country"
                    class="input narrow"
                    type="text"
                    maxlength="2"
                    size="4"
                    autocomplete="off"
                    placeholder="GB"
                    aria-describedby=hint_id("numbers-country")
                    bind:value=country
                />
                <p class="field-hint visually-hidden" id=hint_id("numbers-country")>
                    "Two-letter country code, like GB or DE."
                </p>
            </div>
            <div class="field">
                <label class="field-label" for="numbers-status">"Status"</label>
                <select
                    id="numbers-status"
                    class="input select"
                    on:change=move |ev| status.set(event_target_value(&ev))
                >
                    <option value="" selected=initial_status.is_empty()>"Any status"</option>
                    {STATUSES
                        .iter()
                        .map(|(value, label)| {
                            view! {
                                <option value=*value selected=initial_status == *value>{*label}</option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label class="field-label" for="numbers-service">"Service"</label>
                <select
                    id="numbers-service"
                    class="input select"
                    on:change=move |ev| service.set(event_target_value(&ev))
                >
                    <option value="" selected=initial_service.is_empty()>"Any service"</option>
                    <Transition fallback=|| ()>
                        {
                            let initial_service = initial_service.clone();
                            move || {
                                let initial_service = initial_service.clone();
                                Suspend::new(async move {
                                    in_browser(services)
                                        .await
                                        .map(|s| s.services)
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(|s| {
                                            let selected = s.id == initial_service;
                                            view! { <option value=s.id selected=selected>{s.name}</option> }
                                        })
                                        .collect_view()
                                })
                            }
                        }
                    </Transition>
                </select>
            </div>
            <div class="filter-checks">
                <div class="check-field">
                    <input id="numbers-unassigned" type="checkbox" bind:checked=unassigned />
                    <label for="numbers-unassigned">"Unassigned only"</label>
                </div>
                <div class="check-field">
                    <input id="numbers-missing" type="checkbox" bind:checked=missing />
                    <label for="numbers-missing">"Missing an emergency address"</label>
                </div>
            </div>
            <div class="actions filter-actions">
                <SubmitButton label="Apply filters" busy_label="Applying…" />
                {has_filters.then(|| view! {
                    <button type="button" class="button secondary" on:click=clear.clone()>"Clear filters"</button>
                })}
            </div>
        </form>
    }
}

/// The table, "Load more" and the edit dialog.
#[component]
fn NumbersResults(
    qs: String,
    numbers: Vec<NumberInfo>,
    next_cursor: Option<String>,
    editable: bool,
    filtered: bool,
) -> impl IntoView {
    let rows = RwSignal::new(numbers);
    let cursor = RwSignal::new(next_cursor);
    let (busy, set_busy) = signal(false);
    let (more_error, set_more_error) = signal(None::<String>);
    let editing = RwSignal::new(None::<NumberInfo>);
    let (notice, set_notice) = signal(None::<String>);

    let load_more = Callback::new(move |()| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        set_busy.set(true);
        set_more_error.set(None);
        let query = next_page_query(&qs, &c);
        leptos::task::spawn_local(async move {
            match list_numbers(&query).await {
                Ok(page) => {
                    rows.update(|r| r.extend(page.numbers));
                    cursor.set(page.next_cursor);
                }
                Err(e) => {
                    set_more_error.set(Some(format!("More numbers could not be loaded. {e}")))
                }
            }
            set_busy.set(false);
        });
    });
    let on_saved = Callback::new(move |saved: NumberInfo| {
        set_notice.set(Some(format!("{} saved.", saved.e164)));
        rows.update(|r| {
            if let Some(row) = r.iter_mut().find(|n| n.e164 == saved.e164) {
                *row = saved;
            }
        });
        editing.set(None);
    });

    if rows.with_untracked(Vec::is_empty) {
        let (title, hint) = if filtered {
            (
                "No numbers match these filters.",
                "Change the search or clear the filters to see more numbers.",
            )
        } else {
            (
                "Your organisation has no numbers yet.",
                "Numbers appear here once the carrier has allocated them to you; ask your account manager for new numbers.",
            )
        };
        return view! { <EmptyState title=title.to_string() hint=hint testid="numbers-empty" /> }
            .into_any();
    }

    let mut columns = vec![
        "Number",
        "Country",
        "Status",
        "Service",
        "Assignment",
        "Emergency address",
    ];
    if editable {
        columns.push("");
    }
    view! {
        <div role="status" class="status-region">
            {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
        </div>
        <DataTable caption="Numbers, by number" columns=columns testid="numbers-table">
            <For
                each=move || rows.get()
                key=|n| (n.e164.clone(), n.updated_at.clone())
                children=move |n| view! { <NumberRow number=n editable=editable editing=editing /> }
            />
        </DataTable>
        <FormAlert message=more_error />
        <LoadMore
            has_more=Signal::derive(move || cursor.with(Option::is_some))
            busy=busy
            shown=Signal::derive(move || rows.with(Vec::len))
            noun=("number", "numbers")
            on_more=load_more
        />
        <Dialog
            id="edit-number"
            title=Signal::derive(move || {
                editing.with(|n| n.as_ref().map(|n| format!("Edit {}", n.e164)).unwrap_or_default())
            })
            open=Signal::derive(move || editing.with(Option::is_some))
            on_close=Callback::new(move |()| editing.set(None))
        >
            {move || {
                editing
                    .get()
                    .map(|n| {
                        view! {
                            <EditNumberForm
                                number=n
                                on_saved=on_saved
                                on_cancel=Callback::new(move |()| editing.set(None))
                            />
                        }
                    })
            }}
        </Dialog>
    }
    .into_any()
}

/// One number.
#[component]
fn NumberRow(
    number: NumberInfo,
    editable: bool,
    editing: RwSignal<Option<NumberInfo>>,
) -> impl IntoView {
    let status_class = match number.status.as_str() {
        "active" => "badge ok",
        "released" => "badge",
        _ => "badge warn",
    };
    let address = match &number.emergency_address_label {
        Some(label) => view! { <span>{label.clone()}</span> }.into_any(),
        None => view! { <span class="badge bad">"Missing"</span> }.into_any(),
    };
    let e164 = number.e164.clone();
    let edit = editable.then(|| {
        let n = number.clone();
        view! {
            <td class="actions-cell">
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=format!("Edit {e164}")
                    on:click=move |_| editing.set(Some(n.clone()))
                >
                    "Edit"
                </button>
            </td>
        }
    });
    view! {
        <tr data-e164=number.e164.clone()>
            <td data-label="Number">
                <span class="number-cell">
                    <span class="mono e164">{number.e164.clone()}</span>
                    <span class="muted small">{number_type_label(&number.number_type).to_string()}</span>
                </span>
            </td>
            <td data-label="Country">{number.country.clone()}</td>
            <td data-label="Status"><span class=status_class>{status_label(&number.status)}</span></td>
            <td data-label="Service">
                {number.service_name.clone().unwrap_or_else(|| "—".to_string())}
            </td>
            <td data-label="Assignment">
                {match number.assignment.clone() {
                    Some(a) => view! { <span>{a}</span> }.into_any(),
                    None => view! { <span class="muted">"Unassigned"</span> }.into_any(),
                }}
            </td>
            <td data-label="Emergency address">{address}</td>
            {edit}
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn number() -> NumberInfo {
        NumberInfo {
            e164: "+442079460000".to_string(),
            number_type: "geographic".to_string(),
            country: "GB".to_string(),
            status: "active".to_string(),
            service_id: Some("svc1".to_string()),
            service_name: Some("London trunk".to_string()),
            assignment: Some("Reception".to_string()),
            emergency_calling: true,
            emergency_address_id: Some("addr1".to_string()),
            emergency_address_label: Some("HQ".to_string()),
            created_at: "2026-01-01T00:00:00Z".to_string(),
            updated_at: "2026-01-01T00:00:00Z".to_string(),
        }
    }

    #[test]
    fn filters_round_trip_through_the_query_string() {
        let filter = NumbersFilter {
            q: "+44 20".to_string(),
            country: "GB".to_string(),
            status: "active".to_string(),
            service: String::new(),
            unassigned: false,
            missing_emergency_address: true,
        };
        let qs = filter.to_query_string();
        assert_eq!(
            qs,
            "q=%2B44%2020&country=GB&status=active&missing_emergency_address=true"
        );
        let pairs: Vec<(&str, String)> = vec![
            ("q", "+44 20".to_string()),
            ("country", "gb".to_string()),
            ("status", "active".to_string()),
            ("missing_emergency_address", "true".to_string()),
        ];
        let parsed = NumbersFilter::from_query(|k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(parsed, filter);
        assert_eq!(numbers_page_url(&NumbersFilter::default()), "/numbers");
        assert!(NumbersFilter::default().is_empty());
        assert!(!filter.is_empty());
    }

    #[test]
    fn flags_need_a_true_value() {
        let parsed =
            NumbersFilter::from_query(|k| (k == "unassigned").then(|| "false".to_string()));
        assert!(!parsed.unassigned);
        let parsed = NumbersFilter::from_query(|k| (k == "unassigned").then(|| "1".to_string()));
        assert!(parsed.unassigned);
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        assert_eq!(next_page_query("", "abc"), "cursor=abc");
        assert_eq!(
            next_page_query("country=GB", "a+b"),
            "country=GB&cursor=a%2Bb"
        );
    }

    #[test]
    fn labels_read_as_words() {
        assert_eq!(status_label("porting_in"), "Porting in");
        assert_eq!(status_label("weird_state"), "weird state");
        assert_eq!(number_type_label("toll_free"), "Toll-free");
    }
}
