//! `/analytics`: the organisation's call figures over time (ASR, ACD, minutes, MOS), by
//! service or by far-end country, for today, the last 7 or the last 30 days.
//!
//! Figures come from `GET /api/v1/analytics/summary` (the period's exact totals) and
//! `GET /api/v1/analytics/timeseries` (per bucket and per service or country). With many
//! countries, the charts keep the five with the most calls and add up the rest as "Other";
//! the table below lists every one.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::analytics::{
    summary, summary_path, timeseries, timeseries_path, AnalyticsQuery, AnalyticsSummary,
    AnalyticsTimeseries, CallFigures, Timeseries, TimeseriesPoint,
};
use crate::api::org::selected_org;
use crate::components::browser::in_browser;
use crate::components::org_switcher::{needs_customer_choice, ChooseCustomerFirst};
use crate::components::{
    access::{any_user, AccessGate},
    chart::{
        period::{Period, PeriodPicker},
        LineChart, Series, StackedBarChart,
    },
    data_table::DataTable,
    empty_state::EmptyState,
    load_error::LoadError,
    skeleton::SkeletonBlock,
};
use crate::format::{
    format_bucket_label, format_count, format_duration_secs, format_number, format_percent,
};

/// This page's path.
pub const ANALYTICS_PATH: &str = "/analytics";

/// How many services or countries the charts show on their own; the rest are "Other".
pub const CHART_SERIES: usize = 5;

/// Figures of a set of calls built from counters: ratios and means recomputed from sums.
/// `mos_weight` is the number of calls behind `mos_sum` (the mean of each bucket is weighted
/// by its answered calls, the closest the series allow to the mean of every call's MOS).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Calls.
    pub calls: i64,
    /// Answered calls.
    pub answered: i64,
    /// Minutes.
    pub minutes: f64,
    mos_sum: f64,
    mos_weight: f64,
}

impl Totals {
    /// Adds one bucket's figures.
    pub fn add(&mut self, figures: &CallFigures) {
        self.calls += figures.calls;
        self.answered += figures.answered;
        self.minutes += figures.minutes;
        if let Some(mos) = figures.average_mos {
            let weight = figures.answered.max(1) as f64;
            self.mos_sum += mos * weight;
            self.mos_weight += weight;
        }
    }

    /// Answered ÷ calls; `None` without calls.
    pub fn asr(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.answered as f64 / self.calls as f64)
    }

    /// Seconds per answered call; `None` without answered calls.
    pub fn acd_seconds(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.minutes * 60.0 / self.answered as f64)
    }

    /// The (weighted) mean MOS; `None` without MOS values.
    pub fn average_mos(&self) -> Option<f64> {
        (self.mos_weight > 0.0).then(|| self.mos_sum / self.mos_weight)
    }

    /// As [`CallFigures`] (NER is not kept).
    pub fn figures(&self) -> CallFigures {
        CallFigures {
            calls: self.calls,
            answered: self.answered,
            minutes: self.minutes,
            asr: self.asr(),
            ner: None,
            acd_seconds: self.acd_seconds(),
            average_mos: self.average_mos(),
        }
    }
}

/// The totals of a whole series.
pub fn series_totals(series: &Timeseries) -> Totals {
    let mut totals = Totals::default();
    for point in &series.points {
        totals.add(&point.figures);
    }
    totals
}

/// The `keep` series with the most calls (most first), and the others added up per bucket
/// as one series labelled "Other" (when there are any).
pub fn top_series(all: &[Timeseries], keep: usize) -> Vec<Timeseries> {
    let mut ranked: Vec<&Timeseries> = all.iter().collect();
    ranked.sort_by_key(|s| std::cmp::Reverse(series_totals(s).calls));
    let mut kept: Vec<Timeseries> = ranked.iter().take(keep).map(|s| (*s).clone()).collect();
    let rest = &ranked[keep.min(ranked.len())..];
    if let Some(first) = rest.first() {
        let points = (0..first.points.len())
            .map(|i| {
                let mut totals = Totals::default();
                for s in rest {
                    if let Some(point) = s.points.get(i) {
                        totals.add(&point.figures);
                    }
                }
                TimeseriesPoint {
                    at: first.points[i].at.clone(),
                    figures: totals.figures(),
                    peak_channels: None,
                }
            })
            .collect();
        kept.push(Timeseries {
            key: "other".to_string(),
            label: format!("Other ({})", rest.len()),
            channel_limit: None,
            points,
        });
    }
    kept
}

/// One chart series per timeseries, of the figure `pick` takes from each bucket.
pub fn chart_series(all: &[Timeseries], pick: fn(&CallFigures) -> Option<f64>) -> Vec<Series> {
    all.iter()
        .map(|s| {
            Series::new(
                s.label.clone(),
                s.points.iter().map(|p| pick(&p.figures)).collect(),
            )
        })
        .collect()
}

