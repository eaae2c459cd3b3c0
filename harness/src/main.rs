//! The `mailscope` command line: parsing arguments and mapping results to exit statuses.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mailscope::report::{self, Summary};
use mailscope::runner::{self, RunOptions};
use mailscope::scenario::types::Flow;
use mailscope::scenario::{self, ScenarioError};
use mailscope::serve;
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
    /// Compare saved live outcomes with the simulation, case by case: the drift report.
    Diff(DiffArgs),
}

#[derive(Debug, clap::Args)]
struct DecodeArgs {
    /// The access token, or `-` (or nothing) to read it from standard input.
    token: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ExplainArgs {
    /// A scope, in the order the client sends it; repeat for several.
    #[arg(long = "scope", required = true)]
    scopes: Vec<String>,
    /// The grant flow.
    #[arg(long, value_enum, default_value_t = FlowArg::AuthorizationCode)]
    flow: FlowArg,
    /// A protocol to predict; repeat for several (default: all three).
    #[arg(long = "protocol", value_enum)]
    protocols: Vec<ProtocolArg>,
    /// The app registration.
    #[arg(long, default_value = "mail-client")]
    app: String,
    /// A directory file: the [tenant], [app] and [user] tables of a scenario.
    #[arg(long, value_name = "FILE")]
    directory: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    Smtp,
    Imap,
    Pop3,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Write endpoints.json and ca.pem here.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// A directory file: the [tenant], [app] and [user] tables of a scenario.
    #[arg(long, value_name = "FILE")]
    directory: Option<PathBuf>,
    /// Port of the identity platform (HTTPS); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    https_port: u16,
    /// SMTP port (STARTTLS); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    smtp_port: u16,
    /// IMAPS port; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    imap_port: u16,
    /// POP3S port; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pop3_port: u16,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The state directory of a running `serve`.
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    /// A scope, in order; repeat for several.
    #[arg(long = "scope", required = true)]
    scopes: Vec<String>,
    /// The app registration.
    #[arg(long, default_value = "mail-client")]
    app: String,
    /// The grant flow.
    #[arg(long, value_enum, default_value_t = FlowArg::AuthorizationCode)]
    flow: FlowArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FlowArg {
    AuthorizationCode,
    DeviceCode,
    ClientCredentials,
    Password,
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
    /// Show each probe's server transcript (secrets hidden) under its case.
    #[arg(long)]
    transcript: bool,
    /// Run only scenarios with this tag; repeat for any of several.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Run only cases whose id contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Run the K-th of N equal shares of the selected cases (1-based), for CI jobs.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// Write a Markdown bug report per case into this directory.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Save each outcome, with the values that vary redacted, under this directory (for example
    /// snapshots/live), for `mailscope diff`.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
    /// Compare each outcome with the snapshot kept for its case; a missing or different snapshot
    /// fails the case (exit status 1). Live outcomes are compared with those saved by `--save`.
    #[arg(long)]
    check_snapshots: bool,
    /// Where the kept snapshots are (with `--check-snapshots`); live runs look under `DIR/live`.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    snapshots: PathBuf,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// Outcomes saved by `mailscope run --target live --save DIR`.
    saved: PathBuf,
    /// Scenario files or directories holding the saved cases.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let (k, n) = text.split_once('/').ok_or("expected K/N, as 1/4")?;
    let (k, n): (usize, usize) = (
        k.parse().map_err(|_| "K is not a number")?,
        n.parse().map_err(|_| "N is not a number")?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: K must be between 1 and N"));
    }
    Ok((k, n))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// One line per case and a closing count.
    Table,
    /// One JSON object per case per line.
    Json,
    /// One JUnit XML document, written when every case is done.
    Junit,
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
        Command::Serve(args) => serve(args),
        Command::Token(args) => token(args),
        Command::Decode(args) => decode(args),
        Command::Explain(args) => explain(args),
        Command::Diff(args) => diff(args),
        Command::Schema => {
            print_line(mailscope::scenario::types::json_schema().trim_end());
            ExitCode::SUCCESS
        }
    }
}

fn decode(args: DecodeArgs) -> ExitCode {
    let token = match args.token.as_deref() {
        Some(token) if token != "-" => token.to_owned(),
        _ => {
            let mut input = String::new();
            if let Err(error) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut input) {
                eprint_line(&format!("error: reading the token from standard input: {error}"));
                return ExitCode::from(EXIT_USAGE);
            }
            input
        }
    };
    let now = mailscope_mocks::clock::Clock::system().now_unix();
    print_line(&mailscope::decode::render(&mailscope::decode::decode(
        &token, now,
    )));
    ExitCode::SUCCESS
}

