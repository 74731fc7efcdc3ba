//! `/services/{id}`: one service: its contract and current health, channel utilisation
//! against its limit over the chosen period (a gauge of the peak and a chart per bucket),
//! calls per bucket, its health history (the carrier's probe results in the period, and the
//! incidents and maintenance that concerned it, with their timelines) and the numbers routed
//! over it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::incidents::{self, list_incidents, IncidentInfo, IncidentsQuery};
use crate::api::numbers::{self, list_numbers};
use crate::api::org::selected_org;
use crate::api::services::{detail_path, get_service, ServiceDetail, ServiceHealthInfo};
use crate::components::browser::in_browser;
use crate::components::org_switcher::{needs_customer_choice, ChooseCustomerFirst};
use crate::components::{
    access::{any_user, AccessGate},
    chart::{
        period::{Period, PeriodPicker},
        BarChart, Gauge, LineChart, Series, Threshold,
    },
    data_table::DataTable,
    empty_state::EmptyState,
    load_error::LoadError,
    skeleton::{SkeletonBlock, SkeletonTable},
};
use crate::format::{format_bucket_label, format_count, format_datetime_local, format_number};
use crate::pages::services::{health_detail, kind_label, status_label, HealthBadge, SERVICES_PATH};

/// How many of the service's numbers the page lists (the numbers page has them all).
pub const NUMBERS_SHOWN: u32 = 50;

/// The reads the page of the service `id` makes when it first renders, for its route to start
/// ahead.
pub fn first_reads(id: &str) -> Vec<String> {
    let period = Period::Today;
    vec![
        detail_path(id, &utilisation_query(period, period.from().as_deref())),
        incidents::list_path(&history_query(period)),
        numbers::list_path(&numbers_query(id)),
    ]
}

/// The incidents the health history of `period` looks through.
fn history_query(period: Period) -> IncidentsQuery {
    IncidentsQuery {
        from: period.from(),
        limit: Some("100".to_string()),
        ..IncidentsQuery::default()
    }
}

/// The numbers query of the service's first numbers.
fn numbers_query(service_id: &str) -> String {
    format!(
        "service={}&limit={NUMBERS_SHOWN}",
        crate::api::client::percent_encode(service_id)
    )
}

/// The query string of the service request for `period`.
pub fn utilisation_query(period: Period, from: Option<&str>) -> String {
    let mut query = format!("bucket={}", period.bucket());
    if let Some(from) = from {
        query.push_str("&from=");
        query.push_str(&crate::api::client::percent_encode(from));
    }
    query
}

/// Whether `incident` concerns the service `service_id` in `country`: it names the service,
/// the service's country, or everyone.
pub fn concerns_service(incident: &IncidentInfo, service_id: &str, country: &str) -> bool {
    match incident.scope.as_str() {
        "service" => incident.service_id.as_deref() == Some(service_id),
        "country" => incident.country.as_deref() == Some(country),
        _ => true,
    }
}

fn whole(value: f64) -> String {
    format_number(value, 0)
}

/// The service page.
#[component]
pub fn ServiceDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    view! {
        <Title text="Service" />
        <section class="page service-page">
            <p class="breadcrumb"><a href=SERVICES_PATH>"Services"</a></p>
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's services."
                return_to=SERVICES_PATH
                loading_label="Loading the service"
                page=move |me| if needs_customer_choice(&me, selected_org().as_deref()) { view! { <ChooseCustomerFirst /> }.into_any() } else { view! { <ServiceView id=id() /> }.into_any() }
            />
        </section>
    }
}

