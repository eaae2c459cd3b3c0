//! The directory changes of a scenario file: its `[tenant]`, `[app]` and `[user]` tables, also
//! read alone as a directory file (`mailscope serve --directory FILE`).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A directory file (`mailscope serve --directory FILE`): the `[tenant]`, `[app]` and `[user]`
/// tables of a scenario, alone.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    /// Changes to the simulated tenant.
    #[serde(default)]
    pub tenant: TenantChanges,
    /// Changes to an app registration.
    #[serde(default)]
    pub app: AppChanges,
    /// Changes to the user.
    #[serde(default)]
    pub user: UserChanges,
    /// More users of the tenant, each with a mailbox (`serve` only; a case signs in as `[user]`).
    #[serde(default)]
    pub users: Vec<ExtraUser>,
}

/// `[[users]]`: one more user of the tenant, with a mailbox.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraUser {
    /// The user principal name, also the mailbox address and XOAUTH2's `user=`.
    #[schemars(with = "String")]
    pub upn: Spanned<String>,
    /// The password (ROPC, and the password probes); default: the tenant's test password.
    pub password: Option<String>,
    /// Per-mailbox SMTP AUTH: `true`, `false` or `"tenant"` (Set-CASMailbox).
    pub smtp_client_authentication: Option<MailboxSetting>,
    /// `Set-CASMailbox -ImapEnabled`.
    pub imap_enabled: Option<bool>,
    /// `Set-CASMailbox -PopEnabled`.
    pub pop_enabled: Option<bool>,
    /// The user must pass MFA.
    pub mfa: Option<bool>,
    /// Mailboxes (shared mailboxes) the user holds FullAccess on, by address.
    pub full_access: Option<Vec<String>>,
}

/// `[tenant]`: organisation-wide settings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantChanges {
    /// Organisation-wide SMTP AUTH (`Set-TransportConfig -SmtpClientAuthenticationDisabled`, inverted).
    pub smtp_client_authentication: Option<bool>,
    /// Entra security defaults on.
    pub security_defaults: Option<bool>,
    /// `"first-wins"` or `"reject"` (rule `first-scope-wins`).
    pub multi_resource_scopes: Option<MultiResourceScopes>,
    /// `aud` of Graph tokens: `"guid"` or `"uri"`.
    pub graph_audience: Option<GraphAudience>,
    /// Audiences Exchange accepts besides the two Outlook ones.
    pub exchange_extra_audiences: Option<Vec<String>>,
    /// `"exchange-online"` or `"generic"`.
    pub server_profile: Option<ServerProfile>,
    /// A `refresh_token` grant without `scope`: `"first-sign-in-scopes"` (Microsoft's current page),
    /// `"require-scope"` (AADSTS900144) or `"token-for-itself"` (AADSTS90009).
    pub refresh_without_scope: Option<RefreshWithoutScope>,
    /// The first device-code poll is answered `slow_down`.
    pub device_code_slow_down: Option<bool>,
    /// A Conditional Access sign-in frequency in hours: older refresh tokens get AADSTS70043.
    pub sign_in_frequency_hours: Option<u32>,
    /// Basic SMTP AUTH (passwords) on Microsoft's schedule: `"enabled"` (until the end of December
    /// 2026), `"disabled"` (the default from then on; an administrator can enable it again) or
    /// `"retired"` (after the final removal). Never affects XOAUTH2.
    pub smtp_basic_auth: Option<SmtpBasicAuth>,
    /// A Conditional Access policy on the user: `"none"`, `"block"` (AADSTS53003 for every token
    /// request) or `"mfa"` (the non-interactive legs get AADSTS50076).
    pub conditional_access: Option<ConditionalAccess>,
    /// The IMAP and POP3 greeting: `"classic"` or `"tcpproxy"` (the 2025–2026 form).
    pub greeting: Option<Greeting>,
    /// Which protocols accept app-only tokens: `"all"` (since July 2023), `"imap-and-pop"` (June
    /// 2022 to July 2023) or `"none"` (before June 2022).
    pub app_only_access: Option<AppOnlyAccess>,
}

/// `tenant.smtp_basic_auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpBasicAuth {
    /// Passwords work where SMTP AUTH is on.
    Enabled,
    /// `535 5.7.139 Authentication unsuccessful, basic authentication is disabled.`
    Disabled,
    /// `550 5.7.30 Basic authentication is not supported for Client Submission.`
    Retired,
}

/// `tenant.conditional_access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionalAccess {
    /// No policy applies.
    None,
    /// Every token request of the user is refused (AADSTS53003), and so is every password.
    Block,
    /// MFA is required: interactive sign-ins pass it, ROPC and refreshes cannot.
    Mfa,
}

/// `tenant.greeting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Greeting {
    /// `* OK The Microsoft Exchange IMAP4 service is ready. [...]`.
    Classic,
    /// `* OK Microsoft Exchange IMAP4 service ready. <id> (tcpproxy/...) [...]`.
    Tcpproxy,
}

/// `tenant.app_only_access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AppOnlyAccess {
    /// SMTP, IMAP and POP.
    All,
    /// IMAP and POP only.
    ImapAndPop,
    /// No protocol: delegated tokens only.
    None,
}

