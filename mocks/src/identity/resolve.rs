//! Scopes -> one resource and its permissions (rules `scope-syntax`, `scope-resource`,
//! `first-scope-wins`, `audience`). Pure.
//!
//! The token is for the resource of the first resource-bearing scope; a bare first scope means
//! Microsoft Graph; every later permission is read as a permission of that resource
//! (fidelity: deleg-mixed-graph-first, deleg-mixed-outlook-first, refresh-multi-resource-first-wins).

use crate::decision::{Decision, Part, Rule};
use crate::directory::{GraphAudience, MultiResourceScopes};
use crate::token::{OidcScope, ResourceApi, ResourceUri, Scope, ScopeKind};

/// Rule: how the `scope` parameter is read.
pub(crate) const SCOPE_SYNTAX: Rule = Rule {
    id: "scope-syntax",
    part: Part::Identity,
    title: "Scopes are separated by spaces; OpenID scopes name no resource; offline_access asks for a refresh token",
    text: "The `scope` parameter is a list separated by the space character (RFC 6749 section \
           3.3); any other character, a line feed included, is part of a scope's name. `openid`, \
           `profile`, `email` and `offline_access` name no resource. `offline_access` makes the \
           response carry a refresh token and never appears in the token's `scp`.",
    cases: &["deleg-outlook-imap-pop-smtp-one-token", "deleg-bare-imap-scope"],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc6749#section-3.3",
        "https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc",
    ],
};

/// Rule: a scope's prefix names its resource; a bare scope means Graph.
pub(crate) const SCOPE_RESOURCE: Rule = Rule {
    id: "scope-resource",
    part: Part::Identity,
    title: "A scope's prefix names its resource, and a scope without one means Microsoft Graph",
    text: "`https://outlook.office.com/`, `https://outlook.office365.com/` and \
           `https://ps.outlook.com/` name Office 365 Exchange Online; `https://graph.microsoft.com/` \
           names Microsoft Graph, and so do the application ids of both APIs. A scope with no prefix \
           (`SMTP.Send`, `Mail.Send`) is a Microsoft Graph permission: this is why a client asking \
           for bare `SMTP.Send` gets a token Exchange refuses. A prefix naming no known API is an \
           invalid scope.",
    cases: &[
        "deleg-graph-prefixed-smtp",
        "deleg-bare-imap-scope",
        "doc-scope-string-history",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth",
    ],
};

/// Rule: one token, one resource, and the first resource-bearing scope decides which.
pub(crate) const FIRST_SCOPE_WINS: Rule = Rule {
    id: "first-scope-wins",
    part: Part::Identity,
    title: "One token is for one resource, and the first resource-bearing scope decides which",
    text: "A token is for the resource of the first scope that names one (a bare first scope \
           means Graph). Later bare permissions are read as that resource's own, so \
           `Mail.Send https://outlook.office.com/SMTP.Send` gives a Graph token and SMTP fails, \
           while the reverse order gives an Outlook token. The platform does not warn. Two \
           explicitly prefixed resources in one code, device-code or password redemption are \
           refused with AADSTS28000; in a refresh, the first still wins. The sign-in at \
           `/authorize` may name several resources, and consent then covers all of them. With \
           `tenant.multi_resource_scopes = \"reject\"` any second resource, bare or prefixed, is \
           AADSTS28000. Personal accounts never mix resources.",
    cases: &[
        "deleg-mixed-graph-first",
        "deleg-mixed-outlook-first",
        "mixed-resources-at-token-endpoint-28000",
        "authorize-multi-resource-then-split",
        "refresh-multi-resource-first-wins",
        "consumer-graph-scopes-imap",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-access-token-with-a-client_secret",
    ],
};

