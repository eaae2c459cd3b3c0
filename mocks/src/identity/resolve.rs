//! Scopes -> one resource and its permissions (FIDELITY.md rules 1–4 and 6). Pure.
//!
//! The token is for the resource of the first resource-bearing scope; a bare first scope means
//! Microsoft Graph; every later permission is read as a permission of that resource
//! (fidelity: deleg-mixed-graph-first, deleg-mixed-outlook-first, refresh-multi-resource-first-wins).

use crate::directory::{GraphAudience, MultiResourceScopes};
use crate::token::{OidcScope, ResourceApi, ResourceUri, Scope, ScopeKind};

/// Which leg of the protocol the scopes arrived on; the multi-resource rule differs by leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
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
pub struct Resolution {
    /// The resource application the token is for.
    pub api: ResourceApi,
    /// The identifier that decided it; the audience is derived from it.
    pub uri: ResourceUri,
    /// Requested permission names, in order, de-duplicated, read on `api` as sent.
    pub permissions: Vec<String>,
    /// `{resource}/.default` was asked for: every consented permission (rule 6).
    pub default_scope: bool,
    /// OpenID Connect scopes asked for.
    pub oidc: Vec<OidcScope>,
    /// Explicitly prefixed permissions of *other* resources, `(api, name)`: consented on their own
    /// resource at sign-in, re-read on `api` in a refresh grant.
    pub other_resources: Vec<(ResourceApi, String)>,
}

impl Resolution {
    /// Returns true when `offline_access` was asked for: a refresh token follows (rule 1).
    pub fn wants_refresh_token(&self) -> bool {
        self.oidc.contains(&OidcScope::OfflineAccess)
    }

    /// Returns the `aud` of a token for this resolution (rule 4).
    pub fn audience(&self, graph_audience: GraphAudience) -> String {
        audience(&self.uri, self.api, graph_audience)
    }
}

/// Returns the `aud` for a resource named by `uri` (FIDELITY.md rule 4).
pub fn audience(uri: &ResourceUri, api: ResourceApi, graph_audience: GraphAudience) -> String {
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
pub enum ResolveError {
    /// Two resources where only one may be named (AADSTS28000).
    MultipleResources,
    /// A prefix that names no known resource (AADSTS70011 with that scope).
    UnknownResource(String),
    /// `.default` combined with other permissions (fidelity: dot-default-plus-dynamic-scope).
    DefaultWithOthers,
}

/// Resolves `scopes` as they arrived on `leg`, under the tenant's multi-resource setting.
pub fn resolve(
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
    })
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
        // fidelity: deleg-graph-prefixed-smtp (catalog section 3, item 6)
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
