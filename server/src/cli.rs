//! The `portal` subcommands.

use std::io::BufRead;

use anyhow::Context;

use crate::{
    accounts::{self, Actor, NewUserKind},
    clock::Clock,
    config::{
        self, CallsCommand, Cli, Command, OrgCommand, PortalEnv, ServeArgs, ServiceCommand,
        ServiceKindArg, SsoCommand, StaffCommand, UserCommand,
    },
    db::{self, Db},
    state::AppState,
    voice::{
        cdr::{Format, InputError},
        ingest::{self, ImportOptions, IngestError},
        services::{NewService, ServiceKind},
    },
};

/// What `run` leaves to do.
pub enum Outcome {
    /// The command is done.
    Done,
    /// Serve the portal with this state (the binary hands it to `http::serve`).
    Serve(AppState),
}

/// Runs one subcommand; `serve` prepares the state and leaves the serving to the caller.
pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let command = match cli.command {
        Some(command) => command,
        // No subcommand: serve with the settings from the environment.
        None => <Cli as clap::Parser>::try_parse_from(["portal", "serve"])?
            .command
            .ok_or_else(|| anyhow::anyhow!("no command"))?,
    };
    match command {
        Command::Serve(args) => Ok(Outcome::Serve(
            serving_state(&cli.database_url, cli.portal_env, *args).await?,
        )),
        other => {
            administer(&cli.database_url, cli.portal_env, other).await?;
            Ok(Outcome::Done)
        }
    }
}

