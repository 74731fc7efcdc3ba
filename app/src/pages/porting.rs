//! `/porting`: orders that move the organisation's numbers from another carrier to us, each
//! with its status timeline; engineers and admins submit new orders here.
//!
//! The list comes from `GET /api/v1/port-orders`; choosing an order loads its history
//! (`GET /api/v1/port-orders/{id}`). The form checks what it can before sending (numbers in
//! E.164, at most 100, a carrier, a date) and shows the API's refusals at the field concerned.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;

use crate::api::auth::MeResponse;
use crate::api::org::selected_org;
use crate::api::porting::{
    create_port_order, get_port_order, list_port_orders, CreatePortOrderRequest, PortOrderDetail,
    PortOrderInfo,
};
use crate::api::services::list_services;
use crate::api::ApiError;
use crate::components::browser::in_browser;
use crate::components::org_switcher::{needs_customer_choice, ChooseCustomerFirst};
use crate::components::{
    access::{any_user, can_edit, field_error, is_about_a_field, AccessGate},
    data_table::DataTable,
    empty_state::EmptyState,
    form::{Field, FormAlert, SubmitButton},
    load_error::LoadError,
    skeleton::{SkeletonBlock, SkeletonTable},
};
use crate::format::{format_calendar_date, format_datetime_local, iso_hours_ago};

/// This page's path.
pub const PORTING_PATH: &str = "/porting";

/// Most numbers one order may carry (the API's limit).
pub const MAX_NUMBERS: usize = 100;

/// The fields of the form, as the API names them.
const FIELDS: [&str; 6] = [
    "numbers",
    "losing_carrier",
    "requested_for",
    "country",
    "number_type",
    "service_id",
];

/// An order's status as words with its badge style.
pub fn order_status(status: &str) -> (&'static str, &'static str) {
    match status {
        "draft" => ("", "Draft"),
        "submitted" => ("warn", "Submitted"),
        "confirmed" => ("warn", "Confirmed"),
        "completed" => ("ok", "Completed"),
        "rejected" => ("bad", "Rejected"),
        "cancelled" => ("", "Cancelled"),
        _ => ("", "Unknown"),
    }
}

/// The numbers typed in the form: one per line (or separated by commas or spaces), written
/// with or without spaces, dashes and brackets; each once, in E.164.
pub fn parse_numbers(text: &str) -> Result<Vec<String>, String> {
    let mut numbers: Vec<String> = Vec::new();
    for raw in text.split(['\n', ',', ';']) {
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '.'))
            .collect();
        if cleaned.is_empty() {
            continue;
        }
        let digits = cleaned.strip_prefix('+').unwrap_or("");
        if digits.len() < 8 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "“{}” is not a number in international format: write + and the country code, e.g. +442071234567.",
                raw.trim()
            ));
        }
        if !numbers.contains(&cleaned) {
            numbers.push(cleaned);
        }
    }
    match numbers.len() {
        0 => Err("Enter the numbers to port, one per line.".to_string()),
        n if n > MAX_NUMBERS => Err(format!(
            "One order ports at most {MAX_NUMBERS} numbers; this list has {n}. Split it into several orders."
        )),
        _ => Ok(numbers),
    }
}

/// The UTC date `days` from now (`YYYY-MM-DD`), from the browser's clock.
fn date_in_days(days: f64) -> String {
    iso_hours_ago(-days * 24.0)
        .and_then(|iso| iso.get(..10).map(str::to_string))
        .unwrap_or_default()
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![crate::api::porting::LIST_PATH.to_string()]
}

/// The porting page.
#[component]
pub fn PortingPage() -> impl IntoView {
    view! {
        <Title text="Porting" />
        <section class="page porting-page">
            <h1>"Porting"</h1>
            <p class="muted">"Orders that move your numbers from another carrier to us, and where each one stands."</p>
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's porting orders."
                return_to=PORTING_PATH
                loading_label="Loading porting orders"
                page=|me| if needs_customer_choice(&me, selected_org().as_deref()) { view! { <ChooseCustomerFirst /> }.into_any() } else { view! { <Porting me=me /> }.into_any() }
            />
        </section>
    }
}

