//! The service's shared state and the operations both the API and the inbox page use:
//! deciding, answering an escalation, and listing what a caller may see.

use crate::Config;
use crate::auth::{Auth, Caller, Scope};
use crate::clock::Clock;
use crate::decide::{self, Approval};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::store::{Record, Status, Store};
use axum::http::StatusCode;
use gov_audit::{AuditLog, Entry, EntryKind, JsonField};
use gov_vm::Outcome;
use serde_json::json;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// Everything the handlers share.
pub struct State {
    /// The flags.
    pub config: Config,
    /// How callers are authenticated.
    pub auth: Auth,
    /// The service clock.
    pub clock: Arc<dyn Clock>,
    /// The metrics.
    pub metrics: Metrics,
    /// The decisions.
    pub store: Store,
    /// The current policy; a request takes its `Arc` and finishes on it across a reload.
    policy: RwLock<Arc<Policy>>,
    /// `true` once the service is stopping.
    stopping: watch::Sender<bool>,
    /// A random prefix of this run's decision ids: 8 hex digits and a dash.
    id_prefix: String,
    /// The next decision number.
    next_id: AtomicU64,
    /// The audit log, if any.
    audit: Option<Arc<AuditLog>>,
}

impl State {
    /// Loads the policy.
    pub fn new(config: Config, auth: Auth, clock: Arc<dyn Clock>) -> Result<State, String> {
        let policy = Policy::load(&config.source, clock.now())?;
        let metrics = Metrics::new();
        metrics.bundle_loaded(policy.hash(), policy.loaded_at);
        let mut prefix = [0u8; 4];
        getrandom::fill(&mut prefix).map_err(|e| format!("cannot get random bytes: {e}"))?;
        let audit = match &config.log {
            Some((dir, options)) => {
                let log = AuditLog::open(dir, options.clone()).map_err(|e| format!("the audit log: {e}"))?;
                log.append(bundle_entry(clock.now(), Ok(policy.hash()))).map_err(|e| format!("the audit log: {e}"))?;
                Some(Arc::new(log))
            }
            None => None,
        };
        Ok(State {
            audit,
            store: Store::new(config.history),
            config,
            auth,
            clock,
            metrics,
            policy: RwLock::new(Arc::new(policy)),
            stopping: watch::channel(false).0,
            id_prefix: format!("{:08x}-", u32::from_le_bytes(prefix)),
            next_id: AtomicU64::new(1),
        })
    }

    /// The current policy.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Replaces the policy; requests in flight finish on the one they took.
    pub fn set_policy(&self, policy: Policy) {
        self.metrics.bundle_loaded(policy.hash(), policy.loaded_at);
        *self.policy.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(policy);
    }

