//! Who may ask, and where: the authority's tenant segment, the app registration and its redirect
//! URIs, client authentication, and which accounts may sign in at which authority.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;

use crate::decision::{Decision, Part, Rule};
use crate::directory::{AccountKind, App, ClientType, ConditionalAccess, Directory, SignInAudience, User};
use crate::token::ResourceApi;

use super::denial::Denial;
use super::errors;
use super::state::IdentityState;

/// Rule: the authority's path segment names a tenant the platform knows.
pub(crate) const AUTHORITY: Rule = Rule {
    id: "authority",
    part: Part::Identity,
    title: "The authority segment is organizations, common, consumers, or the tenant",
    text: "Requests go to `/{segment}/oauth2/v2.0/...`. The simulation knows `organizations`, \
           `common`, `consumers`, and the tenant's id and initial domain; any other segment is \
           refused with AADSTS90002 (tenant not found).",
    cases: &["ropc-exchange", "consumer-outlook-com-oauth"],
    sources: &[
        "https://learn.microsoft.com/en-us/entra/identity-platform/msal-client-application-configuration#authority",
    ],
};

/// Rule: a confidential client authenticates; a public client may not need to.
pub(crate) const CLIENT_AUTHENTICATION: Rule = Rule {
    id: "client-authentication",
    part: Part::Identity,
    title: "The app must exist, and a client without public client flows must present its secret",
    text: "The client id must name an app registration of the directory (else AADSTS700016). A \
           request without a secret is accepted only when the app allows public client flows; \
           otherwise it is refused with AADSTS7000218 (HTTP 401). A wrong secret gets AADSTS7000215. \
           The secret may come in the body or as HTTP Basic authentication (RFC 6749 section \
           2.3.1). A public client cannot use client credentials at all.",
    cases: &["public-client-secret-missing"],
    sources: &["https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1"],
};

/// Rule: redirect URIs must be registered; loopback ports do not count.
pub(crate) const REDIRECT_URI: Rule = Rule {
    id: "redirect-uri",
    part: Part::Identity,
    title: "A browser leg redirects only to a registered URI; loopback ports are ignored",
    text: "`/authorize` and `/adminconsent` redirect back only to a redirect URI registered for \
           the app. For `http://localhost` and `http://127.0.0.1` the port is ignored, as RFC 8252 \
           asks for native apps. An unregistered URI gets an error page (AADSTS50011), never a \
           redirect, and the code's redemption must repeat the URI it was issued for.",
    cases: &["redirect-uri-mismatch"],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc8252#section-7.3",
        "https://learn.microsoft.com/en-us/entra/identity-platform/reply-url#localhost-exceptions",
    ],
};

/// Rule: personal accounts sign in at /consumers or /common, to apps that accept them.
pub(crate) const ACCOUNT_KIND: Rule = Rule {
    id: "account-kind",
    part: Part::Identity,
    title: "Personal accounts sign in at /consumers or /common, and only to apps registered for them",
    text: "A personal Microsoft account (outlook.com, hotmail.com) signs in through the consumers \
           tenant: at `/organizations` or a tenant it is refused (AADSTS50020), and an app \
           registered for work accounts only answers `unauthorized_client`. Work accounts sign in \
           anywhere their tenant is reachable.",
    cases: &["consumer-app-not-enabled", "consumer-outlook-com-oauth"],
    sources: &[],
};

/// Rule: Conditional Access on the user's sign-ins.
pub(crate) const CONDITIONAL_ACCESS: Rule = Rule {
    id: "conditional-access",
    part: Part::Identity,
    title: "Conditional Access can block a user's token requests, or demand MFA the non-interactive legs cannot give",
    text: "`tenant.conditional_access = \"block\"` refuses every token request of the user, \
           interactive or not, with AADSTS53003 (`interaction_required`, suberror `message_only` as a \
           password grant pasted it). `\"mfa\"` lets the interactive legs through (the browser sign-in \
           and the device code pass MFA there) and refuses the password grant and refresh tokens \
           with AADSTS50076, naming the resource's application id, suberror `basic_action`. A user \
           who must pass MFA (`user.mfa`) is refused the same way by the password grant. \
           Client credentials are not a user's sign-in and are not affected.",
    cases: &["ropc-exchange", "refresh-ca-signin-frequency"],
    sources: &[
        "https://github.com/MartinIngesen/MSOLSpray/issues/5",
        "https://github.com/AzureAD/microsoft-authentication-library-for-java/issues/597",
        "https://github.com/DougHennig/SFMail/issues/15",
        "https://learn.microsoft.com/en-us/entra/identity/conditional-access/overview",
    ],
};

