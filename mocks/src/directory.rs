//! The simulated directory: the tenant, its users and mailboxes, app registrations, consent and
//! the Exchange settings that decide whether a protocol may be used.
//!
//! Plain data, configured by the caller; [`Directory::contoso`] is the default directory the README describes. Ids
//! are fixed so that snapshots are stable.

use crate::token::ResourceApi;

/// Everything the simulated cloud knows about one tenant.
///
/// ```
/// use mailscope_mocks::Directory;
///
/// let mut directory = Directory::contoso();
/// directory.signed_in_user_mut().imap_enabled = false;
/// assert_eq!(directory.signed_in_user().upn, "adele@contoso.onmicrosoft.com");
/// assert!(directory.app_by_name("mail-daemon").is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    /// The tenant and its organisation-wide settings.
    pub tenant: Tenant,
    /// The users, each with a mailbox.
    pub users: Vec<User>,
    /// The app registrations.
    pub apps: Vec<App>,
}

/// The tenant and its organisation-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Short name (`contoso`).
    pub name: String,
    /// Initial domain (`contoso.onmicrosoft.com`).
    pub domain: String,
    /// Tenant id, the `tid` claim.
    pub id: String,
    /// Organisation-wide SMTP AUTH (`Set-TransportConfig -SmtpClientAuthenticationDisabled`, inverted).
    pub smtp_client_authentication: bool,
    /// Entra security defaults; they switch SMTP AUTH off (fidelity: smtp-auth-disabled-tenant).
    pub security_defaults: bool,
    /// How a request naming two resources is answered (rule `first-scope-wins`).
    pub multi_resource_scopes: MultiResourceScopes,
    /// The `aud` form of Graph tokens (rule `audience`).
    pub graph_audience: GraphAudience,
    /// Audiences Exchange accepts besides the two Outlook ones (rule `exchange-audiences`).
    pub exchange_extra_audiences: Vec<String>,
    /// Which server behaviour the mail front doors imitate.
    pub server_profile: ServerProfile,
    /// How a `refresh_token` grant without `scope` is answered (fidelity: refresh-without-scope).
    pub refresh_without_scope: RefreshWithoutScope,
    /// The first device-code poll is answered `slow_down` (RFC 8628 §3.5).
    pub device_code_slow_down: bool,
    /// A Conditional Access sign-in frequency, in hours: refresh tokens older than this are
    /// refused (fidelity: refresh-ca-signin-frequency).
    pub sign_in_frequency_hours: Option<u32>,
    /// Where Basic SMTP AUTH (passwords) stands on Microsoft's retirement schedule (rule
    /// `basic-auth`).
    pub smtp_basic_auth: BasicAuthStage,
    /// A Conditional Access policy on the user's sign-ins (rule `conditional-access`).
    pub conditional_access: ConditionalAccess,
    /// Which greeting form the IMAP and POP3 front doors use (rule `imap-front-door`).
    pub greeting: GreetingForm,
    /// Which protocols accept app-only tokens: today all three; before July 2023 not SMTP;
    /// before June 2022 none (fidelity: launch-flows-2020, ccg-smtp-before-support).
    pub app_only_access: AppOnlyAccess,
}

/// Basic SMTP AUTH on Microsoft's schedule (Exchange Team blog, 2026-01-27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasicAuthStage {
    /// Passwords work where SMTP AUTH is on: existing tenants until the end of December 2026.
    #[default]
    Enabled,
    /// Off by default from the end of December 2026 (an administrator may turn it on again),
    /// and for tenants created after that: `535 5.7.139 … basic authentication is disabled.`
    Disabled,
    /// Removed for good (a date in the second half of 2027): `550 5.7.30`.
    Retired,
}

/// A Conditional Access policy on the user's sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConditionalAccess {
    /// No policy applies.
    #[default]
    None,
    /// Every token request of the user is refused: AADSTS53003.
    Block,
    /// MFA is required: the interactive legs pass it, the non-interactive ones (ROPC, a
    /// refresh) get AADSTS50076.
    Mfa,
}

