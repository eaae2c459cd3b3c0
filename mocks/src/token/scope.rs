//! Scopes as a client sends them, and the resource each one names.
//!
//! A scope is either one of the OpenID Connect scopes, which name no resource, or a permission,
//! optionally prefixed with a resource's identifier URI (`https://outlook.office.com/SMTP.Send`).
//! See [Scopes and permissions](https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc).

use std::fmt;

/// `https://outlook.office.com/SMTP.Send`: the scope the seed write-up and Microsoft document for SMTP AUTH.
pub const SMTP_SEND: &str = "https://outlook.office.com/SMTP.Send";
/// `https://outlook.office.com/IMAP.AccessAsUser.All`.
pub const IMAP_ACCESS_AS_USER_ALL: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";
/// `https://outlook.office.com/POP.AccessAsUser.All`.
pub const POP_ACCESS_AS_USER_ALL: &str = "https://outlook.office.com/POP.AccessAsUser.All";
/// `offline_access`: asks for a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Microsoft Graph's application id, also the `aud` of Graph tokens in the seed write-up.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Office 365 Exchange Online's application id.
pub const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";

/// A resource application (an API) that permissions are defined on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceApi {
    /// Microsoft Graph.
    Graph,
    /// Office 365 Exchange Online, reached through `outlook.office.com` and its aliases.
    Exchange,
}

impl ResourceApi {
    /// Returns the API's application id.
    pub fn app_id(self) -> &'static str {
        match self {
            Self::Graph => GRAPH_APP_ID,
            Self::Exchange => EXCHANGE_APP_ID,
        }
    }

    /// Returns the name the portal shows for the API.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Graph => "Microsoft Graph",
            Self::Exchange => "Office 365 Exchange Online",
        }
    }
}

/// The identifier a scope's prefix names its resource by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourceUri {
    /// No prefix: Microsoft Graph is assumed (fidelity: deleg-graph-prefixed-smtp).
    Bare,
    /// `https://outlook.office.com`.
    OutlookOffice,
    /// `https://outlook.office365.com`.
    OutlookOffice365,
    /// `https://ps.outlook.com`.
    PsOutlook,
    /// `https://graph.microsoft.com`.
    Graph,
    /// An API named by its application id (`00000002-0000-0ff1-ce00-000000000000/.default`).
    AppId(ResourceApi),
    /// A prefix that names no API the simulation knows.
    Unknown(String),
}

impl ResourceUri {
    fn parse(prefix: &str) -> Self {
        let lower = prefix.to_ascii_lowercase();
        match lower.trim_end_matches('/') {
            "https://outlook.office.com" => Self::OutlookOffice,
            "https://outlook.office365.com" => Self::OutlookOffice365,
            "https://ps.outlook.com" => Self::PsOutlook,
            "https://graph.microsoft.com" => Self::Graph,
            GRAPH_APP_ID => Self::AppId(ResourceApi::Graph),
            EXCHANGE_APP_ID => Self::AppId(ResourceApi::Exchange),
            _ => Self::Unknown(prefix.to_owned()),
        }
    }

    /// Returns the API this identifier names, if the simulation knows it.
    pub fn api(&self) -> Option<ResourceApi> {
        match self {
            Self::Bare | Self::Graph => Some(ResourceApi::Graph),
            Self::OutlookOffice | Self::OutlookOffice365 | Self::PsOutlook => Some(ResourceApi::Exchange),
            Self::AppId(api) => Some(*api),
            Self::Unknown(_) => None,
        }
    }

    /// Returns true when the scope carried an explicit prefix.
    pub fn is_explicit(&self) -> bool {
        !matches!(self, Self::Bare)
    }
}

/// The OpenID Connect scopes, which name no resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OidcScope {
    /// `openid`.
    OpenId,
    /// `profile`.
    Profile,
    /// `email`.
    Email,
    /// `offline_access`: a refresh token; never appears in `scp` (rule `scope-syntax`).
    OfflineAccess,
}

impl OidcScope {
    /// Returns the scope's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "openid",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::OfflineAccess => "offline_access",
        }
    }
}

