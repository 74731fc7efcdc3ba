//! The carrier's demo incidents and maintenance, with their timelines.

use rand::rngs::StdRng;

use crate::{
    db::{
        self,
        incidents::{IncidentUpdateRow, NewIncident},
        Db,
    },
    voice::ingest::HOUR_MS,
};

use super::{det_uuid, Created, DAY_MS};

/// Posts the demo incidents and maintenance (global rows: the carrier's); `frankfurt` is the
/// window of the Frankfurt outage the calls also show. Returns how many.
pub(super) async fn seed_incidents(
    db: &Db,
    rng: &mut StdRng,
    created: &[Created<'_>],
    now: i64,
    frankfurt: (i64, i64),
) -> anyhow::Result<usize> {
    let service = |name: &str| {
        created
            .iter()
            .find(|c| c.spec.name == name)
            .map(|c| c.id.clone())
    };
    // (kind, scope, service, country, title, status, starts, ends, updates)
    type Updates = &'static [(i64, &'static str, &'static str)];
    type IncidentSpec = (
        &'static str,
        &'static str,
        Option<String>,
        Option<&'static str>,
        &'static str,
        &'static str,
        i64,
        Option<i64>,
        Updates,
    );
    let incidents: Vec<IncidentSpec> = vec![
        (
            "incident",
            "service",
            service("Teams Direct Routing Frankfurt"),
            None,
            "Call failures on Teams Direct Routing in Frankfurt",
            "resolved",
            frankfurt.0,
            Some(frankfurt.1),
            &[
                (10 * 60_000, "investigating", "We are investigating elevated call failures (SIP 503) for Direct Routing calls through Frankfurt."),
                (70 * 60_000, "identified", "A faulty media gateway in Frankfurt has been identified and taken out of service."),
                (4 * HOUR_MS, "resolved", "Calls have completed normally for an hour. This incident is resolved."),
            ],
        ),
        (
            "incident",
            "service",
            service("Paris SIP trunk"),
            None,
            "Paris SIP trunk not answering OPTIONS probes",
            "investigating",
            now - 40 * 60_000,
            None,
            &[(5 * 60_000, "investigating", "The customer SBC stopped answering our probes; we are checking the interconnect.")],
        ),
        (
            "incident",
            "country",
            None,
            Some("GB"),
            "Intermittent one-way audio to UK mobile numbers",
            "resolved",
            now - 41 * DAY_MS,
            Some(now - 41 * DAY_MS + 3 * HOUR_MS),
            &[
                (15 * 60_000, "investigating", "Some calls to UK mobiles have one-way audio."),
                (3 * HOUR_MS, "resolved", "A routing change by a transit partner was reverted."),
            ],
        ),
        (
            "maintenance",
            "global",
            None,
            None,
            "Core SBC software upgrade",
            "scheduled",
            (now / DAY_MS + 5) * DAY_MS + 2 * HOUR_MS,
            Some((now / DAY_MS + 5) * DAY_MS + 4 * HOUR_MS),
            &[(-3 * DAY_MS, "scheduled", "Calls in progress may drop once per SBC pair during the window; new calls are routed to the other site.")],
        ),
    ];
    let mut count = 0;
    for (kind, scope, service_id, country, title, status, starts, ends, updates) in incidents {
        let id = det_uuid(rng);
        let created_at = starts.min(now);
        let incident = NewIncident {
            id: &id,
            kind,
            scope,
            service_id: service_id.as_deref(),
            country,
            title,
            status,
            starts_at: starts,
            ends_at: ends,
        };
        db::incidents::insert(db.pool(), &incident, created_at).await?;
        for &(after, status, body) in updates {
            let posted_at = if after < 0 {
                created_at
            } else {
                starts + after
            };
            let update = IncidentUpdateRow {
                id: det_uuid(rng),
                incident_id: id.clone(),
                posted_at: posted_at.min(now),
                status: status.to_string(),
                body: body.to_string(),
            };
            db::incidents::insert_update(db.pool(), &update).await?;
        }
        count += 1;
    }
    Ok(count)
}
