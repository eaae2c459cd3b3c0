//! `mailscope decode` and `mailscope explain`: a token read against Exchange's rules, and a scope
//! list predicted without any network.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use mailscope::serve;

use crate::{EXIT_USAGE, FlowArg, eprint_line, flow_of, print_line};

#[derive(Debug, clap::Args)]
pub(crate) struct DecodeArgs {
    /// The access token, or `-` (or nothing) to read it from standard input.
    token: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// A scope, in the order the client sends it; repeat for several.
    #[arg(long = "scope", required_unless_present = "resource")]
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
    /// Ask the v1.0 token endpoint for this resource (with `--flow password`), as older guides do.
    #[arg(long, value_name = "URI")]
    resource: Option<String>,
    /// A scope a tenant administrator approves at /adminconsent first; repeat for several.
    #[arg(long = "admin-consent", value_name = "SCOPE")]
    admin_consent: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    Smtp,
    Imap,
    Pop3,
}

pub(crate) fn decode(args: DecodeArgs) -> ExitCode {
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

pub(crate) fn explain(args: ExplainArgs) -> ExitCode {
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
    if args.resource.is_some() && !matches!(args.flow, FlowArg::Password) {
        eprint_line("error: --resource (the v1.0 token endpoint) goes with --flow password");
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
        admin_consent: (!args.admin_consent.is_empty()).then_some(args.admin_consent),
        resource: args.resource,
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
