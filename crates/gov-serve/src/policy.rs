//! The loaded policy: a bundle (read and, with a public key, verified by gov-vm) or a
//! package (checked and compiled through gov-driver), with what the service reads of it:
//! the relations approvals are written to and each person's approver groups.

use gov_driver::Package;
use gov_driver::fs::Disk;
use gov_value::BaseType;
use gov_vm::{Engine, Limits, Request, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the policy comes from; kept to reload it.
#[derive(Debug, Clone)]
pub struct Source {
    /// A bundle (`.govb`) or a package (a directory or one `.gov` file).
    pub path: PathBuf,
    /// Extra data files (packages only).
    pub data: Vec<PathBuf>,
    /// Require a bundle signed by this ed25519 public key.
    pub public_key: Option<[u8; 32]>,
    /// Bounds on each request's evaluation.
    pub limits: Limits,
}

impl Source {
    /// Whether the source is a bundle.
    pub fn is_bundle(&self) -> bool {
        self.path.extension().is_some_and(|e| e == "govb")
    }

    /// The files whose change triggers a reload: the bundle, or the package's sources and
    /// data files. A package directory is listed again at each look, so a new file counts.
    pub fn watched_files(&self) -> Vec<PathBuf> {
        let mut files = if self.is_bundle() {
            vec![self.path.clone()]
        } else {
            gov_driver::load::files(&Disk, &self.path).map(|f| [f.sources, f.data].concat()).unwrap_or_default()
        };
        files.extend(self.data.iter().cloned());
        files
    }
}

/// The std.approvals relations a re-decision writes, found by name and checked for shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalRelations {
    /// `approval(person: Str, group: Str)`.
    pub approval: u32,
    /// `approval_at(person: Str, group: Str, at: Time)`.
    pub approval_at: u32,
}

/// A policy ready to decide.
#[derive(Debug)]
pub struct Policy {
    /// The engine, with the request limits applied.
    pub engine: Engine,
    /// `request_time(at: Time)`, if the policy declares it (std.time).
    pub request_time: Option<u32>,
    /// `requested_by(requester: Str)`, if declared (std.approvals).
    pub requested_by: Option<u32>,
    /// The approval relations, if the policy uses std.approvals.
    pub approvals: Option<ApprovalRelations>,
    /// Each person's approver groups (the bundle's `approver(person, group)` facts).
    pub groups: HashMap<String, BTreeSet<String>>,
    /// When it was loaded (the service clock, nanoseconds).
    pub loaded_at: i64,
    /// The engine's bundle hash, shared by the records of the decisions it makes (one
    /// allocation per policy, not per decision).
    shared_hash: Arc<str>,
}

impl Policy {
    /// Loads the policy of `source` at time `now`. The error says why, naming the file.
    pub fn load(source: &Source, now: i64) -> Result<Policy, String> {
        let shown = gov_driver::load::display(&source.path);
        let bytes = if source.is_bundle() {
            if !source.data.is_empty() {
                return Err("--data applies to packages; a bundle carries its data".to_owned());
            }
            std::fs::read(&source.path).map_err(|e| format!("cannot read `{shown}`: {e}"))?
        } else {
            if source.public_key.is_some() {
                return Err(
                    "--public-key applies to bundles (`.govb`); a package compiled in memory is not signed".to_owned()
                );
            }
            let program = compile(&source.path, &source.data)?;
            gov_vm::bundle::write(&program).map_err(|e| format!("`{shown}`: {e}"))?
        };
        let engine = match &source.public_key {
            Some(key) => Engine::load_verified(&bytes, key),
            None => Engine::load(&bytes),
        }
        .map_err(|e| format!("`{shown}`: {e}"))?
        .with_limits(source.limits);
        Ok(Policy::new(engine, now))
    }

