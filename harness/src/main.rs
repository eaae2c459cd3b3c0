//! The `mailscope` command line: parsing arguments and mapping results to exit statuses.

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use commands::diagnose::{DecodeArgs, ExplainArgs};
use commands::diff::DiffArgs;
use commands::report::ReportArgs;
use commands::run::RunArgs;
use commands::serve::{ServeArgs, TokenArgs};
use mailscope::scenario::types::Flow;

mod commands;

/// Exit status when an expectation was not met.
const EXIT_UNMET: u8 = 1;
/// Exit status when a scenario file or the command line is wrong (nothing ran).
const EXIT_USAGE: u8 = 2;

/// Reproduce Microsoft 365's OAuth 2.0 behaviour for SMTP, IMAP and POP.
#[derive(Debug, Parser)]
#[command(name = "mailscope", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files and report each case.
    Run(RunArgs),
    /// Start the simulated cloud standalone until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Print an access token from a running `serve` (the one command that prints a token).
    Token(TokenArgs),
    /// Decode an access token without trusting it, and explain it against Exchange's rules.
    Decode(DecodeArgs),
    /// Predict, without any network, what a scope list gets from Entra ID and Exchange Online.
    Explain(ExplainArgs),
    /// Print the JSON Schema of scenario files (shipped as scenarios/scenario.schema.json).
    Schema,
    /// Print the rules the simulation follows, with their documented cases and public sources
    /// (shipped as docs/rules.md).
    Rules,
    /// Compare saved live outcomes with the simulation, case by case: the drift report.
    Diff(DiffArgs),
    /// Run one case and print its Markdown bug report (no secrets), ready to attach.
    Report(ReportArgs),
}

/// A grant flow on the command line: kebab-case, or snake_case as scenario files write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FlowArg {
    /// Authorization code with PKCE.
    #[value(alias = "authorization_code")]
    AuthorizationCode,
    /// Device authorization grant.
    #[value(alias = "device_code")]
    DeviceCode,
    /// Client credentials (app-only).
    #[value(alias = "client_credentials")]
    ClientCredentials,
    /// A sign-in, then a refresh-token redemption.
    #[value(alias = "refresh_token")]
    RefreshToken,
    /// Resource owner password credentials (ROPC).
    Password,
    /// No token: the probes send passwords.
    None,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    mailscope::logging::init();
    match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Serve(args) => commands::serve::serve(args),
        Command::Token(args) => commands::serve::token(args),
        Command::Decode(args) => commands::diagnose::decode(args),
        Command::Explain(args) => commands::diagnose::explain(args),
        Command::Diff(args) => commands::diff::diff(args),
        Command::Report(args) => commands::report::report(args),
        Command::Schema => {
            print_line(mailscope::scenario::types::json_schema().trim_end());
            ExitCode::SUCCESS
        }
        Command::Rules => {
            print_line(mailscope::report::rules::render().trim_end());
            ExitCode::SUCCESS
        }
    }
}

fn flow_of(flow: FlowArg) -> Flow {
    match flow {
        FlowArg::AuthorizationCode => Flow::AuthorizationCode,
        FlowArg::DeviceCode => Flow::DeviceCode,
        FlowArg::ClientCredentials => Flow::ClientCredentials,
        FlowArg::RefreshToken => Flow::RefreshToken,
        FlowArg::Password => Flow::Password,
        FlowArg::None => Flow::None,
    }
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            eprint_line(&format!("error: starting the async runtime: {error}"));
            None
        }
    }
}

/// Prints one report line. A closed pipe (`mailscope run | head`) ends the output, not the run.
fn print_line(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[expect(clippy::print_stderr, reason = "errors go to standard error")]
fn eprint_line(line: &str) {
    eprintln!("{line}");
}
