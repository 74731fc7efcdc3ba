//! `/{tenant}/v2.0/adminconsent`: Entra's admin consent endpoint. A demo administrator accepts
//! the portal for their organisation and the client learns the tenant from the redirect (only
//! a claim: the portal then proves it with a sign-in).

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};

use super::{
    authorize::unknown_tenant,
    check_client,
    identities::{demo_identities, tenant_label, TenantPath, CONSUMER_TENANT},
    pages::{self, escape, hidden_inputs, redirect_to_client, APP_NAME},
    DevIdp, Params,
};

/// Fields of the consent form itself, as opposed to the request it carries.
const CONSENT_FIELDS: [&str; 2] = ["identity", "action"];

/// The value of the generic administrator offered for a tenant with no demo administrator.
const TENANT_ADMIN: &str = "tenant-admin";

/// A checked admin consent request.
struct ConsentRequest {
    tenant: TenantPath,
    redirect_uri: String,
    scope: String,
    state: String,
    carried: Params,
}

/// Someone who may accept on the consent page.
struct Consenter {
    /// The form value.
    key: String,
    /// The accessible label: name and email.
    label: String,
    /// The tenant the consent is granted for.
    tenant: String,
}

/// `GET /{tenant}/v2.0/adminconsent`: the consent page.
pub(super) async fn show(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    match check(&idp, &tenant, params) {
        Ok(request) => consent_page(&idp, &request, None, StatusCode::OK),
        Err(response) => *response,
    }
}

/// `POST /{tenant}/v2.0/adminconsent`: Accept or Cancel.
pub(super) async fn submit(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let (picked, carried) = Params::parse(&body).split_off(&CONSENT_FIELDS);
    let request = match check(&idp, &tenant, carried) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    match picked.get("action") {
        Some("cancel") => return pages::declined(&idp, &request.redirect_uri, &request.state),
        Some("accept") => {}
        _ => {
            return consent_page(
                &idp,
                &request,
                Some("Choose Accept or Cancel."),
                StatusCode::BAD_REQUEST,
            )
        }
    }
    let chosen = consenters(&request.tenant)
        .into_iter()
        .find(|c| Some(c.key.as_str()) == picked.get("identity"));
    let Some(consenter) = chosen else {
        return consent_page(
            &idp,
            &request,
            Some("Choose the administrator who accepts."),
            StatusCode::BAD_REQUEST,
        );
    };
    redirect_to_client(
        &idp,
        &request.redirect_uri,
        &[
            ("admin_consent", "True"),
            ("tenant", &consenter.tenant),
            ("state", &request.state),
            ("scope", &request.scope),
        ],
    )
}

/// Checks the request like the authorize endpoint does: an untrusted client or redirect URI is
/// an error page, a missing scope goes back to the client.
fn check(
    idp: &DevIdp,
    tenant_segment: &str,
    params: Params,
) -> Result<ConsentRequest, Box<Response>> {
    let Some(tenant) = TenantPath::parse(tenant_segment) else {
        return Err(Box::new(unknown_tenant(idp, tenant_segment)));
    };
    if let Some(name) = params.duplicated() {
        return Err(Box::new(pages::error_page(
            idp,
            StatusCode::BAD_REQUEST,
            9002313,
            &format!("Invalid request. The parameter '{name}' appears more than once."),
        )));
    }
    let (_, redirect_uri) = check_client(idp, tenant_segment, &params)?;
    let state = params.get("state").unwrap_or("").to_owned();
    let Some(scope) = params.get("scope").filter(|s| !s.trim().is_empty()) else {
        return Err(Box::new(redirect_to_client(
            idp,
            &redirect_uri,
            &[
                ("error", "invalid_request"),
                (
                    "error_description",
                    "AADSTS900144: The request body must contain the following parameter: 'scope'.",
                ),
                ("state", &state),
            ],
        )));
    };
    Ok(ConsentRequest {
        tenant,
        redirect_uri,
        scope: scope.to_owned(),
        state,
        carried: params,
    })
}

