//! `/calls`: the organisation's call records. Filters (a date range that starts as the last
//! 24 hours, direction, result, number, service, country, minimum MOS) apply together; the
//! table shows a page at a time with "Load more" (the API's keyset cursor); a call's details
//! open in a dialog with its quality metrics (MOS, jitter, packet loss), SIP outcome and
//! timings; "Export CSV" downloads the filtered calls with the progress shown as it streams.
//!
//! Times are entered and shown in the browser's time zone; the API gets and gives UTC.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_meta::Title;

use crate::api::{
    calls::{get_call, list_calls, CallInfo, CallsQuery, CallsRange},
    services::list_services,
};
use crate::components::browser::in_browser;
use crate::components::{
    access::{any_user, AccessGate},
    csv_export::CsvExportButton,
    data_table::{DataTable, LoadMore},
    dialog::Dialog,
    empty_state::EmptyState,
    form::{hint_id, FormAlert, NeedsJavaScript, SubmitButton},
    load_error::LoadError,
    skeleton::SkeletonTable,
};
use crate::format::{format_datetime_local, format_duration_secs, format_number, format_percent};

/// This page's path.
pub const CALLS_PATH: &str = "/calls";

/// Call results: API value and label.
pub const RESULTS: [(&str, &str); 5] = [
    ("answered", "Answered"),
    ("busy", "Busy"),
    ("no_answer", "No answer"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
];

/// A result's label.
pub fn result_label(result: &str) -> String {
    RESULTS
        .iter()
        .find(|(value, _)| *value == result)
        .map(|(_, label)| label.to_string())
        .unwrap_or_else(|| result.replace('_', " "))
}

/// A direction's label.
pub fn direction_label(direction: &str) -> &str {
    match direction {
        "inbound" => "Inbound",
        "outbound" => "Outbound",
        other => other,
    }
}

/// How a MOS reads: good (4.0 and above), fair (3.6 and above), poor; and its badge class.
pub fn mos_rating(mos: f64) -> (&'static str, &'static str) {
    if mos >= 4.0 {
        ("Good", "badge ok")
    } else if mos >= 3.6 {
        ("Fair", "badge warn")
    } else {
        ("Poor", "badge bad")
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time in UTC as the API writes it
/// (`2026-11-27T10:00:00.123Z`, or with `+00:00`); `None` for anything else.
pub fn parse_utc_ms(text: &str) -> Option<i64> {
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':').map(str::parse::<i64>);
    let (h, min, s) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 60 {
        return None;
    }
    let millis = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(3).collect();
        if !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        format!("{digits:0<3}").parse::<i64>().ok()?
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + min) * 60_000 + s * 1000 + millis)
}

/// Seconds from `a` to `b` (RFC 3339), when both can be read and `b` is not earlier.
pub fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (parse_utc_ms(a)?, parse_utc_ms(b)?);
    (b >= a).then(|| (b - a) as f64 / 1000.0)
}

/// How long the call talked (answer to end); `None` when it was not answered.
pub fn talk_seconds(call: &CallInfo) -> Option<f64> {
    seconds_between(call.answer.as_deref()?, &call.end)
}

/// How long it rang before it was answered (start to answer).
pub fn setup_seconds(call: &CallInfo) -> Option<f64> {
    seconds_between(&call.start, call.answer.as_deref()?)
}

/// A typed minimum MOS: empty is no filter; otherwise a number from 1 to 5.
pub fn parse_min_mos(text: &str) -> Result<Option<f64>, &'static str> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(m) if (1.0..=5.0).contains(&m) => Ok(Some(m)),
        _ => Err("Enter a MOS from 1 to 5, like 3.5, or leave it empty."),
    }
}

/// The filters without the page (for the export, which takes the same filters).
pub fn export_query(query: &CallsQuery) -> String {
    CallsQuery {
        limit: None,
        cursor: None,
        ..query.clone()
    }
    .to_query_string()
}

/// An `<input type="datetime-local">` value (the browser's time zone) as RFC 3339 UTC.
/// Outside the browser the value is taken as UTC.
pub fn local_input_to_rfc3339(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    #[cfg(target_arch = "wasm32")]
    {
        let date = web_sys::js_sys::Date::new(&wasm_bindgen::JsValue::from_str(value));
        if date.get_time().is_nan() {
            return None;
        }
        Some(String::from(date.to_iso_string()))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let with_seconds = if value.len() == 16 {
            format!("{value}:00Z")
        } else {
            format!("{value}Z")
        };
        parse_utc_ms(&with_seconds).map(|_| with_seconds)
    }
}

