//! A card with the portal's own health, fetched from `GET /api/v1/status`.

use leptos::prelude::*;

use crate::api::status::{fetch_status, SystemStatusResponse};
use crate::components::browser::in_browser;

/// Formats an uptime in seconds as "3 d 4 h", "4 h 5 min" or "5 min".
pub fn format_uptime(secs: u64) -> String {
    let days = secs / 86_400;
    let hours = (secs % 86_400) / 3_600;
    let minutes = (secs % 3_600) / 60;
    if days > 0 {
        format!("{days} d {hours} h")
    } else if hours > 0 {
        format!("{hours} h {minutes} min")
    } else {
        format!("{minutes} min")
    }
}

/// The status card; loads in the browser and can be refreshed.
#[component]
pub fn SystemStatusCard() -> impl IntoView {
    let status = LocalResource::new(fetch_status);

    view! {
        <article class="card" aria-labelledby="status-title">
            <header class="card-header">
                <h2 id="status-title">"Portal status"</h2>
                <button type="button" class="button secondary" on:click=move |_| status.refetch()>
                    "Refresh"
                </button>
            </header>
            <Suspense fallback=|| view! { <div class="skeleton" aria-busy="true" aria-label="Loading status"></div> }>
                {move || Suspend::new(async move {
                    match in_browser(status).await {
                        Ok(s) => view! { <StatusDetails status=s /> }.into_any(),
                        Err(e) => view! {
                            <p class="error" role="alert">
                                "The portal's status could not be loaded: " {e.to_string()}
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </article>
    }
}

#[component]
fn StatusDetails(status: SystemStatusResponse) -> impl IntoView {
    let db_ok = status.database == "ok";
    view! {
        <dl class="facts" data-testid="system-status">
            <dt>"Database"</dt>
            <dd>
                <span class="badge" class:ok=db_ok class:bad=!db_ok>
                    {if db_ok { "Reachable" } else { "Unreachable" }}
                </span>
            </dd>
            <dt>"Version"</dt>
            <dd>{status.version}</dd>
            <dt>"Running for"</dt>
            <dd>{format_uptime(status.uptime_secs)}</dd>
            <dt>"Server time (UTC)"</dt>
            <dd><time datetime=status.server_time.clone()>{status.server_time.clone()}</time></dd>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::format_uptime;

    #[test]
    fn uptime_uses_the_two_largest_units() {
        assert_eq!(format_uptime(59), "0 min");
        assert_eq!(format_uptime(3_599), "59 min");
        assert_eq!(format_uptime(3_600 + 5 * 60), "1 h 5 min");
        assert_eq!(format_uptime(3 * 86_400 + 4 * 3_600 + 59), "3 d 4 h");
    }
}