/// The IMAP and POP3 greeting forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GreetingForm {
    /// `The Microsoft Exchange IMAP4 service is ready.`, as most logs show.
    #[default]
    Classic,
    /// The 2025–2026 form: `Microsoft Exchange IMAP4 service ready. … (tcpproxy/…)`.
    Tcpproxy,
}

/// Which protocols accept app-only (client credentials) tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppOnlyAccess {
    /// SMTP, IMAP and POP (since July 2023).
    #[default]
    All,
    /// IMAP and POP only (June 2022 to July 2023).
    ImapAndPop,
    /// None: delegated tokens only (2020 to June 2022).
    None,
}

/// How the identity platform answers a `refresh_token` grant that names no scope; sources disagree
/// (fidelity: refresh-without-scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshWithoutScope {
    /// Microsoft's current page (`scope | optional`): the first sign-in's scopes apply.
    #[default]
    FirstSignInScopes,
    /// AADSTS900144, as in sasl-xoauth2 #89 and the page's older revision (`scope | required`).
    RequireScope,
    /// AADSTS90009, as in open-webui PR #22357.
    TokenForItself,
}

/// What the simulated user does with a device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceCodeAnswer {
    /// Signs in and approves, a few seconds after the code is shown.
    #[default]
    Approve,
    /// Declines.
    Decline,
    /// Never enters the code; it expires after 15 minutes.
    Ignore,
}

impl Tenant {
    /// Returns true when SMTP AUTH is on for the organisation, security defaults included.
    pub fn allows_smtp_auth(&self) -> bool {
        self.smtp_client_authentication && !self.security_defaults
    }
}

/// How the identity platform answers a request whose scopes name two resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MultiResourceScopes {
    /// The first resource-bearing scope decides (decomplexity; Microsoft's auth-code page).
    #[default]
    FirstWins,
    /// Any second resource is refused with AADSTS28000 (a Microsoft forum answer).
    Reject,
}

/// The `aud` claim of Microsoft Graph tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphAudience {
    /// `00000003-0000-0000-c000-000000000000`, as the seed write-up observed.
    #[default]
    Guid,
    /// `https://graph.microsoft.com`, as decoded v1 Graph tokens in other threads show.
    Uri,
}

/// Which server the mail front doors imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerProfile {
    /// Exchange Online, reply for reply.
    #[default]
    ExchangeOnline,
    /// An RFC-minded server: OAUTHBEARER too, and JSON error challenges.
    Generic,
}

/// A user and their mailbox.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// User principal name, also the mailbox address.
    pub upn: String,
    /// Object id, the `oid` claim.
    pub object_id: String,
    /// Given name.
    pub given_name: String,
    /// Surname.
    pub surname: String,
    /// Per-mailbox SMTP AUTH (`Set-CASMailbox -SmtpClientAuthenticationDisabled`).
    pub smtp_client_authentication: MailboxSetting,
    /// `Set-CASMailbox -ImapEnabled`.
    pub imap_enabled: bool,
    /// `Set-CASMailbox -PopEnabled`.
    pub pop_enabled: bool,
    /// Work account (Entra ID) or personal account (outlook.com).
    pub account: AccountKind,
    /// The user must pass MFA.
    pub mfa: bool,
    /// The password, for ROPC; never logged.
    pub password: String,
    /// What the user does with a device code.
    pub device_code: DeviceCodeAnswer,
    /// Shared mailboxes this user has FullAccess on (`Add-MailboxPermission`): its own token
    /// opens them over IMAP and POP with `user=` the shared address (fidelity: imap-shared-mailbox).
    pub full_access: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("upn", &self.upn)
            .field("object_id", &self.object_id)
            .field("account", &self.account)
            .field("mfa", &self.mfa)
            .finish_non_exhaustive()
    }
}

impl User {
    /// Returns the display name (`name` claim).
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.surname).trim().to_owned()
    }
}

