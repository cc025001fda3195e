//! The command line (`folio serve`, `folio user …`): argument parsing with clap, then calls
//! into the app and core actions only.

pub mod serve;
pub mod user;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Folio: a fast, secure, Kirby-compatible flat-file CMS server.
#[derive(Parser)]
#[command(name = "folio", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a Kirby site folder (content/, site/blueprints, site/accounts, site/config).
    Serve {
        /// The Kirby install root (defaults to the bundled example site).
        root: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "FOLIO_LISTEN")]
        listen: String,
        /// Override an option by its dotted Kirby name, e.g. `api.basicAuth=false`.
        #[arg(long = "set", value_name = "OPTION=VALUE")]
        set: Vec<String>,
        /// Serve HTTPS with this certificate chain (PEM).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) for `--tls-cert`.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Once listening, write the bound address to this file (for tests and scripts that
        /// listen on port 0).
        #[arg(long, hide = true)]
        ready_file: Option<PathBuf>,
    },
    /// Measure the raw bcrypt-verify rate of this machine on all cores (for benchmarks).
    #[command(hide = true)]
    BcryptRate {
        /// How long to measure.
        #[arg(long, default_value_t = 3)]
        seconds: u64,
    },
    /// Manage accounts in `site/accounts` (Kirby's format).
    User {
        #[command(subcommand)]
        action: user::UserCommand,
    },
}

/// Parses the command line and runs it; errors are printed and end the process with 1.
pub fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FOLIO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            root,
            listen,
            set,
            tls_cert,
            tls_key,
            ready_file,
        } => serve::run(serve::Options {
            root,
            listen,
            set,
            tls: tls_cert.zip(tls_key),
            ready_file,
        }),
        Command::User { action } => user::run(action),
        Command::BcryptRate { seconds } => {
            serve::bcrypt_rate(seconds);
            Ok(())
        }
    };
    if let Err(e) = result {
        eprintln!("folio: {e:#}");
        std::process::exit(1);
    }
}