fn minutes_text(value: f64) -> String {
    format_number(value, 1)
}
fn percent_text(value: f64) -> String {
    format_percent(Some(value), 1)
}
fn duration_text(value: f64) -> String {
    format_duration_secs(Some(value))
}
fn mos_text(value: f64) -> String {
    format_number(value, 2)
}
fn whole(value: f64) -> String {
    format_number(value, 0)
}

/// The period and grouping the page opens with.
const FIRST_PERIOD: Period = Period::Week;
const FIRST_BY: &str = "service";

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    let (totals, series) = queries(FIRST_PERIOD, FIRST_BY);
    vec![summary_path(&totals), timeseries_path(&series)]
}

/// The summary and series queries for `period`, grouped `by`.
fn queries(period: Period, by: &str) -> (AnalyticsQuery, AnalyticsQuery) {
    let from = period.from();
    let totals = AnalyticsQuery {
        from: from.clone(),
        ..AnalyticsQuery::default()
    };
    let series = AnalyticsQuery {
        from,
        bucket: Some(period.bucket().to_string()),
        by: Some(by.to_string()),
        ..AnalyticsQuery::default()
    };
    (totals, series)
}

/// The analytics page.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! {
        <Title text="Analytics" />
        <section class="page analytics-page">
            <h1>"Analytics"</h1>
            <p class="muted">"How your calls went: answer-seizure ratio (ASR), average call duration (ACD), minutes and voice quality (MOS), by service or by the country called."</p>
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's analytics."
                return_to=ANALYTICS_PATH
                loading_label="Loading analytics"
                page=|me| if needs_customer_choice(&me, selected_org().as_deref()) { view! { <ChooseCustomerFirst /> }.into_any() } else { view! { <Analytics /> }.into_any() }
            />
        </section>
    }
}