    /// Marks the service as stopping (long polls answer at once).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
        self.store.changed.notify_waiters();
    }

    /// A receiver that sees the service stop.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Expires escalations whose time is up, wakes their waiters and logs them.
    pub async fn expire(&self) {
        let now = self.clock.now();
        let expired = self.store.lock().expire(now);
        self.expired(now, expired).await;
    }

    /// Wakes the waiters of escalations that just expired and logs them.
    async fn expired(&self, now: i64, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        self.store.changed.notify_waiters();
        for id in ids {
            let mut entry = Entry::new(EntryKind::Decision, id);
            entry.time = system_time(now);
            entry.decision = json!({ "decision": "deny", "status": "expired" }).into();
            if let Err(error) = self.log(entry).await {
                eprintln!("govc serve: {}", error.message);
            }
        }
    }

    /// Decides a request's text: the answer is the decision JSON plus `id` and `status`,
    /// as JSON text. The decision is in the audit log before it is answered. The text is
    /// kept as the record's request (moved, not copied).
    pub async fn decide(&self, text: String) -> Result<String, ApiError> {
        let start = std::time::Instant::now();
        let policy = self.policy();
        let evaluated = Arc::new(decide::evaluate(&policy, &text, true)?);
        let now = self.clock.now();
        let id = self.next_id();
        let escalated = evaluated.outcome == Outcome::Escalate;
        let status = if escalated { Status::Pending } else { Status::Decided };
        // The decision is written once: the answer is that text with `id` and `status`
        // added, and the log's record carries the same text.
        let answer = with_id(&evaluated.document, &id, status);
        self.metrics.decided(evaluated.outcome, &evaluated.rules);
        if self.audit.is_some() {
            let mut entry = Entry::new(EntryKind::Decision, id.clone());
            entry.time = system_time(now);
            entry.bundle_hash = Some(policy.hash().to_owned());
            // The request as received (compacted to one line): its numbers keep their
            // digits. The engine read it as JSON above, so it is not checked again.
            entry.request = JsonField::read(&text);
            entry.reasons = evaluated.reasons().map(|r| JsonField::written(r.to_owned())).unwrap_or_default();
            entry.decision = JsonField::written(evaluated.document.clone());
            entry.duration_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.log(entry).await?;
        }
        let record = Record {
            id: Arc::from(id),
            received_at: now,
            request: text,
            bundle: policy.shared_hash(),
            policy: escalated.then_some(policy.clone()),
            first: evaluated.clone(),
            current: evaluated,
            status,
            approvals: Vec::new(),
            expires_at: escalated.then(|| now.saturating_add(nanos(self.config.approval_timeout))),
        };
        self.store.lock().insert(record);
        Ok(answer)
    }

    /// The next decision id: the run's prefix, then a number.
    fn next_id(&self) -> String {
        let number = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut id = String::with_capacity(self.id_prefix.len() + 20);
        id.push_str(&self.id_prefix);
        // Writing into a String cannot fail.
        let _ = write!(id, "{number}");
        id
    }

    /// Appends to the audit log (if any) and waits until it is written (and synced, as
    /// `--fsync` says). Waits without a thread: the line is chained here, then the task
    /// yields once, so that the requests this worker has ready chain theirs too; the
    /// first back writes every line not yet written with one positioned write into the
    /// page cache (no lock held; `interval`: a handler never waits for another one's
    /// write, it writes those lines too), or the syncer (`always`) completes a oneshot
    /// once it has written and synced the batch the line is in. No lock is held across a
    /// write and no sync runs on the runtime's threads, so a write stalled by the disk or
    /// a preempted worker holds up only the worker writing, never the lock.
    pub async fn log(&self, entry: Entry) -> Result<(), ApiError> {
        let Some(audit) = &self.audit else { return Ok(()) };
        let (reply, written) = tokio::sync::oneshot::channel();
        let unwritten = audit
            .submit_later(entry, move |result| {
                // The handler may have timed out and gone: the record is written all the same.
                let _ = reply.send(result);
            })
            .map_err(|e| audit_failed(&e))?;
        // Group commit within the runtime's turn: tokio runs the tasks that are ready
        // before this one resumes. Dropped here (or with the future), it writes the batch.
        tokio::task::yield_now().await;
        drop(unwritten);
        match written.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(audit_failed(&e)),
            Err(_) => Err(audit_failed(&"its writer stopped")),
        }
    }

    /// Logs a bundle load or a refused reload.
    pub async fn log_bundle(&self, loaded: Result<&str, &str>) {
        if let Err(error) = self.log(bundle_entry(self.clock.now(), loaded)).await {
            eprintln!("govc serve: {}", error.message);
        }
    }

    /// Closes the audit log, if this is the last holder of the state (else the log
    /// closes when the last holder drops it).
    pub fn close_log(self: Arc<State>) -> Result<(), String> {
        let Ok(state) = Arc::try_unwrap(self) else { return Ok(()) };
        match state.audit.map(Arc::try_unwrap) {
            Some(Ok(log)) => log.close().map_err(|e| format!("closing the audit log: {e}")),
            _ => Ok(()),
        }
    }

    /// The groups `caller` may answer for under `policy`: all for the local administrator,
    /// else the token name's `approver` groups.
    pub fn groups(&self, caller: &Caller, policy: &Policy) -> Option<BTreeSet<String>> {
        caller.name.as_ref().map(|name| policy.groups.get(name).cloned().unwrap_or_default())
    }

    /// Whether `caller` may see `record` in a queue or the history: an administrator sees
    /// everything; an approver the escalations to their groups.
    pub fn may_see(&self, caller: &Caller, record: &Record, policy: &Policy) -> bool {
        if caller.may(Scope::Admin) {
            return true;
        }
        match self.groups(caller, policy) {
            None => true,
            Some(groups) => record.groups().iter().any(|g| groups.contains(g)),
        }
    }

    /// An approver's answer to an escalation: approve (decide again with the approval
    /// facts) or reject (deny). The person is the token's name; only the local
    /// administrator (no token file) names one.
    pub async fn answer(&self, caller: &Caller, id: &str, answer: Answer) -> Result<serde_json::Value, ApiError> {
        let start = std::time::Instant::now();
        let now = self.clock.now();
        let expired = self.store.lock().expire(now);
        self.expired(now, expired).await;
        let (view, mut entry) = self.answer_in_store(caller, id, answer)?;
        entry.duration_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.log(entry).await?;
        Ok(view)
    }

    /// [`State::answer`] on the records; returns the record's view and its log entry.
    fn answer_in_store(
        &self,
        caller: &Caller,
        id: &str,
        answer: Answer,
    ) -> Result<(serde_json::Value, Entry), ApiError> {
        caller.require(Scope::Approve)?;
        let person = match (&caller.name, answer.person) {
            (Some(name), None) => name.clone(),
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "`person` is not accepted: an approval is recorded for the token's name",
                )
                .at("person"));
            }
            (None, Some(person)) if !person.trim().is_empty() => person.trim().to_owned(),
            (None, _) => {
                return Err(ApiError::bad_request(
                    "without --tokens, name the approver: `person` is the person approving",
                )
                .at("person"));
            }
        };
        let now = self.clock.now();
        let mut store = self.store.lock();
        let record = store.records.get_mut(id).ok_or_else(|| ApiError::not_found(format!("no decision `{id}`")))?;
        let policy = match (&record.policy, record.status) {
            (Some(policy), Status::Pending) => policy.clone(),
            _ => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_pending",
                    format!("decision `{id}` is {}, not waiting for approvers", record.status.name()),
                ));
            }
        };
        let mine = policy.groups.get(&person).cloned().unwrap_or_default();
        let groups: Vec<String> = record
            .current
            .groups
            .iter()
            .filter(|g| mine.contains(*g) && answer.group.as_ref().is_none_or(|wanted| wanted == *g))
            .cloned()
            .collect();
        if groups.is_empty() {
            let asked = answer.group.unwrap_or_else(|| record.current.groups.join(", "));
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_an_approver",
                format!("{person} is not an approver of {asked} (the policy's `approver` facts)"),
            ));
        }
        // The request's clock: its own time, moved on by the service's since it arrived.
        let at = record.first.request_time.map_or(now, |t| t.saturating_add(now.saturating_sub(record.received_at)));
        let mut approvals = record.approvals.clone();
        approvals.extend(groups.into_iter().map(|group| Approval {
            person: person.clone(),
            group,
            approve: answer.approve,
            comment: answer.comment.clone(),
            at,
        }));
        if answer.approve {
            let time = record.first.request_time.map(|_| at);
            let text = decide::redecision(&policy, &record.request, time, &approvals)?;
            let evaluated = decide::evaluate(&policy, &text, false)?;
            self.metrics.decided(evaluated.outcome, &evaluated.rules);
            if evaluated.outcome != Outcome::Escalate {
                record.status = Status::Resolved;
                record.policy = None;
            }
            record.current = Arc::new(evaluated);
        } else {
            record.status = Status::Rejected;
            record.policy = None;
        }
        record.approvals = approvals;
        let view = record.view(false);
        let mut entry = Entry::new(EntryKind::Approval, record.id.to_string());
        entry.time = system_time(now);
        entry.bundle_hash = Some(record.bundle.to_string());
        entry.approver = Some(person);
        entry.request = json!({
            "verdict": if answer.approve { "approve" } else { "reject" },
            "comment": answer.comment,
            "status": record.status.name(),
        })
        .into();
        entry.reasons = record.current.reasons().map(|r| JsonField::written(r.to_owned())).unwrap_or_default();
        entry.decision = if answer.approve {
            JsonField::written(record.current.document.clone())
        } else {
            json!({ "decision": "deny", "status": "rejected" }).into()
        };
        drop(store);
        self.store.changed.notify_waiters();
        Ok((view, entry))
    }
}