/// Rule: the `aud` claim for each resource.
pub(crate) const AUDIENCE: Rule = Rule {
    id: "audience",
    part: Part::Identity,
    title: "The token's aud follows the resource and the URI that named it",
    text: "Outlook scopes give `aud` `https://outlook.office.com`, `outlook.office365.com` scopes \
           give `https://outlook.office365.com`, `ps.outlook.com` gives `https://ps.outlook.com`, \
           and Microsoft Graph gives its application id `00000003-0000-0000-c000-000000000000` \
           (`tenant.graph_audience = \"uri\"` gives `https://graph.microsoft.com`, as some decoded \
           tokens show). `aud` is the one claim that tells whether Exchange will accept a token.",
    cases: &[
        "deleg-outlook-smtp-only",
        "deleg-graph-prefixed-smtp",
        "dot-default-delegated-outlook365",
        "ccg-ps-outlook-default",
    ],
    sources: &[],
};

/// Which leg of the protocol the scopes arrived on; the multi-resource rule differs by leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leg {
    /// `/authorize`: may name several resources; consent covers them all
    /// (fidelity: authorize-multi-resource-then-split).
    Authorize,
    /// `/token` with a code, device code or password: two explicit resources are AADSTS28000
    /// (fidelity: mixed-resources-at-token-endpoint-28000).
    Redeem,
    /// `/token` with a refresh token: the first scope wins even across explicit prefixes
    /// (fidelity: refresh-multi-resource-first-wins).
    Refresh,
}

/// The resource a request resolves to, and what it asks of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolution {
    /// The resource application the token is for.
    pub api: ResourceApi,
    /// The identifier that decided it; the audience is derived from it.
    pub uri: ResourceUri,
    /// Requested permission names, in order, de-duplicated, read on `api` as sent.
    pub permissions: Vec<String>,
    /// `{resource}/.default` was asked for: every consented permission (rule `granted-permissions`).
    pub default_scope: bool,
    /// OpenID Connect scopes asked for.
    pub oidc: Vec<OidcScope>,
    /// Explicitly prefixed permissions of *other* resources, `(api, name)`: consented on their own
    /// resource at sign-in, re-read on `api` in a refresh grant.
    pub other_resources: Vec<(ResourceApi, String)>,
    /// The scope that decided the resource, as sent (`None`: OpenID Connect scopes only).
    pub deciding_scope: Option<String>,
    /// The leg the scopes arrived on: a refresh cannot ask for consent.
    pub leg: Leg,
}

impl Resolution {
    /// Returns true when `offline_access` was asked for: a refresh token follows (rule `scope-syntax`).
    pub(crate) fn wants_refresh_token(&self) -> bool {
        self.oidc.contains(&OidcScope::OfflineAccess)
    }

    /// Returns the `aud` of a token for this resolution (rule `audience`).
    pub(crate) fn audience(&self, graph_audience: GraphAudience) -> String {
        audience(&self.uri, self.api, graph_audience)
    }
}

/// Returns the `aud` for a resource named by `uri` (rule `audience`).
pub(crate) fn audience(uri: &ResourceUri, api: ResourceApi, graph_audience: GraphAudience) -> String {
    match (api, uri) {
        // fidelity: deleg-graph-prefixed-smtp (the seed's GUID; setting "uri" gives the URI form)
        (ResourceApi::Graph, _) => match graph_audience {
            GraphAudience::Guid => ResourceApi::Graph.app_id().to_owned(),
            GraphAudience::Uri => "https://graph.microsoft.com".to_owned(),
        },
        // fidelity: deleg-outlook-smtp-only
        (ResourceApi::Exchange, ResourceUri::OutlookOffice) => "https://outlook.office.com".into(),
        // fidelity: dot-default-delegated-outlook365 (aud inferred from the scope's URI)
        (ResourceApi::Exchange, ResourceUri::OutlookOffice365) => "https://outlook.office365.com".into(),
        // fidelity: ccg-ps-outlook-default
        (ResourceApi::Exchange, ResourceUri::PsOutlook) => "https://ps.outlook.com".into(),
        (ResourceApi::Exchange, _) => ResourceApi::Exchange.app_id().to_owned(),
    }
}