/// What one scope asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeKind {
    /// An OpenID Connect scope.
    Oidc(OidcScope),
    /// A permission (`SMTP.Send`, `.default`) on a resource.
    Permission {
        /// The resource as the prefix names it.
        resource: ResourceUri,
        /// The permission's name, as sent.
        name: String,
    },
}

/// One scope exactly as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    text: String,
    kind: ScopeKind,
}

impl Scope {
    /// Parses one space-free scope.
    pub fn parse(text: &str) -> Self {
        let kind = match text.to_ascii_lowercase().as_str() {
            "openid" => ScopeKind::Oidc(OidcScope::OpenId),
            "profile" => ScopeKind::Oidc(OidcScope::Profile),
            "email" => ScopeKind::Oidc(OidcScope::Email),
            "offline_access" => ScopeKind::Oidc(OidcScope::OfflineAccess),
            _ => match text.rsplit_once('/') {
                Some((prefix, name)) => ScopeKind::Permission {
                    resource: ResourceUri::parse(prefix),
                    name: name.to_owned(),
                },
                None => ScopeKind::Permission {
                    resource: ResourceUri::Bare,
                    name: text.to_owned(),
                },
            },
        };
        Self {
            text: text.to_owned(),
            kind,
        }
    }

    /// Splits a `scope` parameter on the space character, and only on it (rule `scope-syntax`,
    /// [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3)): a line feed or a tab
    /// stays part of the scope it is in, as Entra reads it.
    pub fn parse_list(parameter: &str) -> Vec<Self> {
        parameter
            .split(' ')
            .filter(|scope| !scope.is_empty())
            .map(Self::parse)
            .collect()
    }

    /// Returns what the scope asks for.
    pub fn kind(&self) -> &ScopeKind {
        &self.kind
    }

    /// Returns the scope as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource_of(text: &str) -> Option<ResourceUri> {
        match Scope::parse(text).kind {
            ScopeKind::Permission { resource, .. } => Some(resource),
            ScopeKind::Oidc(_) => None,
        }
    }

    #[test]
    fn prefixes_name_their_resources() {
        // fidelity: deleg-outlook-smtp-only, deleg-graph-prefixed-smtp, ccg-ps-outlook-default
        assert_eq!(resource_of(SMTP_SEND), Some(ResourceUri::OutlookOffice));
        assert_eq!(
            resource_of("https://outlook.office365.com/.default"),
            Some(ResourceUri::OutlookOffice365)
        );
        assert_eq!(
            resource_of("https://ps.outlook.com/.default"),
            Some(ResourceUri::PsOutlook)
        );
        // The seed write-up spells it `https://graph.Microsoft.com`: hosts are case-insensitive.
        assert_eq!(
            resource_of("https://graph.Microsoft.com/SMTP.Send"),
            Some(ResourceUri::Graph)
        );
        assert_eq!(resource_of("SMTP.Send"), Some(ResourceUri::Bare));
        assert_eq!(
            resource_of("api://contoso/Read"),
            Some(ResourceUri::Unknown("api://contoso".into()))
        );
    }

    #[test]
    fn oidc_scopes_name_no_resource() {
        for text in ["openid", "profile", "email", "offline_access"] {
            assert_eq!(resource_of(text), None, "{text}");
        }
    }

    #[test]
    fn only_the_space_separates_scopes() {
        // Audit F8: Entra refused `user.read%0a` as one unknown scope (fluent-smtp #154).
        let scopes = Scope::parse_list("offline_access  user.read\n https://outlook.office.com/SMTP.Send\t");
        let texts: Vec<&str> = scopes.iter().map(Scope::as_str).collect();
        assert_eq!(
            texts,
            [
                "offline_access",
                "user.read\n",
                "https://outlook.office.com/SMTP.Send\t"
            ]
        );
    }

    #[test]
    fn a_bare_scope_means_graph() {
        // fidelity: deleg-bare-imap-scope
        assert_eq!(ResourceUri::Bare.api(), Some(ResourceApi::Graph));
        assert!(!ResourceUri::Bare.is_explicit());
    }
}
