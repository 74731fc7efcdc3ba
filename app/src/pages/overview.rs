//! `/`: the overview, the first page after signing in.
//!
//! - KPIs for today, the last 7 or the last 30 days (`GET /api/v1/analytics/summary`), each
//!   with its change against the period of equal length before: calls, minutes, ASR, ACD,
//!   average MOS, and the peak channels against the limit of the fullest service;
//! - calls per hour (today) or per day, stacked by service, and each service's peak channels
//!   against its limit as a gauge;
//! - service health cards, open incidents and maintenance, and, as a call to action, the
//!   numbers that have no emergency address.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::analytics::{
    summary, summary_path, timeseries, timeseries_path, AnalyticsQuery, AnalyticsSummary,
    AnalyticsTimeseries, CallFigures, ServicePeak,
};
use crate::api::incidents::{self, list_incidents, IncidentsQuery};
use crate::api::numbers::{self, list_numbers};
use crate::api::org::selected_org;
use crate::api::services::list_services;
use crate::api::{services, status};
use crate::components::browser::in_browser;
use crate::components::org_switcher::{needs_customer_choice, ChooseCustomerFirst};
use crate::components::{
    access::{any_user, AccessGate},
    chart::{
        period::{Period, PeriodPicker},
        Gauge, Series, StackedBarChart,
    },
    empty_state::EmptyState,
    load_error::LoadError,
    skeleton::SkeletonBlock,
    status::SystemStatusCard,
};
use crate::format::{
    format_bucket_label, format_change, format_count, format_duration_secs, format_number,
    format_percent, percent_change, trend, Trend,
};
use crate::pages::service_detail::IncidentItem;
use crate::pages::services::{health_detail, kind_label, service_href, HealthBadge};

/// This page's path.
pub const OVERVIEW_PATH: &str = "/";

/// How many numbers missing an address the overview counts exactly before saying "more than".
pub const MISSING_ADDRESS_COUNT_LIMIT: u32 = 500;

/// The numbers page filtered to numbers without an emergency address (the numbers API's
/// `missing_emergency_address` filter, which the numbers page keeps in its query string).
pub const MISSING_ADDRESS_HREF: &str = "/numbers?missing_emergency_address=true";

/// Whether a rise of a KPI is good news (for its colour): more calls, minutes, ASR, ACD and
/// MOS are; more of the channel limit in use is a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Higher is better.
    Higher,
    /// Neither direction is good or bad in itself.
    Neutral,
}

/// One KPI tile's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    /// Its name.
    pub label: &'static str,
    /// The figure of the period.
    pub value: String,
    /// A line under it (the limit), if any.
    pub detail: Option<String>,
    /// The relative change against the previous period, if comparable.
    pub change: Option<f64>,
    /// How to colour the change.
    pub better: Better,
}

/// The service whose peak is closest to (or furthest over) its limit.
pub fn fullest_service(services: &[ServicePeak]) -> Option<&ServicePeak> {
    services.iter().max_by(|a, b| {
        let ratio = |s: &ServicePeak| {
            if s.channel_limit > 0 {
                s.peak_channels as f64 / s.channel_limit as f64
            } else {
                s.peak_channels as f64
            }
        };
        ratio(a).total_cmp(&ratio(b))
    })
}

