//! `/{tenant}/oauth2/v2.0/authorize`: checks the authorization request like Entra, shows an
//! account picker where Entra would ask for a password, and sends a single-use code back to
//! the client. Also the sign-out endpoint, which has no session to end.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};

use super::{
    check_client,
    identities::{demo_identities, tenant_label, Account, Identity, TenantPath},
    pages::{self, escape, hidden_inputs, redirect_to_client, APP_NAME},
    DevIdp, Grant, Params,
};

/// Fields of the picker's own forms, as opposed to the authorization request they carry.
const PICKER_FIELDS: [&str; 7] = [
    "identity",
    "mfa",
    "other_tenant",
    "other_name",
    "other_email",
    "other_guest_of",
    "action",
];

/// A checked authorization request.
struct AuthRequest {
    tenant: TenantPath,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    /// Authentication contexts asked for in the `claims` parameter (`id_token.acrs`).
    acrs: Vec<String>,
    /// The request's own parameters, carried through the picker's forms in hidden inputs so
    /// the POST can be checked again from scratch.
    carried: Params,
}

/// `GET /{tenant}/oauth2/v2.0/authorize`: the account picker.
pub(super) async fn show(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    match check(&idp, &tenant, params) {
        Ok(request) => picker(&idp, &request, None, &Params::default(), StatusCode::OK),
        Err(response) => *response,
    }
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: an account was picked (or the user cancelled).
pub(super) async fn submit(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let (picked, carried) = Params::parse(&body).split_off(&PICKER_FIELDS);
    let request = match check(&idp, &tenant, carried) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    if picked.get("action") == Some("cancel") {
        return pages::declined(&idp, &request.redirect_uri, &request.state);
    }
    let account = match choose(&request, &picked) {
        Ok(account) => account,
        Err(message) => {
            return picker(
                &idp,
                &request,
                Some(&message),
                &picked,
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let code = idp.issue_code(Grant {
        client_id: request.client_id,
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge,
        nonce: request.nonce,
        scope: request.scope,
        account,
        mfa: picked.get("mfa") != Some("no"),
        acrs: request.acrs,
    });
    redirect_to_client(
        &idp,
        &request.redirect_uri,
        &[
            ("code", &code),
            ("state", &request.state),
            ("session_state", &pages::opaque_id()),
        ],
    )
}

/// `GET /{tenant}/oauth2/v2.0/logout`: the emulator keeps no session, so signing out only
/// returns to `post_logout_redirect_uri` when it is registered, like Entra.
pub(super) async fn logout(
    State(idp): State<DevIdp>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    if TenantPath::parse(&tenant).is_none() {
        return unknown_tenant(&idp, &tenant);
    }
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    if let Some(target) = params.get("post_logout_redirect_uri") {
        if idp.config().redirect_uris.iter().any(|r| r == target) {
            let state = params.get("state").unwrap_or("");
            return redirect_to_client(&idp, target, &[("state", state)]);
        }
    }
    pages::page(
        &idp,
        StatusCode::OK,
        "Signed out",
        "<h1>You signed out</h1><p class=\"lead\">The emulator keeps no session, so there was \
         nothing to end here. You can close this window.</p>",
    )
}

/// Checks an authorization request in Entra's order: what cannot be trusted with a redirect
/// (tenant, client, redirect URI) is shown as an error page, the rest goes back to the client
/// as `error=invalid_request`.
fn check(idp: &DevIdp, tenant_segment: &str, params: Params) -> Result<AuthRequest, Box<Response>> {
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
    let (client_id, redirect_uri) = check_client(idp, tenant_segment, &params)?;
    let state = params.get("state").unwrap_or("").to_owned();
    let refuse = |code: u32, message: &str| {
        let description = format!("AADSTS{code}: {message}");
        Box::new(redirect_to_client(
            idp,
            &redirect_uri,
            &[
                ("error", "invalid_request"),
                ("error_description", &description),
                ("state", &state),
            ],
        ))
    };
    let missing = |name: &str| {
        refuse(
            900144,
            &format!("The request body must contain the following parameter: '{name}'."),
        )
    };
    if let Some(mode) = params.get("response_mode").filter(|m| *m != "query") {
        return Err(refuse(
            9002313,
            &format!(
                "Invalid request. The development emulator supports response_mode=query only, \
                 not '{mode}'."
            ),
        ));
    }
    match params.get("response_type") {
        None => return Err(missing("response_type")),
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                9002313,
                &format!(
                    "Invalid request. The development emulator supports response_type=code only, \
                     not '{other}'."
                ),
            ))
        }
    }
    let Some(scope) = params.get("scope") else {
        return Err(missing("scope"));
    };
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(refuse(
            9002313,
            "Invalid request. The scope must include 'openid' for an ID token.",
        ));
    }
    let Some(code_challenge) = params.get("code_challenge") else {
        return Err(missing("code_challenge"));
    };
    if params.get("code_challenge_method") != Some("S256") {
        return Err(refuse(
            9002313,
            "Invalid request. Proof Key for Code Exchange needs code_challenge_method=S256.",
        ));
    }
    // An S256 challenge is a base64url SHA-256: 43 characters.
    let well_formed = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(refuse(
            9002313,
            "Invalid request. The code_challenge is not a base64url SHA-256 value.",
        ));
    }
    if state.is_empty() {
        return Err(missing("state"));
    }
    let Some(nonce) = params.get("nonce").filter(|n| !n.is_empty()) else {
        return Err(missing("nonce"));
    };
    let acrs = match params.get("claims").map(requested_acrs) {
        None => Vec::new(),
        Some(Some(acrs)) => acrs,
        Some(None) => {
            return Err(refuse(
                90_014,
                "The claims parameter is not a JSON object of claims requests.",
            ))
        }
    };
    Ok(AuthRequest {
        acrs,
        tenant,
        scope: scope.to_owned(),
        nonce: nonce.to_owned(),
        code_challenge: code_challenge.to_owned(),
        client_id,
        redirect_uri,
        state,
        carried: params,
    })
}

