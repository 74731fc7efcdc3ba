//! `portal`: parse the command line, run the subcommand, exit non-zero with a clear message
//! on failure.

use clap::Parser;

/// mimalloc instead of the system allocator: the many small per-request allocations of the
/// HTTP stack are markedly cheaper (measured with `make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = portal::config::Cli::parse();
    portal::telemetry::init_tracing();
    match portal::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
