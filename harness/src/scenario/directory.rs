//! Applies a scenario's `[tenant]`, `[app]` and `[user]` changes to the default simulated
//! directory (the README's "Directory settings").

use mailscope_mocks::directory as mocks;
use mailscope_mocks::token::ResourceApi;

use super::types::{
    AccountKind, AppChanges, AppOnlyAccess, ConditionalAccess, Consent, DeviceCodeAnswer, DirectoryFile,
    GraphAudience, Greeting, MailboxPermission, MailboxSetting, MultiResourceScopes, PermissionLists,
    RefreshWithoutScope, ScenarioFile, ServerProfile, SignInAudience, SmtpBasicAuth, TenantChanges,
    UserChanges,
};

/// Returns true when the default directory has an app of that name.
pub fn is_known_app(name: &str) -> bool {
    mocks::Directory::contoso().app_by_name(name).is_some()
}

/// Returns the name of the app a scenario's cases use.
pub fn app_name(file: &ScenarioFile) -> String {
    changed_app_name(&file.app)
}

fn changed_app_name(app: &AppChanges) -> String {
    app.name
        .as_ref()
        .map_or_else(|| mocks::MAIL_CLIENT.to_owned(), |name| name.get_ref().clone())
}

/// Returns the default directory with the scenario's changes applied.
pub fn build(file: &ScenarioFile) -> mocks::Directory {
    build_from(&file.tenant, &file.app, &file.user)
}

/// Returns the default directory with the given changes applied.
pub fn build_from(tenant: &TenantChanges, app: &AppChanges, user: &UserChanges) -> mocks::Directory {
    let mut directory = mocks::Directory::contoso();
    apply_tenant(&mut directory.tenant, tenant);
    apply_user(directory.signed_in_user_mut(), user);
    let name = changed_app_name(app);
    if let Some(registration) = directory.app_by_name_mut(&name) {
        apply_app(registration, app);
    }
    directory
}

/// Returns the directory a directory file describes: the default one with its changes, and its
/// `[[users]]` added. The error names the offending `upn`'s place in the file.
pub fn build_directory(file: &DirectoryFile) -> Result<mocks::Directory, (std::ops::Range<usize>, String)> {
    let mut directory = build_from(&file.tenant, &file.app, &file.user);
    for extra in &file.users {
        let upn = extra.upn.get_ref().trim();
        let well_formed = upn.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !upn.contains(char::is_whitespace)
        });
        if !well_formed {
            return Err((
                extra.upn.span(),
                format!("`{upn}` is not a user principal name: write it as name@domain"),
            ));
        }
        let password = extra.password.as_deref().unwrap_or(mocks::ADELE_PASSWORD);
        let Some(user) = directory.add_user(upn, password) else {
            return Err((
                extra.upn.span(),
                format!("the directory already has a user `{upn}`"),
            ));
        };
        apply_user(
            user,
            &UserChanges {
                smtp_client_authentication: extra.smtp_client_authentication,
                imap_enabled: extra.imap_enabled,
                pop_enabled: extra.pop_enabled,
                mfa: extra.mfa,
                full_access: extra.full_access.clone(),
                ..UserChanges::default()
            },
        );
    }
    Ok(directory)
}

fn apply_tenant(tenant: &mut mocks::Tenant, changes: &TenantChanges) {
    if let Some(value) = changes.smtp_client_authentication {
        tenant.smtp_client_authentication = value;
    }
    if let Some(value) = changes.security_defaults {
        tenant.security_defaults = value;
    }
    if let Some(value) = changes.multi_resource_scopes {
        tenant.multi_resource_scopes = match value {
            MultiResourceScopes::FirstWins => mocks::MultiResourceScopes::FirstWins,
            MultiResourceScopes::Reject => mocks::MultiResourceScopes::Reject,
        };
    }
    if let Some(value) = changes.graph_audience {
        tenant.graph_audience = match value {
            GraphAudience::Guid => mocks::GraphAudience::Guid,
            GraphAudience::Uri => mocks::GraphAudience::Uri,
        };
    }
    if let Some(value) = &changes.exchange_extra_audiences {
        tenant.exchange_extra_audiences = value.clone();
    }
    if let Some(value) = changes.refresh_without_scope {
        tenant.refresh_without_scope = match value {
            RefreshWithoutScope::FirstSignInScopes => mocks::RefreshWithoutScope::FirstSignInScopes,
            RefreshWithoutScope::RequireScope => mocks::RefreshWithoutScope::RequireScope,
            RefreshWithoutScope::TokenForItself => mocks::RefreshWithoutScope::TokenForItself,
        };
    }
    if let Some(value) = changes.device_code_slow_down {
        tenant.device_code_slow_down = value;
    }
    if let Some(value) = changes.sign_in_frequency_hours {
        tenant.sign_in_frequency_hours = Some(value);
    }
    if let Some(value) = changes.server_profile {
        tenant.server_profile = match value {
            ServerProfile::ExchangeOnline => mocks::ServerProfile::ExchangeOnline,
            ServerProfile::Generic => mocks::ServerProfile::Generic,
        };
    }
    if let Some(value) = changes.smtp_basic_auth {
        tenant.smtp_basic_auth = match value {
            SmtpBasicAuth::Enabled => mocks::BasicAuthStage::Enabled,
            SmtpBasicAuth::Disabled => mocks::BasicAuthStage::Disabled,
            SmtpBasicAuth::Retired => mocks::BasicAuthStage::Retired,
        };
    }
    if let Some(value) = changes.conditional_access {
        tenant.conditional_access = match value {
            ConditionalAccess::None => mocks::ConditionalAccess::None,
            ConditionalAccess::Block => mocks::ConditionalAccess::Block,
            ConditionalAccess::Mfa => mocks::ConditionalAccess::Mfa,
        };
    }
    if let Some(value) = changes.greeting {
        tenant.greeting = match value {
            Greeting::Classic => mocks::GreetingForm::Classic,
            Greeting::Tcpproxy => mocks::GreetingForm::Tcpproxy,
        };
    }
    if let Some(value) = changes.app_only_access {
        tenant.app_only_access = match value {
            AppOnlyAccess::All => mocks::AppOnlyAccess::All,
            AppOnlyAccess::ImapAndPop => mocks::AppOnlyAccess::ImapAndPop,
            AppOnlyAccess::None => mocks::AppOnlyAccess::None,
        };
    }
}

