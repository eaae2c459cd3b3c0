//! `mailscope review`: each pending snapshot's diff, then accept or reject it; a user's own suite
//! needs no cargo to keep its snapshots.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::commands::run::{default_paths, project, snapshot_dir};
use crate::{EXIT_UNMET, EXIT_USAGE, eprint_line, print_line};

#[derive(Debug, clap::Args)]
pub(crate) struct ReviewArgs {
    /// Scenario files or directories whose snapshots to review (default: as `run`).
    paths: Vec<PathBuf>,
    /// Where the snapshots are (default: as `run`).
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
    /// Accept every pending snapshot, after showing its diff.
    #[arg(long, conflicts_with = "reject")]
    accept: bool,
    /// Reject (delete) every pending snapshot.
    #[arg(long)]
    reject: bool,
}

/// What to do with one pending snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accept,
    Reject,
    Skip,
}

pub(crate) fn review(args: ReviewArgs) -> ExitCode {
    let project = match project() {
        Ok(project) => project,
        Err(status) => return status,
    };
    let directories: Vec<PathBuf> = match (&args.snapshots, &project) {
        (Some(directory), _) => vec![directory.clone()],
        (None, Some(project)) if project.snapshots.is_some() && args.paths.is_empty() => {
            project.snapshots.iter().cloned().collect()
        }
        _ => {
            // With nothing named and no project, the scenario files here and below.
            let paths = match (&project, args.paths.is_empty()) {
                (None, true) => vec![PathBuf::from(".")],
                _ => default_paths(args.paths.clone(), project.as_ref()),
            };
            let Ok(files) = mailscope::scenario::discover(&paths) else {
                eprint_line(
                    "error: no scenario files to find snapshots for; name the directory with --snapshots DIR",
                );
                return ExitCode::from(EXIT_USAGE);
            };
            let mut directories: Vec<PathBuf> = files
                .iter()
                .map(|file| snapshot_dir(None, project.as_ref(), file))
                .collect();
            directories.sort();
            directories.dedup();
            directories
        }
    };
    let pending: Vec<PathBuf> = directories
        .iter()
        .flat_map(|directory| mailscope::snapshot::pending(directory))
        .collect();
    if pending.is_empty() {
        print_line("no snapshot is pending review");
        return ExitCode::SUCCESS;
    }
    let interactive = std::io::stdin().is_terminal();
    if !args.accept && !args.reject && !interactive {
        for path in &pending {
            print_line(&format!("pending {}", path.display()));
        }
        eprint_line("error: not a terminal: say --accept or --reject");
        return ExitCode::from(EXIT_UNMET);
    }
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    for path in &pending {
        match mailscope::snapshot::pending_diff(path) {
            Ok(diff) => print_line(diff.trim_end()),
            Err(error) => {
                eprint_line(&format!("error: {}: {error}", path.display()));
                continue;
            }
        }
        let verdict = if args.accept {
            Verdict::Accept
        } else if args.reject {
            Verdict::Reject
        } else {
            ask(path)
        };
        let done = match verdict {
            Verdict::Accept => mailscope::snapshot::accept(path).map(|()| accepted += 1),
            Verdict::Reject => std::fs::remove_file(path).map(|()| rejected += 1),
            Verdict::Skip => {
                skipped += 1;
                Ok(())
            }
        };
        if let Err(error) = done {
            eprint_line(&format!("error: {}: {error}", path.display()));
        }
    }
    print_line(&format!(
        "{accepted} accepted, {rejected} rejected, {skipped} skipped"
    ));
    if skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    }
}

/// Asks on the terminal; anything but `a` or `r` skips.
fn ask(path: &std::path::Path) -> Verdict {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{}: [a]ccept, [r]eject, [s]kip? ", path.display());
    let _ = stderr.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    match answer.trim() {
        "a" | "accept" => Verdict::Accept,
        "r" | "reject" => Verdict::Reject,
        _ => Verdict::Skip,
    }
}
