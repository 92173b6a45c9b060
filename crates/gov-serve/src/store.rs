//! The decisions the service has made, in memory: each request, its decision, and for an
//! escalation its approvals, state and expiry. Waiters (long polls) are woken on every
//! change.

use crate::decide::{Approval, Evaluated};
use crate::policy::Policy;
use gov_vm::Outcome;
use serde_json::{Value as Json, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Where a decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Decided at once (allow or deny).
    Decided,
    /// Escalated, waiting for approvers.
    Pending,
    /// Escalated, then decided again with the approvals given (allow or deny).
    Resolved,
    /// Escalated and rejected by an approver: deny.
    Rejected,
    /// Escalated and not answered in time: deny.
    Expired,
}

impl Status {
    /// The name in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Decided => "decided",
            Status::Pending => "pending",
            Status::Resolved => "resolved",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
        }
    }
}

/// One decision and what became of it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Its id (shared with the store's index and arrival order: one allocation).
    pub id: Arc<str>,
    /// When it arrived (the service clock, nanoseconds).
    pub received_at: i64,
    /// The request as the caller sent it.
    pub request: String,
    /// The policy it was decided with, kept for escalations (re-decided with it).
    pub policy: Option<Arc<Policy>>,
    /// The bundle hash it was decided with (the policy's, shared).
    pub bundle: Arc<str>,
    /// The first decision (shared with `current` until an approval decides again).
    pub first: Arc<Evaluated>,
    /// The latest decision (the first, or the re-decision after the last approval).
    pub current: Arc<Evaluated>,
    /// Where it stands.
    pub status: Status,
    /// Approvals and rejections, in order.
    pub approvals: Vec<Approval>,
    /// When a pending escalation expires (the service clock).
    pub expires_at: Option<i64>,
}

impl Record {
    /// The outcome the caller should act on: escalate while pending, deny once rejected or
    /// expired, else the latest decision's.
    pub fn outcome(&self) -> Outcome {
        match self.status {
            Status::Pending => Outcome::Escalate,
            Status::Rejected | Status::Expired => Outcome::Deny,
            Status::Decided | Status::Resolved => self.current.outcome,
        }
    }

    /// The groups the escalation went to (those of the first decision and of the latest).
    pub fn groups(&self) -> Vec<String> {
        let mut groups = self.first.groups.clone();
        groups.extend(self.current.groups.iter().filter(|g| !self.first.groups.contains(g)).cloned());
        groups
    }

    /// Whether it ever escalated.
    pub fn escalated(&self) -> bool {
        self.first.outcome == Outcome::Escalate
    }

    /// The record as `GET /v1/decisions/{id}` shows it.
    pub fn view(&self, explain: bool) -> Json {
        let time = |t: i64| Json::String(gov_value::format_time(t));
        let mut view = json!({
            "id": &*self.id,
            "status": self.status.name(),
            "outcome": self.outcome().name(),
            "received_at": time(self.received_at),
            "requested_by": self.first.requester,
            "bundle": &*self.bundle,
            "decision": self.current.json(),
            "request": serde_json::from_str::<Json>(&self.request).unwrap_or(Json::Null),
        });
        if let Some(object) = view.as_object_mut() {
            if self.escalated() {
                object.insert("groups".to_owned(), json!(self.groups()));
                object.insert("initial".to_owned(), self.first.json());
                let approvals: Vec<Json> = self
                    .approvals
                    .iter()
                    .map(|a| {
                        json!({
                            "person": a.person,
                            "group": a.group,
                            "verdict": if a.approve { "approve" } else { "reject" },
                            "comment": a.comment,
                            "at": time(a.at),
                        })
                    })
                    .collect();
                object.insert("approvals".to_owned(), Json::Array(approvals));
            }
            if let Some(expires) = self.expires_at.filter(|_| self.status == Status::Pending) {
                object.insert("expires_at".to_owned(), time(expires));
            }
            if let Some(explanation) = self.current.explanation.as_ref().filter(|_| explain) {
                object.insert("explanation".to_owned(), explanation.clone());
            }
        }
        view
    }
}

/// The records, bounded: past `capacity`, the oldest finished ones are forgotten (pending
/// escalations are kept until they are answered or expire).
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Inner>,
    /// Woken on every change.
    pub changed: Notify,
}

/// The records' index, by id: foldhash rather than SipHash (ids are the service's own,
/// not chosen by callers).
pub type Records = HashMap<Arc<str>, Record, foldhash::fast::RandomState>;

/// The records and their arrival order.
#[derive(Debug)]
pub struct Inner {
    /// By id.
    pub records: Records,
    /// Ids, oldest first.
    order: VecDeque<Arc<str>>,
    capacity: usize,
}

impl Store {
    /// An empty store keeping about `capacity` finished decisions.
    pub fn new(capacity: usize) -> Store {
        let inner = Inner { records: Records::default(), order: VecDeque::new(), capacity: capacity.max(1) };
        Store { inner: Mutex::new(inner), changed: Notify::new() }
    }

    /// The records, locked.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while locked leaves the records consistent (each change is one insert or
        // one field update), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    /// Adds a record, forgetting the oldest finished ones beyond the capacity.
    pub fn insert(&mut self, record: Record) {
        self.order.push_back(record.id.clone());
        self.records.insert(record.id.clone(), record);
        let mut kept = VecDeque::new();
        while self.records.len() > self.capacity {
            let Some(oldest) = self.order.pop_front() else { break };
            if self.records.get(&*oldest).is_some_and(|r| r.status == Status::Pending) {
                kept.push_back(oldest);
            } else {
                self.records.remove(&*oldest);
            }
        }
        while let Some(id) = kept.pop_back() {
            self.order.push_front(id);
        }
    }

    /// Marks every pending escalation whose time is up as expired; returns their ids.
    pub fn expire(&mut self, now: i64) -> Vec<String> {
        let mut expired = Vec::new();
        for record in self.records.values_mut() {
            if record.status == Status::Pending && record.expires_at.is_some_and(|t| now >= t) {
                record.status = Status::Expired;
                record.policy = None;
                expired.push(record.id.to_string());
            }
        }
        expired
    }

    /// The records, newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Record> {
        self.order.iter().rev().filter_map(|id| self.records.get(&**id))
    }

    /// How many escalations are pending.
    pub fn pending(&self) -> usize {
        self.records.values().filter(|r| r.status == Status::Pending).count()
    }
}