#[component]
fn Porting(me: MeResponse) -> impl IntoView {
    let orders = LocalResource::new(list_port_orders);
    let selected = RwSignal::new(None::<String>);
    let editor = can_edit(&me);
    view! {
        {editor.then(|| view! { <NewOrderForm orders=orders selected=selected /> })}
        {(!editor).then(|| view! {
            <p class="muted small">"Engineers and admins of your organisation can submit porting orders."</p>
        })}
        <div class="porting-layout">
            <section class="card" aria-labelledby="orders-title">
                <h2 id="orders-title">"Orders"</h2>
                <Transition fallback=|| view! { <SkeletonTable label="Loading porting orders" /> }>
                    {move || Suspend::new(async move {
                        match in_browser(orders).await {
                            Ok(list) if list.orders.is_empty() => view! {
                                <EmptyState
                                    title="You have no porting orders.".to_string()
                                    hint=if editor {
                                        "To bring numbers over from another carrier, fill in the form above."
                                    } else {
                                        "Ask an engineer or admin of your organisation to submit one."
                                    }
                                    testid="orders-empty"
                                />
                            }
                            .into_any(),
                            Ok(list) => view! {
                                <DataTable
                                    caption="Porting orders, newest first"
                                    columns=vec!["Losing carrier", "Numbers", "Requested for", "Status", ""]
                                    testid="port-orders"
                                >
                                    {list.orders.into_iter().map(|o| view! { <OrderRow order=o selected=selected /> }).collect_view()}
                                </DataTable>
                            }
                            .into_any(),
                            Err(error) => view! {
                                <LoadError
                                    error=error
                                    what="Your porting orders"
                                    return_to=PORTING_PATH
                                    on_retry=Callback::new(move |()| orders.refetch())
                                />
                            }
                            .into_any(),
                        }
                    })}
                </Transition>
            </section>
            {move || selected.get().map(|id| view! { <OrderDetail id=id /> })}
        </div>
    }
}

