//! The approver's inbox: `GET /`, one server-rendered page with the pending escalations
//! the caller may answer (request, reasons, risk, obligations, derivation, approvals so
//! far, approve and reject buttons with a comment) and a searchable history. Plain HTML
//! forms, no JavaScript. Signing in stores the token (or, without a token file, the name
//! the local administrator acts as) in a `SameSite=Strict`, `HttpOnly` cookie.

use crate::api::caller;
use crate::auth::{COOKIE, Caller, cookie, percent_encode};
use crate::decide::Evaluated;
use crate::error::ApiError;
use crate::state::{Answer, State};
use crate::store::{Record, Status};
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value as Json;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// The state extractor.
type St = axum::extract::State<Arc<State>>;

/// How many past decisions the history shows.
const HISTORY_ROWS: usize = 100;

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The caller of a page request and the person they act as, or `None` when not signed in.
fn signed_in(state: &State, headers: &HeaderMap, peer: SocketAddr) -> Result<Option<(Caller, String)>, ApiError> {
    match state.auth {
        crate::auth::Auth::LoopbackOnly => {
            let caller = caller(state, headers, peer)?;
            Ok(cookie(headers, COOKIE).filter(|n| !n.is_empty()).map(|name| (caller, name)))
        }
        crate::auth::Auth::Tokens(_) => match caller(state, headers, peer) {
            Ok(caller) => {
                let name = caller.name.clone().unwrap_or_default();
                Ok(Some((caller, name)))
            }
            Err(error) if error.status == StatusCode::UNAUTHORIZED => Ok(None),
            Err(error) => Err(error),
        },
    }
}

/// The page around `body`.
fn page_html(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head>\
         <body>{body}</body></html>",
        esc(title)
    ))
}

/// The page's style.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}\
    header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ccc}\
    .card{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}\
    .escalate{color:#a60}.deny{color:#b00}.allow{color:#070}\
    pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:20rem}\
    table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}\
    textarea{width:100%}.error{background:#fee;border:1px solid #b00;padding:.5rem}";

/// The sign-in form.
fn login_form(state: &State, error: Option<&str>) -> String {
    let (label, kind) = match state.auth {
        crate::auth::Auth::LoopbackOnly => ("Your name (as the policy's approver facts name you)", "text"),
        crate::auth::Auth::Tokens(_) => ("Your token", "password"),
    };
    let error = error.map(|e| format!("<p class=\"error\" id=\"error\">{}</p>", esc(e))).unwrap_or_default();
    format!(
        "<h1>Gov inbox</h1>{error}<form method=\"post\" action=\"/login\"><label>{label} \
         <input id=\"token\" name=\"token\" type=\"{kind}\" required></label> \
         <button id=\"login\" type=\"submit\">Sign in</button></form>"
    )
}

/// The query of `GET /`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// Search the history.
    #[serde(default)]
    q: String,
    /// An error to show (after a failed answer).
    #[serde(default)]
    error: String,
}