/// An approver's answer.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Approve or reject.
    pub approve: bool,
    /// Only for this group (else every group of the escalation the person approves for).
    pub group: Option<String>,
    /// The approver's comment.
    pub comment: String,
    /// The person, named by the local administrator only.
    pub person: Option<String>,
}

/// The log entry of a bundle load (`Ok(hash)`) or a refused one (`Err(why)`).
fn bundle_entry(now: i64, loaded: Result<&str, &str>) -> Entry {
    let mut entry = Entry::new(EntryKind::BundleLoad, "bundle");
    entry.time = system_time(now);
    match loaded {
        Ok(hash) => {
            entry.bundle_hash = Some(hash.to_owned());
            entry.decision = json!("loaded").into();
        }
        Err(error) => {
            entry.decision = json!("refused").into();
            entry.reasons = json!([{ "error": error }]).into();
        }
    }
    entry
}

/// The answer to a decision: its rendered JSON object with `id` and `status` added last.
fn with_id(decision: &str, id: &str, status: Status) -> String {
    // Invariant: a decision document is a JSON object with at least `decision` in it,
    // so it ends with `}` after a field; the id is hex digits, a dash and digits.
    let fields = decision.strip_suffix('}').unwrap_or(decision);
    let status = status.name();
    let mut answer = String::with_capacity(fields.len() + id.len() + status.len() + 24);
    for part in [fields, ",\"id\":\"", id, "\",\"status\":\"", status, "\"}"] {
        answer.push_str(part);
    }
    answer
}