impl IdentityState {
    /// Applies the tenant's Conditional Access policy to a sign-in of `user` (rule
    /// `conditional-access`): `interactive` legs can pass MFA; `resource` names what the token is
    /// for, once the scopes are read.
    pub(crate) fn check_conditional_access(
        &mut self,
        directory: &Directory,
        user: &User,
        interactive: bool,
        resource: Option<ResourceApi>,
    ) -> Result<(), Denial> {
        let policy = directory.tenant.conditional_access;
        let needs_mfa = policy == ConditionalAccess::Mfa || user.mfa;
        match (policy, needs_mfa, interactive, resource) {
            (ConditionalAccess::Block, _, _, _) => {
                let denial = self.deny(&CONDITIONAL_ACCESS, errors::conditional_access_blocked());
                Err(denial)
            }
            (_, true, false, Some(api)) => {
                Err(self.deny(&CONDITIONAL_ACCESS, errors::mfa_required(api.app_id())))
            }
            (_, true, true, _) => {
                self.decide(Decision::new(
                    &CONDITIONAL_ACCESS,
                    format!(
                        "{} must pass MFA, and does so in the interactive sign-in.",
                        user.upn
                    ),
                ));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Checks the authority segment (rule `authority`).
    pub(crate) fn check_authority(&mut self, directory: &Directory, segment: &str) -> Result<(), Denial> {
        if tenant_segment_known(directory, segment) {
            Ok(())
        } else {
            Err(self.deny(&AUTHORITY, errors::unknown_tenant(segment)))
        }
    }

    /// Finds the app by client id (rule `client-authentication`).
    pub(crate) fn find_app<'d>(
        &mut self,
        directory: &'d Directory,
        client_id: Option<&str>,
    ) -> Result<&'d App, Denial> {
        let Some(client_id) = client_id else {
            return Err(self.deny(&CLIENT_AUTHENTICATION, errors::missing_parameter("client_id")));
        };
        match directory.app_by_client_id(client_id) {
            Some(app) => Ok(app),
            None => Err(self.deny(
                &CLIENT_AUTHENTICATION,
                errors::unknown_client(client_id, &directory.tenant.id),
            )),
        }
    }

    /// Checks the client's secret, or its right to send none (rule `client-authentication`).
    pub(crate) fn authenticate_client(&mut self, app: &App, secret: Option<&str>) -> Result<(), Denial> {
        let refusal = match (&app.client_type, secret) {
            (_, None) if app.public_client_flows => None,
            (_, None) => Some(errors::client_secret_missing()),
            (ClientType::Confidential { secret: expected }, Some(sent)) if sent == expected => None,
            (_, Some(_)) => Some(errors::client_secret_invalid(&app.client_id)),
        };
        match refusal {
            Some(denial) => Err(self.deny(&CLIENT_AUTHENTICATION, denial)),
            None => Ok(()),
        }
    }

    /// The app a browser request names, if its redirect URI can be trusted; otherwise the error
    /// page's denial (rule `redirect-uri`).
    pub(crate) fn app_with_registered_redirect<'d>(
        &mut self,
        directory: &'d Directory,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<&'d App, Denial> {
        let app = self.find_app(directory, Some(client_id))?;
        if !redirect_uri_registered(app, redirect_uri) {
            return Err(self.deny(
                &REDIRECT_URI,
                errors::redirect_uri_mismatch(redirect_uri, &app.client_id),
            ));
        }
        Ok(app)
    }

    /// Which accounts may sign in where (rule `account-kind`).
    pub(crate) fn check_account_and_authority(
        &mut self,
        app: &App,
        user: &User,
        segment: &str,
    ) -> Result<(), Denial> {
        let refusal = match user.account {
            AccountKind::Work => None,
            AccountKind::Personal if !matches!(segment, "common" | "consumers") => {
                Some(errors::personal_account_at_organizations(&user.upn))
            }
            AccountKind::Personal if app.sign_in_audience != SignInAudience::OrganizationsAndPersonal => {
                Some(errors::not_enabled_for_consumers())
            }
            AccountKind::Personal => {
                self.decide(
                    Decision::new(
                        &ACCOUNT_KIND,
                        format!(
                            "The personal account {} signs in through the consumers tenant.",
                            user.upn
                        ),
                    )
                    .with("segment", segment),
                );
                None
            }
        };
        match refusal {
            Some(denial) => Err(self.deny(&ACCOUNT_KIND, denial)),
            None => Ok(()),
        }
    }
}

/// Loopback redirect URIs match on any port ([RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3);
/// Microsoft's redirect URI page: "the port component is ignored" for localhost).
fn redirect_uri_registered(app: &App, redirect_uri: &str) -> bool {
    let without_port = |uri: &str| -> Option<String> {
        let url = url::Url::parse(uri).ok()?;
        let host = url.host_str()?.to_owned();
        if url.scheme() == "http" && matches!(host.as_str(), "localhost" | "127.0.0.1") {
            Some(format!("http://{host}{}", url.path()))
        } else {
            Some(url.to_string())
        }
    };
    let wanted = without_port(redirect_uri);
    wanted.is_some()
        && app
            .redirect_uris
            .iter()
            .any(|registered| without_port(registered) == wanted)
}

/// True for `organizations`, `common`, `consumers`, and the tenant's id or domain.
pub(crate) fn tenant_segment_known(directory: &Directory, segment: &str) -> bool {
    let tenant = &directory.tenant;
    ["organizations", "common", "consumers"].contains(&segment)
        || segment.eq_ignore_ascii_case(&tenant.id)
        || segment.eq_ignore_ascii_case(&tenant.domain)
}

/// `appidacr`: `0` for a public client, `1` for one that presented a secret.
pub(crate) fn app_authentication_class(app: &App) -> &'static str {
    match app.client_type {
        ClientType::Public => "0",
        ClientType::Confidential { .. } => "1",
    }
}

/// `sub` is pairwise: the same user has a different `sub` in each app.
pub(crate) fn pairwise_subject(object_id: &str, client_id: &str) -> String {
    let hash = digest::digest(&digest::SHA256, format!("{object_id}/{client_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(hash.as_ref())
}