#[component]
fn OrderRow(order: PortOrderInfo, selected: RwSignal<Option<String>>) -> impl IntoView {
    let (class, status) = order_status(&order.status);
    let id = order.id.clone();
    let row_id = StoredValue::new(id.clone());
    let is_selected =
        move || row_id.with_value(|id| selected.with(|s| s.as_deref() == Some(id.as_str())));
    let first = order.numbers.first().cloned().unwrap_or_default();
    // Only the number itself stays on one line; " and N more" may wrap after it.
    let more = match order.numbers.len() {
        0 | 1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    let date = match &order.foc_date {
        Some(foc) => format!(
            "{} (confirmed {})",
            format_calendar_date(&order.requested_for),
            format_calendar_date(foc)
        ),
        None => format_calendar_date(&order.requested_for),
    };
    view! {
        <tr data-order-id=order.id.clone() class:selected-row=is_selected>
            <th scope="row" data-label="Losing carrier">{order.losing_carrier.clone()}</th>
            <td data-label="Numbers"><span class="mono e164">{first}</span>{more}</td>
            <td data-label="Requested for">{date}</td>
            <td data-label="Status"><span class=format!("badge {class}")>{status}</span></td>
            <td class="actions-cell">
                <button
                    type="button"
                    class="button secondary small"
                    aria-pressed=move || if is_selected() { "true" } else { "false" }
                    on:click=move |_| selected.set(Some(id.clone()))
                >
                    "Timeline"
                    <span class="visually-hidden">{format!(" of the order from {}", order.losing_carrier)}</span>
                </button>
            </td>
        </tr>
    }
}

#[component]
fn OrderDetail(id: String) -> impl IntoView {
    let order_id = id.clone();
    let detail = LocalResource::new(move || {
        let id = order_id.clone();
        async move { get_port_order(&id).await }
    });
    view! {
        <section class="card order-detail" aria-labelledby="order-title" data-testid="order-detail">
            <Transition fallback=|| view! { <SkeletonBlock label="Loading the order" /> }>
                {move || Suspend::new(async move {
                    match in_browser(detail).await {
                        Ok(detail) => view! { <OrderTimeline detail=detail /> }.into_any(),
                        Err(error) => view! {
                            <h2 id="order-title">"Order"</h2>
                            <LoadError
                                error=error
                                what="This order"
                                return_to=PORTING_PATH
                                on_retry=Callback::new(move |()| detail.refetch())
                            />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OrderTimeline(detail: PortOrderDetail) -> impl IntoView {
    let PortOrderDetail { order, events } = detail;
    let (class, status) = order_status(&order.status);
    view! {
        <h2 id="order-title">{format!("Order from {}", order.losing_carrier)}</h2>
        <p><span class=format!("badge {class}")>{status}</span></p>
        <dl class="stat-list">
            <div><dt>"Requested for"</dt><dd>{format_calendar_date(&order.requested_for)}</dd></div>
            <div><dt>"Confirmed date (FOC)"</dt><dd>{order.foc_date.as_deref().map(format_calendar_date).unwrap_or_else(|| "Not confirmed yet".to_string())}</dd></div>
            <div><dt>"Submitted"</dt><dd>{format_datetime_local(&order.created_at)}</dd></div>
        </dl>
        <h3>"Numbers"</h3>
        <ul class="number-chips">
            {order.numbers.iter().map(|n| view! { <li class="mono e164">{n.clone()}</li> }).collect_view()}
        </ul>
        <h3>"Status timeline"</h3>
        <ol class="timeline" data-testid="order-timeline">
            {events.into_iter().map(|e| {
                let (class, status) = order_status(&e.status);
                view! {
                    <li data-status=e.status.clone()>
                        <span class=format!("badge {class}")>{status}</span>
                        " " <time datetime=e.at.clone()>{format_datetime_local(&e.at)}</time>
                        <span class="muted small">" · " {e.actor.clone()}</span>
                        {(!e.note.is_empty()).then(|| view! { <p>{e.note.clone()}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

#[component]
fn NewOrderForm(
    orders: LocalResource<Result<crate::api::porting::PortOrdersResponse, ApiError>>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let services = LocalResource::new(list_services);
    let numbers = RwSignal::new(String::new());
    let carrier = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let number_type = RwSignal::new("geographic".to_string());
    let service = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let local_numbers_error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    // The date needs the browser's clock: filled in once hydrated.
    Effect::new(move |_| {
        if date.get_untracked().is_empty() {
            date.set(date_in_days(14.0));
        }
    });

    let field_message = move |field: &'static str| {
        Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| field_error(e, field))))
    };
    let numbers_error = Signal::derive(move || {
        local_numbers_error
            .get()
            .or_else(|| error.with(|e| e.as_ref().and_then(|e| field_error(e, "numbers"))))
    });
    let form_message = Signal::derive(move || {
        error.with(|e| {
            e.as_ref()
                .filter(|e| !is_about_a_field(e, &FIELDS))
                .map(|e| format!("The order was not submitted. {e}"))
        })
    });

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        done.set(None);
        let parsed = match parse_numbers(&numbers.get_untracked()) {
            Ok(list) => list,
            Err(message) => {
                local_numbers_error.set(Some(message));
                return;
            }
        };
        local_numbers_error.set(None);
        let request = CreatePortOrderRequest {
            numbers: parsed,
            losing_carrier: carrier.get_untracked().trim().to_string(),
            requested_for: date.get_untracked(),
            country: country.get_untracked().trim().to_ascii_uppercase(),
            number_type: Some(number_type.get_untracked()),
            service_id: Some(service.get_untracked()).filter(|s| !s.is_empty()),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match create_port_order(&request).await {
                Ok(detail) => {
                    done.set(Some(format!(
                        "The order for {} numbers from {} was submitted.",
                        detail.order.numbers.len(),
                        detail.order.losing_carrier
                    )));
                    numbers.set(String::new());
                    selected.set(Some(detail.order.id.clone()));
                    orders.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    view! {
        <details class="card new-order">
            <summary><h2 class="inline-heading">"New porting order"</h2></summary>
            <form class="form porting-form" on:submit=submit novalidate>
                <Field label="Numbers to port" for_id="port-numbers" hint="One per line, in international format (+ and the country code). Up to 100 of one country." error=numbers_error>
                    <textarea
                        id="port-numbers"
                        class="input"
                        rows="4"
                        required
                        aria-describedby="port-numbers-hint"
                        prop:value=move || numbers.get()
                        on:input=move |ev| numbers.set(event_target_value(&ev))
                    ></textarea>
                </Field>
                <div class="form-row">
                    <Field label="Losing carrier" for_id="port-carrier" error=field_message("losing_carrier")>
                        <input id="port-carrier" class="input" type="text" required autocomplete="off"
                            prop:value=move || carrier.get()
                            on:input=move |ev| carrier.set(event_target_value(&ev)) />
                    </Field>
                    <Field label="Requested date" for_id="port-date" error=field_message("requested_for")>
                        <input id="port-date" class="input" type="date" required
                            min=move || date_in_days(0.0)
                            prop:value=move || date.get()
                            on:input=move |ev| date.set(event_target_value(&ev)) />
                    </Field>
                    <Field label="Country" for_id="port-country" hint="Two letters, e.g. GB." error=field_message("country")>
                        <input id="port-country" class="input" type="text" required maxlength="2" autocomplete="off"
                            aria-describedby="port-country-hint"
                            prop:value=move || country.get()
                            on:input=move |ev| country.set(event_target_value(&ev)) />
                    </Field>
                    <Field label="Number type" for_id="port-type" error=field_message("number_type")>
                        <select id="port-type" class="input select" on:change=move |ev| number_type.set(event_target_value(&ev))>
                            <option value="geographic" selected=true>"Geographic"</option>
                            <option value="national">"National"</option>
                            <option value="toll_free">"Toll-free"</option>
                            <option value="mobile">"Mobile"</option>
                        </select>
                    </Field>
                    <Field label="Route over service" for_id="port-service" error=field_message("service_id")>
                        <select id="port-service" class="input select" on:change=move |ev| service.set(event_target_value(&ev))>
                            <option value="">"Decide later"</option>
                            {move || services.get().and_then(Result::ok).map(|list| {
                                list.services.into_iter().map(|s| view! {
                                    <option value=s.id.clone()>{s.name.clone()}</option>
                                }).collect_view()
                            })}
                        </select>
                    </Field>
                </div>
                <FormAlert message=form_message />
                {move || done.get().map(|text| view! { <p class="alert ok" role="status">{text}</p> })}
                <div class="actions">
                    <SubmitButton label="Submit order" busy_label="Submitting…" busy=busy />
                </div>
            </form>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_one_per_line_in_any_common_writing() {
        assert_eq!(
            parse_numbers("+44 20 7123 4567\n+44-20-7123-4568, +4420 7123 4567\n\n"),
            Ok(vec![
                "+442071234567".to_string(),
                "+442071234568".to_string()
            ])
        );
    }

    #[test]
    fn numbers_that_are_not_e164_are_refused_with_the_culprit_named() {
        let error = parse_numbers("+442071234567\n02071234567").unwrap_err();
        assert!(error.contains("02071234567"), "{error}");
        assert!(parse_numbers("+12").is_err());
        assert!(parse_numbers("  \n ")
            .unwrap_err()
            .contains("Enter the numbers"));
    }

    #[test]
    fn an_order_carries_at_most_a_hundred_numbers() {
        let many: Vec<String> = (0..101).map(|i| format!("+4420712{i:05}")).collect();
        let error = parse_numbers(&many.join("\n")).unwrap_err();
        assert!(error.contains("at most 100"), "{error}");
        assert_eq!(
            parse_numbers(&many[..100].join("\n")).map(|v| v.len()),
            Ok(100)
        );
    }

    #[test]
    fn statuses_read_as_words() {
        assert_eq!(order_status("completed"), ("ok", "Completed"));
        assert_eq!(order_status("rejected"), ("bad", "Rejected"));
        assert_eq!(order_status("whatever"), ("", "Unknown"));
    }
}