/// Why scopes do not resolve to one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// Two resources where only one may be named (AADSTS28000).
    MultipleResources,
    /// A prefix that names no known resource (AADSTS70011 with that scope).
    UnknownResource(String),
    /// `.default` combined with other permissions (fidelity: dot-default-plus-dynamic-scope).
    DefaultWithOthers,
}

/// Resolves `scopes` as they arrived on `leg`, under the tenant's multi-resource setting.
pub(crate) fn resolve(
    scopes: &[Scope],
    leg: Leg,
    multi_resource: MultiResourceScopes,
) -> Result<Resolution, ResolveError> {
    let mut oidc = Vec::new();
    let mut permission_scopes = Vec::new();
    for scope in scopes {
        match scope.kind() {
            ScopeKind::Oidc(oidc_scope) => {
                if !oidc.contains(oidc_scope) {
                    oidc.push(*oidc_scope);
                }
            }
            ScopeKind::Permission { resource, name } => {
                let api = resource
                    .api()
                    .ok_or_else(|| ResolveError::UnknownResource(scope.as_str().to_owned()))?;
                permission_scopes.push((resource, api, name.as_str()));
            }
        }
    }

    // A request with OpenID Connect scopes only is answered with a Graph token.
    let (first_uri, first_api) = permission_scopes
        .first()
        .map(|(uri, api, _)| ((*uri).clone(), *api))
        .unwrap_or((ResourceUri::Bare, ResourceApi::Graph));
    let deciding_scope = scopes
        .iter()
        .find(|scope| matches!(scope.kind(), ScopeKind::Permission { .. }))
        .map(|scope| scope.as_str().to_owned());

    let explicit_apis = distinct(
        permission_scopes
            .iter()
            .filter(|(uri, _, _)| uri.is_explicit())
            .map(|(_, api, _)| *api),
    );
    let all_apis = distinct(permission_scopes.iter().map(|(_, api, _)| *api));
    let names_two_resources = match multi_resource {
        MultiResourceScopes::FirstWins => explicit_apis > 1,
        MultiResourceScopes::Reject => all_apis > 1,
    };
    let must_name_one = match leg {
        Leg::Authorize => false,
        Leg::Redeem => true,
        Leg::Refresh => multi_resource == MultiResourceScopes::Reject,
    };
    if names_two_resources && must_name_one {
        return Err(ResolveError::MultipleResources);
    }

    let mut permissions: Vec<String> = Vec::new();
    let mut other_resources = Vec::new();
    let mut default_scope = false;
    for (uri, api, name) in &permission_scopes {
        if *api != first_api && uri.is_explicit() {
            other_resources.push((*api, (*name).to_owned()));
            // Microsoft documents only that the refresh leg answers for the first resource; a
            // scope explicitly naming another one is read as asking nothing of this one.
            if leg == Leg::Refresh {
                continue;
            }
        }
        if *name == ".default" {
            default_scope = true;
            continue;
        }
        if !permissions.iter().any(|known| known.eq_ignore_ascii_case(name)) {
            permissions.push((*name).to_owned());
        }
    }
    if default_scope && !permissions.is_empty() {
        return Err(ResolveError::DefaultWithOthers);
    }

    Ok(Resolution {
        api: first_api,
        uri: first_uri,
        permissions,
        default_scope,
        oidc,
        other_resources,
        deciding_scope,
        leg,
    })
}