/// Runs an administration command (anything but `serve`).
async fn administer(
    database_url: &str,
    portal_env: PortalEnv,
    command: Command,
) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => anyhow::bail!("serve is not an administration command"),
        Command::Migrate => {
            let db = open(database_url).await?;
            db.close().await;
            println!("database is up to date ({})", db.backend().name());
            Ok(())
        }
        Command::Org(OrgCommand::Create { name, slug }) => {
            let db = open(database_url).await?;
            let org = accounts::create_org(&db, Actor::CLI, &name, &slug).await?;
            println!(
                "created organisation {} ({}) with id {}",
                org.name, org.slug, org.id
            );
            Ok(())
        }
        Command::Org(OrgCommand::MfaPolicy {
            org,
            required,
            methods,
        }) => {
            if required.is_none() && methods.is_none() {
                anyhow::bail!(
                    "nothing to change: give --required true|false and/or --methods totp,email"
                );
            }
            let methods = methods
                .map(|m| accounts::parse_mfa_methods(&m.split(',').collect::<Vec<_>>()))
                .transpose()?;
            let db = open(database_url).await?;
            accounts::set_mfa_policy(
                &db,
                Actor::CLI,
                &org,
                accounts::MfaPolicyChange { required, methods },
            )
            .await?;
            if let Some(required) = required {
                println!(
                    "{org}: password sign-ins {} a second factor",
                    if required {
                        "now require"
                    } else {
                        "no longer require"
                    }
                );
            }
            if let Some(methods) = methods {
                println!(
                    "{org}: second factors that count: {}",
                    crate::auth::factors::Factors::from(methods)
                        .names()
                        .join(", ")
                );
            }
            Ok(())
        }
        Command::Org(OrgCommand::Sso(command)) => {
            let db = open(database_url).await?;
            let message = sso_command(&db, command).await;
            db.close().await;
            println!("{}", message?);
            Ok(())
        }
        Command::SeedDemo { calls } => {
            if portal_env == PortalEnv::Production {
                anyhow::bail!("{}", config::ConfigError::DemoInProduction);
            }
            let db = open(database_url).await?;
            let report = crate::demo::seed(&db, calls).await;
            db.close().await;
            println!("{}", report?);
            Ok(())
        }
        Command::User(UserCommand::Create {
            org,
            email,
            role,
            password_stdin,
        }) => {
            let password = password_stdin.then(read_password_line).transpose()?;
            let db = open(database_url).await?;
            let kind = NewUserKind::Customer {
                org_slug: &org,
                role: role.as_str(),
            };
            let user =
                accounts::create_user(&db, Actor::CLI, kind, &email, password.as_deref()).await?;
            println!(
                "created {} user {} in {} with id {}",
                role.as_str(),
                user.email,
                org,
                user.id
            );
            Ok(())
        }
        Command::User(UserCommand::UnlockCodes { email }) => {
            let db = open(database_url).await?;
            let unlocked = accounts::unlock_codes(&db, Actor::CLI, &email).await;
            db.close().await;
            if unlocked? {
                println!("{email}: sign-in codes unlocked");
            } else {
                println!("{email}: sign-in codes were not locked; nothing changed");
            }
            Ok(())
        }
        Command::User(UserCommand::BreakGlass { email, enabled }) => {
            let db = open(database_url).await?;
            let changed = accounts::set_break_glass(&db, &email, enabled).await;
            db.close().await;
            let changed = changed?;
            let now = if enabled { "is" } else { "is not" };
            if changed {
                println!("{email} {now} a break-glass administrator now");
            } else {
                println!("{email} already {now} a break-glass administrator; nothing changed");
            }
            Ok(())
        }
        Command::Staff(StaffCommand::Create {
            email,
            password_stdin,
        }) => {
            let password = password_stdin.then(read_password_line).transpose()?;
            let db = open(database_url).await?;
            let user = accounts::create_user(
                &db,
                Actor::CLI,
                NewUserKind::Staff,
                &email,
                password.as_deref(),
            )
            .await?;
            println!("created staff account {} with id {}", user.email, user.id);
            println!(
                "carrier staff always sign in with an authenticator app: {} sets one up at the first sign-in and cannot turn it off",
                user.email
            );
            Ok(())
        }
        Command::Service(ServiceCommand::Create {
            org,
            kind,
            name,
            country,
            channels,
        }) => {
            let db = open(database_url).await?;
            let kind = match kind {
                ServiceKindArg::SipTrunk => ServiceKind::SipTrunk,
                ServiceKindArg::TeamsDirectRouting => ServiceKind::TeamsDirectRouting,
                ServiceKindArg::OperatorConnect => ServiceKind::OperatorConnect,
            };
            let new = NewService {
                org_slug: &org,
                kind,
                name: &name,
                country: &country,
                channels,
            };
            let service = crate::voice::services::create_service(&db, Actor::CLI, new).await;
            db.close().await;
            let service = service?;
            println!(
                "created {} service {:?} ({}, {} channels) in {org} with id {}",
                service.kind, service.name, service.country, service.channel_limit, service.id
            );
            Ok(())
        }
        Command::Calls(CallsCommand::Import {
            file,
            org,
            strict,
            max_call_secs,
        }) => {
            let options = ImportOptions {
                strict,
                max_call_secs,
                ..ImportOptions::default()
            };
            // SIGTERM or Ctrl-C: the import ends after the batch it is storing.
            let stop = options.stop.clone();
            let watcher = tokio::spawn(async move {
                crate::signals::stop_requested().await;
                stop.cancel();
            });
            let result = import_calls(database_url, &file, &org, &options).await;
            watcher.abort();
            result
        }
    }
}