/// A per-mailbox setting that may defer to the tenant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MailboxSetting {
    /// `$null`: the tenant's setting applies.
    #[default]
    Tenant,
    /// Explicitly on, overriding the tenant.
    Enabled,
    /// Explicitly off, overriding the tenant.
    Disabled,
}

/// The kind of account a user signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountKind {
    /// An Entra ID (work or school) account.
    #[default]
    Work,
    /// A Microsoft account (outlook.com, hotmail.com).
    Personal,
}

/// An app registration, with its service principal's consent and Exchange setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The name scenarios pick it by (`mail-client`).
    pub name: String,
    /// Display name (`app_displayname` claim).
    pub display_name: String,
    /// Application (client) id.
    pub client_id: String,
    /// Object id of the app's service principal (`oid` of app-only tokens).
    pub service_principal_id: String,
    /// Public or confidential client.
    pub client_type: ClientType,
    /// "Allow public client flows": requests without a client secret are accepted
    /// (fidelity: public-client-secret-missing).
    pub public_client_flows: bool,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Delegated permissions as the portal lists them.
    pub delegated: Vec<Permission>,
    /// Application permissions (app roles).
    pub application: Vec<Permission>,
    /// Who may consent.
    pub consent: Consent,
    /// Which accounts may sign in.
    pub sign_in_audience: SignInAudience,
    /// The service principal is registered in Exchange Online (`New-ServicePrincipal`).
    pub exchange_service_principal: bool,
    /// Permissions granted to the app on each user's mailbox (`Add-MailboxPermission`).
    pub mailbox_permissions: Vec<MailboxPermission>,
}

/// A permission as registered: the API it is listed under, and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    /// The API the portal lists it under.
    pub api: ResourceApi,
    /// The permission's name (`SMTP.Send`).
    pub name: String,
}

impl Permission {
    /// Returns a permission listed under `api`.
    pub fn new(api: ResourceApi, name: &str) -> Self {
        Self {
            api,
            name: name.to_owned(),
        }
    }
}

/// How an app authenticates to the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientType {
    /// No secret ("Allow public client flows").
    Public,
    /// A client secret.
    Confidential {
        /// The secret; never logged.
        secret: String,
    },
}

impl std::fmt::Debug for ClientType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Public => f.write_str("Public"),
            Self::Confidential { .. } => f.write_str("Confidential { secret: <redacted> }"),
        }
    }
}

/// Who may consent to an app's delegated permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    /// Nobody has consented and users may not (AADSTS65001 follows).
    None,
    /// Each user consents at sign-in (dynamic consent).
    #[default]
    User,
    /// An administrator granted the registered permissions tenant-wide.
    Admin,
}

/// Which accounts may sign in to an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignInAudience {
    /// Work accounts of any organisation.
    #[default]
    Organizations,
    /// Work accounts of this tenant only.
    SingleTenant,
    /// Work and personal accounts.
    OrganizationsAndPersonal,
}

/// A permission granted to an app on a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MailboxPermission {
    /// `Add-MailboxPermission -AccessRights FullAccess`.
    FullAccess,
    /// `Add-RecipientPermission -AccessRights SendAs`.
    SendAs,
}

/// The tenant id of personal Microsoft accounts (fidelity: consumer-outlook-com-oauth).
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
/// The default tenant id.
pub const CONTOSO_TENANT_ID: &str = "8f3c1a52-6d4e-4b7a-9c21-5e0f7d3b2a64";
/// Client id of the default public client `mail-client`.
pub const MAIL_CLIENT_ID: &str = "4a7c2e19-3b5d-4f60-8e12-9d0b6c4f1a37";
/// Client id of the default confidential client `mail-daemon`.
pub const MAIL_DAEMON_ID: &str = "c2d94b61-7e08-4a3f-b5c9-1f6e2a8d0b45";
/// Name of the default public client.
pub const MAIL_CLIENT: &str = "mail-client";
/// Name of the default confidential client.
pub const MAIL_DAEMON: &str = "mail-daemon";
/// The default user.
pub const ADELE: &str = "adele@contoso.onmicrosoft.com";
/// The default user's password, for ROPC; a test value, never printed.
pub const ADELE_PASSWORD: &str = "correct horse battery staple";
/// The secret of `mail-daemon`; a test value, never printed.
pub const MAIL_DAEMON_SECRET: &str = "mailscope~daemon~secret~not~real";

