//! Demo data for development (`portal seed-demo`, and `make run` through `PORTAL_SEED_DEMO`):
//! carrier staff, and two customers whose Entra tenants exist in the development emulator —
//! Contoso, linked, so its people sign in with one click; Fabrikam, SSO enabled but not
//! linked, so a newcomer sees the refusal and can run the admin-consent set-up.
//!
//! Both customers also get voice data ([`voice`]): services in several countries, emergency
//! addresses, numbers, incidents, porting orders and 90 days of calls, from a fixed seed.
//!
//! Seeding an already seeded database changes nothing. The seed is not one transaction (10 M
//! calls are stored in ingest batches); a run that stopped part-way is recognised on the next
//! run, which then says to start from an empty database instead of leaving the data half-made.

pub mod voice;

use crate::{
    accounts::{self, Actor, NewUserKind},
    db::{self, sso::Identity, users::User, Db},
    devidp::{self, CONTOSO_TENANT},
};

/// The password of every demo account that has one (published: development only).
pub const DEMO_PASSWORD: &str = "violet tugboat orbit sandwich";

/// Seeds the demo data, with `calls` CDRs, into `db` unless it is there; returns what was
/// done, for people. A database seeded before the demo had voice data (Contoso without
/// services) gets the voice data only.
pub async fn seed(db: &Db, calls: u64) -> anyhow::Result<String> {
    if let Some(contoso) = db::orgs::find_by_slug(db.pool(), "contoso").await? {
        if !db::services::list_for_org(db.pool(), &contoso.id)
            .await?
            .is_empty()
        {
            // The voice seed's last step audits `calls.imported` (source seed-demo) for each
            // customer: without it, an earlier run stopped part-way.
            let finished =
                db::audit::count_action(db.pool(), &contoso.id, "calls.imported", "seed-demo")
                    .await?;
            if finished == 0 {
                anyhow::bail!(
                    "an earlier `portal seed-demo` stopped part-way, so the demo data is \
                     incomplete; delete the database (by default data/portal.db and its -wal and \
                     -shm files) and run `portal seed-demo` again"
                );
            }
            return Ok("demo data already present: nothing changed".to_string());
        }
        return voice::seed(db, calls).await;
    }
    let cli = Actor::CLI;
    accounts::create_user(
        db,
        cli,
        NewUserKind::Staff,
        "noc@carrier.example",
        Some(DEMO_PASSWORD),
    )
    .await?;

    accounts::create_org(db, cli, "Contoso Ltd", "contoso").await?;
    accounts::create_user(
        db,
        cli,
        NewUserKind::Customer {
            org_slug: "contoso",
            role: "admin",
        },
        "admin@contoso.example",
        Some(DEMO_PASSWORD),
    )
    .await?;
    crate::sso::set_enabled(db, cli, "contoso", true).await?;
    crate::sso::link_tenant(
        db,
        cli,
        "contoso",
        CONTOSO_TENANT,
        crate::sso::LinkedBy::Carrier("demo"),
    )
    .await?;
    let contoso = db::orgs::find_by_slug(db.pool(), "contoso")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the contoso organisation vanished while seeding"))?;
    // Adele (an admin) and Megan (an engineer) already have portal accounts behind their
    // Microsoft identities; Lee Gu has none, and is provisioned at first sign-in as a viewer.
    for (key, role) in [("adele", "admin"), ("megan", "engineer")] {
        let Some(person) = devidp::demo_identities().iter().find(|i| i.key == key) else {
            continue;
        };
        let now = crate::clock::system_now_ms();
        let user = User {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: Some(contoso.id.clone()),
            email: person.email.to_string(),
            login_email: None,
            name: person.name.to_string(),
            role: Some(role.to_string()),
            is_staff: false,
            password_hash: None,
            created_at: now,
            deactivated_at: None,
        };
        let mut tx = db.begin_write().await?;
        db::users::insert(&mut *tx, &user).await?;
        db::sso::insert_identity(
            &mut *tx,
            &Identity {
                tenant_id: person.tenant.to_string(),
                object_id: person.oid.to_string(),
                user_id: user.id.clone(),
                email: person.email.to_string(),
                created_at: now,
            },
        )
        .await?;
        tx.commit().await?;
    }

    accounts::create_org(db, cli, "Fabrikam Inc", "fabrikam").await?;
    accounts::create_user(
        db,
        cli,
        NewUserKind::Customer {
            org_slug: "fabrikam",
            role: "admin",
        },
        "admin@fabrikam.example",
        Some(DEMO_PASSWORD),
    )
    .await?;
    crate::sso::set_enabled(db, cli, "fabrikam", true).await?;
    let voice = voice::seed(db, calls).await?;

    Ok(format!(
        "demo data seeded. Password of every demo account: \"{DEMO_PASSWORD}\".\n\
         - carrier staff: noc@carrier.example (provider console; staff set up an authenticator app at their first sign-in)\n\
         - Contoso Ltd: admin@contoso.example; with \"Sign in with Microsoft\": Adele Vance (admin), Megan Bowen (engineer), Lee Gu (new: provisioned as viewer)\n\
         - Fabrikam Inc: admin@fabrikam.example; its tenant is not linked yet, so Alex Wilber is refused until an admin connects it on the Single sign-on page\n\
         {voice}"
    ))
}
