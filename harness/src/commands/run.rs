//! `mailscope run`: scenario files against a target, a report per case, the closing count.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use mailscope::report::{self, Summary};
use mailscope::runner::{self, RunOptions};
use mailscope::scenario::{self, ScenarioError};
use mailscope::target::Target;

use crate::{EXIT_UNMET, EXIT_USAGE, eprint_line, print_line, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Scenario files or directories (default: `mailscope.toml`'s `scenarios`, else ./scenarios).
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
    #[arg(short = 'j', long, default_value_t = 8)]
    jobs: usize,
    /// Print only the cases that did not pass, and the closing count (table format).
    #[arg(short, long)]
    quiet: bool,
    /// Print the ids of the selected cases, one a line, and run nothing.
    #[arg(long)]
    list: bool,
    /// Show each probe's server transcript (secrets hidden) under its case.
    #[arg(long)]
    transcript: bool,
    /// Run only scenarios with this tag; repeat for any of several.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Run only cases whose id contains this text; repeat for any of several.
    #[arg(long = "filter", value_name = "TEXT")]
    filters: Vec<String>,
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
    /// Compare like `--check-snapshots`, and write each new or changed snapshot as pending
    /// (`<case id>.snap.new`) for `mailscope review` (or `cargo insta review`).
    #[arg(long, conflicts_with = "check_snapshots")]
    update_snapshots: bool,
    /// Where the kept snapshots are; live runs look under `DIR/live`. Default: `mailscope.toml`'s
    /// `snapshots`, else `snapshots/` beside the `scenarios/` directory holding the file, else a
    /// `snapshots/` directory beside the scenario file.
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
}

/// The project file of the current directory, if any; a wrong one is reported (exit status 2).
pub(crate) fn project() -> Result<Option<mailscope::project::Project>, ExitCode> {
    let here = std::env::current_dir().unwrap_or_default();
    mailscope::project::Project::find(&here).map_err(|error| {
        eprint_line(&format!("error: {error}"));
        ExitCode::from(EXIT_USAGE)
    })
}

/// The paths to run: those given, else the project's, else ./scenarios.
pub(crate) fn default_paths(
    paths: Vec<PathBuf>,
    project: Option<&mailscope::project::Project>,
) -> Vec<PathBuf> {
    if !paths.is_empty() {
        return paths;
    }
    match project {
        Some(project) if !project.scenarios.is_empty() => project.scenarios.clone(),
        _ => vec![PathBuf::from("scenarios")],
    }
}

/// Where the snapshots of `scenario`'s cases are kept: `--snapshots`, else the project's for a
/// file inside the project, else beside the file.
pub(crate) fn snapshot_dir(
    flag: Option<&std::path::Path>,
    project: Option<&mailscope::project::Project>,
    scenario: &std::path::Path,
) -> PathBuf {
    flag.map(std::path::Path::to_owned)
        .or_else(|| project.and_then(|project| project.snapshots_for(scenario)))
        .unwrap_or_else(|| mailscope::project::snapshots_beside(scenario))
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
pub(crate) enum TargetArg {
    /// The simulated Microsoft cloud.
    Simulated,
    /// A real tenant and Exchange Online.
    Live,
}

/// The most cases one run takes (a file takes at most `MAX_CASES_PER_FILE`).
const MAX_CASES_PER_RUN: usize = 1_000_000;

/// The widest the id column gets.
const MAX_ID_WIDTH: usize = 100;

pub(crate) fn run(args: RunArgs) -> ExitCode {
    let target = match target_of(args.target, args.live_config.as_deref()) {
        Ok(target) => target,
        Err(status) => return status,
    };
    let project = match project() {
        Ok(project) => project,
        Err(status) => return status,
    };
    if args.update_snapshots && !matches!(target, Target::Simulated) {
        eprint_line(
            "error: --update-snapshots keeps simulated outcomes; a live run keeps its outcomes with --save DIR",
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let paths = default_paths(args.paths.clone(), project.as_ref());
    let mut scenarios = match load_all(&paths) {
        Ok(scenarios) => scenarios,
        Err(status) => return status,
    };
    if let Err(nothing) = select(&mut scenarios, &args.tags, &args.filters, args.shard) {
        eprint_line(&format!("error: {nothing}"));
        return ExitCode::from(EXIT_USAGE);
    }
    if args.list {
        for case in scenarios.iter().flat_map(|scenario| &scenario.cases) {
            print_line(&case.id);
        }
        return ExitCode::SUCCESS;
    }
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
        .unwrap_or(0)
        // A very long id only pushes its own line wider.
        .min(MAX_ID_WIDTH);
    let mut summary = Summary::default();
    let mut collected = Vec::new();
    let mut pending = Vec::new();
    // Live outcomes are explained by the simulation's decisions for the same case, which takes
    // another (simulated) run: their reports are written once the live run is over.
    let mut live_reports = Vec::new();
    runtime.block_on(runner::run_all(
        scenarios,
        options,
        |scenario, case, mut result| {
            // Compared with what was kept before `--save` overwrites it; saved as observed.
            let kept = snapshot_dir(args.snapshots.as_deref(), project.as_ref(), &scenario.path);
            let comparison = match &result {
                Ok(outcome)
                    if (args.check_snapshots || args.update_snapshots) && outcome.skipped.is_none() =>
                {
                    Some(if live {
                        mailscope::snapshot::compare_live(&kept.join("live"), outcome)
                    } else {
                        mailscope::snapshot::compare_simulated(&kept, outcome)
                    })
                }
                _ => None,
            };
            if let (true, Some(comparison), Ok(outcome)) = (args.update_snapshots, &comparison, &result) {
                if *comparison == mailscope::snapshot::Comparison::Matches {
                    mailscope::snapshot::clear_pending(&kept, &outcome.id);
                } else {
                    match mailscope::snapshot::write_pending(
                        &kept,
                        outcome,
                        &scenario.file.title,
                        &scenario.path,
                    ) {
                        Ok(path) => pending.push(path),
                        Err(error) => eprint_line(&format!("error: {}: {error}", kept.display())),
                    }
                }
            }
            if let (Some(directory), Ok(outcome)) = (&args.save, &result)
                && let Err(error) = mailscope::drift::save(directory, outcome)
            {
                eprint_line(&format!("error: {}: {error}", directory.display()));
            }
            if let (Some(comparison), Ok(outcome)) = (comparison, &mut result) {
                mailscope::snapshot::apply(outcome, comparison);
            }
            summary.add(&result);
            if let (Some(directory), Ok(outcome)) = (&args.report, &result) {
                if live {
                    live_reports.push((scenario.clone(), case.clone(), outcome.clone()));
                } else {
                    write_report(directory, scenario, outcome, &outcome.decisions);
                }
            }
            if args.quiet
                && matches!(args.format, Format::Table)
                && result.as_ref().is_ok_and(|outcome| {
                    outcome.skipped.is_none() && outcome.expectation != mailscope::outcome::Expectation::Unmet
                })
            {
                return;
            }
            let rendered = match args.format {
                Format::Table => crate::paint(&report::table::render(&result, id_width)),
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
        },
    ));
    if let Some(directory) = &args.report {
        for (scenario, case, outcome) in &live_reports {
            let decisions = runtime.block_on(report::markdown::reasoning(scenario, case, outcome));
            write_report(directory, scenario, outcome, &decisions);
        }
    }
    match args.format {
        Format::Table => print_line(&summary.closing_line()),
        Format::Junit => print_line(&report::junit::render(&collected)),
        Format::Json => {}
    }
    if !pending.is_empty() {
        eprint_line(&format!(
            "{} snapshot(s) pending review, the first {}: accept or reject them with `mailscope review{}`",
            pending.len(),
            pending[0].display(),
            args.snapshots
                .as_ref()
                .map(|directory| format!(" --snapshots {}", directory.display()))
                .unwrap_or_default()
        ));
    }
    if summary.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    }
}

/// Writes the Markdown report of `outcome` into `directory`, reporting a failure to write.
fn write_report(
    directory: &std::path::Path,
    scenario: &scenario::Scenario,
    outcome: &mailscope::outcome::Outcome,
    decisions: &[mailscope::outcome::StagedDecision],
) {
    let file = directory.join(format!("{}.md", outcome.id.replace('/', "__")));
    if let Err(error) = std::fs::write(&file, report::markdown::render(scenario, outcome, decisions)) {
        eprint_line(&format!("error: {}: {error}", file.display()));
    }
}

/// The target `--target` and `--live-config` name; a wrong pair is reported, with exit status 2.
pub(crate) fn target_of(
    target: TargetArg,
    live_config: Option<&std::path::Path>,
) -> Result<Target, ExitCode> {
    match (target, live_config) {
        (TargetArg::Simulated, _) => Ok(Target::Simulated),
        (TargetArg::Live, None) => {
            eprint_line("error: --target live needs --live-config FILE (see the README's live mode section)");
            Err(ExitCode::from(EXIT_USAGE))
        }
        (TargetArg::Live, Some(path)) => match mailscope::live::LiveConfig::load(path) {
            Ok(config) => Ok(Target::Live(std::sync::Arc::new(config))),
            Err(error) => {
                eprint_line(&error);
                Err(ExitCode::from(EXIT_USAGE))
            }
        },
    }
}

/// Keeps the cases selected by tag, id filter and shard, in order; drops emptied scenarios.
/// Selecting nothing is an error that names the selector that matched nothing: a typo in a CI
/// job must not pass as an empty green run.
pub(crate) fn select(
    scenarios: &mut Vec<scenario::Scenario>,
    tags: &[String],
    filters: &[String],
    shard: Option<(usize, usize)>,
) -> Result<(), String> {
    let loaded: usize = scenarios.iter().map(|scenario| scenario.cases.len()).sum();
    if loaded == 0 {
        return Err("no scenario file was found under the paths given".into());
    }
    let unknown: Vec<&String> = tags
        .iter()
        .filter(|tag| !scenarios.iter().any(|scenario| scenario.file.tags.contains(tag)))
        .collect();
    let mut position = 0;
    for scenario in scenarios.iter_mut() {
        let tagged = tags.is_empty() || scenario.file.tags.iter().any(|tag| tags.contains(tag));
        scenario.cases.retain(|case| {
            if !tagged || (!filters.is_empty() && !filters.iter().any(|text| case.id.contains(text.as_str())))
            {
                return false;
            }
            let keep = shard.is_none_or(|(k, n)| position % n == k - 1);
            position += 1;
            keep
        });
    }
    scenarios.retain(|scenario| !scenario.cases.is_empty());
    if !scenarios.is_empty() {
        return Ok(());
    }
    let quoted = |values: &[&String]| {
        values
            .iter()
            .map(|value| format!("`{value}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(if !tags.is_empty() && unknown.len() == tags.len() {
        format!(
            "no case selected: no scenario has the tag {} ({loaded} cases loaded)",
            quoted(&unknown)
        )
    } else if position == 0 && tags.is_empty() {
        format!(
            "no case selected: no case id contains {} ({loaded} cases loaded)",
            quoted(&filters.iter().collect::<Vec<_>>()),
        )
    } else if position == 0 {
        format!(
            "no case selected: no case tagged {} has an id containing {}",
            quoted(&tags.iter().collect::<Vec<_>>()),
            quoted(&filters.iter().collect::<Vec<_>>()),
        )
    } else {
        let (k, n) = shard.unwrap_or((1, 1));
        format!("no case selected: shard {k}/{n} of {position} cases is empty")
    })
}

/// Loads every scenario under `paths`; every bad file is reported, and then nothing runs (exit
/// status 2).
pub(crate) fn load_all(paths: &[PathBuf]) -> Result<Vec<scenario::Scenario>, ExitCode> {
    let report = |errors: Vec<ScenarioError>| {
        for error in errors {
            eprint_line(&error.to_string());
        }
        ExitCode::from(EXIT_USAGE)
    };
    let files = scenario::discover(paths).map_err(|error| report(vec![error]))?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match scenario::load(&file) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => errors.push(error),
        }
    }
    // Two files outside `scenarios/` with one stem give their cases the same ids: their
    // snapshots, saved outcomes and reports would overwrite each other.
    let mut seen: std::collections::HashMap<&str, &std::path::Path> = std::collections::HashMap::new();
    let mut duplicates = Vec::new();
    for scenario in &scenarios {
        for case in &scenario.cases {
            if let Some(first) = seen.insert(&case.id, &scenario.path)
                && first != scenario.path
            {
                duplicates.push(ScenarioError {
                    path: scenario.path.clone(),
                    line: 1,
                    column: 1,
                    message: format!(
                        "case id `{}` is also the id of a case of {}: ids name snapshots and reports, so rename one file",
                        case.id,
                        first.display()
                    ),
                });
                break;
            }
        }
    }
    errors.extend(duplicates);
    let total: usize = scenarios.iter().map(|scenario| scenario.cases.len()).sum();
    if total > MAX_CASES_PER_RUN {
        eprint_line(&format!(
            "error: the paths hold {total} cases; one run takes at most {MAX_CASES_PER_RUN}: run them in parts (--shard K/N)"
        ));
        return Err(ExitCode::from(EXIT_USAGE));
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(report(errors))
    }
}

/// The case with this id, and its scenario.
pub(crate) fn find_case<'s>(
    scenarios: &'s [scenario::Scenario],
    id: &str,
) -> Option<(&'s scenario::Scenario, &'s scenario::Case)> {
    scenarios.iter().find_map(|scenario| {
        scenario
            .cases
            .iter()
            .find(|case| case.id == id)
            .map(|case| (scenario, case))
    })
}
