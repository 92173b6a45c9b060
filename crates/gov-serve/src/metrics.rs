//! Prometheus metrics (`GET /metrics`, text format, through `prometheus-client`).

use gov_vm::Outcome;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A label set of one `name` label's value.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `allow`, `deny` or `escalate`.
    pub outcome: String,
}

/// A fired rule.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabel {
    /// The rule's name.
    pub rule: String,
    /// Its effect.
    pub effect: String,
}

/// An error code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The stable code.
    pub code: String,
}

/// The loaded bundle.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BundleLabel {
    /// Its content hash.
    pub hash: String,
}

/// A reload's result.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    /// `ok` or `refused`.
    pub result: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Decisions by outcome (approval re-decisions included).
    pub decisions: Family<OutcomeLabel, Counter>,
    /// The counters of `decisions` for allow, deny and escalate, made once (no label to
    /// build and hash per decision). Invariant: each is the family's counter of its label.
    outcomes: [Counter; 3],
    /// Fired decision rules.
    pub rules: Family<RuleLabel, Counter>,
    /// Time to decide a request, reading and logging included.
    pub latency: Histogram,
    /// Errors answered, by code.
    pub errors: Family<CodeLabel, Counter>,
    /// Escalations waiting for approvers.
    pub pending: Gauge,
    /// Long polls waiting.
    pub polls: Gauge,
    /// 1 for the loaded bundle's hash.
    pub bundle: Family<BundleLabel, Gauge>,
    /// When the bundle was loaded (Unix seconds).
    pub loaded: Gauge<f64, AtomicU64>,
    /// Reloads, by result.
    pub reloads: Family<ResultLabel, Counter>,
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("gov");
        let decisions = Family::<OutcomeLabel, Counter>::default();
        let outcomes = [Outcome::Allow, Outcome::Deny, Outcome::Escalate]
            .map(|o| decisions.get_or_create(&OutcomeLabel { outcome: o.name().to_owned() }).clone());
        let metrics = Metrics {
            decisions,
            outcomes,
            rules: Family::default(),
            latency: Histogram::new(exponential_buckets(0.000_01, 2.0, 18)),
            errors: Family::default(),
            pending: Gauge::default(),
            polls: Gauge::default(),
            bundle: Family::default(),
            loaded: Gauge::default(),
            reloads: Family::default(),
            registry: Registry::default(),
        };
        registry.register("decisions", "Decisions by outcome", metrics.decisions.clone());
        registry.register("rule_firings", "Fired decision rules by rule and effect", metrics.rules.clone());
        registry.register("decision_seconds", "Time to answer a decision", metrics.latency.clone());
        registry.register("errors", "Errors answered, by code", metrics.errors.clone());
        registry.register("pending_approvals", "Escalations waiting for approvers", metrics.pending.clone());
        registry.register("long_polls", "Long polls waiting", metrics.polls.clone());
        registry.register("bundle_info", "The loaded bundle (1 for its hash)", metrics.bundle.clone());
        registry.register("bundle_loaded_timestamp_seconds", "When the bundle was loaded", metrics.loaded.clone());
        registry.register("bundle_reloads", "Bundle reloads by result", metrics.reloads.clone());
        Metrics { registry, ..metrics }
    }

    /// Counts a decision and its fired rules (name and effect, those of its `reasons`).
    pub fn decided(&self, outcome: Outcome, rules: &[(String, &'static str)]) {
        let index = match outcome {
            Outcome::Allow => 0,
            Outcome::Deny => 1,
            Outcome::Escalate => 2,
        };
        if let Some(counter) = self.outcomes.get(index) {
            counter.inc();
        }
        for (rule, effect) in rules {
            self.rules.get_or_create(&RuleLabel { rule: rule.clone(), effect: (*effect).to_owned() }).inc();
        }
    }

    /// Counts an error answered.
    pub fn error(&self, code: &str) {
        self.errors.get_or_create(&CodeLabel { code: code.to_owned() }).inc();
    }

    /// Records a loaded bundle.
    pub fn bundle_loaded(&self, hash: &str, loaded_at_nanos: i64) {
        self.bundle.clear();
        self.bundle.get_or_create(&BundleLabel { hash: hash.to_owned() }).set(1);
        #[allow(clippy::cast_precision_loss)] // seconds since 1970 as f64: exact to the microsecond
        self.loaded.set(loaded_at_nanos as f64 / 1e9);
    }

    /// The metrics in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}
