//! Live mode's configuration (`live.toml`): where the real tenant and Exchange Online are, which
//! app signs in, where the secrets are (the *names* of environment variables, never values), and
//! `[facts]`: how the tenant is set up, in the scenario format's terms, so that a case whose
//! directory changes contradict them is skipped rather than run against the wrong setup.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `live.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// The identity platform (default `https://login.microsoftonline.com`).
    #[serde(default = "default_authority")]
    pub authority: String,
    /// The tenant id or domain, used where a case says `endpoint = "tenant"`.
    pub tenant: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The app's name in scenario terms: `mail-client` (public) or `mail-daemon` (confidential).
    #[serde(default = "default_app")]
    pub app: String,
    /// The name of the environment variable holding the client secret (confidential apps).
    pub client_secret_env: Option<String>,
    /// The name of the environment variable holding the user's password (ROPC and password probes).
    pub password_env: Option<String>,
    /// The user who signs in, and whose mailbox the probes open.
    pub user: String,
    /// SMTP submission, `host:port` (STARTTLS).
    #[serde(default = "default_smtp")]
    pub smtp: String,
    /// IMAP, `host:port` (TLS).
    #[serde(default = "default_imap")]
    pub imap: String,
    /// POP3, `host:port` (TLS).
    #[serde(default = "default_pop3")]
    pub pop3: String,
    /// Extra trust roots (PEM) on top of the web PKI; certificate checks cannot be switched off.
    pub ca_file: Option<PathBuf>,
    /// The loopback port of the redirect listener (`http://localhost:PORT`); 0 picks a free one.
    #[serde(default)]
    pub redirect_port: u16,
    /// How the authorization code is obtained: `system` opens the browser, `print` prints the URL,
    /// `follow` lets the harness follow the redirects itself (only a simulated cloud allows that).
    #[serde(default)]
    pub browser: Browser,
    /// Seconds a person has to sign in (default 300); pasting the error page's AADSTS line on
    /// standard input ends the wait at once.
    #[serde(default = "default_sign_in_timeout")]
    pub sign_in_timeout: u64,
    /// The token cache file (default: the user's cache directory); `"none"` disables it.
    pub token_cache: Option<PathBuf>,
    /// How the tenant is set up: `[facts.tenant]`, `[facts.app]`, `[facts.user]`, keys as in scenarios.
    #[serde(default)]
    pub facts: toml::Table,
}

/// How the authorization code is obtained in live mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Browser {
    /// Open the system browser, and print the URL too.
    #[default]
    System,
    /// Print the URL only.
    Print,
    /// The harness follows the authorize redirect to its own loopback listener.
    Follow,
}

fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_sign_in_timeout() -> u64 {
    300
}
fn default_app() -> String {
    "mail-client".into()
}
fn default_smtp() -> String {
    "smtp.office365.com:587".into()
}
fn default_imap() -> String {
    "outlook.office365.com:993".into()
}
fn default_pop3() -> String {
    "outlook.office365.com:995".into()
}

