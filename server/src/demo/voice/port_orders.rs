//! The demo customers' porting orders, one at each stage.

use rand::{rngs::StdRng, Rng};

use crate::{
    db::{
        self,
        port_orders::{NewPortOrder, NewPortOrderEvent, PortOrderState},
        Db,
    },
    voice::ingest::HOUR_MS,
};

use super::{det_uuid, DAY_MS};

/// Stores the demo porting orders, each with some of its customer's `numbers`
/// (`(org id, e164)`, in the order the services were seeded) and its history. Returns how many.
pub(super) async fn seed_port_orders(
    db: &Db,
    rng: &mut StdRng,
    numbers: &[(String, String)],
    now: i64,
) -> anyhow::Result<usize> {
    let today = now.div_euclid(DAY_MS) * DAY_MS;
    let orgs: Vec<&String> = {
        let mut v: Vec<&String> = numbers.iter().map(|(o, _)| o).collect();
        v.dedup();
        v
    };
    // (org index, losing carrier, requested for, foc, status, events)
    type Events = &'static [(i64, &'static str, &'static str)];
    type OrderSpec = (usize, &'static str, i64, Option<i64>, &'static str, Events);
    let orders: [OrderSpec; 4] = [
        (
            0,
            "BT Wholesale",
            today - 30 * DAY_MS,
            Some(today - 30 * DAY_MS),
            "completed",
            &[
                (-45, "submitted", ""),
                (-40, "confirmed", "FOC confirmed by the losing carrier"),
                (-30, "completed", "numbers live on the London SIP trunk"),
            ],
        ),
        (
            0,
            "Deutsche Telekom",
            today + 9 * DAY_MS,
            Some(today + 9 * DAY_MS),
            "confirmed",
            &[(-6, "submitted", ""), (-2, "confirmed", "FOC confirmed")],
        ),
        (
            1,
            "Lumen",
            today + 14 * DAY_MS,
            None,
            "submitted",
            &[(-1, "submitted", "")],
        ),
        (
            1,
            "Orange Business",
            today - 3 * DAY_MS,
            None,
            "rejected",
            &[
                (-10, "submitted", ""),
                (
                    -7,
                    "rejected",
                    "account number does not match the losing carrier's records",
                ),
            ],
        ),
    ];
    let mut count = 0;
    for (org_index, carrier, requested, foc, status, events) in orders {
        let Some(org_id) = orgs.get(org_index) else {
            continue;
        };
        let id = det_uuid(rng);
        let created_at = today + events.first().map(|e| e.0).unwrap_or(-1) * DAY_MS;
        let order = NewPortOrder {
            id: &id,
            org_id: org_id.as_str(),
            losing_carrier: carrier,
            requested_for: requested,
        };
        let state = PortOrderState {
            status,
            foc_at: foc,
            created_at,
            updated_at: today + events.last().map(|e| e.0).unwrap_or(-1) * DAY_MS,
        };
        db::port_orders::insert(db.pool(), &order, &state).await?;
        let theirs: Vec<&String> = numbers
            .iter()
            .filter(|(o, _)| o == *org_id)
            .map(|(_, e)| e)
            .collect();
        let take = rng.gen_range(3..8).min(theirs.len());
        let from = rng.gen_range(0..theirs.len().saturating_sub(take).max(1));
        for e164 in &theirs[from..from + take] {
            db::port_orders::insert_number(db.pool(), &id, e164.as_str()).await?;
        }
        for &(day, event_status, note) in events {
            let event = NewPortOrderEvent {
                id: &det_uuid(rng),
                order_id: &id,
                at: today + day * DAY_MS + 10 * HOUR_MS,
                status: event_status,
                note,
                actor_label: match (event_status, org_index) {
                    ("submitted", 0) => "admin@contoso.example",
                    ("submitted", _) => "admin@fabrikam.example",
                    _ => "noc@carrier.example",
                },
            };
            db::port_orders::insert_event(db.pool(), &event).await?;
        }
        count += 1;
    }
    Ok(count)
}