/// `GET /`.
pub async fn page(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    let (caller, person) = match signed_in(&state, &headers, peer) {
        Ok(Some(who)) => who,
        Ok(None) => return page_html("Gov inbox: sign in", &login_form(&state, None)).into_response(),
        Err(error) => return error.into_response(),
    };
    if let Err(error) = caller.require(crate::auth::Scope::Approve) {
        let body = format!("<h1>Gov inbox</h1><p class=\"error\" id=\"error\">{}</p>", esc(&error.message));
        return (error.status, page_html("Gov inbox", &body)).into_response();
    }
    state.expire().await;
    let policy = state.policy();
    let groups: Vec<String> = policy.groups.get(&person).map(|g| g.iter().cloned().collect()).unwrap_or_default();
    let mut body = format!(
        "<header><h1>Gov inbox</h1><div>Signed in as <b id=\"person\">{}</b> ({}) \
         <form method=\"post\" action=\"/logout\" style=\"display:inline\"><button>Sign out</button></form></div></header>\
         <p>Bundle <code>{}</code></p>",
        esc(&person),
        if groups.is_empty() { "no approver groups".to_owned() } else { esc(&groups.join(", ")) },
        esc(policy.hash()),
    );
    if !query.error.is_empty() {
        let _ = write!(body, "<p class=\"error\" id=\"error\">{}</p>", esc(&query.error));
    }
    let store = state.store.lock();
    // The local administrator acting as a person sees what that person may answer.
    let viewer = match caller.name {
        Some(_) => caller.clone(),
        None => Caller { name: Some(person.clone()), scopes: vec![crate::auth::Scope::Approve] },
    };
    let visible = |r: &&Record| state.may_see(&viewer, r, r.policy.as_deref().unwrap_or(&policy));
    let pending: Vec<&Record> = store.newest_first().filter(|r| r.status == Status::Pending).filter(visible).collect();
    let _ = write!(body, "<h2>Pending escalations ({})</h2>", pending.len());
    if pending.is_empty() {
        body.push_str("<p id=\"empty\">Nothing waits for you.</p>");
    }
    for record in pending {
        body.push_str(&card(record));
    }
    let _ = write!(
        body,
        "<h2>History</h2><form method=\"get\" action=\"/\"><input id=\"q\" name=\"q\" value=\"{}\" \
         placeholder=\"search id, requester, rule, outcome, request\"> <button>Search</button></form>\
         <table id=\"history\"><tr><th>id</th><th>received</th><th>requested by</th><th>outcome</th><th>status</th>\
         <th>rules</th></tr>",
        esc(&query.q)
    );
    let needle = query.q.to_lowercase();
    for record in store.newest_first().filter(visible).filter(|r| matches(r, &needle)).take(HISTORY_ROWS) {
        let outcome = record.outcome().name();
        let _ = write!(
            body,
            "<tr id=\"row-{id}\"><td><code>{id}</code></td><td>{}</td><td>{}</td><td class=\"{outcome}\">{outcome}</td>\
             <td>{}</td><td>{}</td></tr>",
            esc(&gov_value::format_time(record.received_at)),
            esc(record.first.requester.as_deref().unwrap_or("")),
            record.status.name(),
            esc(&rules(&record.current).join(", ")),
            id = esc(&record.id),
        );
    }
    body.push_str("</table>");
    page_html("Gov inbox", &body).into_response()
}

/// Whether a record matches a history search (lowercase).
fn matches(record: &Record, needle: &str) -> bool {
    needle.is_empty()
        || [
            &*record.id,
            record.first.requester.as_deref().unwrap_or(""),
            record.outcome().name(),
            record.status.name(),
            record.request.as_str(),
        ]
        .iter()
        .any(|text| text.to_lowercase().contains(needle))
        || rules(&record.current).iter().any(|r| r.to_lowercase().contains(needle))
}

/// The names of the fired rules of a decision.
fn rules(evaluated: &Evaluated) -> Vec<&str> {
    evaluated.rules.iter().map(|(rule, _)| rule.as_str()).collect()
}

/// A list of reasons (`rule`, `effect`, `message`, `at`) as HTML.
fn reasons_html(items: Option<&Json>) -> String {
    let mut html = String::from("<ul>");
    for item in items.and_then(Json::as_array).into_iter().flatten() {
        let field = |name: &str| esc(item.get(name).and_then(Json::as_str).unwrap_or_default());
        let points = item.get("points").map(|p| format!("+{p} ")).unwrap_or_default();
        let _ = write!(
            html,
            "<li><span class=\"{effect}\">{effect}</span> {points}<b>{}</b>: {} <small>{}</small></li>",
            field("rule"),
            field("message"),
            field("at"),
            effect = field("effect"),
        );
    }
    html.push_str("</ul>");
    html
}