/// The KPI tiles of a summary.
pub fn kpis(summary: &AnalyticsSummary) -> Vec<Kpi> {
    let now: &CallFigures = &summary.current.figures;
    let before: &CallFigures = &summary.previous.figures;
    let mut tiles = vec![
        Kpi {
            label: "Calls",
            value: format_count(now.calls),
            detail: Some(format!("{} answered", format_count(now.answered))),
            change: percent_change(Some(now.calls as f64), Some(before.calls as f64)),
            better: Better::Higher,
        },
        Kpi {
            label: "Minutes",
            value: format_number(now.minutes, 0),
            detail: None,
            change: percent_change(Some(now.minutes), Some(before.minutes)),
            better: Better::Higher,
        },
        Kpi {
            label: "ASR",
            value: format_percent(now.asr, 1),
            detail: Some("Answered ÷ calls".to_string()),
            change: percent_change(now.asr, before.asr),
            better: Better::Higher,
        },
        Kpi {
            label: "ACD",
            value: format_duration_secs(now.acd_seconds),
            detail: Some("Average answered call".to_string()),
            change: percent_change(now.acd_seconds, before.acd_seconds),
            better: Better::Higher,
        },
        Kpi {
            label: "Average MOS",
            value: now
                .average_mos
                .map(|m| format_number(m, 2))
                .unwrap_or_else(|| "–".to_string()),
            detail: Some("Voice quality, 1–5".to_string()),
            change: percent_change(now.average_mos, before.average_mos),
            better: Better::Higher,
        },
    ];
    let peak_before = |service_id: &str| {
        summary
            .previous
            .services
            .iter()
            .find(|s| s.service_id == service_id)
            .map(|s| s.peak_channels as f64)
    };
    if let Some(fullest) = fullest_service(&summary.current.services) {
        tiles.push(Kpi {
            label: "Peak channels",
            value: format_count(fullest.peak_channels),
            detail: Some(format!(
                "of {} on {}",
                format_count(fullest.channel_limit),
                fullest.service
            )),
            change: percent_change(
                Some(fullest.peak_channels as f64),
                peak_before(&fullest.service_id),
            ),
            better: Better::Neutral,
        });
    }
    tiles
}

/// The words and style of a change: "+12.5% against yesterday", "up"/"down" for colour.
pub fn change_text(change: Option<f64>, previous_label: &str) -> (String, &'static str) {
    match change {
        Some(change) => {
            let direction = match trend(change) {
                Trend::Up => "up",
                Trend::Down => "down",
                Trend::Flat => "flat",
            };
            (
                format!("{} against {previous_label}", format_change(change)),
                direction,
            )
        }
        None => (
            format!("Nothing to compare with in {previous_label}"),
            "flat",
        ),
    }
}

fn whole(value: f64) -> String {
    format_number(value, 0)
}

/// The reads the overview makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    let (summary, series) = figures_queries(Period::Today);
    vec![
        summary_path(&summary),
        timeseries_path(&series),
        services::LIST_PATH.to_string(),
        incidents::list_path(&open_incidents_query()),
        numbers::list_path(&missing_address_query()),
        status::STATUS_PATH.to_string(),
    ]
}

/// The figures' summary and series queries for `period`.
fn figures_queries(period: Period) -> (AnalyticsQuery, AnalyticsQuery) {
    let from = period.from();
    let summary = AnalyticsQuery {
        from: from.clone(),
        compare: period.compare(),
        ..AnalyticsQuery::default()
    };
    let series = AnalyticsQuery {
        from,
        bucket: Some(period.bucket().to_string()),
        by: Some("service".to_string()),
        ..AnalyticsQuery::default()
    };
    (summary, series)
}

/// The open incidents the overview lists.
fn open_incidents_query() -> IncidentsQuery {
    IncidentsQuery {
        status: Some("open".to_string()),
        limit: Some("20".to_string()),
        ..IncidentsQuery::default()
    }
}

/// The numbers query that counts numbers without an emergency address.
fn missing_address_query() -> String {
    format!("missing_emergency_address=true&limit={MISSING_ADDRESS_COUNT_LIMIT}")
}

/// The portal's landing page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <Title text="Overview" />
        <section class="page overview-page">
            <h1>"Overview"</h1>
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's overview."
                return_to=OVERVIEW_PATH
                loading_label="Loading the overview"
                page=|me| if needs_customer_choice(&me, selected_org().as_deref()) { view! { <ChooseCustomerFirst /> }.into_any() } else { view! { <Overview /> }.into_any() }
            />
            <div class="card-grid">
                <SystemStatusCard />
            </div>
        </section>
    }
}