/// An RFC 3339 time as an `<input type="datetime-local">` value in the browser's time zone
/// (`YYYY-MM-DDTHH:MM`); outside the browser, in UTC.
pub fn rfc3339_to_local_input(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let date = web_sys::js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
        if date.get_time().is_nan() {
            return String::new();
        }
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes()
        )
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        rfc3339.get(..16).unwrap_or_default().to_string()
    }
}

/// The reads the page makes when it first renders, for its route to start ahead.
pub fn first_reads() -> Vec<String> {
    vec![
        crate::api::services::LIST_PATH.to_string(),
        crate::api::calls::list_path(&CallsQuery::default()),
    ]
}

/// The calls page.
#[component]
pub fn CallsPage() -> impl IntoView {
    view! {
        <Title text="Calls" />
        <section class="page data-page calls-page">
            <h1>"Calls"</h1>
            <NeedsJavaScript />
            <AccessGate
                allowed=any_user
                forbidden_message="You cannot see this organisation's calls."
                return_to=CALLS_PATH
                loading_label="Loading calls"
                page=|_| view! { <CallsView /> }.into_any()
            />
        </section>
    }
}

#[component]
fn CallsView() -> impl IntoView {
    // The applied filters; the first load leaves the range to the API (the last 24 hours).
    let applied = RwSignal::new(CallsQuery::default());
    let services = LocalResource::new(list_services);
    let results = LocalResource::new(move || {
        let query = applied.get();
        async move { list_calls(&query).await.map(|page| (query, page)) }
    });
    let selected = RwSignal::new(None::<CallInfo>);
    let export_path =
        Signal::derive(move || format!("/calls/export.csv?{}", export_query(&applied.get())));
    // The range inputs show the range the API applied, in the browser's time zone.
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok((_, page))) = results.get() {
            if from.get_untracked().is_empty() {
                from.set(rfc3339_to_local_input(&page.range.from));
            }
            if to.get_untracked().is_empty() {
                to.set(rfc3339_to_local_input(&page.range.to));
            }
        }
    });

    view! {
        <section class="card filter-card" aria-labelledby="calls-filter-title">
            <h2 id="calls-filter-title" class="visually-hidden">"Filter calls"</h2>
            <CallsFilterForm applied=applied services=services from=from to=to />
        </section>
        <div class="list-toolbar">
            <CsvExportButton path=export_path filename="calls.csv" label="Export CSV" />
        </div>
        <Transition fallback=|| view! { <SkeletonTable label="Loading calls" /> }>
            {move || Suspend::new(async move {
                match in_browser(results).await {
                    Ok((query, page)) => {
                        view! {
                            <CallsResults
                                query=query
                                calls=page.calls
                                next_cursor=page.next_cursor
                                range=page.range
                                selected=selected
                            />
                        }
                            .into_any()
                    }
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="The calls"
                            return_to=CALLS_PATH
                            on_retry=Callback::new(move |()| results.refetch())
                        />
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <Dialog
            id="call-detail"
            title=Signal::derive(move || "Call details".to_string())
            open=Signal::derive(move || selected.with(Option::is_some))
            on_close=Callback::new(move |()| selected.set(None))
        >
            {move || selected.get().map(|call| view! { <CallDetail call=call /> })}
        </Dialog>
    }
}

#[component]
fn CallsFilterForm(
    applied: RwSignal<CallsQuery>,
    services: LocalResource<Result<crate::api::services::ServicesResponse, crate::api::ApiError>>,
    from: RwSignal<String>,
    to: RwSignal<String>,
) -> impl IntoView {
    let direction = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let min_mos = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<String>);
    let opt = |s: String| {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mos = match parse_min_mos(&min_mos.get_untracked()) {
            Ok(mos) => mos,
            Err(problem) => {
                set_error.set(Some(problem.to_string()));
                return;
            }
        };
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
        applied.set(CallsQuery {
            from: from_value,
            to: to_value,
            direction: opt(direction.get_untracked()),
            result: opt(result.get_untracked()),
            number: opt(number.get_untracked()).map(|n| n.replace([' ', '-'], "")),
            service: opt(service.get_untracked()),
            country: opt(country.get_untracked()).map(|c| c.to_ascii_uppercase()),
            min_mos: mos.map(|m| m.to_string()),
            limit: None,
            cursor: None,
        });
    };
    let select = |id: &'static str,
                  label: &'static str,
                  any: &'static str,
                  options: Vec<(String, String)>,
                  value: RwSignal<String>| {
        view! {
            <div class="field">
                <label class="field-label" for=id>{label}</label>
                <select id=id class="input select" on:change=move |ev| value.set(event_target_value(&ev))>
                    <option value="">{any}</option>
                    {options
                        .into_iter()
                        .map(|(v, l)| view! { <option value=v>{l}</option> })
                        .collect_view()}
                </select>
            </div>
        }
    };
    let own = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(v, l)| (v.to_string(), l.to_string()))
            .collect()
    };
    view! {
        <form class="filter-form" on:submit=submit>
            <div class="field">
                <label class="field-label" for="calls-from">"From"</label>
                <input id="calls-from" class="input" type="datetime-local" bind:value=from />
            </div>
            <div class="field">
                <label class="field-label" for="calls-to">"To"</label>
                <input id="calls-to" class="input" type="datetime-local" bind:value=to />
            </div>
            {select("calls-direction", "Direction", "Both directions", own(&[("inbound", "Inbound"), ("outbound", "Outbound")]), direction)}
            {select("calls-result", "Result", "Any result", own(&RESULTS), result)}
            <div class="field">
                <label class="field-label" for="calls-number">"Number"</label>
                <input
                    id="calls-number"
                    class="input"
                    type="text"
                    inputmode="tel"
                    placeholder="+44…"
                    aria-describedby=hint_id("calls-number")
                    bind:value=number
                />
                <p class="field-hint visually-hidden" id=hint_id("calls-number")>
                    "The calling or called number in international format, like +442079460000."
                </p>
            </div>
            <div class="field">
                <label class="field-label" for="calls-service">"Service"</label>
                <select id="calls-service" class="input select" on:change=move |ev| service.set(event_target_value(&ev))>
                    <option value="">"Any service"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            in_browser(services)
                                .await
                                .map(|s| s.services)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|s| view! { <option value=s.id>{s.name}</option> })
                                .collect_view()
                        })}
                    </Transition>
                </select>
            </div>
            <div class="field">
                <label class="field-label" for="calls-country">"Country"</label>
                <input id="calls-country" class="input narrow" type="text" maxlength="2" size="4" placeholder="GB" bind:value=country />
            </div>
            <div class="field">
                <label class="field-label" for="calls-min-mos">"Minimum MOS"</label>
                <input
                    id="calls-min-mos"
                    class="input narrow"
                    type="number"
                    min="1"
                    max="5"
                    step="0.1"
                    inputmode="decimal"
                    bind:value=min_mos
                />
            </div>
            <div class="actions filter-actions">
                <SubmitButton label="Apply filters" busy_label="Applying…" />
            </div>
            <FormAlert message=error />
        </form>
    }
}