/// `tenant.refresh_without_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RefreshWithoutScope {
    /// The first sign-in's scopes apply.
    FirstSignInScopes,
    /// AADSTS900144.
    RequireScope,
    /// AADSTS90009.
    TokenForItself,
}

/// `user.device_code`: what the user does with a device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceCodeAnswer {
    /// Signs in and approves.
    Approve,
    /// Declines.
    Decline,
    /// Never enters the code.
    Ignore,
}

/// `tenant.multi_resource_scopes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MultiResourceScopes {
    /// The first scope decides the resource.
    FirstWins,
    /// Two resources are AADSTS28000.
    Reject,
}

/// `tenant.graph_audience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GraphAudience {
    /// `00000003-0000-0000-c000-000000000000`.
    Guid,
    /// `https://graph.microsoft.com`.
    Uri,
}

/// `tenant.server_profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServerProfile {
    /// Exchange Online, reply for reply.
    ExchangeOnline,
    /// OAUTHBEARER too, and RFC-style JSON error challenges.
    Generic,
}

/// `[user]`: the signed-in user and their mailbox.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    /// The user principal name, also XOAUTH2's `user=`.
    pub upn: Option<String>,
    /// Per-mailbox SMTP AUTH: `true`, `false` or `"tenant"` (Set-CASMailbox).
    pub smtp_client_authentication: Option<MailboxSetting>,
    /// `Set-CASMailbox -ImapEnabled`.
    pub imap_enabled: Option<bool>,
    /// `Set-CASMailbox -PopEnabled`.
    pub pop_enabled: Option<bool>,
    /// `"work"` or `"personal"`.
    pub account: Option<AccountKind>,
    /// The user must pass MFA.
    pub mfa: Option<bool>,
    /// What the user does with a device code: `"approve"`, `"decline"` or `"ignore"`.
    pub device_code: Option<DeviceCodeAnswer>,
    /// Mailboxes (shared mailboxes) the user holds FullAccess on, by address.
    pub full_access: Option<Vec<String>>,
}

/// `user.smtp_client_authentication`: a boolean, or `"tenant"` to inherit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxSetting {
    /// `"tenant"`.
    Tenant,
    /// `true`.
    Enabled,
    /// `false`.
    Disabled,
}

impl<'de> Deserialize<'de> for MailboxSetting {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MailboxSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true, false or \"tenant\"")
            }
            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
                Ok(if value {
                    MailboxSetting::Enabled
                } else {
                    MailboxSetting::Disabled
                })
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                match value {
                    "tenant" => Ok(MailboxSetting::Tenant),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(value), &self)),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `user.account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccountKind {
    /// Entra ID.
    Work,
    /// outlook.com, hotmail.com.
    Personal,
}

/// `[app]`: the app registration the cases use.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppChanges {
    /// `"mail-client"` (default) or `"mail-daemon"`.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Delegated permissions, by the API the portal lists them under.
    pub delegated: Option<PermissionLists>,
    /// Application permissions (app roles), by API.
    pub application: Option<PermissionLists>,
    /// `"none"`, `"user"` or `"admin"`.
    pub consent: Option<Consent>,
    /// `"organizations"`, `"single-tenant"` or `"organizations-and-personal"`.
    pub sign_in_audience: Option<SignInAudience>,
    /// "Allow public client flows": requests without a client secret are accepted.
    pub public_client_flows: Option<bool>,
    /// The app's service principal is registered in Exchange Online.
    pub exchange_service_principal: Option<bool>,
    /// `["FullAccess", "SendAs"]` granted to the app on the user's mailbox.
    pub mailbox_permissions: Option<Vec<MailboxPermission>>,
    /// The redirect URIs registered under Authentication (default `["http://localhost"]`, which
    /// admits any port, RFC 8252 §7.3). A sign-in to another gets AADSTS50011 on Entra's own page.
    pub redirect_uris: Option<Vec<String>>,
}

/// Permissions listed under Microsoft Graph and under Office 365 Exchange Online.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionLists {
    /// Listed under Microsoft Graph.
    pub graph: Option<Vec<String>>,
    /// Listed under Office 365 Exchange Online.
    pub exchange: Option<Vec<String>>,
}

/// `app.consent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Consent {
    /// Nobody consented and users may not.
    None,
    /// The user consents at sign-in.
    User,
    /// Granted tenant-wide by an administrator.
    Admin,
}

/// `app.sign_in_audience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SignInAudience {
    /// Work accounts of any organisation.
    Organizations,
    /// This tenant only.
    SingleTenant,
    /// Work and personal accounts.
    OrganizationsAndPersonal,
}

/// An entry of `app.mailbox_permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum MailboxPermission {
    /// `Add-MailboxPermission -AccessRights FullAccess`.
    FullAccess,
    /// `Add-RecipientPermission -AccessRights SendAs`.
    SendAs,
}

impl JsonSchema for MailboxSetting {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MailboxSetting".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "true, false, or \"tenant\" to inherit the tenant's setting",
            "oneOf": [{ "type": "boolean" }, { "const": "tenant" }]
        })
    }
}