impl Directory {
    /// Returns the default directory: tenant `contoso`, user `adele`, the public
    /// client `mail-client` and the confidential client `mail-daemon`.
    pub fn contoso() -> Self {
        let graph = |name: &str| Permission::new(ResourceApi::Graph, name);
        let exchange = |name: &str| Permission::new(ResourceApi::Exchange, name);
        Self {
            tenant: Tenant {
                name: "contoso".into(),
                domain: "contoso.onmicrosoft.com".into(),
                id: CONTOSO_TENANT_ID.into(),
                smtp_client_authentication: true,
                security_defaults: false,
                multi_resource_scopes: MultiResourceScopes::FirstWins,
                graph_audience: GraphAudience::Guid,
                exchange_extra_audiences: Vec::new(),
                server_profile: ServerProfile::ExchangeOnline,
                refresh_without_scope: RefreshWithoutScope::FirstSignInScopes,
                device_code_slow_down: false,
                sign_in_frequency_hours: None,
                smtp_basic_auth: BasicAuthStage::Enabled,
                conditional_access: ConditionalAccess::None,
                greeting: GreetingForm::Classic,
                app_only_access: AppOnlyAccess::All,
            },
            users: vec![User {
                upn: ADELE.into(),
                object_id: "3b6f0d2e-8a41-4c95-b7e3-2d9a1f5c8e06".into(),
                given_name: "Adele".into(),
                surname: "Vance".into(),
                smtp_client_authentication: MailboxSetting::Tenant,
                imap_enabled: true,
                pop_enabled: true,
                account: AccountKind::Work,
                mfa: false,
                password: ADELE_PASSWORD.into(),
                device_code: DeviceCodeAnswer::Approve,
                full_access: Vec::new(),
            }],
            apps: vec![
                App {
                    name: MAIL_CLIENT.into(),
                    display_name: "Mail Client".into(),
                    client_id: MAIL_CLIENT_ID.into(),
                    service_principal_id: "6e1d8c40-2f7a-4b93-a5d8-0c3e9b7f2a15".into(),
                    client_type: ClientType::Public,
                    public_client_flows: true,
                    redirect_uris: vec!["http://localhost".into()],
                    delegated: [
                        "SMTP.Send",
                        "IMAP.AccessAsUser.All",
                        "POP.AccessAsUser.All",
                        "Mail.Send",
                        "User.Read",
                        "offline_access",
                    ]
                    .into_iter()
                    .map(graph)
                    .collect(),
                    application: Vec::new(),
                    consent: Consent::User,
                    sign_in_audience: SignInAudience::Organizations,
                    exchange_service_principal: false,
                    mailbox_permissions: Vec::new(),
                },
                App {
                    name: MAIL_DAEMON.into(),
                    display_name: "Mail Daemon".into(),
                    client_id: MAIL_DAEMON_ID.into(),
                    service_principal_id: "a9f37e25-0b6c-4d18-92e4-7c5b1d0f3e82".into(),
                    client_type: ClientType::Confidential {
                        secret: MAIL_DAEMON_SECRET.into(),
                    },
                    public_client_flows: false,
                    redirect_uris: vec!["http://localhost".into()],
                    delegated: Vec::new(),
                    application: ["SMTP.SendAsApp", "IMAP.AccessAsApp", "POP.AccessAsApp"]
                        .into_iter()
                        .map(exchange)
                        .collect(),
                    consent: Consent::Admin,
                    sign_in_audience: SignInAudience::SingleTenant,
                    exchange_service_principal: true,
                    mailbox_permissions: vec![MailboxPermission::FullAccess, MailboxPermission::SendAs],
                },
            ],
        }
    }

