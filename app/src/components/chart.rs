//! The portal's charts: our own SVG components, no chart library.
//!
//! - [`LineChart`], [`BarChart`] (grouped when given several series) and [`StackedBarChart`]
//!   share one renderer: categories along x (time buckets, services, countries), values on a
//!   y axis with nice ticks ([`ticks`]), an optional limit line (channel limits).
//! - [`Gauge`]: one value against a maximum (channels in use against the limit).
//!
//! Accessibility: the drawing is one `role="img"` with a summary in its `aria-label`; the
//! values are reachable by keyboard through one focus stop per chart (arrow keys, Home, End
//! move between categories) and show the same tooltip as hovering; "Show as table" replaces
//! the drawing by a plain table of every value.
//!
//! The chart measures its own width in the browser and draws at that size, so text keeps its
//! size on a phone instead of shrinking with a scaled `viewBox`.
//!
//! The portal's Content Security Policy allows no inline `style` attributes, so positions of
//! the HTML overlays (focus targets, tooltip) are set with `style:` directives, which write
//! through the CSSOM in the browser; charts render only there (their data loads there).

pub mod period;
pub mod ticks;

use leptos::prelude::*;

use ticks::{gauge_arc, label_stride, line_path, nice_ticks_stepping, scale, stack, tick_decimals};

/// One named series, its values aligned with the chart's categories (`None`: no value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend, the tooltip and the table header.
    pub name: String,
    /// One value per category.
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// A series named `name`.
    pub fn new(name: impl Into<String>, values: Vec<Option<f64>>) -> Self {
        Series {
            name: name.into(),
            values,
        }
    }
}

/// A horizontal reference line (a channel limit).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// Where it is drawn.
    pub value: f64,
    /// What it is ("Channel limit").
    pub label: String,
}

/// How the values turn into text (tooltip, table, axis): the same function everywhere.
pub type ValueFormat = fn(f64) -> String;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Line,
    Bar,
    Stacked,
}

/// The summary a screen reader hears for the drawing: what it shows, over which categories,
/// and each series' lowest, highest and last value.
pub fn summarise(title: &str, labels: &[String], series: &[Series], format: ValueFormat) -> String {
    let mut text = match (labels.first(), labels.last()) {
        (Some(first), Some(last)) if labels.len() > 1 => {
            format!("{title}: {} values, {first} to {last}.", labels.len())
        }
        (Some(only), _) => format!("{title}: one value, {only}."),
        _ => return format!("{title}: no data."),
    };
    for s in series {
        let known: Vec<f64> = s.values.iter().flatten().copied().collect();
        if known.is_empty() {
            text.push_str(&format!(" {}: no values.", s.name));
            continue;
        }
        let min = known.iter().copied().fold(f64::INFINITY, f64::min);
        let max = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let last = s
            .values
            .iter()
            .rev()
            .flatten()
            .next()
            .copied()
            .unwrap_or(max);
        text.push_str(&format!(
            " {}: lowest {}, highest {}, last {}.",
            s.name,
            format(min),
            format(max),
            format(last)
        ));
    }
    text
}