impl LiveConfig {
    /// Reads `live.toml`; errors read `path:line:column: what is wrong`.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
        let mut config: Self = toml::from_str(&text)
            .map_err(|error| crate::scenario::load::toml_error(path, &text, &error).to_string())?;
        // Relative paths are the file's, as a reader of live.toml would take them.
        let beside = |file: &Path| path.parent().unwrap_or(Path::new(".")).join(file);
        if let Some(ca_file) = &config.ca_file
            && ca_file.is_relative()
        {
            config.ca_file = Some(beside(ca_file));
        }
        if let Some(cache) = &config.token_cache
            && cache.is_relative()
            && cache.as_os_str() != "none"
        {
            config.token_cache = Some(beside(cache));
        }
        Ok(config)
    }

    /// True when the authority is on this machine (a `mailscope serve`), where the harness may
    /// play the browser itself.
    pub fn authority_is_loopback(&self) -> bool {
        url::Url::parse(&self.authority)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .is_some_and(|host| matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
    }

    /// Why `scenario` cannot run against this tenant, if it cannot: a directory change that
    /// `[facts]` does not declare with the same value, or a setting the scenario leaves at the
    /// simulation's default that `[facts]` says the tenant has otherwise.
    pub fn inapplicable(&self, scenario_path: &Path) -> Option<String> {
        let text = std::fs::read_to_string(scenario_path).ok()?;
        let file: toml::Table = toml::from_str(&text).ok()?;
        let mut reasons = Vec::new();
        for (table, key, assumed) in assumptions(&self.app) {
            let written = file
                .get(table)
                .and_then(toml::Value::as_table)
                .is_some_and(|changes| changes.contains_key(key));
            let declared = self
                .facts
                .get(table)
                .and_then(toml::Value::as_table)
                .and_then(|facts| facts.get(key));
            if let Some(fact) = declared
                && !written
                && *fact != assumed
            {
                reasons.push(format!(
                    "assumes {table}.{key} = {assumed} (the simulated default), and the tenant has {fact}"
                ));
            }
        }
        for table in ["tenant", "app", "user"] {
            let Some(toml::Value::Table(changes)) = file.get(table) else {
                continue;
            };
            for (key, wanted) in flatten(changes) {
                if table == "app" && key == "name" && wanted.as_str() == Some(self.app.as_str()) {
                    continue;
                }
                let declared = self
                    .facts
                    .get(table)
                    .and_then(toml::Value::as_table)
                    .and_then(|facts| flatten(facts).into_iter().find(|(fact, _)| *fact == key))
                    .map(|(_, value)| value);
                match declared {
                    Some(value) if value == wanted => {}
                    Some(value) => {
                        reasons.push(format!("needs {table}.{key} = {wanted}, the tenant has {value}"))
                    }
                    None => reasons.push(format!(
                        "needs {table}.{key} = {wanted}, which [facts] does not declare"
                    )),
                }
            }
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

/// The settings a scenario relies on without writing them: the simulated directory's defaults
/// for the tenant, the user, and the app `app`.
fn assumptions(app: &str) -> Vec<(&'static str, &'static str, toml::Value)> {
    use mailscope_mocks::directory as mocks;
    let directory = mocks::Directory::contoso();
    let user = directory.signed_in_user();
    let mut assumed = vec![
        (
            "tenant",
            "security_defaults",
            toml::Value::Boolean(directory.tenant.security_defaults),
        ),
        ("user", "mfa", toml::Value::Boolean(user.mfa)),
        ("user", "imap_enabled", toml::Value::Boolean(user.imap_enabled)),
        ("user", "pop_enabled", toml::Value::Boolean(user.pop_enabled)),
        ("user", "account", toml::Value::String("work".into())),
    ];
    if let Some(registration) = directory.app_by_name(app) {
        let consent = match registration.consent {
            mocks::Consent::None => "none",
            mocks::Consent::User => "user",
            mocks::Consent::Admin => "admin",
        };
        let audience = match registration.sign_in_audience {
            mocks::SignInAudience::Organizations => "organizations",
            mocks::SignInAudience::SingleTenant => "single-tenant",
            mocks::SignInAudience::OrganizationsAndPersonal => "organizations-and-personal",
        };
        assumed.push(("app", "consent", toml::Value::String(consent.into())));
        assumed.push(("app", "sign_in_audience", toml::Value::String(audience.into())));
        assumed.push((
            "app",
            "public_client_flows",
            toml::Value::Boolean(registration.public_client_flows),
        ));
    }
    assumed
}

/// `delegated.graph = [...]` as the key `delegated.graph`.
fn flatten(table: &toml::Table) -> Vec<(String, toml::Value)> {
    let mut flat = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(inner) => {
                for (inner_key, inner_value) in flatten(inner) {
                    flat.push((format!("{key}.{inner_key}"), inner_value));
                }
            }
            other => flat.push((key.clone(), other.clone())),
        }
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_skipped_unless_facts_declare_their_setup() {
        let directory = std::env::temp_dir().join(format!("mailscope-live-unit-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let scenario = directory.join("s.toml");
        std::fs::write(&scenario, "title = \"t\"\nsource = \"s\"\n[tenant]\nsmtp_client_authentication = false\n[app]\ndelegated.graph = [\"SMTP.Send\"]\n[[case]]\nname = \"a\"\nscopes = []\n").unwrap();
        let mut config: LiveConfig = toml::from_str("tenant = \"t\"\nclient_id = \"c\"\nuser = \"u\"\n[facts.tenant]\nsmtp_client_authentication = true\n").unwrap();

        let reason = config.inapplicable(&scenario).unwrap();
        assert!(
            reason.contains("needs tenant.smtp_client_authentication = false, the tenant has true"),
            "{reason}"
        );
        assert!(
            reason.contains("needs app.delegated.graph = [\"SMTP.Send\"], which [facts] does not declare"),
            "{reason}"
        );

        config.facts = toml::from_str(
            "[tenant]\nsmtp_client_authentication = false\n[app]\ndelegated.graph = [\"SMTP.Send\"]\n",
        )
        .unwrap();
        assert_eq!(config.inapplicable(&scenario), None);
        assert_eq!(config.smtp, "smtp.office365.com:587");

        // A default the scenario relies on without writing it, which the tenant contradicts.
        config.facts = toml::from_str(
            "[tenant]\nsmtp_client_authentication = false\n[app]\ndelegated.graph = [\"SMTP.Send\"]\n[user]\nmfa = true\n",
        )
        .unwrap();
        assert_eq!(
            config.inapplicable(&scenario).as_deref(),
            Some("assumes user.mfa = false (the simulated default), and the tenant has true")
        );
    }
}
