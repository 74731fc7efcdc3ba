//! The number's edit dialog: its assignment label, service and emergency address, with the
//! API's refusals shown at the field, and the change sent as only what differs.

use leptos::{ev::SubmitEvent, prelude::*};

use crate::api::{
    numbers::{list_emergency_addresses, update_number, NumberInfo, NumberPatch},
    services::list_services,
    ApiError,
};
use crate::components::browser::in_browser;
use crate::components::{
    access::{field_error, is_about_a_field},
    form::{described_by, hint_id, FieldError, FormAlert, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};

use super::{number_type_label, status_label, MAX_ASSIGNMENT_CHARS, NUMBERS_PATH};

/// The change the edit form asks for: only fields that differ from `before` (an empty text
/// or choice clears the field). `None` when nothing changed.
pub fn number_patch(
    before: &NumberInfo,
    assignment: &str,
    service_id: &str,
    emergency_address_id: &str,
) -> Option<NumberPatch> {
    let opt = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    let assignment = opt(assignment);
    let service_id = opt(service_id);
    let address = opt(emergency_address_id);
    let patch = NumberPatch {
        assignment: (assignment != before.assignment).then_some(assignment),
        service_id: (service_id != before.service_id).then_some(service_id),
        emergency_address_id: (address != before.emergency_address_id).then_some(address),
    };
    (patch != NumberPatch::default()).then_some(patch)
}

/// Why an assignment label would be refused, before it is sent.
pub fn assignment_problem(assignment: &str) -> Option<String> {
    let a = assignment.trim();
    if a.chars().count() > MAX_ASSIGNMENT_CHARS {
        Some(format!(
            "The assignment is longer than {MAX_ASSIGNMENT_CHARS} characters; shorten it."
        ))
    } else if a.chars().any(char::is_control) {
        Some("The assignment contains control characters; remove them.".to_string())
    } else {
        None
    }
}

/// The edit dialog's form: it loads the services and addresses to choose from.
#[component]
pub(super) fn EditNumberForm(
    number: NumberInfo,
    #[prop(into)] on_saved: Callback<NumberInfo>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let choices = LocalResource::new(|| async {
        let services = list_services().await?;
        let addresses = list_emergency_addresses().await?;
        Ok::<_, ApiError>((services.services, addresses.addresses))
    });
    let number = StoredValue::new(number);
    view! {
        <Transition fallback=|| view! { <SkeletonTable label="Loading the choices" rows=3 /> }>
            {move || Suspend::new(async move {
                match in_browser(choices).await {
                    Ok((services, addresses)) => view! {
                        <EditNumberFields
                            number=number.get_value()
                            services=services
                            addresses=addresses
                            on_saved=on_saved
                            on_cancel=on_cancel
                        />
                    }
                    .into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The services and emergency addresses"
                            return_to=NUMBERS_PATH
                            on_retry=Callback::new(move |()| choices.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The fields: assignment label, service, emergency address.
#[component]
fn EditNumberFields(
    number: NumberInfo,
    services: Vec<crate::api::services::ServiceInfo>,
    addresses: Vec<crate::api::numbers::EmergencyAddressInfo>,
    on_saved: Callback<NumberInfo>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let assignment = RwSignal::new(number.assignment.clone().unwrap_or_default());
    let service = RwSignal::new(number.service_id.clone().unwrap_or_default());
    let address = RwSignal::new(number.emergency_address_id.clone().unwrap_or_default());
    let (busy, set_busy) = signal(false);
    let error = RwSignal::new(None::<ApiError>);
    let (local_error, set_local_error) = signal(None::<String>);
    let fields = ["assignment", "service_id", "emergency_address_id"];
    let at = move |field: &'static str| {
        Signal::derive(move || {
            if field == "assignment" {
                if let Some(problem) = local_error.get() {
                    return Some(problem);
                }
            }
            error.with(|e| e.as_ref().and_then(|e| field_error(e, field)))
        })
    };
    let form_error = Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| !is_about_a_field(e, &fields))
                .map(|e| format!("The number was not saved. {e}"))
        })
    });
    let before = StoredValue::new(number.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let typed = assignment.get_untracked();
        if let Some(problem) = assignment_problem(&typed) {
            set_local_error.set(Some(problem));
            return;
        }
        set_local_error.set(None);
        let before = before.get_value();
        let Some(patch) = number_patch(
            &before,
            &typed,
            &service.get_untracked(),
            &address.get_untracked(),
        ) else {
            // Nothing to save: closing is all the person asked for.
            on_cancel.run(());
            return;
        };
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let result = update_number(&before.e164, &patch).await;
            // Busy ends before `on_saved` closes the dialog, which disposes this form.
            set_busy.set(false);
            match result {
                Ok(saved) => on_saved.run(saved),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let assignment_error = at("assignment");
    let service_error = at("service_id");
    let address_error = at("emergency_address_id");
    let current_service = number.service_id.clone().unwrap_or_default();
    let current_address = number.emergency_address_id.clone().unwrap_or_default();
    let address_hint = if number.emergency_calling {
        "This number can place emergency calls, so it needs an emergency address."
    } else {
        "Where emergency services are sent when this number calls them."
    };

    view! {
        <form class="form" on:submit=submit aria-busy=move || busy.get().then_some("true")>
            <p class="muted">
                {number_type_label(&number.number_type).to_string()} " number in " {number.country.clone()} ", "
                {status_label(&number.status).to_lowercase()} "."
            </p>
            <div class="field" class:has-error=move || assignment_error.with(Option::is_some)>
                <label class="field-label" for="number-assignment">"Assignment"</label>
                <p class="field-hint" id=hint_id("number-assignment")>
                    "Who or what answers this number, e.g. a Teams user or a queue. Leave empty for unassigned."
                </p>
                <input
                    id="number-assignment"
                    class="input"
                    type="text"
                    maxlength="300"
                    autocomplete="off"
                    aria-invalid=move || assignment_error.with(Option::is_some).then_some("true")
                    aria-describedby=move || described_by("number-assignment", true, assignment_error.with(Option::is_some))
                    bind:value=assignment
                />
                <FieldError id="number-assignment" message=assignment_error />
            </div>
            <div class="field" class:has-error=move || service_error.with(Option::is_some)>
                <label class="field-label" for="number-service">"Service"</label>
                <select
                    id="number-service"
                    class="input select"
                    aria-invalid=move || service_error.with(Option::is_some).then_some("true")
                    aria-describedby=move || described_by("number-service", false, service_error.with(Option::is_some))
                    on:change=move |ev| service.set(event_target_value(&ev))
                >
                    <option value="" selected=current_service.is_empty()>"No service"</option>
                    {services
                        .into_iter()
                        .map(|s| {
                            let selected = s.id == current_service;
                            view! { <option value=s.id selected=selected>{s.name}</option> }
                        })
                        .collect_view()}
                </select>
                <FieldError id="number-service" message=service_error />
            </div>
            <div class="field" class:has-error=move || address_error.with(Option::is_some)>
                <label class="field-label" for="number-address">"Emergency address"</label>
                <p class="field-hint" id=hint_id("number-address")>{address_hint}</p>
                <select
                    id="number-address"
                    class="input select"
                    aria-invalid=move || address_error.with(Option::is_some).then_some("true")
                    aria-describedby=move || described_by("number-address", true, address_error.with(Option::is_some))
                    on:change=move |ev| address.set(event_target_value(&ev))
                >
                    <option value="" selected=current_address.is_empty()>"No emergency address"</option>
                    {addresses
                        .into_iter()
                        .map(|a| {
                            let selected = a.id == current_address;
                            let text = format!("{} — {} {}, {}", a.label, a.street, a.house_number, a.city);
                            view! { <option value=a.id selected=selected>{text}</option> }
                        })
                        .collect_view()}
                </select>
                <FieldError id="number-address" message=address_error />
            </div>
            <FormAlert message=form_error />
            <div class="actions">
                <SubmitButton label="Save" busy_label="Saving…" busy=busy />
                <button type="button" class="button secondary" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::number;
    use super::*;

    #[test]
    fn only_changed_fields_are_sent() {
        let n = number();
        assert_eq!(number_patch(&n, " Reception ", "svc1", "addr1"), None);
        assert_eq!(
            number_patch(&n, "", "svc1", "addr1"),
            Some(NumberPatch {
                assignment: Some(None),
                ..NumberPatch::default()
            })
        );
        assert_eq!(
            number_patch(&n, "Reception", "svc2", ""),
            Some(NumberPatch {
                assignment: None,
                service_id: Some(Some("svc2".to_string())),
                emergency_address_id: Some(None),
            })
        );
    }

    #[test]
    fn long_or_control_character_assignments_are_caught_early() {
        assert_eq!(assignment_problem("Reception"), None);
        assert!(assignment_problem(&"x".repeat(257)).is_some());
        assert_eq!(assignment_problem(&"x".repeat(256)), None);
        assert!(assignment_problem("a\u{7}b").is_some());
    }
}
