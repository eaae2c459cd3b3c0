//! `mailscope serve` and `mailscope token`: the simulated cloud standalone, and a token from it.

use std::path::PathBuf;
use std::process::ExitCode;

use mailscope::serve;

use crate::{EXIT_UNMET, EXIT_USAGE, FlowArg, eprint_line, flow_of, print_line, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Write endpoints.json and ca.pem here (default: a new directory, printed).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Keep the mailboxes under STATE_DIR/mail, so that a restart finds the mail.
    #[arg(long, requires = "state_dir")]
    keep_mail: bool,
    /// Start with these messages: ADDRESS/*.eml (INBOX), ADDRESS/FOLDER/*.eml, ADDRESS.mbox.
    #[arg(long, value_name = "DIR")]
    seed: Option<PathBuf>,
    /// A directory file: the [tenant], [app] and [user] tables of a scenario, and [[users]], more
    /// users with mailboxes.
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
    /// Seconds a TLS handshake may take (default 10, Kestrel's).
    #[arg(long, value_name = "SECS")]
    tls_handshake_timeout: Option<u64>,
    /// Connections per listener in their TLS handshake at once; past it the oldest is dropped.
    #[arg(long, value_name = "N")]
    handshakes_in_flight: Option<usize>,
    /// Seconds a mail client may stay silent (default 300, RFC 5321's); IMAP and POP3 only
    /// before authentication.
    #[arg(long, value_name = "SECS")]
    mail_idle_timeout: Option<u64>,
    /// Seconds an authenticated IMAP or POP3 client may stay silent (default 1800, Exchange's).
    #[arg(long, value_name = "SECS")]
    authenticated_idle_timeout: Option<u64>,
    /// The most mail the mailboxes hold together, in bytes (default 1 GiB).
    #[arg(long, value_name = "BYTES")]
    mail_store_limit: Option<u64>,
    /// Seconds an HTTPS connection may wait between requests (default 130, Kestrel's).
    #[arg(long, value_name = "SECS")]
    http_keep_alive: Option<u64>,
    /// Seconds a request's head and body may take to arrive (default 30, Kestrel's).
    #[arg(long, value_name = "SECS")]
    http_request_timeout: Option<u64>,
    /// The largest request body taken, in bytes (default 1 MiB, nginx's); larger ones get 413.
    #[arg(long, value_name = "BYTES")]
    http_body_limit: Option<usize>,
    /// Seconds a device-code client is told to wait between polls (default 5, Entra's); a
    /// client's CI may shorten it. Given twice, the last one counts.
    #[arg(long, value_name = "SECS", overrides_with = "device_code_interval")]
    device_code_interval: Option<u64>,
    /// Seconds a device code waits for its user before `expired_token` (default 900, Entra's); a
    /// client's CI may shorten it to see what the client does with a code nobody enters.
    #[arg(long, value_name = "SECS")]
    device_code_lifetime: Option<u64>,
    /// Answer the first N `AUTH` commands on SMTP with Exchange's transient `451 4.7.0 Temporary
    /// server error. Please try again later. PRX4`, to test a client's retries (default 0).
    #[arg(long, value_name = "N")]
    transient_smtp_auth: Option<u32>,
}

impl ServeArgs {
    /// The limits, each flag over its default.
    fn limits(&self) -> mailscope_mocks::Limits {
        let defaults = mailscope_mocks::Limits::default();
        let seconds = |flag: Option<u64>, default| flag.map_or(default, std::time::Duration::from_secs);
        mailscope_mocks::Limits {
            tls_handshake: seconds(self.tls_handshake_timeout, defaults.tls_handshake),
            handshakes_in_flight: self.handshakes_in_flight.unwrap_or(defaults.handshakes_in_flight),
            mail_idle: seconds(self.mail_idle_timeout, defaults.mail_idle),
            authenticated_idle: seconds(self.authenticated_idle_timeout, defaults.authenticated_idle),
            mail_store: self.mail_store_limit.unwrap_or(defaults.mail_store),
            http_keep_alive: seconds(self.http_keep_alive, defaults.http_keep_alive),
            http_request: seconds(self.http_request_timeout, defaults.http_request),
            http_body: self.http_body_limit.unwrap_or(defaults.http_body),
            device_code_interval: seconds(self.device_code_interval, defaults.device_code_interval),
            device_code_lifetime: seconds(self.device_code_lifetime, defaults.device_code_lifetime),
            transient_smtp_auth: self.transient_smtp_auth.unwrap_or(defaults.transient_smtp_auth),
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct TokenArgs {
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
    /// The user who signs in (a `[[users]]` entry of serve's directory file): sent as `login_hint`
    /// with the authorization code flow, as the username with `password`. Default: the first user.
    #[arg(long, value_name = "UPN")]
    user: Option<String>,
}

pub(crate) fn serve(args: ServeArgs) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    let options = serve::ServeOptions {
        limits: args.limits(),
        state_dir: args.state_dir,
        directory: args.directory,
        https_port: args.https_port,
        smtp_port: args.smtp_port,
        imap_port: args.imap_port,
        pop3_port: args.pop3_port,
        keep_mail: args.keep_mail,
        seed: args.seed,
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
        print_line(&format!("state directory    {}", served.state_dir.display()));
        print_line(&format!("identity platform  {}", endpoints.authority));
        print_line(&format!("smtp (STARTTLS)    {}", endpoints.smtp));
        print_line(&format!("imaps              {}", endpoints.imap));
        print_line(&format!("pop3s              {}", endpoints.pop3));
        print_line(&format!("CA certificate     {}", endpoints.ca_file.display()));
        let mail = match (served.mail_restored, served.seeded) {
            (true, _) => format!(
                "kept under {} (read back)",
                served.state_dir.join("mail").display()
            ),
            (false, Some(count)) => format!("{count} seed message(s) stored"),
            (false, None) => "empty".to_owned(),
        };
        print_line(&format!("mailboxes          {mail}"));
        print_line("serving; Ctrl-C or SIGTERM stops");
        wait_for_shutdown().await;
        // A stopped serve leaves no endpoints.json behind for a script to trust.
        let _ = std::fs::remove_file(endpoints.ca_file.with_file_name("endpoints.json"));
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

pub(crate) fn token(args: TokenArgs) -> ExitCode {
    if args.flow == FlowArg::None {
        eprint_line("error: --flow none asks for no token; `mailscope token` exists to print one");
        return ExitCode::from(EXIT_USAGE);
    }
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    match runtime.block_on(serve::token(
        &args.state_dir,
        &args.scopes,
        &args.app,
        flow_of(args.flow),
        args.user.as_deref(),
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
