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
#[command(
    name = "mailscope",
    version,
    about,
    disable_help_subcommand = true,
    after_help = concat!(
        "Examples:\n",
        "  mailscope run                          run the scenarios under ./scenarios\n",
        "  mailscope run -q --tag smtp my-suite/  a suite of your own, failures only\n",
        "  mailscope explain --scope \"Mail.Send https://outlook.office.com/SMTP.Send\"\n",
        "  mailscope decode < token.txt           why Exchange would refuse a token\n",
        "  mailscope serve --state-dir /tmp/ms    Exchange Online in a box, for any client\n",
        "\n",
        "Exit status:\n",
        "  0  every expectation was met (decode: the token would be accepted)\n",
        "  1  an expectation was not met, a case could not run, or a snapshot differs\n",
        "     (decode: the token would be refused)\n",
        "  2  a scenario file or the command line is wrong, or nothing was selected; nothing ran\n",
        "     (decode: the input is not a token)",
    )
)]
struct Cli {
    /// When to colour the output: `auto` (a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files and report each case.
    #[command(after_help = "Examples:
  mailscope run                                  every scenario under ./scenarios
  mailscope run scenarios/basic-auth-retirement  one directory
  mailscope run -q --tag smtp --filter graph     failures only, of the selected cases
  mailscope run --format json | jq .token.aud    one JSON object per case
  mailscope run --shard 2/4 --format junit       the second of four CI jobs
  mailscope run --check-snapshots                fail where an outcome differs from its snapshot
  mailscope run --target live --live-config live.toml   your own tenant

Exit status: 0 every expectation met; 1 one was not, a case could not run, or a snapshot
differs; 2 a file or the command line is wrong, or nothing was selected (nothing ran).")]
    Run(RunArgs),
    /// Start the simulated cloud standalone until Ctrl-C or SIGTERM.
    #[command(after_help = "Examples:
  mailscope serve --state-dir /tmp/ms &          endpoints.json appears once everything listens
  mailscope serve --state-dir /tmp/ms --directory disabled.toml --imap-port 1993

Exit status: 0 stopped by a signal; 2 a port or the directory file is wrong.")]
    Serve(ServeArgs),
    /// Print an access token from a running `serve` (the one command that prints a token).
    #[command(after_help = "Examples:
  TOKEN=$(mailscope token --state-dir /tmp/ms --scope https://outlook.office.com/IMAP.AccessAsUser.All)
  mailscope token --state-dir /tmp/ms --app mail-daemon --flow client-credentials --scope https://outlook.office365.com/.default

Exit status: 0 a token was printed; 1 the platform refused, or no serve is running; 2 usage.")]
    Token(TokenArgs),
    /// Decode an access token without trusting it, and explain it against Exchange's rules.
    #[command(after_help = "Examples:
  mailscope decode eyJ0eXAiOi...                 a JWT as pasted
  mailscope decode 'Bearer eyJ0eXAiOi...'        or an Authorization header's value
  grep 'AUTH XOAUTH2' client.log | mailscope decode -   a client's XOAUTH2 line, base64 or not

Exit status: 0 some protocol would accept the token; 1 every protocol would refuse it; 2 the
input is not a token.")]
    Decode(DecodeArgs),
    /// Run one case through the simulated cloud and print each decision with its rule.
    #[command(after_help = "Examples:
  mailscope explain --scope \"offline_access Mail.Send https://outlook.office.com/SMTP.Send\"
  mailscope explain --scope https://outlook.office.com/SMTP.Send --directory tenant.toml --protocol smtp
  mailscope explain --flow none --mechanism login --protocol smtp --directory disabled.toml

Exit status: 0 explained; 1 the case could not run; 2 usage.")]
    Explain(ExplainArgs),
    /// Print the JSON Schema of scenario files (shipped as scenarios/scenario.schema.json).
    #[command(after_help = "Examples:
  mailscope schema > scenario.schema.json        for an editor's TOML language server")]
    Schema,
    /// Print the rules the simulation follows, with their documented cases and public sources
    /// (shipped as docs/rules.md).
    #[command(after_help = "Examples:
  mailscope rules | less
  mailscope rules | grep -A20 '^## basic-auth'")]
    Rules,
    /// Compare saved live outcomes with the simulation, case by case: the drift report.
    #[command(after_help = "Examples:
  mailscope run --target live --live-config live.toml --save snapshots/live scenarios/seed
  mailscope diff snapshots/live scenarios/seed

Exit status: 0 every saved outcome is as simulated; 1 something drifted, is missing or is extra;
2 usage.")]
    Diff(DiffArgs),
    /// Run one case and print its Markdown bug report (no secrets), ready to attach.
    #[command(after_help = "Examples:
  mailscope report seed/graph-scope-added/graph-scope-first > report.md
  mailscope report my-case/smtp my-suite/ --target live --live-config live.toml

Exit status: 0 the case met its expectations; 1 it did not, or could not run; 2 usage.")]
    Report(ReportArgs),
    /// Show each pending snapshot's diff, then accept or reject it.
    #[command(after_help = "Examples:
  mailscope run --update-snapshots my-suite/     write new and changed snapshots as pending
  mailscope review my-suite/                     see each diff, accept or reject it
  mailscope review --accept my-suite/            accept them all (CI bots, after reading the diffs)
  mailscope run --check-snapshots my-suite/      then every snapshot matches

Exit status: 0 nothing is left pending; 1 some snapshot was skipped, or no terminal to ask at;
2 usage.")]
    Review(commands::review::ReviewArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  mailscope completions bash > ~/.local/share/bash-completion/completions/mailscope\n  mailscope completions zsh > \"${fpath[1]}/_mailscope\""
    )]
    Completions(commands::help::CompletionsArgs),
    /// Print the manual page (roff), of mailscope or of one of its commands.
    #[command(after_help = "Examples:\n  mailscope man | man -l -\n  mailscope man run > mailscope-run.1")]
    Man(commands::help::ManArgs),
    /// Print the help of mailscope, or of one of its commands.
    #[command(after_help = "Examples:\n  mailscope help run\n  mailscope help")]
    Help(commands::help::HelpArgs),
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
    set_color(cli.color);
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
        Command::Review(args) => commands::review::review(args),
        Command::Completions(args) => commands::help::completions(&args),
        Command::Man(args) => commands::help::man(&args),
        Command::Help(args) => commands::help::help(&args),
    }
}

/// Whether standard output is coloured, decided once from `--color`.
static COLOR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

fn set_color(choice: ColorChoice) {
    use std::io::IsTerminal as _;
    let enabled = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
                && std::io::stdout().is_terminal()
        }
    };
    let _ = COLOR.set(enabled);
}

/// Colours a table line's status word: `ok` green, `FAIL` and `ERROR` red, `skip` and `rec` yellow.
fn paint(line: &str) -> String {
    if !COLOR.get().copied().unwrap_or(false) {
        return line.to_owned();
    }
    let code = match line.split_whitespace().next() {
        Some("ok") => "32",
        Some("FAIL" | "ERROR" | "DRIFT" | "MISSING" | "EXTRA") => "1;31",
        Some("skip" | "rec") => "33",
        _ => return line.to_owned(),
    };
    let word_end = line.find(' ').unwrap_or(line.len());
    format!("\x1b[{code}m{}\x1b[0m{}", &line[..word_end], &line[word_end..])
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