#[component]
fn ServiceView(id: String) -> impl IntoView {
    let period = RwSignal::new(Period::Today);
    let service_id = StoredValue::new(id);
    let detail = LocalResource::new(move || {
        let period = period.get();
        let id = service_id.get_value();
        async move { get_service(id, &utilisation_query(period, period.from().as_deref())).await }
    });
    view! {
        <Transition fallback=|| view! { <SkeletonBlock label="Loading the service" /> }>
            {move || Suspend::new(async move {
                match in_browser(detail).await {
                    Ok(detail) => view! { <ServiceBody detail=detail period=period /> }.into_any(),
                    Err(error) if error.status() == Some(404) => view! {
                        <h1>"Service not found"</h1>
                        <EmptyState
                            title="There is no such service in your organisation.".to_string()
                            hint="It may have been removed, or the link is wrong. Choose one from the list of services."
                            testid="service-not-found"
                        >
                            <a class="button" href=SERVICES_PATH>"All services"</a>
                        </EmptyState>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <h1>"Service"</h1>
                        <LoadError
                            error=error
                            what="This service"
                            return_to=SERVICES_PATH
                            on_retry=Callback::new(move |()| detail.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ServiceBody(detail: ServiceDetail, period: RwSignal<Period>) -> impl IntoView {
    let ServiceDetail {
        service,
        utilisation,
        health_history,
    } = detail;
    let (status_class, status_text) = status_label(&service.status);
    let daily = utilisation.bucket == "day";
    let labels: Vec<String> = utilisation
        .points
        .iter()
        .map(|p| format_bucket_label(&p.at, daily))
        .collect();
    let peaks = Series::new(
        "Peak channels",
        utilisation
            .points
            .iter()
            .map(|p| Some(p.peak_channels as f64))
            .collect(),
    );
    let calls = Series::new(
        "Calls",
        utilisation
            .points
            .iter()
            .map(|p| Some(p.calls as f64))
            .collect(),
    );
    let unit = if daily { "day" } else { "hour" };
    let limit = utilisation.channel_limit as f64;
    view! {
        <Title text=service.name.clone() />
        <header class="page-header">
            <h1>{service.name.clone()}</h1>
            <HealthBadge health=service.health.clone() />
        </header>
        <dl class="stat-list">
            <div><dt>"Kind"</dt><dd>{kind_label(&service.kind).to_string()}</dd></div>
            <div><dt>"Country"</dt><dd>{service.country.clone()}</dd></div>
            <div><dt>"Status"</dt><dd><span class=format!("badge {status_class}")>{status_text.to_string()}</span></dd></div>
            <div><dt>"Channel limit"</dt><dd>{format_count(service.channel_limit)}</dd></div>
            <div>
                <dt>"Latest health check"</dt>
                <dd>{service.health.as_ref().map(health_detail).unwrap_or_else(|| "Not checked yet".to_string())}</dd>
            </div>
        </dl>

        <section class="card" aria-labelledby="utilisation-title">
            <header class="card-header">
                <h2 id="utilisation-title">"Channel utilisation"</h2>
                <PeriodPicker period=period label="Period of the utilisation" />
            </header>
            <div class="chart-row">
                <Gauge
                    title="Peak channels"
                    value=utilisation.peak_channels as f64
                    max=limit
                    format=whole
                    unit="channels"
                />
                <LineChart
                    id="service-utilisation"
                    title=format!("Peak channels per {unit}")
                    labels=labels.clone()
                    series=vec![peaks]
                    format=whole
                    threshold=Threshold { value: limit, label: "Channel limit".to_string() }
                />
            </div>
            <BarChart
                id="service-calls"
                title=format!("Calls per {unit}")
                labels=labels
                series=vec![calls]
                format=whole
            />
        </section>

        <HealthChecks checks=health_history />
        <HealthHistory service_id=service.id.clone() country=service.country.clone() period=period />
        <ServiceNumbers service_id=service.id.clone() />
    }
}

/// The carrier's probe results for the service in the period, newest first.
#[component]
fn HealthChecks(checks: Vec<ServiceHealthInfo>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="checks-title">
            <h2 id="checks-title">"Health checks"</h2>
            {if checks.is_empty() {
                view! {
                    <EmptyState
                        title="The carrier did not probe this service in this period.".to_string()
                        hint="Choose a longer period to see earlier checks.".to_string()
                        testid="checks-empty"
                    />
                }
                .into_any()
            } else {
                view! {
                    <ol class="health-checks" data-testid="health-checks">
                        {checks
                            .into_iter()
                            .map(|check| {
                                let detail = health_detail(&check);
                                view! {
                                    <li>
                                        <HealthBadge health=Some(check) />
                                        " "
                                        <span class="muted small">{detail}</span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn HealthHistory(service_id: String, country: String, period: RwSignal<Period>) -> impl IntoView {
    let incidents = LocalResource::new(move || {
        let query = history_query(period.get());
        async move { list_incidents(&query).await }
    });
    let service_id = StoredValue::new(service_id);
    let country = StoredValue::new(country);
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"Incidents and maintenance"</h2>
            <p class="muted small">"Incidents and maintenance of the carrier that concerned this service in the period, with what the carrier said and when."</p>
            <Transition fallback=|| view! { <SkeletonBlock label="Loading the health history" /> }>
                {move || Suspend::new(async move {
                    match in_browser(incidents).await {
                        Ok(list) => {
                            let relevant: Vec<IncidentInfo> = list
                                .incidents
                                .into_iter()
                                .filter(|i| concerns_service(i, &service_id.get_value(), &country.get_value()))
                                .collect();
                            if relevant.is_empty() {
                                view! {
                                    <EmptyState
                                        title="No incident or maintenance concerned this service in this period.".to_string()
                                        hint="Choose a longer period to look further back."
                                        testid="history-empty"
                                    />
                                }
                                .into_any()
                            } else {
                                view! {
                                    <ol class="incident-list">
                                        {relevant.into_iter().map(|i| view! { <IncidentItem incident=i /> }).collect_view()}
                                    </ol>
                                }
                                .into_any()
                            }
                        }
                        Err(error) => view! {
                            <LoadError
                                error=error
                                what="The health history"
                                return_to=SERVICES_PATH
                                on_retry=Callback::new(move |()| incidents.refetch())
                            />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// An incident or maintenance window with its public timeline (shared with the overview).
/// The summary line of an incident's update timeline: "Timeline (1 update)", "(3 updates)".
fn timeline_summary(updates: usize) -> String {
    let noun = if updates == 1 { "update" } else { "updates" };
    let count = format_count(i64::try_from(updates).unwrap_or(i64::MAX));
    format!("Timeline ({count} {noun})")
}

#[component]
pub fn IncidentItem(incident: IncidentInfo) -> impl IntoView {
    let kind = if incident.kind == "maintenance" {
        "Maintenance"
    } else {
        "Incident"
    };
    let badge = if !incident.open {
        "ok"
    } else if incident.kind == "maintenance" {
        "warn"
    } else {
        "bad"
    };
    let when = match &incident.ends_at {
        Some(end) => format!(
            "{} – {}",
            format_datetime_local(&incident.starts_at),
            format_datetime_local(end)
        ),
        None => format!("Since {}", format_datetime_local(&incident.starts_at)),
    };
    let scope = match incident.scope.as_str() {
        "service" => incident
            .service_name
            .clone()
            .map(|name| format!("Service {name}"))
            .unwrap_or_else(|| "One of your services".to_string()),
        "country" => format!("Calls in {}", incident.country.clone().unwrap_or_default()),
        _ => "All customers".to_string(),
    };
    view! {
        <li class="incident" data-incident-id=incident.id.clone() data-open=incident.open.to_string()>
            <div class="incident-head">
                <span class=format!("badge {badge}")>{kind} ": " {status_words(&incident.status)}</span>
                <strong>{incident.title.clone()}</strong>
            </div>
            <p class="muted small">{when} " · " {scope}</p>
            {(!incident.updates.is_empty()).then(|| view! {
                <details class="incident-updates">
                    <summary>{timeline_summary(incident.updates.len())}</summary>
                    <ol class="timeline">
                        {incident.updates.iter().map(|u| view! {
                            <li>
                                <time datetime=u.posted_at.clone()>{format_datetime_local(&u.posted_at)}</time>
                                " · " <strong>{status_words(&u.status)}</strong>
                                <p>{u.body.clone()}</p>
                            </li>
                        }).collect_view()}
                    </ol>
                </details>
            })}
        </li>
    }
}

/// An incident's or maintenance window's status as words.
pub fn status_words(status: &str) -> String {
    match status {
        "in_progress" => "In progress".to_string(),
        other => {
            let mut chars = other.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}

#[component]
fn ServiceNumbers(service_id: String) -> impl IntoView {
    let query = numbers_query(&service_id);
    let all_href = format!(
        "/numbers?service={}",
        crate::api::client::percent_encode(&service_id)
    );
    let numbers = LocalResource::new(move || {
        let query = query.clone();
        async move { list_numbers(&query).await }
    });
    view! {
        <section class="card" aria-labelledby="numbers-title">
            <header class="card-header">
                <h2 id="numbers-title">"Numbers on this service"</h2>
                <a href=all_href>"Open in Numbers"</a>
            </header>
            <Transition fallback=|| view! { <SkeletonTable label="Loading the numbers" /> }>
                {move || Suspend::new(async move {
                    match in_browser(numbers).await {
                        Ok(page) if page.numbers.is_empty() => view! {
                            <EmptyState
                                title="No number is routed over this service.".to_string()
                                hint="Engineers and admins assign numbers to a service on the Numbers page."
                                testid="service-numbers-empty"
                            />
                        }
                        .into_any(),
                        Ok(page) => {
                            let more = page.next_cursor.is_some();
                            view! {
                                <DataTable
                                    caption="Numbers routed over this service"
                                    columns=vec!["Number", "Type", "Status", "Assigned to", "Emergency address"]
                                    testid="service-numbers"
                                >
                                    {page.numbers.into_iter().map(|n| view! {
                                        <tr>
                                            <th scope="row" data-label="Number" class="mono e164">{n.e164.clone()}</th>
                                            <td data-label="Type">{n.number_type.replace('_', " ")}</td>
                                            <td data-label="Status">{n.status.replace('_', " ")}</td>
                                            <td data-label="Assigned to">{n.assignment.clone().unwrap_or_else(|| "–".to_string())}</td>
                                            <td data-label="Emergency address">
                                                {match n.emergency_address_label.clone() {
                                                    Some(label) => view! { <span>{label}</span> }.into_any(),
                                                    None => view! { <span class="badge warn">"Missing"</span> }.into_any(),
                                                }}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                                {more.then(|| view! {
                                    <p class="muted small">{format!("The first {NUMBERS_SHOWN} numbers are shown; the Numbers page lists them all.")}</p>
                                })}
                            }
                            .into_any()
                        }
                        Err(error) => view! {
                            <LoadError
                                error=error
                                what="The service's numbers"
                                return_to=SERVICES_PATH
                                on_retry=Callback::new(move |()| numbers.refetch())
                            />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_timeline_counts_its_updates_in_words() {
        assert_eq!(timeline_summary(1), "Timeline (1 update)");
        assert_eq!(timeline_summary(3), "Timeline (3 updates)");
    }

    fn incident(scope: &str, service: Option<&str>, country: Option<&str>) -> IncidentInfo {
        IncidentInfo {
            id: "i1".into(),
            kind: "incident".into(),
            scope: scope.into(),
            service_id: service.map(str::to_string),
            service_name: None,
            country: country.map(str::to_string),
            title: "t".into(),
            status: "investigating".into(),
            open: true,
            starts_at: "2026-11-27T10:00:00Z".into(),
            ends_at: None,
            created_at: "2026-11-27T10:00:00Z".into(),
            updated_at: "2026-11-27T10:00:00Z".into(),
            updates: vec![],
        }
    }

    #[test]
    fn the_history_keeps_incidents_of_the_service_its_country_and_everyone() {
        assert!(concerns_service(
            &incident("service", Some("s1"), None),
            "s1",
            "GB"
        ));
        assert!(!concerns_service(
            &incident("service", Some("s2"), None),
            "s1",
            "GB"
        ));
        assert!(concerns_service(
            &incident("country", None, Some("GB")),
            "s1",
            "GB"
        ));
        assert!(!concerns_service(
            &incident("country", None, Some("DE")),
            "s1",
            "GB"
        ));
        assert!(concerns_service(
            &incident("global", None, None),
            "s1",
            "GB"
        ));
    }

    #[test]
    fn the_request_names_the_bucket_and_start() {
        assert_eq!(utilisation_query(Period::Today, None), "bucket=hour");
        assert_eq!(
            utilisation_query(Period::Week, Some("2026-11-20T10:00:00.000Z")),
            "bucket=day&from=2026-11-20T10%3A00%3A00.000Z"
        );
    }

    #[test]
    fn statuses_read_as_words() {
        assert_eq!(status_words("in_progress"), "In progress");
        assert_eq!(status_words("investigating"), "Investigating");
        assert_eq!(status_words(""), "");
    }
}