    /// Wraps a loaded engine.
    pub fn new(engine: Engine, loaded_at: i64) -> Policy {
        let request_time = relation(&engine, "request_time", &[BaseType::Time]);
        let requested_by = relation(&engine, "requested_by", &[BaseType::Str]);
        let approvals = relation(&engine, "approval", &[BaseType::Str, BaseType::Str]).and_then(|approval| {
            let approval_at = relation(&engine, "approval_at", &[BaseType::Str, BaseType::Str, BaseType::Time])?;
            Some(ApprovalRelations { approval, approval_at })
        });
        let groups = approver_groups(&engine);
        let shared_hash = Arc::from(engine.hash());
        Policy { engine, request_time, requested_by, approvals, groups, loaded_at, shared_hash }
    }

    /// The bundle's content hash (`sha256:…`).
    pub fn hash(&self) -> &str {
        &self.shared_hash
    }

    /// The bundle's content hash, shared (for the records of its decisions).
    pub fn shared_hash(&self) -> Arc<str> {
        self.shared_hash.clone()
    }

    /// The name of column `column` of relation `rel` ("" if it has none).
    pub fn column_name(&self, rel: u32, column: usize) -> &str {
        let program = self.engine.program();
        program
            .relations
            .get(rel as usize)
            .and_then(|r| r.columns.get(column))
            .and_then(|c| c.name)
            .map_or("", |sym| program.string(sym))
    }

    /// The time of `request` (its `request_time` fact), if the policy has one.
    pub fn request_time(&self, request: &Request) -> Option<i64> {
        let rel = self.request_time?;
        request.facts().iter().find(|(r, _)| *r == rel).and_then(|(_, values)| match values.first() {
            Some(Value::Time(t)) => Some(*t),
            _ => None,
        })
    }

    /// The requester of `request` (its `requested_by` fact), if the policy has one.
    pub fn requester(&self, request: &Request) -> Option<String> {
        let rel = self.requested_by?;
        let strings = self.engine.strings(request).ok()?;
        request.facts().iter().find(|(r, _)| *r == rel).and_then(|(_, values)| match values.first() {
            Some(Value::Str(sym)) => Some(strings.get(*sym).to_owned()),
            _ => None,
        })
    }

    /// Whether `request` states approvals itself (which only the service may add).
    pub fn states_approvals(&self, request: &Request) -> bool {
        self.approvals.is_some_and(|a| request.facts().iter().any(|(r, _)| *r == a.approval || *r == a.approval_at))
    }
}

/// The id of relation `name` if its columns have exactly the types `types`.
fn relation(engine: &Engine, name: &str, types: &[BaseType]) -> Option<u32> {
    let id = engine.relation_id(name)?;
    let schema = engine.program().relations.get(id as usize)?;
    let shape: Vec<BaseType> = schema.columns.iter().map(|c| c.ty).collect();
    (shape == types).then_some(id)
}

/// person → groups, from the `approver(person: Str, group: Str)` data facts.
fn approver_groups(engine: &Engine) -> HashMap<String, BTreeSet<String>> {
    let mut groups: HashMap<String, BTreeSet<String>> = HashMap::new();
    let Some(rel) = relation(engine, "approver", &[BaseType::Str, BaseType::Str]) else {
        return groups;
    };
    let request = Request::default();
    let (Ok(strings), session) = (engine.strings(&request), engine.session()) else {
        return groups;
    };
    for row in engine.facts(&session, rel) {
        if let [Value::Str(person), Value::Str(group)] = row.as_slice() {
            groups.entry(strings.get(*person).to_owned()).or_default().insert(strings.get(*group).to_owned());
        }
    }
    groups
}

/// Checks and compiles a package with its data files and `extra` ones.
fn compile(path: &Path, extra: &[PathBuf]) -> Result<gov_vm::program::Program, String> {
    let package = Package::load(&Disk, path)?;
    if let Some(errors) = package.errors() {
        let mut text = gov_diag::render_human(&errors.diagnostics, &errors.sources, false);
        text.push_str(&gov_diag::summary(&errors.diagnostics));
        return Err(format!("`{}` does not check:\n{text}", gov_driver::load::display(path)));
    }
    let mut files = package.data_files().to_vec();
    files.extend(extra.iter().cloned());
    let data = gov_driver::read_data(&Disk, &files)?;
    package.compile(&data).map_err(|e| e.to_string())
}