/// The decisions a successful resolution stands for: which resource the scopes name, and how the
/// first one decided (rules `scope-resource` and `first-scope-wins`).
pub(crate) fn decisions(scopes: &[Scope], resolution: &Resolution, leg: Leg) -> Vec<Decision> {
    let api = resolution.api.display_name();
    let Some(first) = &resolution.deciding_scope else {
        return vec![Decision::new(
            &FIRST_SCOPE_WINS,
            "No scope names a permission: the token is for Microsoft Graph, for the sign-in's own scopes.",
        )];
    };
    let mut decisions = Vec::new();
    let resource = match resolution.uri {
        ResourceUri::Bare => {
            format!("`{first}` has no resource prefix, so it is a Microsoft Graph permission.")
        }
        _ => format!("`{first}` names {api}."),
    };
    decisions.push(Decision::new(&SCOPE_RESOURCE, resource).with("scope", first.clone()));

    let mut outcome =
        format!("The first resource-bearing scope, `{first}`, decides: the token is for {api}.");
    for scope in scopes {
        let ScopeKind::Permission { resource, name } = scope.kind() else {
            continue;
        };
        if scope.as_str() == first.as_str() {
            continue;
        }
        let own_api = resource.api();
        let sentence = match (resource.is_explicit(), leg) {
            (false, _) if resolution.api == ResourceApi::Graph => continue,
            (true, _) if own_api == Some(resolution.api) => continue,
            (true, Leg::Authorize) => format!(" Consent at sign-in also covers `{}`.", scope.as_str()),
            (true, Leg::Refresh) => format!(
                " `{}` names another resource and asks nothing of this token.",
                scope.as_str()
            ),
            _ => format!(" `{}` is read as {api}'s `{name}`.", scope.as_str()),
        };
        outcome.push_str(&sentence);
    }
    decisions.push(Decision::new(&FIRST_SCOPE_WINS, outcome).with("scopes", join_scopes(scopes)));
    decisions
}

fn distinct(apis: impl Iterator<Item = ResourceApi>) -> usize {
    let mut seen = Vec::new();
    for api in apis {
        if !seen.contains(&api) {
            seen.push(api);
        }
    }
    seen.len()
}

fn join_scopes(scopes: &[Scope]) -> String {
    scopes.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
}
#[cfg(test)]
mod tests {
    use super::*;

    struct Row {
        case: &'static str,
        scopes: &'static str,
        leg: Leg,
        setting: MultiResourceScopes,
        expected: Result<(&'static str, &'static [&'static str]), ResolveError>,
    }

    const FIRST: MultiResourceScopes = MultiResourceScopes::FirstWins;
    const REJECT: MultiResourceScopes = MultiResourceScopes::Reject;
    const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    const OUTLOOK: &str = "https://outlook.office.com";

    #[test]
    fn resolves_scopes_as_the_catalog_documents() {
        let rows = [
            Row {
                case: "deleg-outlook-smtp-only",
                scopes: "offline_access https://outlook.office.com/SMTP.Send",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((OUTLOOK, &["SMTP.Send"])),
            },
            Row {
                case: "deleg-outlook-imap-pop-smtp-one-token",
                scopes: "offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((
                    OUTLOOK,
                    &["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"],
                )),
            },
            Row {
                case: "deleg-graph-prefixed-smtp (bare)",
                scopes: "SMTP.Send",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((GRAPH, &["SMTP.Send"])),
            },
            Row {
                case: "deleg-graph-prefixed-smtp (prefixed)",
                scopes: "https://graph.microsoft.com/SMTP.Send",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((GRAPH, &["SMTP.Send"])),
            },
            Row {
                case: "deleg-bare-imap-scope",
                scopes: "email offline_access IMAP.AccessAsUser.All",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((GRAPH, &["IMAP.AccessAsUser.All"])),
            },
            Row {
                case: "deleg-mixed-graph-first",
                scopes: "offline_access Mail.Read https://outlook.office.com/SMTP.Send",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((GRAPH, &["Mail.Read", "SMTP.Send"])),
            },
            Row {
                case: "deleg-mixed-outlook-first",
                scopes: "offline_access https://outlook.office.com/SMTP.Send Mail.Read",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok((OUTLOOK, &["SMTP.Send", "Mail.Read"])),
            },
            Row {
                case: "mixed-resources-at-token-endpoint-28000",
                scopes: "https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/User.Read",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Err(ResolveError::MultipleResources),
            },
            Row {
                case: "mixed-resources-at-token-endpoint-28000 (setting reject)",
                scopes: "Mail.Read https://outlook.office.com/SMTP.Send",
                leg: Leg::Redeem,
                setting: REJECT,
                expected: Err(ResolveError::MultipleResources),
            },
            Row {
                case: "refresh-multi-resource-first-wins",
                scopes: "https://outlook.office.com/SMTP.Send https://graph.microsoft.com/User.Read",
                leg: Leg::Refresh,
                setting: FIRST,
                expected: Ok((OUTLOOK, &["SMTP.Send"])),
            },
            Row {
                case: "refresh-cross-resource",
                scopes: "https://graph.microsoft.com/User.Read",
                leg: Leg::Refresh,
                setting: FIRST,
                expected: Ok((GRAPH, &["User.Read"])),
            },
            Row {
                case: "authorize-multi-resource-then-split",
                scopes: "offline_access User.Read Mail.Send https://outlook.office.com/SMTP.Send",
                leg: Leg::Authorize,
                setting: FIRST,
                expected: Ok((GRAPH, &["User.Read", "Mail.Send", "SMTP.Send"])),
            },
            Row {
                case: "dot-default-delegated-outlook365",
                scopes: "https://outlook.office365.com/.default offline_access",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok(("https://outlook.office365.com", &[])),
            },
            Row {
                case: "dot-default-plus-dynamic-scope",
                scopes: "https://graph.microsoft.com/.default Mail.Read",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Err(ResolveError::DefaultWithOthers),
            },
            Row {
                case: "ccg-ps-outlook-default",
                scopes: "https://ps.outlook.com/.default",
                leg: Leg::Redeem,
                setting: FIRST,
                expected: Ok(("https://ps.outlook.com", &[])),
            },
        ];