/// The largest value the y axis must reach: the largest value (or stacked total) and the
/// threshold; at least 0.
pub fn value_ceiling(series: &[Series], stacked: bool, threshold: Option<f64>) -> f64 {
    let count = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let data_max = if stacked {
        (0..count)
            .map(|i| {
                series
                    .iter()
                    .filter_map(|s| s.values.get(i).copied().flatten())
                    .map(|v| v.max(0.0))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    } else {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .copied()
            .fold(0.0, f64::max)
    };
    data_max.max(threshold.unwrap_or(0.0)).max(0.0)
}

/// The smallest value the y axis must reach: 0 unless values go below it.
pub fn value_floor(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(0.0, f64::min)
}

const HEIGHT: f64 = 240.0;
const MARGIN_LEFT: f64 = 56.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_TOP: f64 = 12.0;
const MARGIN_BOTTOM: f64 = 30.0;
const DEFAULT_WIDTH: f64 = 600.0;
const PALETTE: usize = 6;

/// A line per series over the categories.
#[component]
pub fn LineChart(
    /// Unique on the page; ids of the chart's parts derive from it.
    id: &'static str,
    /// What the chart shows (its accessible name and the table's caption).
    #[prop(into)]
    title: String,
    /// The category labels, along x.
    labels: Vec<String>,
    /// The series.
    series: Vec<Series>,
    /// Formats values.
    format: ValueFormat,
    /// An optional reference line.
    #[prop(optional)]
    threshold: Option<Threshold>,
) -> impl IntoView {
    view! { <XyChart id title labels series format threshold kind=Kind::Line /> }
}

/// Bars per category; several series are grouped side by side.
#[component]
pub fn BarChart(
    /// Unique on the page.
    id: &'static str,
    /// What the chart shows.
    #[prop(into)]
    title: String,
    /// The category labels.
    labels: Vec<String>,
    /// The series.
    series: Vec<Series>,
    /// Formats values.
    format: ValueFormat,
    /// An optional reference line.
    #[prop(optional)]
    threshold: Option<Threshold>,
) -> impl IntoView {
    view! { <XyChart id title labels series format threshold kind=Kind::Bar /> }
}

/// One bar per category made of the series stacked on each other (parts of a whole).
#[component]
pub fn StackedBarChart(
    /// Unique on the page.
    id: &'static str,
    /// What the chart shows.
    #[prop(into)]
    title: String,
    /// The category labels.
    labels: Vec<String>,
    /// The series, bottom first.
    series: Vec<Series>,
    /// Formats values.
    format: ValueFormat,
    /// An optional reference line.
    #[prop(optional)]
    threshold: Option<Threshold>,
) -> impl IntoView {
    view! { <XyChart id title labels series format threshold kind=Kind::Stacked /> }
}

/// Sets the chart's width from its container once the container is laid out: a chart inside
/// a `Transition` is built before it is in the document (width 0), so this retries on the
/// next animation frames, `tries` times at most.
fn measure_width(container: NodeRef<leptos::html::Div>, set_width: WriteSignal<f64>, tries: u8) {
    request_animation_frame(move || {
        let measured = container
            .try_get_untracked()
            .flatten()
            .map(|element| f64::from(element.client_width()))
            .unwrap_or(0.0);
        if measured > 0.0 {
            set_width.set(measured);
        } else if tries > 0 {
            measure_width(container, set_width, tries - 1);
        }
    });
}

#[component]
fn XyChart(
    id: &'static str,
    title: String,
    labels: Vec<String>,
    series: Vec<Series>,
    format: ValueFormat,
    threshold: Option<Threshold>,
    kind: Kind,
) -> impl IntoView {
    let container = NodeRef::<leptos::html::Div>::new();
    let (width, set_width) = signal(DEFAULT_WIDTH);
    let measure = move || measure_width(container, set_width, 30);
    Effect::new(move |_| {
        container.track();
        measure();
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let (as_table, set_as_table) = signal(false);
    let (active, set_active) = signal(None::<usize>);
    let (focus_index, set_focus_index) = signal(0usize);

    let count = labels.len();
    let summary = summarise(&title, &labels, &series, format);
    let stacked = kind == Kind::Stacked;
    // Counts and minutes print like their values anyway; a formatted tick ("1 min 40 s")
    // is only worth its length for ratios and durations, which do not format as plain.
    let plain_ticks = format(1000.0) == crate::format::format_number(1000.0, 0);
    // Values printed as whole numbers get whole steps (a tick at 0.5 would print as 1).
    let whole = format(0.5) == format(1.0) || format(0.5) == format(0.0);
    let ticks = nice_ticks_stepping(
        value_floor(&series),
        value_ceiling(&series, stacked, threshold.as_ref().map(|t| t.value)),
        5,
        if whole { 1.0 } else { 0.0 },
    );
    let y_min = ticks.first().copied().unwrap_or(0.0);
    let y_max = ticks.last().copied().unwrap_or(1.0);
    let tick_step = ticks.get(1).map(|t| t - y_min).unwrap_or(1.0);
    let tick_digits = tick_decimals(tick_step);

    let labels = StoredValue::new(labels);
    let series = StoredValue::new(series);
    let title_id = format!("{id}-title");
    let table_id = format!("{id}-table");
    let point_id = move |i: usize| format!("{id}-point-{i}");

    // Geometry, recomputed when the width changes.
    let plot_w = move || (width.get() - MARGIN_LEFT - MARGIN_RIGHT).max(40.0);
    let plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
    let band = move || plot_w() / count.max(1) as f64;
    let x_centre = move |i: usize| MARGIN_LEFT + band() * (i as f64 + 0.5);
    let y_of = move |v: f64| scale(v, y_min, y_max, MARGIN_TOP + plot_h, MARGIN_TOP);

    let grid = {
        let ticks = ticks.clone();
        move || {
            ticks
                .iter()
                .map(|t| {
                    let y = y_of(*t);
                    // Whole-number axes read best as plain numbers; others (ratios,
                    // durations) in the chart's own format.
                    let label = if tick_digits == 0 && plain_ticks {
                        crate::format::format_number(*t, 0)
                    } else {
                        format(*t)
                    };
                    view! {
                        <line class="chart-gridline" x1=MARGIN_LEFT x2=MARGIN_LEFT + plot_w() y1=y y2=y />
                        <text class="chart-axis-label" x=MARGIN_LEFT - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                    }
                })
                .collect_view()
        }
    };

    let x_labels = move || {
        let stride = label_stride(count, plot_w(), 56.0);
        labels.with_value(|labels| {
            labels
                .iter()
                .enumerate()
                .filter(|(i, _)| i % stride == 0)
                .map(|(i, label)| {
                    view! {
                        <text class="chart-axis-label" x=x_centre(i) y=HEIGHT - 10.0 text-anchor="middle">
                            {label.clone()}
                        </text>
                    }
                })
                .collect_view()
        })
    };

    let marks = move || {
        let band = band();
        series.with_value(|series| match kind {
            Kind::Line => series
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    let points: Vec<Option<(f64, f64)>> = s
                        .values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v.map(|v| (x_centre(i), y_of(v))))
                        .collect();
                    let dots = points
                        .iter()
                        .flatten()
                        .map(|(x, y)| view! { <circle class="chart-dot" cx=*x cy=*y r="3" /> })
                        .collect_view();
                    view! {
                        <g class=format!("chart-series series-{}", k % PALETTE)>
                            <path class="chart-line" d=line_path(&points) />
                            {dots}
                        </g>
                    }
                })
                .collect_view()
                .into_any(),
            Kind::Bar => {
                let groups = series.len().max(1) as f64;
                let bar_w = (band * 0.8 / groups).max(1.0);
                series
                    .iter()
                    .enumerate()
                    .map(|(k, s)| {
                        let bars = s
                            .values
                            .iter()
                            .enumerate()
                            .filter_map(|(i, v)| v.map(|v| (i, v)))
                            .map(|(i, v)| {
                                let x = MARGIN_LEFT + band * i as f64 + band * 0.1 + bar_w * k as f64;
                                let (top, bottom) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
                                view! { <rect class="chart-bar" x=x y=top width=bar_w height=(bottom - top).max(0.0) /> }
                            })
                            .collect_view();
                        view! { <g class=format!("chart-series series-{}", k % PALETTE)>{bars}</g> }
                    })
                    .collect_view()
                    .into_any()
            }
            Kind::Stacked => {
                let bar_w = (band * 0.7).max(1.0);
                let segments: Vec<Vec<(f64, f64)>> = (0..count)
                    .map(|i| {
                        let values: Vec<Option<f64>> =
                            series.iter().map(|s| s.values.get(i).copied().flatten()).collect();
                        stack(&values)
                    })
                    .collect();
                (0..series.len())
                    .map(|k| {
                        let bars = segments
                            .iter()
                            .enumerate()
                            .filter(|(_, stacked)| stacked[k].1 > stacked[k].0)
                            .map(|(i, stacked)| {
                                let (bottom, top) = stacked[k];
                                let x = MARGIN_LEFT + band * i as f64 + band * 0.15;
                                let (y_top, y_bottom) = (y_of(top), y_of(bottom));
                                view! { <rect class="chart-bar" x=x y=y_top width=bar_w height=(y_bottom - y_top).max(0.0) /> }
                            })
                            .collect_view();
                        view! { <g class=format!("chart-series series-{}", k % PALETTE)>{bars}</g> }
                    })
                    .collect_view()
                    .into_any()
            }
        })
    };

    let threshold_line = threshold.clone().map(|t| {
        move || {
            let y = y_of(t.value);
            view! {
                <g class="chart-threshold">
                    <line x1=MARGIN_LEFT x2=MARGIN_LEFT + plot_w() y1=y y2=y />
                    <text class="chart-axis-label" x=MARGIN_LEFT + plot_w() y=y - 4.0 text-anchor="end">
                        {format!("{} {}", t.label, format(t.value))}
                    </text>
                </g>
            }
        }
    });

    // The highlighted category (hover or keyboard), as a band behind the marks.
    let highlight = move || {
        active.get().map(|i| {
            view! {
                <rect class="chart-highlight" x=MARGIN_LEFT + band() * i as f64 y=MARGIN_TOP width=band() height=plot_h />
            }
        })
    };

    let tooltip_lines = move |i: usize| {
        series.with_value(|series| {
            series
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    let value = s.values.get(i).copied().flatten();
                    (
                        k,
                        s.name.clone(),
                        value.map(format).unwrap_or_else(|| "no value".to_string()),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let point_label = move |i: usize| {
        let label = labels.with_value(|labels| labels.get(i).cloned().unwrap_or_default());
        let values = tooltip_lines(i)
            .into_iter()
            .map(|(_, name, value)| format!("{name} {value}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{label}: {values}")
    };

    let tooltip = move || {
        active.get().map(|i| {
            let left = x_centre(i);
            // Keep the tooltip inside the chart: anchor it left or right of the point.
            let anchor_right = left > width.get() / 2.0;
            let (left_px, right_px) = if anchor_right {
                (None, Some(format!("{:.0}px", (width.get() - left + 8.0).max(0.0))))
            } else {
                (Some(format!("{:.0}px", left + 8.0)), None)
            };
            let label = labels.with_value(|labels| labels.get(i).cloned().unwrap_or_default());
            view! {
                <div class="chart-tooltip" style:left=left_px style:right=right_px style:top="0" aria-hidden="true">
                    <strong>{label}</strong>
                    <ul>
                        {tooltip_lines(i)
                            .into_iter()
                            .map(|(k, name, value)| view! {
                                <li><span class=format!("chart-swatch series-{}", k % PALETTE)></span>{name} ": " <b>{value}</b></li>
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    };

    let focus_point = move |i: usize| {
        set_focus_index.set(i);
        set_active.set(Some(i));
        #[cfg(target_arch = "wasm32")]
        {
            use wasm_bindgen::JsCast;
            if let Some(element) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id(&point_id(i)))
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = element.focus();
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if count == 0 {
            return;
        }
        let current = focus_index.get_untracked();
        let next = match ev.key().as_str() {
            "ArrowRight" | "ArrowDown" => Some((current + 1).min(count - 1)),
            "ArrowLeft" | "ArrowUp" => Some(current.saturating_sub(1)),
            "Home" => Some(0),
            "End" => Some(count - 1),
            "Escape" => {
                set_active.set(None);
                None
            }
            _ => None,
        };
        if let Some(next) = next {
            ev.prevent_default();
            focus_point(next);
        }
    };

    // One invisible, focusable column per category over the plot: hovering or focusing it
    // shows the tooltip. Only one takes part in the Tab order (roving tabindex).
    let hit_areas = move || {
        (0..count)
            .map(|i| {
                view! {
                    <span
                        class="chart-hit"
                        id=point_id(i)
                        role="button"
                        tabindex=move || if focus_index.get() == i { "0" } else { "-1" }
                        aria-label=point_label(i)
                        style:left=move || format!("{:.1}px", MARGIN_LEFT + band() * i as f64)
                        style:top=format!("{MARGIN_TOP}px")
                        style:width=move || format!("{:.1}px", band())
                        style:height=format!("{plot_h}px")
                        on:mouseenter=move |_| set_active.set(Some(i))
                        on:focus=move |_| {
                            set_focus_index.set(i);
                            set_active.set(Some(i));
                        }
                        on:blur=move |_| set_active.set(None)
                    ></span>
                }
            })
            .collect_view()
    };

    let legend = series.with_value(|series| {
        (series.len() > 1 || threshold.is_some()).then(|| {
            let items = series
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    view! { <li><span class=format!("chart-swatch series-{}", k % PALETTE)></span>{s.name.clone()}</li> }
                })
                .collect_view();
            let limit = threshold.clone().map(|t| {
                view! { <li><span class="chart-swatch chart-swatch-threshold"></span>{t.label}</li> }
            });
            view! { <ul class="chart-legend">{items}{limit}</ul> }
        })
    });

    let caption = title.clone();
    let table = move || {
        series.with_value(|series| {
            labels.with_value(|labels| {
                let head = series
                    .iter()
                    .map(|s| view! { <th scope="col">{s.name.clone()}</th> })
                    .collect_view();
                let rows = labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| {
                        let cells = series
                            .iter()
                            .map(|s| {
                                let value = s.values.get(i).copied().flatten();
                                view! { <td class="num">{value.map(format).unwrap_or_else(|| "–".to_string())}</td> }
                            })
                            .collect_view();
                        view! { <tr><th scope="row">{label.clone()}</th>{cells}</tr> }
                    })
                    .collect_view();
                view! {
                    <div class="table-scroll">
                        <table class="data-table chart-table" id=table_id.clone()>
                            <caption class="visually-hidden">{caption.clone()}</caption>
                            <thead><tr><th scope="col">""</th>{head}</tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
            })
        })
    };

    view! {
        <figure class="chart" id=id aria-labelledby=title_id.clone()>
            <figcaption class="chart-head">
                <span class="chart-title" id=title_id.clone()>{title.clone()}</span>
                <button
                    type="button"
                    class="button secondary small chart-toggle"
                    aria-pressed=move || if as_table.get() { "true" } else { "false" }
                    on:click=move |_| set_as_table.update(|t| *t = !*t)
                >
                    {move || if as_table.get() { "Show as chart" } else { "Show as table" }}
                </button>
            </figcaption>
            <Show when=move || as_table.get()>{table.clone()}</Show>
            <div
                class="chart-body"
                node_ref=container
                hidden=move || as_table.get()
                on:mouseleave=move |_| set_active.set(None)
                on:keydown=on_keydown
            >
                <svg
                    class="chart-svg"
                    role="img"
                    aria-label=summary.clone()
                    width=move || format!("{:.0}", width.get())
                    height=HEIGHT
                    viewBox=move || format!("0 0 {:.0} {HEIGHT}", width.get())
                >
                    {highlight}
                    {grid}
                    {x_labels}
                    {marks}
                    {threshold_line}
                </svg>
                <div class="chart-hits">{hit_areas}</div>
                {tooltip}
            </div>
            {legend}
        </figure>
    }
}

/// How full a gauge is, for its colour: comfortable, close to the limit, at or over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaugeLevel {
    /// Below 80 %.
    Ok,
    /// 80 % up to the limit.
    Warn,
    /// At or over the limit.
    Full,
}

/// The level of `value` against `max`.
pub fn gauge_level(value: f64, max: f64) -> GaugeLevel {
    if max <= 0.0 {
        return if value > 0.0 {
            GaugeLevel::Full
        } else {
            GaugeLevel::Ok
        };
    }
    let fraction = value / max;
    if fraction >= 1.0 {
        GaugeLevel::Full
    } else if fraction >= 0.8 {
        GaugeLevel::Warn
    } else {
        GaugeLevel::Ok
    }
}

/// One value against a maximum as a half-circle dial, with the figures written out.
#[component]
pub fn Gauge(
    /// What it measures ("Peak channels").
    #[prop(into)]
    title: String,
    /// The value.
    value: f64,
    /// The maximum (the limit).
    max: f64,
    /// Formats both.
    format: ValueFormat,
    /// Words after the figures ("of 30 channels").
    #[prop(into, optional)]
    unit: String,
) -> impl IntoView {
    let fraction = if max > 0.0 { value / max } else { 0.0 };
    let level = match gauge_level(value, max) {
        GaugeLevel::Ok => "gauge-ok",
        GaugeLevel::Warn => "gauge-warn",
        GaugeLevel::Full => "gauge-full",
    };
    let percent = crate::format::format_percent(Some(fraction), 0);
    let label = format!(
        "{title}: {} of {}{}{} ({percent})",
        format(value),
        format(max),
        if unit.is_empty() { "" } else { " " },
        unit
    );
    view! {
        <figure class=format!("gauge {level}")>
            <svg role="img" aria-label=label viewBox="0 0 200 116" class="gauge-svg">
                <path class="gauge-track" d=gauge_arc(100.0, 104.0, 84.0, 1.0) />
                <path class="gauge-value" d=gauge_arc(100.0, 104.0, 84.0, fraction) />
                <text x="100" y="92" text-anchor="middle" class="gauge-figure">{percent.clone()}</text>
            </svg>
            <figcaption>
                <span class="gauge-title">{title.clone()}</span>
                <span class="gauge-numbers">{format(value)} " of " {format(max)} " " {unit.clone()}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(v: f64) -> String {
        format!("{v:.0}")
    }

    #[test]
    fn the_summary_names_the_range_and_each_series_extremes() {
        let labels = vec![
            "10:00".to_string(),
            "11:00".to_string(),
            "12:00".to_string(),
        ];
        let series = vec![
            Series::new("Calls", vec![Some(4.0), None, Some(9.0)]),
            Series::new("Answered", vec![None, None, None]),
        ];
        assert_eq!(
            summarise("Calls per hour", &labels, &series, whole),
            "Calls per hour: 3 values, 10:00 to 12:00. Calls: lowest 4, highest 9, last 9. Answered: no values."
        );
        assert_eq!(summarise("X", &[], &series, whole), "X: no data.");
    }

    #[test]
    fn the_axis_reaches_the_stacked_total_and_the_threshold() {
        let series = vec![
            Series::new("A", vec![Some(3.0), Some(1.0)]),
            Series::new("B", vec![Some(4.0), None]),
        ];
        assert_eq!(value_ceiling(&series, false, None), 4.0);
        assert_eq!(value_ceiling(&series, true, None), 7.0);
        assert_eq!(value_ceiling(&series, false, Some(30.0)), 30.0);
        assert_eq!(value_ceiling(&[], false, None), 0.0);
        assert_eq!(value_floor(&series), 0.0);
        assert_eq!(value_floor(&[Series::new("N", vec![Some(-2.0)])]), -2.0);
    }

    #[test]
    fn gauges_warn_near_the_limit() {
        assert_eq!(gauge_level(10.0, 30.0), GaugeLevel::Ok);
        assert_eq!(gauge_level(24.0, 30.0), GaugeLevel::Warn);
        assert_eq!(gauge_level(30.0, 30.0), GaugeLevel::Full);
        assert_eq!(gauge_level(0.0, 0.0), GaugeLevel::Ok);
        assert_eq!(gauge_level(1.0, 0.0), GaugeLevel::Full);
    }
}