fn apply_user(user: &mut mocks::User, changes: &UserChanges) {
    if let Some(upn) = &changes.upn {
        user.upn = upn.clone();
    }
    if let Some(value) = changes.smtp_client_authentication {
        user.smtp_client_authentication = match value {
            MailboxSetting::Tenant => mocks::MailboxSetting::Tenant,
            MailboxSetting::Enabled => mocks::MailboxSetting::Enabled,
            MailboxSetting::Disabled => mocks::MailboxSetting::Disabled,
        };
    }
    if let Some(value) = changes.imap_enabled {
        user.imap_enabled = value;
    }
    if let Some(value) = changes.pop_enabled {
        user.pop_enabled = value;
    }
    if let Some(value) = changes.account {
        user.account = match value {
            AccountKind::Work => mocks::AccountKind::Work,
            AccountKind::Personal => mocks::AccountKind::Personal,
        };
    }
    if let Some(value) = changes.mfa {
        user.mfa = value;
    }
    if let Some(value) = &changes.full_access {
        user.full_access = value.clone();
    }
    if let Some(value) = changes.device_code {
        user.device_code = match value {
            DeviceCodeAnswer::Approve => mocks::DeviceCodeAnswer::Approve,
            DeviceCodeAnswer::Decline => mocks::DeviceCodeAnswer::Decline,
            DeviceCodeAnswer::Ignore => mocks::DeviceCodeAnswer::Ignore,
        };
    }
}

fn apply_app(app: &mut mocks::App, changes: &AppChanges) {
    if let Some(lists) = &changes.delegated {
        replace_permissions(&mut app.delegated, lists);
    }
    if let Some(lists) = &changes.application {
        replace_permissions(&mut app.application, lists);
    }
    if let Some(value) = changes.consent {
        app.consent = match value {
            Consent::None => mocks::Consent::None,
            Consent::User => mocks::Consent::User,
            Consent::Admin => mocks::Consent::Admin,
        };
    }
    if let Some(value) = changes.sign_in_audience {
        app.sign_in_audience = match value {
            SignInAudience::Organizations => mocks::SignInAudience::Organizations,
            SignInAudience::SingleTenant => mocks::SignInAudience::SingleTenant,
            SignInAudience::OrganizationsAndPersonal => mocks::SignInAudience::OrganizationsAndPersonal,
        };
    }
    if let Some(value) = changes.public_client_flows {
        app.public_client_flows = value;
    }
    if let Some(value) = changes.exchange_service_principal {
        app.exchange_service_principal = value;
    }
    if let Some(values) = &changes.redirect_uris {
        app.redirect_uris = values.clone();
    }
    if let Some(values) = &changes.mailbox_permissions {
        app.mailbox_permissions = values
            .iter()
            .map(|value| match value {
                MailboxPermission::FullAccess => mocks::MailboxPermission::FullAccess,
                MailboxPermission::SendAs => mocks::MailboxPermission::SendAs,
            })
            .collect();
    }
}

/// A list given for one API replaces that API's permissions; an API not named keeps its own.
fn replace_permissions(permissions: &mut Vec<mocks::Permission>, lists: &PermissionLists) {
    for (api, names) in [
        (ResourceApi::Graph, &lists.graph),
        (ResourceApi::Exchange, &lists.exchange),
    ] {
        let Some(names) = names else { continue };
        permissions.retain(|permission| permission.api != api);
        permissions.extend(names.iter().map(|name| mocks::Permission::new(api, name)));
    }
}
