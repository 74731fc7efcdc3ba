//! `/services`: the organisation's voice services with their current health, channel limit,
//! kind and country; each links to its own page (`/services/{id}`).
//!
//! The helpers that name a service's kind, status and health are shared with the overview and
//! the service's page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::org::selected_org;
use crate::api::services::{list_services, ServiceHealthInfo, ServiceInfo};
use crate::components::browser::in_browser;
use crate::components::org_switcher::{needs_customer_choice, ChooseCustomerFirst};
use crate::components::{
    access::{any_user, AccessGate},
    data_table::DataTable,
    empty_state::EmptyState,
    load_error::LoadError,
    skeleton::SkeletonTable,
};
use crate::format::{format_count, format_datetime_local};

/// This page's path.
pub const SERVICES_PATH: &str = "/services";

/// A service kind as people say it.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "sip_trunk" => "SIP trunk",
        "teams_direct_routing" => "Teams Direct Routing",
        "operator_connect" => "Operator Connect",
        other => other,
    }
}

/// A service's contract status as people say it, with its badge style.
pub fn status_label(status: &str) -> (&'static str, &str) {
    match status {
        "active" => ("ok", "Active"),
        "provisioning" => ("warn", "Provisioning"),
        "suspended" => ("bad", "Suspended"),
        "decommissioned" => ("", "Decommissioned"),
        other => ("", other),
    }
}

/// The badge style and words of a service's latest health check.
pub fn health_label(health: Option<&ServiceHealthInfo>) -> (&'static str, &'static str) {
    match health.map(|h| h.health.as_str()) {
        Some("up") => ("ok", "Up"),
        Some("degraded") => ("warn", "Degraded"),
        Some("down") => ("bad", "Down"),
        Some(_) => ("", "Unknown"),
        None => ("", "Not checked yet"),
    }
}

/// The detail line of a health check: latency and what the probe saw, when it was.
pub fn health_detail(health: &ServiceHealthInfo) -> String {
    let latency = match health.latency_ms {
        Some(ms) => format!("{ms} ms"),
        None => "no answer".to_string(),
    };
    let mut text = format!(
        "Checked {} · {latency}",
        format_datetime_local(&health.checked_at)
    );
    if !health.detail.is_empty() {
        text.push_str(" · ");
        text.push_str(&health.detail);
    }
    text
}

/// The link to a service's page.
pub fn service_href(id: &str) -> String {
    format!("{SERVICES_PATH}/{}", crate::api::client::percent_encode(id))
}

/// A health badge.
#[component]
pub fn HealthBadge(health: Option<ServiceHealthInfo>) -> impl IntoView {
    let (class, text) = health_label(health.as_ref());
    view! { <span class=format!("badge {class}") data-health=text.to_lowercase()>{text}</span> }
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![crate::api::services::LIST_PATH.to_string()]
}

/// The services page.
#[component]
pub fn ServicesPage() -> impl IntoView {
    view! {
        <Title text="Services" />
        <section class="page services-page">
            <h1>"Services"</h1>
            <p class="muted">"Your voice services, their health from the carrier's latest probe and their channel limits."</p>
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's services."
                return_to=SERVICES_PATH
                loading_label="Loading services"
                page=|me| if needs_customer_choice(&me, selected_org().as_deref()) { view! { <ChooseCustomerFirst /> }.into_any() } else { view! { <ServicesList /> }.into_any() }
            />
        </section>
    }
}

#[component]
fn ServicesList() -> impl IntoView {
    let services = LocalResource::new(list_services);
    view! {
        <Transition fallback=|| view! { <SkeletonTable label="Loading services" /> }>
            {move || Suspend::new(async move {
                match in_browser(services).await {
                    Ok(list) if list.services.is_empty() => view! {
                        <EmptyState
                            title="You have no voice services yet.".to_string()
                            hint="Services are set up by the carrier. Ask your account manager to add a SIP trunk, Teams Direct Routing or Operator Connect service."
                            testid="services-empty"
                        />
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <DataTable
                            caption="Your voice services"
                            columns=vec!["Service", "Kind", "Country", "Status", "Channels", "Health"]
                            testid="services-table"
                        >
                            {list.services.into_iter().map(|s| view! { <ServiceRow service=s /> }).collect_view()}
                        </DataTable>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="Your services"
                            return_to=SERVICES_PATH
                            on_retry=Callback::new(move |()| services.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ServiceRow(service: ServiceInfo) -> impl IntoView {
    let (status_class, status_text) = status_label(&service.status);
    let detail = service.health.as_ref().map(health_detail);
    view! {
        <tr data-service-id=service.id.clone()>
            <th scope="row" data-label="Service">
                <a href=service_href(&service.id)>{service.name.clone()}</a>
            </th>
            <td data-label="Kind">{kind_label(&service.kind).to_string()}</td>
            <td data-label="Country">{service.country.clone()}</td>
            <td data-label="Status"><span class=format!("badge {status_class}")>{status_text.to_string()}</span></td>
            <td data-label="Channels" class="num">{format_count(service.channel_limit)}</td>
            <td data-label="Health">
                <HealthBadge health=service.health.clone() />
                {detail.map(|d| view! { <span class="muted small health-detail">{d}</span> })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(health: &str, latency_ms: Option<i64>, detail: &str) -> ServiceHealthInfo {
        ServiceHealthInfo {
            health: health.to_string(),
            checked_at: "2026-11-27T10:00:00Z".to_string(),
            latency_ms,
            detail: detail.to_string(),
        }
    }

    #[test]
    fn kinds_and_statuses_read_as_words() {
        assert_eq!(kind_label("teams_direct_routing"), "Teams Direct Routing");
        assert_eq!(kind_label("new_kind"), "new_kind");
        assert_eq!(status_label("suspended"), ("bad", "Suspended"));
    }

    #[test]
    fn health_is_labelled_and_explained() {
        assert_eq!(health_label(None), ("", "Not checked yet"));
        assert_eq!(
            health_label(Some(&check("down", None, ""))),
            ("bad", "Down")
        );
        assert_eq!(
            health_detail(&check("down", None, "SIP/2.0 503 Service Unavailable")),
            "Checked 2026-11-27T10:00:00Z · no answer · SIP/2.0 503 Service Unavailable"
        );
        assert_eq!(
            health_detail(&check("up", Some(21), "")),
            "Checked 2026-11-27T10:00:00Z · 21 ms"
        );
    }

    #[test]
    fn service_links_encode_the_id() {
        assert_eq!(service_href("a b"), "/services/a%20b");
    }
}
