//! The JSON API's handlers.

use crate::auth::{Caller, Scope};
use crate::error::ApiError;
use crate::state::{Answer, State};
use crate::store::Status;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json_, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The state extractor.
type St = axum::extract::State<Arc<State>>;

/// Answers a result as JSON, counting errors.
fn respond(state: &State, result: Result<Json_, ApiError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(error) => {
            state.metrics.error(error.code);
            error.into_response()
        }
    }
}

/// The authenticated caller.
pub fn caller(state: &State, headers: &HeaderMap, peer: SocketAddr) -> Result<Caller, ApiError> {
    state.auth.caller(headers, peer)
}

/// A request body as UTF-8 text, or the error: 413 `payload_too_large` past the limit.
fn body_text(state: &State, body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is longer than the limit of {} bytes", state.config.max_body),
            )
        } else {
            ApiError::bad_request(format!("cannot read the body: {}", rejection.body_text()))
        }
    })?;
    // Without a copy when the body arrived in one buffer.
    String::from_utf8(Vec::from(bytes)).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `POST /v1/decide`. The hot path: the request is taken whole (no copy of its headers),
/// the caller is read from its headers in place, then its body is read under the body limit.
pub async fn decide(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let start = Instant::now();
    let work = async {
        let (parts, body) = request.into_parts();
        caller(&state, &parts.headers, peer)?.require(Scope::Decide)?;
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), &()).await;
        let text = body_text(&state, body)?;
        state.decide(text).await
    };
    let result = match tokio::time::timeout(state.config.timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the decision took too long")),
    };
    state.metrics.latency.observe(start.elapsed().as_secs_f64());
    match result {
        Ok(answer) => ([(header::CONTENT_TYPE, "application/json")], answer).into_response(),
        Err(error) => respond(&state, Err(error.denying())),
    }
}

/// The query of `GET /v1/decisions/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    /// Wait this long (`30s`) for a pending escalation to be answered.
    wait: Option<String>,
    /// Include the derivation of the latest decision.
    #[serde(default)]
    explain: bool,
}

/// `GET /v1/decisions/{id}`, with a long poll: `?wait=30s` answers as soon as a pending
/// escalation is answered or expires, or when the wait is over.
pub async fn decision(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<DecisionQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let caller = caller(&state, &headers, peer)?;
        if !caller.may(Scope::Decide) && !caller.may(Scope::Approve) {
            caller.require(Scope::Decide)?;
        }
        let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let wait = match &query.wait {
            None => std::time::Duration::ZERO,
            Some(text) => {
                let nanos = gov_value::parse_duration(text)
                    .map_err(|e| ApiError::bad_request(format!("wait: {e}")).at("wait"))?;
                std::time::Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)).min(state.config.max_wait)
            }
        };
        let deadline = tokio::time::Instant::now() + wait;
        let mut stopping = state.stopping();
        let _waiting = Waiting::new(&state.metrics.polls);
        loop {
            let notified = state.store.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            state.expire().await;
            {
                let store = state.store.lock();
                let record =
                    store.records.get(id.as_str()).ok_or_else(|| ApiError::not_found(format!("no decision `{id}`")))?;
                if record.status != Status::Pending || tokio::time::Instant::now() >= deadline || *stopping.borrow() {
                    return Ok(record.view(query.explain));
                }
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep_until(deadline) => {}
                _ = stopping.changed() => {}
            }
        }
    }
    .await;
    respond(&state, result)
}

/// Counts a long poll in `gov_long_polls` while it lives.
struct Waiting<'a>(&'a prometheus_client::metrics::gauge::Gauge);

impl<'a> Waiting<'a> {
    fn new(gauge: &'a prometheus_client::metrics::gauge::Gauge) -> Waiting<'a> {
        gauge.inc();
        Waiting(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The body of `POST /v1/decisions/{id}/approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// `approve` or `reject`.
    verdict: Verdict,
    /// Only for this group.
    group: Option<String>,
    /// A comment.
    #[serde(default)]
    comment: String,
    /// The approver, named only by the local administrator (no token file).
    person: Option<String>,
}

/// An approver's verdict.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Approve,
    Reject,
}

/// `POST /v1/decisions/{id}/approvals`.
pub async fn approve(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let caller = caller(&state, &headers, peer)?;
        caller.require(Scope::Approve)?;
        let text = body_text(&state, body)?;
        let body: ApprovalBody = serde_json::from_str(&text).map_err(|e| {
            ApiError::bad_request(format!("the approval: {e}")).at(format!("line {} column {}", e.line(), e.column()))
        })?;
        let answer = Answer {
            approve: matches!(body.verdict, Verdict::Approve),
            group: body.group,
            comment: body.comment,
            person: body.person,
        };
        let work = state.answer(&caller, &id, answer);
        tokio::time::timeout(state.config.timeout, work).await.unwrap_or_else(|_| {
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "timeout", "the approval took too long"))
        })
    }
    .await;
    respond(&state, result)
}

/// The query of `GET /v1/approvals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `pending` (the default), `resolved`, `rejected` or `expired`.
    status: Option<String>,
}

/// `GET /v1/approvals?status=pending`: the escalations to the caller's groups.
pub async fn queue(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    query: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let caller = caller(&state, &headers, peer)?;
        caller.require(Scope::Approve)?;
        let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let wanted = query.status.as_deref().unwrap_or("pending");
        let status = [Status::Pending, Status::Resolved, Status::Rejected, Status::Expired]
            .into_iter()
            .find(|s| s.name() == wanted)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "status: expected pending, resolved, rejected or expired, found `{wanted}`"
                ))
                .at("status")
            })?;
        state.expire().await;
        let policy = state.policy();
        let store = state.store.lock();
        let items: Vec<Json_> = store
            .newest_first()
            .filter(|r| r.status == status && state.may_see(&caller, r, r.policy.as_deref().unwrap_or(&policy)))
            .map(|r| r.view(true))
            .collect();
        Ok(json!({ "approvals": items }))
    }
    .await;
    respond(&state, result)
}

/// `GET /health`: the bundle and the pending escalations; no token needed.
pub async fn health(axum::extract::State(state): St) -> Response {
    let policy = state.policy();
    let pending = state.store.lock().pending();
    Json(json!({
        "status": "ok",
        "bundle": policy.hash(),
        "loaded_at": gov_value::format_time(policy.loaded_at),
        "pending": pending,
    }))
    .into_response()
}

/// `GET /metrics`: Prometheus text; the `admin` scope.
pub async fn metrics(
    axum::extract::State(state): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match caller(&state, &headers, peer).and_then(|c| c.require(Scope::Admin).map(|_| ())) {
        Ok(()) => {
            let pending = state.store.lock().pending();
            state.metrics.pending.set(i64::try_from(pending).unwrap_or(i64::MAX));
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.encode())
                .into_response()
        }
        Err(error) => respond(&state, Err(error)),
    }
}

/// Any other path: 404 `not_found` as JSON.
pub async fn not_found(axum::extract::State(state): St) -> Response {
    respond(&state, Err(ApiError::not_found("no such endpoint (docs/serve.md lists them)")))
}