/// `portal calls import`: progress on stderr, the summary on stdout, each refusal on stderr;
/// an error (exit 1) when any row was refused.
async fn import_calls(
    database_url: &str,
    path: &std::path::Path,
    org_slug: &str,
    options: &ImportOptions,
) -> anyhow::Result<()> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    let file =
        std::fs::File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("ndjson" | "jsonl") => Format::Ndjson,
        _ => Format::Csv,
    };
    let db = open(database_url).await?;
    let org = ingest::find_org(&db, org_slug).await?;
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    )?);
    let started = std::time::Instant::now();
    let report = ingest::import(
        &db,
        Actor::CLI,
        &org.id,
        format,
        file,
        options,
        |r, bytes| {
            bar.set_position(bytes);
            bar.set_message(format!("{} stored, {} refused", r.stored, r.refused));
        },
    )
    .await;
    bar.finish_and_clear();
    db.close().await;
    let report = match report {
        Err(IngestError::Input(e @ (InputError::WrongHeader { .. } | InputError::Empty))) => {
            anyhow::bail!("{}: {e}; nothing was imported", path.display())
        }
        other => other.with_context(|| format!("importing {}", path.display()))?,
    };
    for refusal in &report.refusals {
        eprintln!("refused: {refusal}");
    }
    if report.refused > report.refusals.len() as u64 {
        eprintln!(
            "refused: … and {} more rows",
            report.refused - report.refusals.len() as u64
        );
    }
    println!(
        "{}: {} stored, {} duplicates, {} refused ({:.1} s)",
        path.display(),
        report.stored,
        report.duplicates,
        report.refused,
        started.elapsed().as_secs_f64()
    );
    if report.interrupted {
        anyhow::bail!(
            "stopped by a signal before the end of {}: {} rows were stored, in whole batches{}; \
             run the same command again to import the rest (the stored rows count as duplicates)",
            path.display(),
            report.stored,
            if options.strict {
                " (--strict: none, rolled back)"
            } else {
                ""
            }
        );
    }
    if report.rolled_back {
        anyhow::bail!(
            "--strict: {} invalid rows, so nothing from {} was stored",
            report.refused,
            path.display()
        );
    }
    if report.refused > 0 {
        anyhow::bail!(
            "{} rows of {} were refused (see above); the valid rows were stored",
            report.refused,
            path.display()
        );
    }
    Ok(())
}

/// `portal org sso …`: what was done, in a sentence.
async fn sso_command(db: &Db, command: SsoCommand) -> anyhow::Result<String> {
    let ended = |n: u64| match n {
        0 => String::new(),
        1 => "; 1 session ended".to_string(),
        n => format!("; {n} sessions ended"),
    };
    Ok(match command {
        SsoCommand::Enable { org } => {
            crate::sso::set_enabled(db, Actor::CLI, &org, true).await?;
            format!(
                "{org}: single sign-on enabled; its admins can now connect their Entra ID tenant"
            )
        }
        SsoCommand::Disable { org } => {
            let n = crate::sso::set_enabled(db, Actor::CLI, &org, false).await?;
            format!("{org}: single sign-on disabled{}", ended(n))
        }
        SsoCommand::LinkTenant { org, tenant } => {
            let t = crate::sso::link_tenant(
                db,
                Actor::CLI,
                &org,
                &tenant,
                crate::sso::LinkedBy::Carrier("cli"),
            )
            .await?;
            format!("{org}: tenant {} linked", t.tenant_id)
        }
        SsoCommand::ApproveTenant { org, tenant } => {
            let t = crate::sso::approve_tenant(db, Actor::CLI, &org, &tenant).await?;
            format!(
                "{org}: tenant {} approved; its users can sign in",
                t.tenant_id
            )
        }
        SsoCommand::UnlinkTenant { org, tenant } => {
            let n = crate::sso::unlink_tenant(db, Actor::CLI, &org, &tenant).await?;
            format!(
                "{org}: tenant {} unlinked{}",
                tenant.trim().to_ascii_lowercase(),
                ended(n)
            )
        }
        SsoCommand::DisableTenant { org, tenant } => {
            let n = crate::sso::set_tenant_disabled(db, Actor::CLI, &org, &tenant, true).await?;
            format!(
                "{org}: tenant {} disabled{}",
                tenant.trim().to_ascii_lowercase(),
                ended(n)
            )
        }
        SsoCommand::EnableTenant { org, tenant } => {
            crate::sso::set_tenant_disabled(db, Actor::CLI, &org, &tenant, false).await?;
            format!(
                "{org}: tenant {} enabled",
                tenant.trim().to_ascii_lowercase()
            )
        }
        SsoCommand::MfaEvidence {
            org,
            policy,
            auth_context,
        } => {
            crate::sso::set_mfa_evidence_of(db, Actor::CLI, &org, &policy, auth_context.as_deref())
                .await?;
            let context = crate::sso::check_mfa_evidence(&policy, auth_context.as_deref())?
                .map(|c| format!(" (authentication context {c})"))
                .unwrap_or_default();
            match policy.as_str() {
                "off" => format!("{org}: Microsoft sign-ins are trusted as the tenant's own policy allows{context}"),
                "portal_factor" => format!("{org}: Microsoft sign-ins without multi-factor evidence also need the portal authenticator code{context}"),
                _ => format!("{org}: Microsoft sign-ins without multi-factor evidence are refused{context}"),
            }
        }
    })
}