/// Who may accept through this path: the demo administrators of the tenants it admits, or for
/// a tenant with none of them a generic administrator. Personal accounts cannot consent for an
/// organisation, as in Entra.
fn consenters(path: &TenantPath) -> Vec<Consenter> {
    let mut consenters: Vec<Consenter> = demo_identities()
        .iter()
        .filter(|i| i.admin && i.tenant != CONSUMER_TENANT && path.admits(i.tenant))
        .map(|i| Consenter {
            key: i.key.to_owned(),
            label: format!("{} {}", i.name, i.email),
            tenant: i.tenant.to_owned(),
        })
        .collect();
    if let TenantPath::Tenant(id) = path {
        if consenters.is_empty() && id != CONSUMER_TENANT {
            consenters.push(Consenter {
                key: TENANT_ADMIN.to_owned(),
                label: format!("An administrator of {}", tenant_label(id)),
                tenant: id.clone(),
            });
        }
    }
    consenters
}

/// What a scope lets the app do, in Entra's words where Entra has them.
fn describe_scope(scope: &str) -> String {
    let name = scope.rsplit('/').next().unwrap_or(scope);
    match name {
        "openid" => "Sign users in".to_owned(),
        "profile" => "View users' basic profile".to_owned(),
        "email" => "View users' email address".to_owned(),
        "offline_access" => "Maintain access to data you have given it access to".to_owned(),
        "User.Read" => "Sign in and read user profile".to_owned(),
        ".default" => "All permissions configured for the application".to_owned(),
        _ => format!("<code>{}</code>", escape(scope)),
    }
}

/// The consent page.
fn consent_page(
    idp: &DevIdp,
    request: &ConsentRequest,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let action = escape(&format!(
        "{}/{}/v2.0/adminconsent",
        idp.config().base_url,
        request.tenant.segment()
    ));
    let hidden = hidden_inputs(&request.carried);
    let scopes: String = request
        .scope
        .split_whitespace()
        .map(|scope| format!("<li>{}</li>", describe_scope(scope)))
        .collect();
    let mut main = format!(
        "<h1>Permissions requested</h1><p class=\"lead\"><strong>{app}</strong></p>\
         <p>This app would like to:</p><ul class=\"scopes\">{scopes}</ul>\
         <p><strong>Accept for your organisation</strong>: everyone in the organisation can \
         then sign in to {app}, and nobody else there is asked to consent.</p>",
        app = escape(APP_NAME),
    );
    if let Some(error) = error {
        main.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        ));
    }
    let consenters = consenters(&request.tenant);
    main.push_str(&format!(
        "<form method=\"post\" action=\"{action}\">{hidden}"
    ));
    if consenters.is_empty() {
        main.push_str(
            "<p class=\"hint\">Personal Microsoft accounts cannot accept for an organisation.</p>\
             <div class=\"actions\"><button type=\"submit\" class=\"secondary\" name=\"action\" \
             value=\"cancel\">Cancel</button></div>",
        );
    } else {
        main.push_str("<fieldset><legend>Accept as</legend>");
        for (i, consenter) in consenters.iter().enumerate() {
            main.push_str(&format!(
                "<label class=\"choice\"><input type=\"radio\" name=\"identity\" value=\"{key}\"{checked}> \
                 <span>{label}</span></label>",
                key = escape(&consenter.key),
                checked = if i == 0 { " checked" } else { "" },
                label = escape(&consenter.label),
            ));
        }
        // Accept first: it is the button Enter presses.
        main.push_str(
            "</fieldset><div class=\"actions\">\
             <button type=\"submit\" class=\"primary\" name=\"action\" value=\"accept\">Accept</button>\
             <button type=\"submit\" class=\"secondary\" name=\"action\" value=\"cancel\">Cancel</button>\
             </div>",
        );
    }
    main.push_str("</form>");
    pages::page(idp, status, "Permissions requested", &main)
}
