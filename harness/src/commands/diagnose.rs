//! `mailscope decode` and `mailscope explain`: a token read against Exchange's checks, and one
//! case run through the simulated cloud with its decisions.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use mailscope::scenario::Request;
use mailscope::scenario::types::{Endpoint, Mechanism, PasswordChoice, ProbeSpec, Protocol};
use mailscope::serve;

use crate::{EXIT_UNMET, EXIT_USAGE, FlowArg, eprint_line, flow_of, print_line, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct DecodeArgs {
    /// The token as pasted: a JWT, `Bearer …`, an `Authorization:` line, or an XOAUTH2 or
    /// OAUTHBEARER response (base64 or not), or `-` (or nothing) to read standard input.
    token: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    /// A scope, in the order the client sends it; repeat, or paste the whole space-separated list.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// The grant flow.
    #[arg(long, value_enum, default_value_t = FlowArg::AuthorizationCode)]
    flow: FlowArg,
    /// A protocol to try; repeat for several (default: all three).
    #[arg(long = "protocol", value_enum)]
    protocols: Vec<ProtocolArg>,
    /// The app registration (default: the directory file's, else `mail-client`).
    #[arg(long)]
    app: Option<String>,
    /// A directory file: the [tenant], [app] and [user] tables of a scenario.
    #[arg(long, value_name = "FILE")]
    directory: Option<PathBuf>,
    /// With `--flow refresh-token`: the first sign-in's scopes (default: the same as `--scope`).
    #[arg(long = "initial-scope", value_name = "SCOPE")]
    initial_scopes: Vec<String>,
    /// Ask the v1.0 token endpoint for this resource (with `--flow password`), as older guides do.
    #[arg(long, value_name = "URI")]
    resource: Option<String>,
    /// A scope a tenant administrator approves at /adminconsent first; repeat for several.
    #[arg(long = "admin-consent", value_name = "SCOPE")]
    admin_consent: Vec<String>,
    /// How the probes authenticate: a token (`xoauth2`, `oauthbearer`) or a password (`login`:
    /// SMTP AUTH LOGIN, IMAP LOGIN, POP3 USER/PASS; `plain`: SASL PLAIN).
    #[arg(long, value_enum, default_value_t = MechanismArg::Xoauth2)]
    mechanism: MechanismArg,
    /// With a password mechanism: send the user's password, or a wrong one.
    #[arg(long, value_enum, default_value_t = PasswordArg::Right)]
    password: PasswordArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProtocolArg {
    Smtp,
    Imap,
    Pop3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MechanismArg {
    Xoauth2,
    Oauthbearer,
    Login,
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PasswordArg {
    Right,
    Wrong,
}

pub(crate) fn decode(args: DecodeArgs) -> ExitCode {
    let token = match args.token.as_deref() {
        Some(token) if token != "-" => token.to_owned(),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint_line(
                    "Paste the token (a JWT, `Bearer …`, or an XOAUTH2 response), then press Ctrl-D:",
                );
            }
            let mut input = String::new();
            if let Err(error) = std::io::Read::read_to_string(&mut stdin.lock(), &mut input) {
                eprint_line(&format!("error: reading the token from standard input: {error}"));
                return ExitCode::from(EXIT_USAGE);
            }
            input
        }
    };
    let now = mailscope_mocks::clock::Clock::system().now_unix();
    let decoded = mailscope::decode::decode(&token, now);
    let rendered = mailscope::decode::render(&decoded);
    if decoded.exit_status() == EXIT_USAGE {
        eprint_line(&format!("error: {rendered}"));
    } else {
        print_line(&rendered);
    }
    ExitCode::from(decoded.exit_status())
}

pub(crate) fn explain(args: ExplainArgs) -> ExitCode {
    let mut directory = match serve::load_directory_file(args.directory.as_deref()) {
        Ok(directory) => directory,
        Err(error) => {
            eprint_line(&format!("error: {error}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(app) = args.app {
        if !mailscope::scenario::directory::is_known_app(&app) {
            eprint_line(&format!(
                "error: no app `{app}`: the directory has `mail-client` and `mail-daemon`"
            ));
            return ExitCode::from(EXIT_USAGE);
        }
        directory.app.name = Some(toml::Spanned::new(0..0, app));
    }
    if args.resource.is_some() && !matches!(args.flow, FlowArg::Password) {
        eprint_line("error: --resource (the v1.0 token endpoint) goes with --flow password");
        return ExitCode::from(EXIT_USAGE);
    }
    if args.scopes.is_empty() && args.resource.is_none() && args.flow != FlowArg::None {
        eprint_line(
            "error: --scope is required (the scopes the client asks for), unless --flow none sends passwords only",
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let mechanism = match args.mechanism {
        MechanismArg::Xoauth2 => Mechanism::Xoauth2,
        MechanismArg::Oauthbearer => Mechanism::Oauthbearer,
        MechanismArg::Login => Mechanism::Login,
        MechanismArg::Plain => Mechanism::Plain,
    };
    if args.password == PasswordArg::Wrong && !mechanism.is_password() {
        eprint_line("error: --password goes with --mechanism login or plain");
        return ExitCode::from(EXIT_USAGE);
    }
    let protocols: Vec<Protocol> = if args.protocols.is_empty() {
        vec![Protocol::Smtp, Protocol::Imap, Protocol::Pop3]
    } else {
        args.protocols
            .into_iter()
            .map(|protocol| match protocol {
                ProtocolArg::Smtp => Protocol::Smtp,
                ProtocolArg::Imap => Protocol::Imap,
                ProtocolArg::Pop3 => Protocol::Pop3,
            })
            .collect()
    };
    let request = Request {
        initial_scopes: (!args.initial_scopes.is_empty()).then_some(args.initial_scopes),
        admin_consent: (!args.admin_consent.is_empty()).then_some(args.admin_consent),
        resource: args.resource,
        endpoint: Endpoint::Organizations,
        ..Request::new(flow_of(args.flow), args.scopes)
    };
    let probes = protocols
        .into_iter()
        .map(|protocol| ProbeSpec {
            password: mechanism.is_password().then_some(match args.password {
                PasswordArg::Right => PasswordChoice::Right,
                PasswordArg::Wrong => PasswordChoice::Wrong,
            }),
            ..ProbeSpec::new(protocol, mechanism)
        })
        .collect();
    let (scenario, case) = mailscope::explain::case_from(directory, request, probes);
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    match runtime.block_on(mailscope::explain::explain(&scenario, &case)) {
        Ok(outcome) => {
            print_line(&mailscope::explain::render(&outcome));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprint_line(&format!("error: {error}"));
            ExitCode::from(EXIT_UNMET)
        }
    }
}