    /// Finds an app by client id.
    pub fn app_by_client_id(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|app| app.client_id == client_id)
    }

    /// Finds an app by name.
    pub fn app_by_name(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|app| app.name == name)
    }

    /// Finds an app by name, for changing it.
    pub fn app_by_name_mut(&mut self, name: &str) -> Option<&mut App> {
        self.apps.iter_mut().find(|app| app.name == name)
    }

    /// Adds a work user of the tenant with a mailbox and `password`, and the settings of a new
    /// mailbox (the tenant's SMTP AUTH, IMAP and POP on). Its object id is derived from the UPN, so
    /// the same directory file gives the same ids, and tokens, in every run. Returns `None` when a
    /// user of that UPN exists.
    ///
    /// ```
    /// let mut directory = mailscope_mocks::directory::Directory::contoso();
    /// let bob = directory.add_user("bob@contoso.onmicrosoft.com", "bob's test password").unwrap();
    /// assert_eq!(bob.display_name(), "Bob");
    /// assert!(directory.add_user("BOB@contoso.onmicrosoft.com", "again").is_none());
    /// ```
    pub fn add_user(&mut self, upn: &str, password: &str) -> Option<&mut User> {
        if self.user(upn).is_some() {
            return None;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, upn.to_ascii_lowercase().as_bytes());
        let hex: String = digest.as_ref()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let local = upn.split('@').next().unwrap_or(upn);
        let mut given_name: String = local.chars().take(1).flat_map(char::to_uppercase).collect();
        given_name.extend(local.chars().skip(1));
        self.users.push(User {
            upn: upn.to_owned(),
            object_id: format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ),
            given_name,
            surname: String::new(),
            smtp_client_authentication: MailboxSetting::Tenant,
            imap_enabled: true,
            pop_enabled: true,
            account: AccountKind::Work,
            mfa: false,
            password: password.to_owned(),
            device_code: DeviceCodeAnswer::Approve,
            full_access: Vec::new(),
        });
        self.users.last_mut()
    }

    /// Finds a user by UPN, case-insensitively.
    pub fn user(&self, upn: &str) -> Option<&User> {
        self.users.iter().find(|user| user.upn.eq_ignore_ascii_case(upn))
    }

    /// Returns true when `address` is a shared mailbox some user has FullAccess on.
    pub fn is_shared_mailbox(&self, address: &str) -> bool {
        self.users.iter().any(|user| {
            user.full_access
                .iter()
                .any(|shared| shared.eq_ignore_ascii_case(address))
        })
    }

    /// Finds a user by object id.
    pub fn user_by_object_id(&self, object_id: &str) -> Option<&User> {
        self.users.iter().find(|user| user.object_id == object_id)
    }

    /// Returns the user every flow signs in as: the first one.
    pub fn signed_in_user(&self) -> &User {
        self.users
            .first()
            .expect("a directory always has at least one user")
    }

    /// Returns the user every flow signs in as, for changing it.
    pub fn signed_in_user_mut(&mut self) -> &mut User {
        self.users
            .first_mut()
            .expect("a directory always has at least one user")
    }

    /// Returns the `iss` of v1 tokens: `https://sts.windows.net/{tid}/` (rule `token-shape`).
    pub fn v1_issuer(&self) -> String {
        format!("https://sts.windows.net/{}/", self.tenant.id)
    }

    /// Returns true when SMTP AUTH applies to `user`'s mailbox: the mailbox setting overrides the
    /// tenant's (fidelity: smtp-auth-disabled-mailbox).
    pub fn smtp_auth_enabled_for(&self, user: &User) -> bool {
        match user.smtp_client_authentication {
            MailboxSetting::Enabled => true,
            MailboxSetting::Disabled => false,
            MailboxSetting::Tenant => self.tenant.allows_smtp_auth(),
        }
    }
}

impl Default for Directory {
    fn default() -> Self {
        Self::contoso()
    }
}
