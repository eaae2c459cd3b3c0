//! The `live.toml` and `live-daemon.toml` a `serve` writes, so that live mode can be run, and
//! tested, against it.

use std::path::Path;

use mailscope_mocks::directory::{ClientType, Directory};

use super::state::{Endpoints, ServeError, write};

/// The name of the environment variable `live-daemon.toml` reads the client secret from.
pub const DAEMON_SECRET_VARIABLE: &str = "MAILSCOPE_CLIENT_SECRET";

/// The name of the environment variable `live.toml` reads the user's password from (ROPC and
/// password probes).
pub const PASSWORD_VARIABLE: &str = "MAILSCOPE_PASSWORD";

/// Writes `live.toml` (the public client) and `live-daemon.toml` (the confidential client), ready
/// for `mailscope run --target live`: this cloud is then a live tenant reached over HTTPS, through
/// the code that reaches Exchange Online. `[facts]` declare its (default) setup.
pub(super) fn write_live_configs(
    state_dir: &Path,
    endpoints: &Endpoints,
    directory: &Directory,
) -> Result<(), ServeError> {
    let user = &directory.signed_in_user().upn;
    for (file, app) in [("live.toml", "mail-client"), ("live-daemon.toml", "mail-daemon")] {
        let Some(registration) = directory.app_by_name(app) else {
            continue;
        };
        // The user's password serves ROPC and password probes, whichever app signs in.
        let secret = match registration.client_type {
            ClientType::Confidential { .. } => format!(
                "client_secret_env = \"{DAEMON_SECRET_VARIABLE}\"\npassword_env = \"{PASSWORD_VARIABLE}\"\n"
            ),
            ClientType::Public => format!("password_env = \"{PASSWORD_VARIABLE}\"\n"),
        };
        let text = format!(
            "# Written by `mailscope serve`: the simulated cloud as a live tenant.\n\
             authority = \"{}\"\ntenant = \"{}\"\nclient_id = \"{}\"\napp = \"{app}\"\n{secret}user = \"{user}\"\n\
             smtp = \"localhost:{}\"\nimap = \"localhost:{}\"\npop3 = \"localhost:{}\"\nca_file = \"{}\"\n\
             # The simulated authorize endpoint needs no person: the harness follows its redirects.\nbrowser = \"follow\"\n\
             token_cache = \"{}\"\n\n\
             [facts.tenant]\nsmtp_client_authentication = {}\nmulti_resource_scopes = \"{}\"\nsmtp_basic_auth = \"{}\"\n\n[facts.app]\nname = \"{app}\"\nconsent = \"{}\"\n",
            endpoints.authority,
            endpoints.tenant_id,
            registration.client_id,
            endpoints.smtp.rsplit_once(':').map_or("", |(_, port)| port),
            endpoints.imap.rsplit_once(':').map_or("", |(_, port)| port),
            endpoints.pop3.rsplit_once(':').map_or("", |(_, port)| port),
            endpoints.ca_file.display(),
            state_dir.join("tokens.json").display(),
            directory.tenant.allows_smtp_auth(),
            match directory.tenant.multi_resource_scopes {
                mailscope_mocks::directory::MultiResourceScopes::FirstWins => "first-wins",
                mailscope_mocks::directory::MultiResourceScopes::Reject => "reject",
            },
            match directory.tenant.smtp_basic_auth {
                mailscope_mocks::directory::BasicAuthStage::Enabled => "enabled",
                mailscope_mocks::directory::BasicAuthStage::Disabled => "disabled",
                mailscope_mocks::directory::BasicAuthStage::Retired => "retired",
            },
            match registration.consent {
                mailscope_mocks::directory::Consent::None => "none",
                mailscope_mocks::directory::Consent::User => "user",
                mailscope_mocks::directory::Consent::Admin => "admin",
            },
        );
        write(&state_dir.join(file), text.as_bytes())?;
    }
    Ok(())
}