/// The authentication contexts a `claims` parameter asks for in the ID token
/// (`{"id_token": {"acrs": {"essential": true, "value": "c1"}}}`, or `values` for several);
/// `None` when it is not JSON of that shape.
fn requested_acrs(claims: &str) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(claims).ok()?;
    let object = value.as_object()?;
    let Some(acrs) = object.get("id_token").and_then(|t| t.get("acrs")) else {
        return Some(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    if let Some(one) = acrs.get("value") {
        out.push(one.as_str()?.to_owned());
    }
    if let Some(many) = acrs.get("values") {
        for v in many.as_array()? {
            out.push(v.as_str()?.to_owned());
        }
    }
    Some(out)
}

/// The picker's choice of how the sign-in went, in the form it belongs to (`prefix` keeps the
/// ids of the two forms' copies apart). "With multi-factor authentication" unless the last
/// submission said otherwise.
fn mfa_choice(prefix: &str, previous: &Params, acrs: &[String]) -> String {
    let without = previous.get("mfa") == Some("no");
    let contexts = if acrs.is_empty() {
        String::new()
    } else {
        format!(
            " The portal asked for the authentication context <code>{}</code>: it is in \
             <code>acrs</code> only with multi-factor authentication.",
            escape(&acrs.join(", "))
        )
    };
    format!(
        "<fieldset><legend>How did this sign-in go?</legend>\
         <label class=\"choice\" for=\"{prefix}_mfa_yes\"><input type=\"radio\" \
         id=\"{prefix}_mfa_yes\" name=\"mfa\" value=\"yes\"{yes}> With multi-factor \
         authentication</label>\
         <label class=\"choice\" for=\"{prefix}_mfa_no\"><input type=\"radio\" \
         id=\"{prefix}_mfa_no\" name=\"mfa\" value=\"no\"{no}> With a password only</label>\
         <p class=\"hint\">With multi-factor authentication the ID token's <code>amr</code> \
         lists <code>mfa</code>.{contexts}</p></fieldset>",
        yes = if without { "" } else { " checked" },
        no = if without { " checked" } else { "" },
    )
}

/// The account the picker's POST chose, or why it cannot sign in through this path.
fn choose(request: &AuthRequest, picked: &Params) -> Result<Account, String> {
    let account = match picked.get("identity") {
        None | Some("") => return Err("Pick an account.".to_owned()),
        Some("other") => Account::other(
            picked.get("other_tenant").unwrap_or(""),
            picked.get("other_name").unwrap_or(""),
            picked.get("other_email").unwrap_or(""),
            picked.get("other_guest_of").unwrap_or(""),
        )?,
        Some(key) => demo_identities()
            .iter()
            .find(|identity| identity.key == key)
            .map(Account::from)
            .ok_or_else(|| format!("There is no demo account '{key}'."))?,
    };
    if !request.tenant.admits(&account.tenant) {
        return Err(format!(
            "{} cannot sign in here: this sign-in is for {} only.",
            account.email,
            request
                .tenant
                .single_tenant()
                .map(tenant_label)
                .unwrap_or_default()
        ));
    }
    Ok(account)
}

/// The account picker page, with `error` from a refused pick and the typed-in details of
/// `previous` kept.
fn picker(
    idp: &DevIdp,
    request: &AuthRequest,
    error: Option<&str>,
    previous: &Params,
    status: StatusCode,
) -> Response {
    let action = escape(&format!(
        "{}/{}/oauth2/v2.0/authorize",
        idp.config().base_url,
        request.tenant.segment()
    ));
    let hidden = hidden_inputs(&request.carried);
    let mut main = format!(
        "<h1>Pick an account</h1><p class=\"lead\">to continue to <strong>{}</strong></p>",
        escape(APP_NAME)
    );
    if let Some(error) = error {
        main.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        ));
    }

    let identities: Vec<&Identity> = demo_identities()
        .iter()
        .filter(|identity| request.tenant.admits(identity.tenant))
        .collect();
    if identities.is_empty() {
        main.push_str(&format!(
            "<p class=\"hint\">No demo account belongs to {}: use another account.</p>",
            escape(
                &request
                    .tenant
                    .single_tenant()
                    .map(tenant_label)
                    .unwrap_or_default()
            )
        ));
    } else {
        main.push_str(&format!(
            "<form method=\"post\" action=\"{action}\">{hidden}{}",
            mfa_choice("accounts", previous, &request.acrs)
        ));
        let mut tenants: Vec<&str> = Vec::new();
        for identity in &identities {
            if !tenants.contains(&identity.tenant) {
                tenants.push(identity.tenant);
            }
        }
        for tenant in tenants {
            main.push_str(&format!(
                "<h2 class=\"group\">{}</h2><ul class=\"accounts\">",
                escape(&tenant_label(tenant))
            ));
            for identity in identities.iter().filter(|i| i.tenant == tenant) {
                main.push_str(&account_button(identity));
            }
            main.push_str("</ul>");
        }
        main.push_str("</form>");
    }

    // "Use another account": the tenant is fixed when the path names one.
    let fixed_tenant = request.tenant.single_tenant();
    let other_tenant = fixed_tenant.or(previous.get("other_tenant")).unwrap_or("");
    let open = previous.get("identity") == Some("other") || identities.is_empty();
    main.push_str(&format!(
        "<details{open}><summary>Use another account</summary>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <input type=\"hidden\" name=\"identity\" value=\"other\">\
         <p class=\"hint\">Any name and email will do. The object ID is derived from the tenant \
         and the email, so the same details are the same user next time.</p>\
         <label for=\"other_tenant\">Tenant ID</label>\
         <input type=\"text\" id=\"other_tenant\" name=\"other_tenant\" value=\"{tenant}\" \
         required{readonly} autocomplete=\"off\" spellcheck=\"false\" \
         placeholder=\"00000000-0000-0000-0000-000000000000\">\
         <label for=\"other_name\">Name</label>\
         <input type=\"text\" id=\"other_name\" name=\"other_name\" value=\"{name}\" required \
         maxlength=\"100\" autocomplete=\"off\">\
         <label for=\"other_email\">Email</label>\
         <input type=\"email\" id=\"other_email\" name=\"other_email\" value=\"{email}\" required \
         maxlength=\"254\" autocomplete=\"off\">\
         <label for=\"other_guest_of\">Guest from tenant (optional)</label>\
         <input type=\"text\" id=\"other_guest_of\" name=\"other_guest_of\" value=\"{guest_of}\" \
         autocomplete=\"off\" spellcheck=\"false\" aria-describedby=\"other_guest_hint\" \
         placeholder=\"00000000-0000-0000-0000-000000000000\">\
         <p class=\"hint\" id=\"other_guest_hint\">For a B2B guest: the tenant the person really \
         belongs to. Their token names it in <code>idp</code>, with <code>acct</code> 1.</p>\
         {choice}<div class=\"actions\"><button type=\"submit\" class=\"primary\">Sign in</button></div>\
         </form></details>",
        open = if open { " open" } else { "" },
        tenant = escape(other_tenant),
        readonly = if fixed_tenant.is_some() {
            " readonly"
        } else {
            ""
        },
        name = escape(previous.get("other_name").unwrap_or("")),
        email = escape(previous.get("other_email").unwrap_or("")),
        guest_of = escape(previous.get("other_guest_of").unwrap_or("")),
        choice = mfa_choice("other", previous, &request.acrs),
    ));

    main.push_str(&format!(
        "<form method=\"post\" action=\"{action}\" class=\"actions\">{hidden}\
         <button type=\"submit\" class=\"secondary\" name=\"action\" value=\"cancel\">Cancel</button>\
         </form><p class=\"hint\">Signing in through <code>{}</code> for client <code>{}</code>.</p>",
        escape(request.tenant.segment()),
        escape(&request.client_id),
    ));
    pages::page(idp, status, "Pick an account", &main)
}

/// One account of the picker. Its accessible name is exactly "Name email": the avatar and the
/// admin badge are hidden from assistive technology (and from Playwright's role queries).
fn account_button(identity: &Identity) -> String {
    let initials: String = identity
        .name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect();
    format!(
        "<li><button type=\"submit\" class=\"account\" name=\"identity\" value=\"{key}\">\
         <span class=\"avatar\" aria-hidden=\"true\">{initials}</span>\
         <span class=\"who\"><span class=\"name\">{name}</span> \
         <span class=\"email\">{email}</span></span>{badge}</button></li>",
        key = escape(identity.key),
        initials = escape(&initials),
        name = escape(identity.name),
        email = escape(identity.email),
        badge = if identity.admin {
            "<span class=\"badge\" aria-hidden=\"true\">Admin</span>"
        } else {
            ""
        },
    )
}

/// Entra's page for a `{tenant}` it does not know.
pub(super) fn unknown_tenant(idp: &DevIdp, tenant: &str) -> Response {
    pages::error_page(
        idp,
        StatusCode::BAD_REQUEST,
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and \
             are signing into the correct cloud."
        ),
    )
}