#[component]
fn Analytics() -> impl IntoView {
    let period = RwSignal::new(FIRST_PERIOD);
    let by = RwSignal::new(FIRST_BY);
    let data = LocalResource::new(move || {
        let period = period.get();
        let by = by.get();
        async move {
            let (totals_query, series_query) = queries(period, by);
            let totals = summary(&totals_query).await?;
            let series = timeseries(&series_query).await?;
            Ok::<_, crate::api::ApiError>((totals, series))
        }
    });
    view! {
        <div class="analytics-toolbar">
            <PeriodPicker period=period label="Period" />
            <div class="segmented" role="group" aria-label="Group the figures by">
                {[("service", "By service"), ("country", "By country")]
                    .into_iter()
                    .map(|(key, label)| view! {
                        <button
                            type="button"
                            class="segmented-option"
                            aria-pressed=move || if by.get() == key { "true" } else { "false" }
                            on:click=move |_| by.set(key)
                        >
                            {label}
                        </button>
                    })
                    .collect_view()}
            </div>
        </div>
        <Transition fallback=|| view! { <SkeletonBlock label="Loading analytics" /> }>
            {move || Suspend::new(async move {
                match in_browser(data).await {
                    Ok((totals, series)) => view! { <AnalyticsBody totals=totals series=series /> }.into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The analytics"
                            return_to=ANALYTICS_PATH
                            on_retry=Callback::new(move |()| data.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AnalyticsBody(totals: AnalyticsSummary, series: AnalyticsTimeseries) -> impl IntoView {
    let now = totals.current.figures.clone();
    let by_country = series.by == "country";
    let group = if by_country { "country" } else { "service" };
    let daily = series.bucket == "day";
    let per = if daily { "day" } else { "hour" };
    if series.series.is_empty() {
        return view! {
            <EmptyState
                title="No calls in this period.".to_string()
                hint="Choose a longer period, or import call records (portal calls import, or POST /api/v1/ingest/calls)."
                testid="analytics-empty"
            />
        }
        .into_any();
    }
    let labels: Vec<String> = series.series[0]
        .points
        .iter()
        .map(|p| format_bucket_label(&p.at, daily))
        .collect();
    let shown = top_series(&series.series, CHART_SERIES);
    let minutes = chart_series(&shown, |f| Some(f.minutes));
    let calls = chart_series(&shown, |f| Some(f.calls as f64));
    let asr = chart_series(&shown, |f| f.asr);
    let acd = chart_series(&shown, |f| f.acd_seconds);
    let mos = chart_series(&shown, |f| f.average_mos);
    let mut rows: Vec<(String, Totals)> = series
        .series
        .iter()
        .map(|s| (s.label.clone(), series_totals(s)))
        .collect();
    rows.sort_by_key(|(_, t)| std::cmp::Reverse(t.calls));
    view! {
        <dl class="stat-list analytics-totals" data-testid="analytics-totals">
            <div><dt>"Calls"</dt><dd>{format_count(now.calls)}</dd></div>
            <div><dt>"Minutes"</dt><dd>{minutes_text(now.minutes)}</dd></div>
            <div><dt>"ASR"</dt><dd>{format_percent(now.asr, 1)}</dd></div>
            <div><dt>"ACD"</dt><dd>{format_duration_secs(now.acd_seconds)}</dd></div>
            <div><dt>"Average MOS"</dt><dd>{now.average_mos.map(mos_text).unwrap_or_else(|| "–".to_string())}</dd></div>
        </dl>
        <div class="chart-grid">
            <section class="card">
                <StackedBarChart id="analytics-minutes" title=format!("Minutes per {per}, by {group}") labels=labels.clone() series=minutes format=minutes_text />
            </section>
            <section class="card">
                <StackedBarChart id="analytics-calls" title=format!("Calls per {per}, by {group}") labels=labels.clone() series=calls format=whole />
            </section>
            <section class="card">
                <LineChart id="analytics-asr" title=format!("ASR per {per}, by {group}") labels=labels.clone() series=asr format=percent_text />
            </section>
            <section class="card">
                <LineChart id="analytics-acd" title=format!("ACD per {per}, by {group}") labels=labels.clone() series=acd format=duration_text />
            </section>
            <section class="card">
                <LineChart id="analytics-mos" title=format!("Average MOS per {per}, by {group}") labels=labels series=mos format=mos_text />
            </section>
        </div>
        <section class="card" aria-labelledby="by-title">
            <h2 id="by-title">{if by_country { "By country" } else { "By service" }}</h2>
            <DataTable
                caption="Figures of the period"
                columns=vec![if by_country { "Country" } else { "Service" }, "Calls", "Answered", "ASR", "Minutes", "ACD", "Average MOS"]
                testid="analytics-by"
            >
                {rows.into_iter().map(|(label, t)| view! {
                    <tr>
                        <th scope="row" data-label=if by_country { "Country" } else { "Service" }>{label}</th>
                        <td data-label="Calls" class="num">{format_count(t.calls)}</td>
                        <td data-label="Answered" class="num">{format_count(t.answered)}</td>
                        <td data-label="ASR" class="num">{format_percent(t.asr(), 1)}</td>
                        <td data-label="Minutes" class="num">{minutes_text(t.minutes)}</td>
                        <td data-label="ACD" class="num">{format_duration_secs(t.acd_seconds())}</td>
                        <td data-label="Average MOS" class="num">{t.average_mos().map(mos_text).unwrap_or_else(|| "–".to_string())}</td>
                    </tr>
                }).collect_view()}
            </DataTable>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(
        at: &str,
        calls: i64,
        answered: i64,
        minutes: f64,
        mos: Option<f64>,
    ) -> TimeseriesPoint {
        let mut totals = Totals::default();
        totals.add(&CallFigures {
            calls,
            answered,
            minutes,
            asr: None,
            ner: None,
            acd_seconds: None,
            average_mos: mos,
        });
        TimeseriesPoint {
            at: at.to_string(),
            figures: totals.figures(),
            peak_channels: None,
        }
    }

    fn series(key: &str, points: Vec<TimeseriesPoint>) -> Timeseries {
        Timeseries {
            key: key.to_string(),
            label: key.to_uppercase(),
            channel_limit: None,
            points,
        }
    }

    #[test]
    fn totals_recompute_ratios_from_sums() {
        let s = series(
            "gb",
            vec![
                point("h1", 10, 5, 10.0, Some(4.0)),
                point("h2", 10, 15, 20.0, Some(3.0)),
                point("h3", 0, 0, 0.0, None),
            ],
        );
        let t = series_totals(&s);
        assert_eq!((t.calls, t.answered), (20, 20));
        assert_eq!(t.asr(), Some(1.0));
        assert_eq!(t.acd_seconds(), Some(90.0));
        // Weighted by answered: (4×5 + 3×15) / 20.
        assert_eq!(t.average_mos(), Some(3.25));
        assert_eq!(Totals::default().asr(), None);
        assert_eq!(Totals::default().average_mos(), None);
    }

    #[test]
    fn the_busiest_series_are_kept_and_the_rest_added_up() {
        let all = vec![
            series("a", vec![point("h1", 1, 1, 1.0, None)]),
            series("b", vec![point("h1", 9, 3, 3.0, None)]),
            series("c", vec![point("h1", 5, 5, 5.0, Some(4.0))]),
        ];
        let top = top_series(&all, 1);
        let labels: Vec<&str> = top.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["B", "Other (2)"]);
        assert_eq!(top[1].points[0].figures.calls, 6);
        assert_eq!(top[1].points[0].figures.answered, 6);
        assert_eq!(top[1].points[0].figures.asr, Some(1.0));
        assert_eq!(top_series(&all, 5).len(), 3);
    }

    #[test]
    fn chart_series_follow_the_buckets() {
        let all = vec![series(
            "a",
            vec![point("h1", 2, 1, 1.0, None), point("h2", 0, 0, 0.0, None)],
        )];
        let asr = chart_series(&all, |f| f.asr);
        assert_eq!(asr[0].values, vec![Some(0.5), None]);
    }
}
