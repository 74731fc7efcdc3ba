//! `portal`: parse the command line, run the subcommand (or serve), exit non-zero with a
//! clear message on failure. The binary is the top of the layers: it alone hands the state to
//! the HTTP layer.

use clap::Parser;

/// mimalloc instead of the system allocator: the many small per-request allocations of the
/// HTTP stack are markedly cheaper (measured with `make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = portal::config::Cli::parse();
    portal::telemetry::init_tracing();
    let outcome = match portal::cli::run(cli).await {
        Ok(portal::cli::Outcome::Serve(state)) => portal::http::serve(state).await,
        Ok(portal::cli::Outcome::Done) => Ok(()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
