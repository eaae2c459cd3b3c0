//! `mailscope completions`, `mailscope man` and `mailscope help`: generated from the clap
//! definitions, so they never disagree with the parser.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::{Cli, EXIT_USAGE, eprint_line};

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {
    /// A command (`run`, `serve`, ...); none: mailscope's own page.
    command: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct HelpArgs {
    /// A command (`run`, `serve`, ...); none: mailscope's own help.
    command: Option<String>,
}

pub(crate) fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "mailscope", &mut std::io::stdout());
    ExitCode::SUCCESS
}

pub(crate) fn man(args: &ManArgs) -> ExitCode {
    match render_man(args.command.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprint_line(&format!("error: {error:#}"));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn render_man(name: Option<&str>) -> anyhow::Result<()> {
    let root = Cli::command();
    let page = match name {
        None => root,
        Some(name) => {
            let command = root
                .find_subcommand(name)
                .with_context(|| format!("no command `{name}`: {}", known_commands()))?
                .clone();
            // `mailscope-run(1)`, as git and cargo name their commands' pages.
            let title = format!("mailscope-{name}");
            command.name(title.clone()).bin_name(title)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .context("rendering the manual page")?;
    // A closed pipe (`mailscope man | head`) ends the output, not the command.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &roff);
    Ok(())
}

pub(crate) fn help(args: &HelpArgs) -> ExitCode {
    let mut root = Cli::command();
    let printed = match args.command.as_deref() {
        None => root.print_long_help(),
        Some(name) => match root.find_subcommand_mut(name) {
            Some(command) => command.print_long_help(),
            None => {
                eprint_line(&format!("error: no command `{name}`: {}", known_commands()));
                return ExitCode::from(EXIT_USAGE);
            }
        },
    };
    let _ = printed;
    ExitCode::SUCCESS
}

fn known_commands() -> String {
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|command| format!("`{}`", command.get_name()))
        .collect();
    format!("the commands are {}", names.join(", "))
}
