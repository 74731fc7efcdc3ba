//! `/emergency-addresses`: the civic addresses emergency calls from the organisation's
//! numbers are routed to, with how many numbers use each. Engineers and admins create, edit
//! and delete them; deleting asks for a confirmation in place, and an address still in use is
//! refused by the API (409 `address_in_use`), whose message (how many numbers, what to do) is
//! shown on the row.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;

use crate::api::{
    numbers::{
        create_emergency_address, delete_emergency_address, list_emergency_addresses,
        update_emergency_address, EmergencyAddressInfo, EmergencyAddressRequest,
    },
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::form::FieldError;
use crate::components::{
    access::{any_user, can_edit, field_error, is_about_a_field, AccessGate},
    confirm_row::{ConfirmRow, ConfirmWords},
    data_table::DataTable,
    dialog::Dialog,
    empty_state::EmptyState,
    form::{described_by, FormAlert, NeedsJavaScript, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};

/// This page's path.
pub const EMERGENCY_ADDRESSES_PATH: &str = "/emergency-addresses";

/// The fields of an address as the API names them, with their labels, whether they are
/// required, and the browser's autocomplete token.
pub const ADDRESS_FIELDS: [(&str, &str, bool, &str); 7] = [
    ("label", "Name", false, "off"),
    ("street", "Street", true, "address-line1"),
    ("house_number", "House number", true, "off"),
    ("postal_code", "Postal code", true, "postal-code"),
    ("city", "City or town", true, "address-level2"),
    (
        "region",
        "State, province or county",
        false,
        "address-level1",
    ),
    ("country", "Country code", true, "country"),
];

/// The address as one line: "Street 12, 10115 City, DE".
pub fn address_line(a: &EmergencyAddressInfo) -> String {
    let mut line = format!(
        "{} {}, {} {}",
        a.street, a.house_number, a.postal_code, a.city
    );
    if !a.region.is_empty() {
        line.push_str(&format!(", {}", a.region));
    }
    line.push_str(&format!(", {}", a.country));
    line
}

/// "Not used", "1 number", "12 numbers".
pub fn usage_label(count: i64) -> String {
    match count {
        0 => "Not used".to_string(),
        1 => "1 number".to_string(),
        n => format!("{n} numbers"),
    }
}

/// The form's values as the request, or the name of the first required field left empty.
pub fn address_request(values: &[String; 7]) -> Result<EmergencyAddressRequest, &'static str> {
    for (i, (field, _, required, _)) in ADDRESS_FIELDS.iter().enumerate() {
        if *required && values[i].trim().is_empty() {
            return Err(field);
        }
    }
    let v = |i: usize| values[i].trim().to_string();
    Ok(EmergencyAddressRequest {
        label: v(0),
        street: v(1),
        house_number: v(2),
        postal_code: v(3),
        city: v(4),
        region: v(5),
        country: v(6).to_ascii_uppercase(),
    })
}

/// The form's starting values for `address` (empty for a new one).
pub fn address_values(address: Option<&EmergencyAddressInfo>) -> [String; 7] {
    match address {
        Some(a) => [
            a.label.clone(),
            a.street.clone(),
            a.house_number.clone(),
            a.postal_code.clone(),
            a.city.clone(),
            a.region.clone(),
            a.country.clone(),
        ],
        None => Default::default(),
    }
}

/// What a failed delete says.
pub fn delete_error_text(error: &ApiError) -> String {
    if error.code() == Some("address_in_use") {
        // The API's message says how many numbers and what to do.
        error.to_string()
    } else {
        format!("The address was not deleted. {error}")
    }
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![crate::api::numbers::EMERGENCY_ADDRESSES_PATH.to_string()]
}

/// The emergency addresses page.
#[component]
pub fn EmergencyAddressesPage() -> impl IntoView {
    view! {
        <Title text="Emergency addresses" />
        <section class="page data-page addresses-page">
            <h1>"Emergency addresses"</h1>
            <p class="page-intro muted">
                "Emergency services are sent to the address of the number that calls them. Keep these addresses accurate and give every number that can call emergency services one."
            </p>
            <NeedsJavaScript />
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's emergency addresses."
                return_to=EMERGENCY_ADDRESSES_PATH
                loading_label="Loading emergency addresses"
                page=|me| view! { <AddressesView editable=can_edit(&me) /> }.into_any()
            />
        </section>
    }
}

/// Which address the dialog edits.
#[derive(Debug, Clone, PartialEq)]
enum Editing {
    New,
    Existing(Box<EmergencyAddressInfo>),
}

#[component]
fn AddressesView(editable: bool) -> impl IntoView {
    let addresses = LocalResource::new(list_emergency_addresses);
    let editing = RwSignal::new(None::<Editing>);
    let (notice, set_notice) = signal(None::<String>);
    let on_saved = Callback::new(move |saved: EmergencyAddressInfo| {
        set_notice.set(Some(format!("Address “{}” saved.", saved.label)));
        editing.set(None);
        addresses.refetch();
    });
    let on_deleted = Callback::new(move |label: String| {
        set_notice.set(Some(format!("Address “{label}” deleted.")));
        addresses.refetch();
    });
    view! {
        {editable.then(|| view! {
            <div class="list-toolbar">
                <button type="button" class="button" on:click=move |_| editing.set(Some(Editing::New))>
                    "Add address"
                </button>
            </div>
        })}
        <div role="status" class="status-region">
            {move || notice.get().map(|text| view! { <p class="alert ok">{text}</p> })}
        </div>
        <Transition fallback=|| view! { <SkeletonTable label="Loading emergency addresses" /> }>
            {move || Suspend::new(async move {
                match in_browser(addresses).await {
                    Ok(list) if list.addresses.is_empty() => view! {
                        <EmptyState
                            title="No emergency addresses yet.".to_string()
                            hint=if editable {
                                "Add the address of each site your numbers are used at, then choose it for those numbers on the Numbers page."
                            } else {
                                "An engineer or administrator of your organisation can add them."
                            }
                            testid="addresses-empty"
                        />
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <AddressesTable
                            addresses=list.addresses
                            editable=editable
                            editing=editing
                            on_deleted=on_deleted
                        />
                    }
                    .into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The emergency addresses"
                            return_to=EMERGENCY_ADDRESSES_PATH
                            on_retry=Callback::new(move |()| addresses.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <Dialog
            id="address-dialog"
            title=Signal::derive(move || match editing.get() {
                Some(Editing::Existing(a)) => format!("Edit “{}”", a.label),
                _ => "Add an emergency address".to_string(),
            })
            open=Signal::derive(move || editing.with(Option::is_some))
            on_close=Callback::new(move |()| editing.set(None))
        >
            {move || editing.get().map(|e| {
                let existing = match e {
                    Editing::Existing(a) => Some(*a),
                    Editing::New => None,
                };
                view! {
                    <AddressForm
                        existing=existing
                        on_saved=on_saved
                        on_cancel=Callback::new(move |()| editing.set(None))
                    />
                }
            })}
        </Dialog>
    }
}

#[component]
fn AddressesTable(
    addresses: Vec<EmergencyAddressInfo>,
    editable: bool,
    editing: RwSignal<Option<Editing>>,
    on_deleted: Callback<String>,
) -> impl IntoView {
    let mut columns = vec!["Name", "Address", "Used by"];
    if editable {
        columns.push("");
    }
    let rows = addresses
        .into_iter()
        .map(|a| view! { <AddressRow address=a editable=editable editing=editing on_deleted=on_deleted /> })
        .collect_view();
    view! {
        <DataTable caption="Emergency addresses, by name" columns=columns testid="addresses-table">
            {rows}
        </DataTable>
    }
}

#[component]
fn AddressRow(
    address: EmergencyAddressInfo,
    editable: bool,
    editing: RwSignal<Option<Editing>>,
    on_deleted: Callback<String>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let id = address.id.clone();
    let label = address.label.clone();
    let delete = {
        let id = id.clone();
        let label = label.clone();
        Callback::new(move |()| {
            set_busy.set(true);
            set_error.set(None);
            let id = id.clone();
            let label = label.clone();
            leptos::task::spawn_local(async move {
                let result = delete_emergency_address(&id).await;
                // Busy ends first: reloading the list disposes this row.
                set_busy.set(false);
                confirming.set(false);
                match result {
                    Ok(_) => on_deleted.run(label),
                    Err(e) => set_error.set(Some(delete_error_text(&e))),
                }
            });
        })
    };
    let in_use = address.numbers_count;
    let edit_target = address.clone();
    let actions = editable.then(|| {
        let label = label.clone();
        view! {
            <td class="actions-cell">
                <div class="actions">
                    <button
                        type="button"
                        class="button secondary small"
                        aria-label=format!("Edit {label}")
                        on:click=move |_| editing.set(Some(Editing::Existing(Box::new(edit_target.clone()))))
                    >
                        "Edit"
                    </button>
                    <button
                        type="button"
                        class="button secondary small danger"
                        aria-label=format!("Delete {label}")
                        aria-expanded=move || if confirming.get() { "true" } else { "false" }
                        on:click=move |_| {
                            set_error.set(None);
                            confirming.update(|c| *c = !*c);
                        }
                    >
                        "Delete"
                    </button>
                </div>
            </td>
        }
    });
    let columns = if editable { 4 } else { 3 };
    let confirm_text = format!("Delete “{label}”? This cannot be undone.");
    view! {
        <tr data-address-id=id.clone()>
            <td data-label="Name"><strong>{address.label.clone()}</strong></td>
            <td data-label="Address">{address_line(&address)}</td>
            <td data-label="Used by">
                <span class="badge" class:ok={in_use > 0}>{usage_label(in_use)}</span>
            </td>
            {actions}
        </tr>
        <ConfirmRow
            columns=columns
            words=ConfirmWords {
                label: "Confirm deletion",
                confirm: "Delete address",
                busy: "Deleting…",
                cancel: "Keep it",
            }
            question=confirm_text
            confirming=confirming
            busy=busy
            on_confirm=delete
            error=error
            error_testid="delete-error"
        />
    }
}

/// Create or edit an address.
#[component]
fn AddressForm(
    existing: Option<EmergencyAddressInfo>,
    on_saved: Callback<EmergencyAddressInfo>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let values = address_values(existing.as_ref()).map(RwSignal::new);
    let (busy, set_busy) = signal(false);
    let error = RwSignal::new(None::<ApiError>);
    let (missing, set_missing) = signal(None::<&'static str>);
    let id = existing.as_ref().map(|a| a.id.clone());
    let field_names: Vec<&str> = ADDRESS_FIELDS.iter().map(|f| f.0).collect();
    let names_for_alert = field_names.clone();
    let form_error = Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| !is_about_a_field(e, &names_for_alert))
                .map(|e| format!("The address was not saved. {e}"))
        })
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let typed = values.map(|v| v.get_untracked());
        let request = match address_request(&typed) {
            Ok(request) => request,
            Err(field) => {
                set_missing.set(Some(field));
                return;
            }
        };
        set_missing.set(None);
        set_busy.set(true);
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let result = match id {
                Some(id) => update_emergency_address(&id, &request).await,
                None => create_emergency_address(&request).await,
            };
            // Busy ends before `on_saved` closes the dialog, which disposes this form.
            set_busy.set(false);
            match result {
                Ok(saved) => on_saved.run(saved),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let fields = ADDRESS_FIELDS
        .iter()
        .enumerate()
        .map(|(i, (name, label, required, autocomplete))| {
            let name: &'static str = name;
            let input_id: &'static str = match name {
                "label" => "address-label",
                "street" => "address-street",
                "house_number" => "address-house-number",
                "postal_code" => "address-postal-code",
                "city" => "address-city",
                "region" => "address-region",
                _ => "address-country",
            };
            let message = Signal::derive(move || {
                if missing.get() == Some(name) {
                    return Some(format!("Enter the {}.", label.to_lowercase()));
                }
                error.with(|e| e.as_ref().and_then(|e| field_error(e, name)))
            });
            let hint = match name {
                "label" => Some("Your own name for it, like “London HQ, 3rd floor”. Left empty, it is made from the street and city."),
                "country" => Some("Two letters, like GB or DE."),
                _ => None,
            };
            let has_hint = hint.is_some();
            let value = values[i];
            view! {
                <div class="field" class:has-error=move || message.with(Option::is_some)>
                    <label class="field-label" for=input_id>
                        {*label}
                        {(!required).then(|| view! { <span class="muted">" (optional)"</span> })}
                    </label>
                    {hint.map(|h| view! { <p class="field-hint" id=crate::components::form::hint_id(input_id)>{h}</p> })}
                    <input
                        id=input_id
                        name=name
                        class="input"
                        class:narrow=name == "country"
                        type="text"
                        required=*required
                        maxlength=if name == "country" { "2" } else { "200" }
                        autocomplete=*autocomplete
                        aria-invalid=move || message.with(Option::is_some).then_some("true")
                        aria-describedby=move || described_by(input_id, has_hint, message.with(Option::is_some))
                        bind:value=value
                    />
                    <FieldError id=input_id message=message />
                </div>
            }
        })
        .collect_view();
    view! {
        <form class="form address-form" on:submit=submit novalidate aria-busy=move || busy.get().then_some("true")>
            {fields}
            <FormAlert message=form_error />
            <div class="actions">
                <SubmitButton label="Save address" busy_label="Saving…" busy=busy />
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> EmergencyAddressInfo {
        EmergencyAddressInfo {
            id: "a1".to_string(),
            label: "HQ".to_string(),
            street: "Unter den Linden".to_string(),
            house_number: "5".to_string(),
            postal_code: "10117".to_string(),
            city: "Berlin".to_string(),
            region: String::new(),
            country: "DE".to_string(),
            numbers_count: 2,
            created_at: "2026-01-01T00:00:00Z".to_string(),
            updated_at: "2026-01-01T00:00:00Z".to_string(),
        }
    }

    #[test]
    fn addresses_read_as_one_line() {
        let mut a = address();
        assert_eq!(address_line(&a), "Unter den Linden 5, 10117 Berlin, DE");
        a.region = "Berlin".to_string();
        assert_eq!(
            address_line(&a),
            "Unter den Linden 5, 10117 Berlin, Berlin, DE"
        );
    }

    #[test]
    fn usage_counts_read_as_words() {
        assert_eq!(usage_label(0), "Not used");
        assert_eq!(usage_label(1), "1 number");
        assert_eq!(usage_label(7), "7 numbers");
    }

    #[test]
    fn the_form_round_trips_and_names_the_first_missing_field() {
        let values = address_values(Some(&address()));
        let request = address_request(&values).expect("complete");
        assert_eq!(request.street, "Unter den Linden");
        assert_eq!(request.country, "DE");
        let mut values = values;
        values[6] = " de ".to_string();
        assert_eq!(
            address_request(&values).map(|r| r.country),
            Ok("DE".to_string())
        );
        values[3] = "  ".to_string();
        assert_eq!(address_request(&values), Err("postal_code"));
        assert_eq!(address_request(&address_values(None)), Err("street"));
    }

    #[test]
    fn an_address_in_use_is_explained_by_the_api() {
        let in_use = ApiError::Api {
            status: 409,
            code: "address_in_use".to_string(),
            message:
                "2 numbers still use this emergency address; move them to another address first."
                    .to_string(),
            field: None,
            request_id: None,
        };
        assert_eq!(
            delete_error_text(&in_use),
            "2 numbers still use this emergency address; move them to another address first."
        );
        assert_eq!(
            delete_error_text(&ApiError::Network("x".into())),
            "The address was not deleted. The portal could not be reached. Check your connection and try again."
        );
    }
}