/// The answer when the audit log cannot take or write a record: 503 `audit_failed`.
fn audit_failed(error: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "audit_failed", format!("the audit log failed: {error}"))
}

/// A service clock reading as a `SystemTime`.
fn system_time(nanos: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// A duration in nanoseconds, saturating.
pub fn nanos(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::policy::Source;

    /// A logged decision waits for its record without a blocking thread: with the runtime's
    /// only blocking thread held, it is still answered, and its record is in the log.
    #[test]
    fn a_logged_decision_needs_no_blocking_thread() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let log = std::env::temp_dir().join(format!("gov-serve-no-blocking-thread-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&log);
        let source = Source {
            path: root.join("examples/finance"),
            data: Vec::new(),
            public_key: None,
            limits: gov_vm::Limits::default(),
        };
        let mut config = Config::new(source, "127.0.0.1:0".parse().unwrap());
        config.log = Some((log.clone(), gov_audit::LogOptions::default()));
        let state = State::new(config, Auth::LoopbackOnly, Arc::new(ManualClock::new(0))).unwrap();
        let request = std::fs::read_to_string(root.join("examples/finance/requests/routine_payment.json")).unwrap();

        let runtime =
            tokio::runtime::Builder::new_current_thread().max_blocking_threads(1).enable_all().build().unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let holder = runtime.spawn_blocking(move || held.recv());
        let answer = runtime
            .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), state.decide(request)).await });
        release.send(()).unwrap();
        runtime.block_on(holder).unwrap().unwrap();
        let answer = answer.expect("the decision waited for a blocking thread").unwrap();
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["decision"], "allow");
        drop(state);
        let id = answer["id"].as_str().unwrap().to_owned();
        let found = gov_audit::search(&log, &gov_audit::Query { id: Some(id), ..Default::default() }, None).unwrap();
        assert_eq!(found.found.len(), 1);
        let _ = std::fs::remove_dir_all(&log);
    }
}