/// Opens and migrates the database.
async fn open(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("database {}", db::redact_url(url)))?;
    db.migrate().await?;
    Ok(db)
}

/// Reads one line from standard input and drops only its line ending.
fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let password = strip_line_ending(&line);
    if password.is_empty() {
        anyhow::bail!(
            "--password-stdin was given but standard input had no password on its first line"
        );
    }
    Ok(password.to_string())
}

/// `line` without one trailing `\n` or `\r\n`; every other character (spaces included) is kept.
pub fn strip_line_ending(line: &str) -> &str {
    line.strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(line)
}

/// Checks the settings, opens and migrates the database (seeding the demo when asked) and
/// builds the state the server runs with.
async fn serving_state(
    database_url: &str,
    env: PortalEnv,
    args: ServeArgs,
) -> anyhow::Result<AppState> {
    config::validate(env, &args)?;
    let secret_key = load_or_create_secret_key(env, &args)?;
    let db = open(database_url).await?;
    tracing::info!(backend = db.backend().name(), "database ready");
    if args.seed_demo {
        tracing::info!(
            "{}",
            crate::demo::seed(&db, crate::demo::voice::DEFAULT_CALLS).await?
        );
    }
    let mailer = args.mailer()?;
    let state = AppState::new(db, args, env, secret_key, Clock::system(), mailer);
    state.passwords.warm_up().await;
    tokio::spawn(crate::housekeeping::run_forever(state.clone()));
    Ok(state)
}

/// The 32-byte key that encrypts secrets at rest: `PORTAL_SECRET_KEY`, or in development a key
/// generated once into `data/secret.key` (with a warning, since it is not for production).
pub fn load_or_create_secret_key(env: PortalEnv, args: &ServeArgs) -> anyhow::Result<[u8; 32]> {
    use base64::{engine::general_purpose::STANDARD as B64, Engine};
    use rand::RngCore;

    if let Some(key) = &args.secret_key {
        return Ok(config::decode_secret_key(key)?);
    }
    if env == PortalEnv::Production {
        return Err(config::ConfigError::MissingSecretKey.into());
    }
    let path = args.data_dir.join("secret.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return config::decode_secret_key(&text)
            .with_context(|| format!("{} is damaged; delete it to generate a new one (TOTP enrolments made with it stop working)", path.display()));
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("could not create {}", args.data_dir.display()))?;
    write_private_file(&path, B64.encode(key).as_bytes())
        .with_context(|| format!("could not write {}", path.display()))?;
    tracing::warn!(
        "PORTAL_SECRET_KEY is not set: generated a development key into {}. Set PORTAL_SECRET_KEY in production.",
        path.display()
    );
    Ok(key)
}

fn write_private_file(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

#[cfg(test)]
mod tests {
    use super::strip_line_ending;

    #[test]
    fn only_the_line_ending_is_dropped() {
        assert_eq!(strip_line_ending("secret  \n"), "secret  ");
        assert_eq!(strip_line_ending("secret\r\n"), "secret");
        assert_eq!(strip_line_ending("  secret"), "  secret");
        assert_eq!(strip_line_ending("secret\n\n"), "secret\n");
    }
}