#[component]
fn Overview() -> impl IntoView {
    let period = RwSignal::new(Period::Today);
    let figures = LocalResource::new(move || {
        let period = period.get();
        async move {
            let (query, series_query) = figures_queries(period);
            let summary = summary(&query).await?;
            let series = timeseries(&series_query).await?;
            Ok::<_, crate::api::ApiError>((summary, series))
        }
    });
    view! {
        <div class="overview-toolbar">
            <PeriodPicker period=period label="Period of the figures" />
        </div>
        <MissingAddressBanner />
        <Transition fallback=|| view! { <SkeletonBlock label="Loading the figures" /> }>
            {move || Suspend::new(async move {
                match in_browser(figures).await {
                    Ok((summary, series)) => view! {
                        <Figures summary=summary series=series period=period.get_untracked() />
                    }
                    .into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The call figures"
                            return_to=OVERVIEW_PATH
                            on_retry=Callback::new(move |()| figures.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <div class="overview-columns">
            <ServiceHealthCards />
            <OpenIncidents />
        </div>
    }
}

#[component]
fn Figures(
    summary: AnalyticsSummary,
    series: AnalyticsTimeseries,
    period: Period,
) -> impl IntoView {
    let tiles = kpis(&summary);
    let daily = series.bucket == "day";
    let labels: Vec<String> = series
        .series
        .first()
        .map(|s| {
            s.points
                .iter()
                .map(|p| format_bucket_label(&p.at, daily))
                .collect()
        })
        .unwrap_or_default();
    let calls: Vec<Series> = series
        .series
        .iter()
        .map(|s| {
            Series::new(
                s.label.clone(),
                s.points
                    .iter()
                    .map(|p| Some(p.figures.calls as f64))
                    .collect(),
            )
        })
        .collect();
    let per = if daily { "day" } else { "hour" };
    let gauges = summary.current.services.clone();
    view! {
        <ul class="kpi-grid" data-testid="kpis">
            {tiles
                .into_iter()
                .map(|kpi| {
                    let (change, direction) = change_text(kpi.change, period.previous_label());
                    let tone = match kpi.better {
                        Better::Higher => direction,
                        Better::Neutral => "flat",
                    };
                    view! {
                        <li class="kpi card" data-kpi=kpi.label>
                            <span class="kpi-label">{kpi.label}</span>
                            <span class="kpi-value">{kpi.value}</span>
                            {kpi.detail.map(|d| view! { <span class="kpi-detail muted small">{d}</span> })}
                            <span class=format!("kpi-change trend-{tone}")>
                                <span aria-hidden="true">
                                    {match direction { "up" => "▲ ", "down" => "▼ ", _ => "" }}
                                </span>
                                {change}
                            </span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <div class="overview-charts">
            <section class="card" aria-labelledby="calls-chart-title">
                <h2 id="calls-chart-title">"Calls"</h2>
                {if calls.is_empty() {
                    view! {
                        <EmptyState
                            title="No calls in this period.".to_string()
                            hint="Calls appear here once your call records are imported (portal calls import, or POST /api/v1/ingest/calls)."
                            testid="calls-empty"
                        />
                    }
                    .into_any()
                } else {
                    view! {
                        <StackedBarChart
                            id="overview-calls"
                            title=format!("Calls per {per}, by service")
                            labels=labels
                            series=calls
                            format=whole
                        />
                    }
                    .into_any()
                }}
            </section>
            <section class="card" aria-labelledby="utilisation-title">
                <h2 id="utilisation-title">"Channel utilisation"</h2>
                <p class="muted small">"The most channels in use at one moment in the period, against each service's limit."</p>
                {if gauges.is_empty() {
                    view! { <p class="muted">"You have no services yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="gauge-grid">
                            {gauges
                                .into_iter()
                                .map(|s| view! {
                                    <a class="gauge-link" href=service_href(&s.service_id)>
                                        <Gauge
                                            title=s.service.clone()
                                            value=s.peak_channels as f64
                                            max=s.channel_limit as f64
                                            format=whole
                                            unit="channels"
                                        />
                                    </a>
                                })
                                .collect_view()}
                        </div>
                    }
                    .into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn ServiceHealthCards() -> impl IntoView {
    let services = LocalResource::new(list_services);
    view! {
        <section class="card" aria-labelledby="health-title">
            <header class="card-header">
                <h2 id="health-title">"Service health"</h2>
                <a href="/services">"All services"</a>
            </header>
            <Transition fallback=|| view! { <SkeletonBlock label="Loading service health" /> }>
                {move || Suspend::new(async move {
                    match in_browser(services).await {
                        Ok(list) if list.services.is_empty() => view! {
                            <EmptyState
                                title="You have no voice services yet.".to_string()
                                hint="Ask your account manager to set one up."
                                testid="health-empty"
                            />
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <ul class="health-cards" data-testid="service-health">
                                {list.services.into_iter().map(|s| {
                                    let detail = s.health.as_ref().map(health_detail);
                                    view! {
                                        <li class="health-card">
                                            <a href=service_href(&s.id)><strong>{s.name.clone()}</strong></a>
                                            <HealthBadge health=s.health.clone() />
                                            <span class="muted small">{kind_label(&s.kind).to_string()} " · " {s.country.clone()}</span>
                                            {detail.map(|d| view! { <span class="muted small">{d}</span> })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(error) => view! {
                            <LoadError
                                error=error
                                what="Service health"
                                return_to=OVERVIEW_PATH
                                on_retry=Callback::new(move |()| services.refetch())
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
fn OpenIncidents() -> impl IntoView {
    let incidents = LocalResource::new(|| async { list_incidents(&open_incidents_query()).await });
    view! {
        <section class="card" aria-labelledby="incidents-title">
            <h2 id="incidents-title">"Open incidents and maintenance"</h2>
            <Transition fallback=|| view! { <SkeletonBlock label="Loading incidents" /> }>
                {move || Suspend::new(async move {
                    match in_browser(incidents).await {
                        Ok(list) if list.incidents.is_empty() => view! {
                            <EmptyState
                                title="No open incident or planned maintenance concerns you.".to_string()
                                hint="When the carrier reports one for your services or countries, it shows here with its updates."
                                testid="incidents-empty"
                            />
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <ol class="incident-list" data-testid="open-incidents">
                                {list.incidents.into_iter().map(|i| view! { <IncidentItem incident=i /> }).collect_view()}
                            </ol>
                        }
                        .into_any(),
                        Err(error) => view! {
                            <LoadError
                                error=error
                                what="Incidents"
                                return_to=OVERVIEW_PATH
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

/// "N numbers have no emergency address", with a link to them; nothing when all have one.
pub fn missing_address_text(count: usize, more: bool) -> Option<String> {
    match (count, more) {
        (0, _) => None,
        (n, true) => Some(format!(
            "More than {} numbers have no emergency address.",
            format_count(n as i64)
        )),
        (1, false) => Some("1 number has no emergency address.".to_string()),
        (n, false) => Some(format!(
            "{} numbers have no emergency address.",
            format_count(n as i64)
        )),
    }
}

#[component]
fn MissingAddressBanner() -> impl IntoView {
    let missing = LocalResource::new(|| async {
        list_numbers(&missing_address_query())
            .await
            .map(|page| (page.numbers.len(), page.next_cursor.is_some()))
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match in_browser(missing).await {
                    Ok((count, more)) => missing_address_text(count, more).map(|text| view! {
                        <div class="alert warn cta" role="status" data-testid="missing-addresses" data-count=count.to_string()>
                            <p>
                                <strong>{text}</strong>
                                " Emergency calls from them cannot be located. Give each one an address."
                            </p>
                            <a class="button" href=MISSING_ADDRESS_HREF>"Review these numbers"</a>
                        </div>
                    }).into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The numbers without an emergency address"
                            return_to=OVERVIEW_PATH
                            on_retry=Callback::new(move |()| missing.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::analytics::{AnalyticsRange, PeriodSummary};

    fn figures(calls: i64, answered: i64, minutes: f64, mos: Option<f64>) -> CallFigures {
        CallFigures {
            calls,
            answered,
            minutes,
            asr: (calls > 0).then(|| answered as f64 / calls as f64),
            ner: None,
            acd_seconds: (answered > 0).then(|| minutes * 60.0 / answered as f64),
            average_mos: mos,
        }
    }

    fn peak(id: &str, peak: i64, limit: i64) -> ServicePeak {
        ServicePeak {
            service_id: id.to_string(),
            service: format!("Trunk {id}"),
            peak_channels: peak,
            channel_limit: limit,
        }
    }

    fn summary(now: CallFigures, before: CallFigures) -> AnalyticsSummary {
        let range = AnalyticsRange {
            from: "2026-11-27T00:00:00Z".into(),
            to: "2026-11-27T12:00:00Z".into(),
        };
        AnalyticsSummary {
            range: range.clone(),
            previous_range: range,
            current: PeriodSummary {
                figures: now,
                services: vec![peak("a", 5, 30), peak("b", 9, 10)],
            },
            previous: PeriodSummary {
                figures: before,
                services: vec![peak("b", 6, 10)],
            },
        }
    }

    #[test]
    fn kpis_compare_with_the_previous_period() {
        let tiles = kpis(&summary(
            figures(200, 150, 300.0, Some(4.2)),
            figures(100, 90, 300.0, None),
        ));
        let labels: Vec<&str> = tiles.iter().map(|t| t.label).collect();
        assert_eq!(
            labels,
            [
                "Calls",
                "Minutes",
                "ASR",
                "ACD",
                "Average MOS",
                "Peak channels"
            ]
        );
        assert_eq!(tiles[0].value, "200");
        assert_eq!(tiles[0].change, Some(1.0));
        assert_eq!(tiles[1].change, Some(0.0));
        assert_eq!(tiles[2].value, "75.0%");
        assert_eq!(tiles[3].value, "2\u{a0}min 00\u{a0}s");
        // No MOS before: nothing to compare with.
        assert_eq!(tiles[4].change, None);
        // The fullest service is b (9 of 10), compared with its own previous peak.
        assert_eq!(tiles[5].value, "9");
        assert_eq!(tiles[5].detail.as_deref(), Some("of 10 on Trunk b"));
        assert_eq!(tiles[5].change, Some(0.5));
    }

    #[test]
    fn changes_are_worded_against_the_previous_period() {
        assert_eq!(
            change_text(Some(0.25), "yesterday"),
            ("+25.0% against yesterday".to_string(), "up")
        );
        assert_eq!(change_text(Some(-0.5), "x").1, "down");
        assert_eq!(
            change_text(None, "the 7 days before").0,
            "Nothing to compare with in the 7 days before"
        );
    }

    #[test]
    fn the_call_to_action_counts_numbers_without_an_address() {
        assert_eq!(missing_address_text(0, false), None);
        assert_eq!(
            missing_address_text(1, false).as_deref(),
            Some("1 number has no emergency address.")
        );
        assert_eq!(
            missing_address_text(500, true).as_deref(),
            Some("More than 500 numbers have no emergency address.")
        );
        assert!(MISSING_ADDRESS_HREF.contains("missing_emergency_address=true"));
    }

    #[test]
    fn without_services_there_is_no_fullest() {
        assert_eq!(fullest_service(&[]), None);
    }
}