        for row in rows {
            let scopes = Scope::parse_list(row.scopes);
            let actual = resolve(&scopes, row.leg, row.setting)
                .map(|resolution| (resolution.audience(GraphAudience::Guid), resolution.permissions));
            let expected = row.expected.clone().map(|(aud, permissions)| {
                (
                    aud.to_owned(),
                    permissions.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>(),
                )
            });
            assert_eq!(actual, expected, "{}", row.case);
        }
    }

    #[test]
    fn the_authorize_leg_keeps_explicit_scopes_of_other_resources_for_consent() {
        // fidelity: authorize-multi-resource-then-split
        let scopes = Scope::parse_list(
            "User.Read https://outlook.office.com/SMTP.Send https://outlook.office.com/IMAP.AccessAsUser.All",
        );
        let resolution = resolve(&scopes, Leg::Authorize, FIRST).unwrap();

        assert_eq!(resolution.api, ResourceApi::Graph);
        assert_eq!(
            resolution.other_resources,
            vec![
                (ResourceApi::Exchange, "SMTP.Send".to_owned()),
                (ResourceApi::Exchange, "IMAP.AccessAsUser.All".to_owned())
            ]
        );
    }

    #[test]
    fn graph_audience_setting_gives_the_uri_form() {
        // fidelity: deleg-graph-prefixed-smtp (sources disagree on the form; setting graph_audience)
        let resolution = resolve(&Scope::parse_list("SMTP.Send"), Leg::Redeem, FIRST).unwrap();
        assert_eq!(
            resolution.audience(GraphAudience::Uri),
            "https://graph.microsoft.com"
        );
    }

    #[test]
    fn offline_access_asks_for_a_refresh_token_and_is_no_permission() {
        let resolution = resolve(
            &Scope::parse_list("offline_access https://outlook.office.com/SMTP.Send"),
            Leg::Redeem,
            FIRST,
        )
        .unwrap();
        assert!(resolution.wants_refresh_token());
        assert_eq!(resolution.permissions, vec!["SMTP.Send".to_owned()]);
    }

    #[test]
    fn unknown_prefixes_are_reported_with_the_scope() {
        assert_eq!(
            resolve(&Scope::parse_list("api://unknown/Read"), Leg::Redeem, FIRST),
            Err(ResolveError::UnknownResource("api://unknown/Read".into()))
        );
    }
}