/// One pending escalation.
fn card(record: &Record) -> String {
    let document = &record.current.json();
    let pretty = |json: &Json| esc(&serde_json::to_string_pretty(json).unwrap_or_default());
    let risk = document.get("risk");
    let score = risk.and_then(|r| r.get("score")).map(ToString::to_string).unwrap_or_default();
    let mut approvals = String::new();
    for a in &record.approvals {
        let _ = write!(
            approvals,
            "<li>{} {} for {} at {}{}</li>",
            esc(&a.person),
            if a.approve { "approved" } else { "rejected" },
            esc(&a.group),
            esc(&gov_value::format_time(a.at)),
            if a.comment.is_empty() { String::new() } else { format!(": “{}”", esc(&a.comment)) },
        );
    }
    let explanation = record
        .current
        .explanation
        .as_ref()
        .map(|e| format!("<details><summary>Derivation</summary><pre>{}</pre></details>", pretty(e)))
        .unwrap_or_default();
    format!(
        "<div class=\"card\" id=\"d-{id}\"><h3>{id}: <span class=\"escalate\">escalate</span> to {groups}</h3>\
         <p>Requested by <b>{requester}</b> at {received}; expires {expires}</p>\
         <h4>Reasons</h4>{reasons}<h4>Risk {score}</h4>{contributions}<h4>Obligations</h4>{obligations}\
         <h4>Approvals so far</h4><ul>{approvals}</ul>\
         <details><summary>Request</summary><pre>{request}</pre></details>{explanation}\
         <form method=\"post\" action=\"/inbox/decisions/{id}\"><textarea name=\"comment\" id=\"comment-{id}\" \
         placeholder=\"comment\"></textarea><button name=\"verdict\" value=\"approve\" id=\"approve-{id}\">Approve</button> \
         <button name=\"verdict\" value=\"reject\" id=\"reject-{id}\">Reject</button></form></div>",
        id = esc(&record.id),
        groups = esc(&record.current.groups.join(", ")),
        requester = esc(record.first.requester.as_deref().unwrap_or("(unknown)")),
        received = esc(&gov_value::format_time(record.received_at)),
        expires = record.expires_at.map(|t| esc(&gov_value::format_time(t))).unwrap_or_else(|| "never".to_owned()),
        reasons = reasons_html(document.get("reasons")),
        contributions = reasons_html(risk.and_then(|r| r.get("contributions"))),
        obligations = reasons_html(document.get("obligations")),
        request = esc(&serde_json::from_str::<Json>(&record.request).map(|j| pretty(&j)).unwrap_or_default()),
    )
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The token (or the name, without a token file).
    token: String,
}

/// The cookie that keeps `value`, or clears it when `None`.
fn set_cookie(value: Option<&str>) -> String {
    match value {
        Some(value) => format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", percent_encode(value)),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    }
}

/// `POST /login`.
pub async fn login(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(error) = same_origin(&headers) {
        return error.into_response();
    }
    let token = form.token.trim().to_owned();
    let mut check = HeaderMap::new();
    if let Ok(value) = format!("Bearer {token}").parse() {
        check.insert(header::AUTHORIZATION, value);
    }
    match state.auth.caller(&check, peer) {
        Ok(_) if !token.is_empty() => {
            ([(header::SET_COOKIE, set_cookie(Some(&token)))], Redirect::to("/")).into_response()
        }
        Ok(_) => (StatusCode::BAD_REQUEST, page_html("Gov inbox: sign in", &login_form(&state, Some("empty"))))
            .into_response(),
        Err(error) => {
            (error.status, page_html("Gov inbox: sign in", &login_form(&state, Some(&error.message)))).into_response()
        }
    }
}

/// `POST /logout`.
pub async fn logout() -> Response {
    ([(header::SET_COOKIE, set_cookie(None))], Redirect::to("/")).into_response()
}

/// The answer form's fields.
#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    /// `approve` or `reject`.
    verdict: String,
    /// The comment.
    #[serde(default)]
    comment: String,
}

/// `POST /inbox/decisions/{id}`: an answer from the page; back to the page after.
pub async fn answer(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let result = async {
        same_origin(&headers)?;
        let (caller, person) = signed_in(&state, &headers, peer)?
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "sign in first"))?;
        let person = caller.name.is_none().then_some(person);
        let approve = match form.verdict.as_str() {
            "approve" => true,
            "reject" => false,
            other => {
                return Err(ApiError::bad_request(format!("verdict: expected approve or reject, found `{other}`")));
            }
        };
        state.answer(&caller, &id, Answer { approve, group: None, comment: form.comment, person }).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/").into_response(),
        Err(error) => {
            state.metrics.error(error.code);
            Redirect::to(&format!("/?error={}", percent_encode(&error.message))).into_response()
        }
    }
}

/// Refuses a form posted from another site (the cookie is `SameSite=Strict` too): an
/// `Origin` header, when sent, must name the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (None, _) => Ok(()),
        (Some(origin), Some(host)) if origin.split_once("://").is_some_and(|(_, rest)| rest == host) => Ok(()),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "cross_origin", "a form from another site is refused")),
    }
}