fn explain(args: ExplainArgs) -> ExitCode {
    let directory = match serve::load_directory(args.directory.as_deref()) {
        Ok(directory) => directory,
        Err(error) => {
            eprint_line(&format!("error: {error}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if directory.app_by_name(&args.app).is_none() {
        eprint_line(&format!(
            "error: no app `{}`: the directory has `mail-client` and `mail-daemon`",
            args.app
        ));
        return ExitCode::from(EXIT_USAGE);
    }
    let protocols = if args.protocols.is_empty() {
        vec![ProtocolArg::Smtp, ProtocolArg::Imap, ProtocolArg::Pop3]
    } else {
        args.protocols
    };
    let question = mailscope::explain::Question {
        directory,
        app: args.app,
        flow: flow_of(args.flow),
        scopes: args.scopes,
        authorize_scopes: None,
        initial_scopes: None,
        endpoint: mailscope::scenario::types::Endpoint::Organizations,
        refresh_after_days: None,
        refresh_endpoint: None,
        admin_consent: None,
        resource: None,
        probes: protocols
            .into_iter()
            .map(|protocol| mailscope::scenario::types::ProbeSpec {
                protocol: match protocol {
                    ProtocolArg::Smtp => mailscope::scenario::types::Protocol::Smtp,
                    ProtocolArg::Imap => mailscope::scenario::types::Protocol::Imap,
                    ProtocolArg::Pop3 => mailscope::scenario::types::Protocol::Pop3,
                },
                mechanism: mailscope::scenario::types::Mechanism::Xoauth2,
                send: false,
                from: None,
                initial_response: None,
                user: None,
            })
            .collect(),
    };
    print_line(&mailscope::explain::render(&mailscope::explain::predict(
        &question,
    )));
    ExitCode::SUCCESS
}

fn diff(args: DiffArgs) -> ExitCode {
    let saved = match mailscope::drift::load_saved(&args.saved) {
        Ok(saved) => saved,
        Err(error) => {
            eprint_line(&format!("error: {}: {error}", args.saved.display()));
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
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    let mut drifted = 0;
    let mut same = 0;
    for (id, live) in &saved {
        if live.get("skipped").is_some_and(|reason| !reason.is_null()) {
            print_line(&format!("skip  {id}: not run live"));
            continue;
        }
        let found = scenarios.iter().find_map(|scenario| {
            scenario
                .cases
                .iter()
                .find(|case| case.id == *id)
                .map(|case| (scenario, case))
        });
        let Some((scenario, case)) = found else {
            print_line(&format!(
                "gone  {id}: no such case in the scenario files any more"
            ));
            drifted += 1;
            continue;
        };
        let simulated =
            match runtime.block_on(mailscope::runner::run_case(&Target::Simulated, scenario, case)) {
                Ok(outcome) => mailscope::drift::redact(&outcome),
                Err(error) => {
                    print_line(&format!("ERROR {id}: {}", error.message));
                    drifted += 1;
                    continue;
                }
            };
        let differences = mailscope::drift::differences(live, &simulated);
        if differences.is_empty() {
            same += 1;
            print_line(&format!("same  {id}"));
        } else {
            drifted += 1;
            print_line(&format!("DRIFT {id}"));
            for difference in differences {
                print_line(&format!("      - {difference}"));
            }
        }
    }
    print_line(&format!("{same} same, {drifted} drifted"));
    if drifted == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    }
}

fn flow_of(flow: FlowArg) -> Flow {
    match flow {
        FlowArg::AuthorizationCode => Flow::AuthorizationCode,
        FlowArg::DeviceCode => Flow::DeviceCode,
        FlowArg::ClientCredentials => Flow::ClientCredentials,
        FlowArg::Password => Flow::Password,
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

fn serve(args: ServeArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    let options = serve::ServeOptions {
        state_dir: args.state_dir,
        directory: args.directory,
        https_port: args.https_port,
        smtp_port: args.smtp_port,
        imap_port: args.imap_port,
        pop3_port: args.pop3_port,
    };
    runtime.block_on(async {
        let served = match serve::start(&options).await {
            Ok(served) => served,
            Err(error) => {
                eprint_line(&format!("error: {error}"));
                return ExitCode::from(EXIT_USAGE);
            }
        };
        let endpoints = &served.endpoints;
        print_line(&format!("identity platform  {}", endpoints.authority));
        print_line(&format!("smtp (STARTTLS)    {}", endpoints.smtp));
        print_line(&format!("imaps              {}", endpoints.imap));
        print_line(&format!("pop3s              {}", endpoints.pop3));
        print_line(&format!("CA certificate     {}", endpoints.ca_file.display()));
        print_line("serving; Ctrl-C or SIGTERM stops");
        wait_for_shutdown().await;
        drop(served);
        print_line("stopped");
        ExitCode::SUCCESS
    })
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match terminate.as_mut() {
                    Some(signal) => { signal.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn token(args: TokenArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    match runtime.block_on(serve::token(
        &args.state_dir,
        &args.scopes,
        &args.app,
        flow_of(args.flow),
    )) {
        Ok(token) => {
            // The one place a token is printed, on purpose, for piping into other clients.
            print_line(token.secret());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprint_line(&format!("error: {error}"));
            ExitCode::from(EXIT_UNMET)
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let target = match (args.target, &args.live_config) {
        (TargetArg::Simulated, _) => Target::Simulated,
        (TargetArg::Live, None) => {
            eprint_line("error: --target live needs --live-config FILE (see the README's live mode section)");
            return ExitCode::from(EXIT_USAGE);
        }
        (TargetArg::Live, Some(path)) => match mailscope::live::LiveConfig::load(path) {
            Ok(config) => Target::Live(std::sync::Arc::new(config)),
            Err(error) => {
                eprint_line(&error);
                return ExitCode::from(EXIT_USAGE);
            }
        },
    };
    let mut scenarios = match load_all(&args.paths) {
        Ok(scenarios) => scenarios,
        Err(errors) => {
            for error in errors {
                eprint_line(&error.to_string());
            }
            return ExitCode::from(EXIT_USAGE);
        }
    };
    select(&mut scenarios, &args.tags, args.filter.as_deref(), args.shard);
    let ordered: Vec<(scenario::Scenario, scenario::Case)> = scenarios
        .iter()
        .flat_map(|scenario| {
            scenario
                .cases
                .iter()
                .map(move |case| (scenario.clone(), case.clone()))
        })
        .collect();
    if let Some(directory) = &args.report
        && let Err(error) = std::fs::create_dir_all(directory)
    {
        eprint_line(&format!("error: {}: {error}", directory.display()));
        return ExitCode::from(EXIT_USAGE);
    }
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    // A live run signs in for real: one case at a time, so a person sees one prompt at a time.
    let jobs = if matches!(target, Target::Live(_)) {
        1
    } else {
        args.jobs
    };
    let live = matches!(target, Target::Live(_));
    let options = RunOptions { target, jobs };
    let id_width = scenarios
        .iter()
        .flat_map(|scenario| scenario.cases.iter().map(|case| case.id.len()))
        .max()
        .unwrap_or(0);
    let mut summary = Summary::default();
    let mut collected = Vec::new();
    let mut index = 0;
    runtime.block_on(runner::run_all(scenarios, options, |mut result| {
        // Compared with what was kept before `--save` overwrites it; saved as observed.
        let comparison = match &result {
            Ok(outcome) if args.check_snapshots && outcome.skipped.is_none() => Some(if live {
                mailscope::snapshot::compare_live(&args.snapshots.join("live"), outcome)
            } else {
                mailscope::snapshot::compare_simulated(&args.snapshots, outcome)
            }),
            _ => None,
        };
        if let (Some(directory), Ok(outcome)) = (&args.save, &result)
            && let Err(error) = mailscope::drift::save(directory, outcome)
        {
            eprint_line(&format!("error: {}: {error}", directory.display()));
        }
        if let (Some(comparison), Ok(outcome)) = (comparison, &mut result) {
            mailscope::snapshot::apply(outcome, comparison);
        }
        summary.add(&result);
        if let (Some(directory), Ok(outcome), Some((scenario, case))) =
            (&args.report, &result, ordered.get(index))
        {
            let file = directory.join(format!("{}.md", outcome.id.replace('/', "__")));
            if let Err(error) = std::fs::write(&file, report::markdown::render(scenario, case, outcome)) {
                eprint_line(&format!("error: {}: {error}", file.display()));
            }
        }
        index += 1;
        let rendered = match args.format {
            Format::Table => report::table::render(&result, id_width),
            Format::Json => report::json::render(&result),
            Format::Junit => {
                collected.push(result);
                return;
            }
        };
        print_line(&rendered);
        if args.transcript
            && matches!(args.format, Format::Table)
            && let Some(transcripts) = report::table::render_transcripts(&result)
        {
            print_line(&transcripts);
        }
    }));
    match args.format {
        Format::Table => print_line(&summary.closing_line()),
        Format::Junit => print_line(&report::junit::render(&collected)),
        Format::Json => {}
    }
    if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    }
}

/// Keeps the cases selected by tag, id filter and shard, in order; drops emptied scenarios.
fn select(
    scenarios: &mut Vec<scenario::Scenario>,
    tags: &[String],
    filter: Option<&str>,
    shard: Option<(usize, usize)>,
) {
    let mut position = 0;
    for scenario in scenarios.iter_mut() {
        let tagged = tags.is_empty() || scenario.file.tags.iter().any(|tag| tags.contains(tag));
        scenario.cases.retain(|case| {
            if !tagged || filter.is_some_and(|text| !case.id.contains(text)) {
                return false;
            }
            let keep = shard.is_none_or(|(k, n)| position % n == k - 1);
            position += 1;
            keep
        });
    }
    scenarios.retain(|scenario| !scenario.cases.is_empty());
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