#[component]
fn CallsResults(
    query: CallsQuery,
    calls: Vec<CallInfo>,
    next_cursor: Option<String>,
    range: CallsRange,
    selected: RwSignal<Option<CallInfo>>,
) -> impl IntoView {
    let rows = RwSignal::new(calls);
    let cursor = RwSignal::new(next_cursor);
    let (busy, set_busy) = signal(false);
    let (more_error, set_more_error) = signal(None::<String>);
    let query = StoredValue::new(query);
    let load_more = Callback::new(move |()| {
        let Some(c) = cursor.get_untracked() else {
            return;
        };
        set_busy.set(true);
        set_more_error.set(None);
        let next = CallsQuery {
            cursor: Some(c),
            ..query.get_value()
        };
        leptos::task::spawn_local(async move {
            match list_calls(&next).await {
                Ok(page) => {
                    rows.update(|r| r.extend(page.calls));
                    cursor.set(page.next_cursor);
                }
                Err(e) => set_more_error.set(Some(format!("More calls could not be loaded. {e}"))),
            }
            set_busy.set(false);
        });
    });
    let range_text = format!(
        "Calls that started from {} to {}.",
        format_datetime_local(&range.from),
        format_datetime_local(&range.to)
    );
    if rows.with_untracked(Vec::is_empty) {
        return view! {
            <p class="muted range-line">{range_text}</p>
            <EmptyState
                title="No calls match these filters.".to_string()
                hint="Widen the date range or remove a filter. Calls appear here a few minutes after they end."
                testid="calls-empty"
            />
        }
        .into_any();
    }
    view! {
        <p class="muted range-line">{range_text}</p>
        <DataTable
            caption="Calls, newest first"
            columns=vec!["Start", "Direction", "From", "To", "Result", "Duration", "MOS", "Service", ""]
            testid="calls-table"
        >
            <For
                each=move || rows.get()
                key=|c| c.id.clone()
                children=move |c| view! { <CallRow call=c selected=selected /> }
            />
        </DataTable>
        <FormAlert message=more_error />
        <LoadMore
            has_more=Signal::derive(move || cursor.with(Option::is_some))
            busy=busy
            shown=Signal::derive(move || rows.with(Vec::len))
            noun=("call", "calls")
            on_more=load_more
        />
    }
    .into_any()
}

