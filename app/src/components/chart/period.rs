//! The time range a chart page shows ("Today", "7 days", "30 days") and its picker: a group
//! of toggle buttons, one pressed.

use leptos::prelude::*;

use crate::format::{iso_hours_ago, iso_local_midnight};

/// A range ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Since midnight in the browser's time zone.
    Today,
    /// The last 7 × 24 hours.
    Week,
    /// The last 30 × 24 hours.
    Month,
}

impl Period {
    /// Every period, in display order.
    pub const ALL: [Period; 3] = [Period::Today, Period::Week, Period::Month];

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            Period::Today => "Today",
            Period::Week => "7 days",
            Period::Month => "30 days",
        }
    }

    /// How the previous period of equal length is named ("yesterday").
    pub fn previous_label(self) -> &'static str {
        match self {
            Period::Today => "the same hours yesterday",
            Period::Week => "the 7 days before",
            Period::Month => "the 30 days before",
        }
    }

    /// What the summary compares the period with (the API's `compare`): today so far against
    /// the same hours yesterday, longer periods against the period just before them.
    pub fn compare(self) -> Option<String> {
        match self {
            Period::Today => Some("day_before".to_string()),
            Period::Week | Period::Month => None,
        }
    }

    /// The API's bucket for charts of this period: hours for a day, days beyond.
    pub fn bucket(self) -> &'static str {
        match self {
            Period::Today => "hour",
            Period::Week | Period::Month => "day",
        }
    }

    /// Whether buckets are days.
    pub fn daily(self) -> bool {
        self.bucket() == "day"
    }

    /// The range's start (RFC 3339) from the browser's clock; `None` outside the browser.
    pub fn from(self) -> Option<String> {
        match self {
            Period::Today => iso_local_midnight(),
            Period::Week => iso_hours_ago(7.0 * 24.0),
            Period::Month => iso_hours_ago(30.0 * 24.0),
        }
    }

    /// The period whose [`label`](Self::label) is `text` (from a query string).
    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "today" => Some(Period::Today),
            "7d" => Some(Period::Week),
            "30d" => Some(Period::Month),
            _ => None,
        }
    }

    /// The short form for query strings.
    pub fn key(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Week => "7d",
            Period::Month => "30d",
        }
    }
}

/// Toggle buttons choosing a [`Period`].
#[component]
pub fn PeriodPicker(
    /// The chosen period.
    period: RwSignal<Period>,
    /// What the group chooses, for screen readers ("Period of the figures").
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="segmented" role="group" aria-label=label>
            {Period::ALL
                .iter()
                .map(|p| {
                    let p = *p;
                    view! {
                        <button
                            type="button"
                            class="segmented-option"
                            aria-pressed=move || if period.get() == p { "true" } else { "false" }
                            on:click=move |_| period.set(p)
                        >
                            {p.label()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_round_trip_through_their_keys() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.key()), Some(p));
        }
        assert_eq!(Period::parse("year"), None);
    }

    #[test]
    fn a_day_is_shown_by_hour_and_longer_periods_by_day() {
        assert_eq!(Period::Today.bucket(), "hour");
        assert!(!Period::Today.daily());
        assert!(Period::Month.daily());
        // Outside the browser there is no clock to count from: the API's default applies.
        assert_eq!(Period::Week.from(), None);
    }

    #[test]
    fn today_is_compared_with_the_same_hours_yesterday() {
        assert_eq!(Period::Today.compare().as_deref(), Some("day_before"));
        assert_eq!(Period::Today.previous_label(), "the same hours yesterday");
        assert_eq!(Period::Week.compare(), None);
        assert_eq!(Period::Month.previous_label(), "the 30 days before");
    }
}
