//! The `mailscope` command line: parsing arguments and mapping results to exit statuses.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mailscope::report::{self, Summary};
use mailscope::runner::{self, RunOptions};
use mailscope::scenario::{self, ScenarioError};
use mailscope::target::Target;

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
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario files or directories.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = TargetArg::Simulated)]
    target: TargetArg,
    /// The live tenant's configuration (with `--target live`).
    #[arg(long, value_name = "FILE")]
    live_config: Option<PathBuf>,
    /// How many cases run at once.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// One line per case and a closing count.
    Table,
    /// One JSON object per case per line.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TargetArg {
    /// The simulated Microsoft cloud.
    Simulated,
    /// A real tenant and Exchange Online.
    Live,
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
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Run(args) => run(args),
    }
}

fn run(args: RunArgs) -> ExitCode {
    let target = match args.target {
        TargetArg::Simulated => Target::Simulated,
        TargetArg::Live => {
            let config = args.live_config.map(|path| path.display().to_string());
            eprint_line(&format!(
                "error: the live target is not available in this version (live config: {})",
                config.as_deref().unwrap_or("none")
            ));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let scenarios = match load_all(&args.paths) {
        Ok(scenarios) => scenarios,
        Err(errors) => {
            for error in errors {
                eprint_line(&error.to_string());
            }
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprint_line(&format!("error: starting the async runtime: {error}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let options = RunOptions {
        target,
        jobs: args.jobs,
    };
    let id_width = scenarios
        .iter()
        .flat_map(|scenario| scenario.cases.iter().map(|case| case.id.len()))
        .max()
        .unwrap_or(0);
    let mut summary = Summary::default();
    runtime.block_on(runner::run_all(scenarios, options, |result| {
        summary.add(&result);
        let rendered = match args.format {
            Format::Table => report::table::render(&result, id_width),
            Format::Json => report::json::render(&result),
        };
        print_line(&rendered);
    }));
    if matches!(args.format, Format::Table) {
        print_line(&summary.closing_line());
    }
    if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    }
}

/// Loads every scenario under `paths`; every bad file is reported, and then nothing runs.
fn load_all(paths: &[PathBuf]) -> Result<Vec<scenario::Scenario>, Vec<ScenarioError>> {
    let files = scenario::discover(paths).map_err(|error| vec![error])?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match scenario::load(&file) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
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