#[component]
fn CallRow(call: CallInfo, selected: RwSignal<Option<CallInfo>>) -> impl IntoView {
    let result_class = match call.result.as_str() {
        "answered" => "badge ok",
        "failed" => "badge bad",
        _ => "badge",
    };
    let mos = call.mos.map(|m| {
        let (_, class) = mos_rating(m);
        view! { <span class=class>{format_number(m, 2)}</span> }
    });
    let label = format!("Details of the call from {} to {}", call.from, call.to);
    let open = call.clone();
    view! {
        <tr data-call-id=call.id.clone()>
            <td data-label="Start">
                <time datetime=call.start.clone()>{format_datetime_local(&call.start)}</time>
            </td>
            <td data-label="Direction">{direction_label(&call.direction).to_string()}</td>
            <td data-label="From"><span class="mono e164">{call.from.clone()}</span></td>
            <td data-label="To"><span class="mono e164">{call.to.clone()}</span></td>
            <td data-label="Result"><span class=result_class>{result_label(&call.result)}</span></td>
            <td data-label="Duration">{format_duration_secs(talk_seconds(&call))}</td>
            <td data-label="MOS">{mos.unwrap_or_else(|| view! { <span class="muted">{"–".to_string()}</span> })}</td>
            <td data-label="Service">{call.service.clone()}</td>
            <td class="actions-cell">
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=label
                    on:click=move |_| selected.set(Some(open.clone()))
                >
                    "Details"
                </button>
            </td>
        </tr>
    }
}

/// A call's details, loaded fresh from `GET /api/v1/calls/{id}`.
#[component]
fn CallDetail(call: CallInfo) -> impl IntoView {
    let id = call.id.clone();
    let detail = LocalResource::new(move || {
        let id = id.clone();
        async move { get_call(&id).await }
    });
    view! {
        <Transition fallback=|| view! { <SkeletonTable label="Loading the call" rows=4 /> }>
            {move || Suspend::new(async move {
                match in_browser(detail).await {
                    Ok(call) => view! { <CallFacts call=call /> }.into_any(),
                    Err(error) => view! {
                        <LoadError
                            error=error
                            what="This call"
                            return_to=CALLS_PATH
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
fn CallFacts(call: CallInfo) -> impl IntoView {
    let mos = match call.mos {
        Some(m) => {
            let (rating, class) = mos_rating(m);
            view! { <span>{format_number(m, 2)} " " <span class=class>{rating}</span></span> }
                .into_any()
        }
        None => view! { <span class="muted">"Not measured"</span> }.into_any(),
    };
    let unknown = || "Not measured".to_string();
    let jitter = call
        .jitter_ms
        .map(|j| format!("{} ms", format_number(j, 1)))
        .unwrap_or_else(unknown);
    let loss = call
        .packet_loss_pct
        .map(|p| format_percent(Some(p / 100.0), 2))
        .unwrap_or_else(unknown);
    let sip = if call.sip_reason.is_empty() {
        call.sip_code.to_string()
    } else {
        format!("{} {}", call.sip_code, call.sip_reason)
    };
    let answer = call
        .answer
        .as_deref()
        .map(format_datetime_local)
        .unwrap_or_else(|| "Not answered".to_string());
    view! {
        <div class="call-detail" data-testid="call-detail">
            <h3 class="detail-heading">"Quality"</h3>
            <dl class="facts">
                <dt>"MOS"</dt>
                <dd data-testid="call-mos">{mos}</dd>
                <dt>"Jitter"</dt>
                <dd>{jitter}</dd>
                <dt>"Packet loss"</dt>
                <dd>{loss}</dd>
            </dl>
            <h3 class="detail-heading">"Outcome"</h3>
            <dl class="facts">
                <dt>"Result"</dt>
                <dd>{result_label(&call.result)}</dd>
                <dt>"SIP response"</dt>
                <dd><span class="mono">{sip}</span></dd>
                <dt>"Direction"</dt>
                <dd>{direction_label(&call.direction).to_string()}</dd>
                <dt>"From"</dt>
                <dd><span class="mono e164">{call.from.clone()}</span></dd>
                <dt>"To"</dt>
                <dd><span class="mono e164">{call.to.clone()}</span></dd>
                <dt>"Country"</dt>
                <dd>{call.country.clone()}</dd>
                <dt>"Service"</dt>
                <dd>{call.service.clone()}</dd>
            </dl>
            <h3 class="detail-heading">"Timings"</h3>
            <dl class="facts">
                <dt>"Start"</dt>
                <dd><time datetime=call.start.clone()>{format_datetime_local(&call.start)}</time></dd>
                <dt>"Answer"</dt>
                <dd>{answer}</dd>
                <dt>"End"</dt>
                <dd><time datetime=call.end.clone()>{format_datetime_local(&call.end)}</time></dd>
                <dt>"Setup time"</dt>
                <dd>{format_duration_secs(setup_seconds(&call))}</dd>
                <dt>"Talk time"</dt>
                <dd>{format_duration_secs(talk_seconds(&call))}</dd>
                <dt>"Call id"</dt>
                <dd><span class="mono">{call.id.clone()}</span></dd>
            </dl>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(answer: Option<&str>) -> CallInfo {
        CallInfo {
            id: "c1".to_string(),
            service_id: "s1".to_string(),
            service: "Trunk".to_string(),
            start: "2026-11-27T10:00:00.000Z".to_string(),
            answer: answer.map(str::to_string),
            end: "2026-11-27T10:03:20.500Z".to_string(),
            direction: "inbound".to_string(),
            from: "+442079460000".to_string(),
            to: "+442079460001".to_string(),
            result: "answered".to_string(),
            sip_code: 200,
            sip_reason: "OK".to_string(),
            mos: Some(4.2),
            jitter_ms: Some(3.5),
            packet_loss_pct: Some(0.1),
            country: "GB".to_string(),
        }
    }

    #[test]
    fn utc_times_are_read_to_the_millisecond() {
        assert_eq!(parse_utc_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc_ms("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        assert_eq!(
            parse_utc_ms("2000-03-01T00:00:00.000Z"),
            Some(951_868_800_000)
        );
        assert_eq!(
            parse_utc_ms("2026-11-27T10:00:00+00:00"),
            Some(1_795_773_600_000)
        );
        assert_eq!(parse_utc_ms("2026-11-27T10:00:00+01:00"), None);
        assert_eq!(parse_utc_ms("2026-13-27T10:00:00Z"), None);
        assert_eq!(parse_utc_ms("yesterday"), None);
    }

    #[test]
    fn setup_and_talk_time_come_from_the_timestamps() {
        let answered = call(Some("2026-11-27T10:00:05.000Z"));
        assert_eq!(setup_seconds(&answered), Some(5.0));
        assert_eq!(talk_seconds(&answered), Some(195.5));
        let unanswered = call(None);
        assert_eq!(talk_seconds(&unanswered), None);
        assert_eq!(setup_seconds(&unanswered), None);
        assert_eq!(
            seconds_between("2026-11-27T10:00:05Z", "2026-11-27T10:00:00Z"),
            None
        );
    }

    #[test]
    fn the_minimum_mos_is_a_number_from_1_to_5() {
        assert_eq!(parse_min_mos(""), Ok(None));
        assert_eq!(parse_min_mos(" 3.5 "), Ok(Some(3.5)));
        assert_eq!(parse_min_mos("3,5"), Ok(Some(3.5)));
        assert!(parse_min_mos("6").is_err());
        assert!(parse_min_mos("good").is_err());
    }

    #[test]
    fn the_export_takes_the_filters_without_the_page() {
        let q = CallsQuery {
            direction: Some("inbound".to_string()),
            limit: Some("50".to_string()),
            cursor: Some("abc".to_string()),
            ..CallsQuery::default()
        };
        assert_eq!(export_query(&q), "direction=inbound");
    }

    #[test]
    fn ratings_and_labels_read_as_words() {
        assert_eq!(mos_rating(4.3).0, "Good");
        assert_eq!(mos_rating(3.7).0, "Fair");
        assert_eq!(mos_rating(2.1), ("Poor", "badge bad"));
        assert_eq!(result_label("no_answer"), "No answer");
        assert_eq!(direction_label("outbound"), "Outbound");
    }

    #[test]
    fn range_inputs_convert_outside_the_browser_as_utc() {
        assert_eq!(
            local_input_to_rfc3339("2026-11-27T10:00"),
            Some("2026-11-27T10:00:00Z".to_string())
        );
        assert_eq!(local_input_to_rfc3339(""), None);
        assert_eq!(
            rfc3339_to_local_input("2026-11-27T10:00:00.000Z"),
            "2026-11-27T10:00"
        );
    }
}
