//! The policies that `benches/decide.rs`, `benches/recursion.rs` and `benches/load.rs`
//! run in Gov and in the peers (cedar-policy, regorus, ascent), with their data and
//! requests, generated from one description so that the languages cannot drift apart.
//!
//! This module knows the peers only as text and JSON (the lib does not depend on them):
//! the benches turn [`CedarRequest`]s and documents into the peers' own types. The Gov
//! sources of the hand-written scenarios live in `crates/gov-bench/policies/`, each
//! beside its Cedar and Rego translation; the unit tests check every Gov policy here with
//! no errors and no warnings.

use gov_diag::Severity;
use gov_driver::Package;
use gov_vm::Engine;
use gov_vm::json::Document;
use gov_vm::program::Program;
use serde_json::{Value as Json, json};
use std::fmt::Write as _;

/// The combined decision, as each engine's answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Allowed.
    Allow,
    /// Denied (by a rule or by default).
    Deny,
    /// Escalated to a human.
    Escalate,
}

impl Expected {
    /// `allow`, `deny` or `escalate` (also Rego's `decision` value).
    pub fn name(self) -> &'static str {
        match self {
            Expected::Allow => "allow",
            Expected::Deny => "deny",
            Expected::Escalate => "escalate",
        }
    }
}

/// A Cedar request as text: entity UIDs in Cedar syntax (`User::"u1"`) and the context
/// as a JSON object.
#[derive(Debug, Clone)]
pub struct CedarRequest {
    /// The principal's UID.
    pub principal: String,
    /// The action's UID.
    pub action: String,
    /// The resource's UID.
    pub resource: String,
    /// The context record.
    pub context: Json,
}

/// One benchmarked request, in the three languages, and the decision all must reach.
#[derive(Debug, Clone)]
pub struct Case {
    /// Benchmark id suffix.
    pub name: &'static str,
    /// The decision every engine must reach.
    pub expected: Expected,
    /// Gov request JSON (one key per input relation).
    pub gov: Json,
    /// The Cedar request.
    pub cedar: CedarRequest,
    /// The Rego `input` document.
    pub rego: Json,
}

/// One policy in the three languages, with its data and requests.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Benchmark group name.
    pub name: &'static str,
    /// The Gov package source (one file).
    pub gov: String,
    /// The Gov data document (`{"relation": [{field: value}, …]}`).
    pub gov_data: Json,
    /// Cedar policies.
    pub cedar: String,
    /// Cedar entities (the JSON entity format).
    pub cedar_entities: Json,
    /// The Rego module.
    pub rego: String,
    /// The Rego `data` document.
    pub rego_data: Json,
    /// The rule regorus evaluates: it yields `"allow"`, `"deny"` or `"escalate"`.
    pub rego_rule: &'static str,
    /// The requests.
    pub cases: Vec<Case>,
}

/// Checks a one-file Gov package (through `gov_driver`) and parses its data. Any error
/// diagnostic, or with `deny_warnings` any warning, is an error.
fn checked_gov(
    file: &str,
    source: &str,
    data: &Json,
    deny_warnings: bool,
) -> Result<(Package, [(String, Document); 1]), String> {
    let package =
        Package::from_sources(vec![(file.to_owned(), source.to_owned())]).ok_or("the package did not check")?;
    let problems: Vec<String> = package
        .checked()
        .diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error || deny_warnings)
        .map(|d| format!("{d:?}"))
        .collect();
    if !problems.is_empty() {
        return Err(format!("{file}: {}", problems.join("\n")));
    }
    let data =
        [(format!("{file}.data.json"), gov_vm::json::parse_document(&data.to_string()).map_err(|e| e.to_string())?)];
    Ok((package, data))
}

/// Checks and compiles a one-file Gov package with its data, as `govc build` does (see
/// [`checked_gov`] for what is an error).
pub fn compile_gov(file: &str, source: &str, data: &Json, deny_warnings: bool) -> Result<Program, String> {
    let (package, data) = checked_gov(file, source, data, deny_warnings)?;
    package.compile(&data).map_err(|e| e.to_string())
}

/// The engine of a one-file Gov package with its data, as `govc eval` makes it (written as
/// a bundle and loaded; see [`checked_gov`] for what is an error).
pub fn engine_gov(file: &str, source: &str, data: &Json, deny_warnings: bool) -> Result<Engine, String> {
    let (package, data) = checked_gov(file, source, data, deny_warnings)?;
    package.engine(&data).map_err(|e| e.to_string())
}

/// A small deterministic generator (SplitMix64), so every run benchmarks the same data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (> 0).
    pub fn below(&mut self, bound: u32) -> u32 {
        u32::try_from(self.next_u64() % u64::from(bound.max(1))).unwrap_or(0)
    }
}

fn uid(ty: &str, id: &str) -> Json {
    json!({"type": ty, "id": id})
}

fn entity(ty: &str, id: &str, attrs: Json, parents: Vec<Json>) -> Json {
    json!({"uid": uid(ty, id), "attrs": attrs, "parents": parents})
}

// ---------------------------------------------------------------------------------------
// (a) RBAC
// ---------------------------------------------------------------------------------------

/// Users in the RBAC scenario.
pub const RBAC_USERS: usize = 1_000;
const DEPARTMENTS: usize = 8;
/// Roles per department, each inheriting from the one below: the hierarchy's depth.
pub const RBAC_LEVELS: usize = 5;
const RESOURCE_TYPES: usize = 10;
const RESOURCES: usize = 200;
const RBAC_ACTIONS: [&str; RBAC_LEVELS] = ["read", "write", "approve", "delete", "admin"];

fn rbac_role(department: usize, level: usize) -> String {
    format!("d{department}_l{level}")
}

/// (a) Role-based access control: 1 000 users, 8 departments of 5 roles in a chain
/// (`dD_l4` inherits `dD_l3` … inherits `dD_l0`), 200 resources of 10 types. Role level
/// `l` of department `d` may do action `l` on type `d` (and level 0 may also read type
/// `d + 1`). Every 97th user is suspended; every 10th also holds `((d + 1) % 8)_l0`.
pub fn rbac() -> Scenario {
    // Users and their direct roles.
    let mut user_roles: Vec<(String, Vec<String>)> = Vec::new();
    let mut suspended = Vec::new();
    for i in 0..RBAC_USERS {
        let user = format!("u{i}");
        let department = i % DEPARTMENTS;
        let level = (i / DEPARTMENTS) % RBAC_LEVELS;
        let mut roles = vec![rbac_role(department, level)];
        if i % 10 == 0 {
            roles.push(rbac_role((department + 1) % DEPARTMENTS, 0));
        }
        if i % 97 == 0 {
            suspended.push(user.clone());
        }
        user_roles.push((user, roles));
    }
    // Role hierarchy and permissions.
    let mut parents: Vec<(String, Vec<String>)> = Vec::new();
    let mut permissions: Vec<(String, &str, String)> = Vec::new();
    for department in 0..DEPARTMENTS {
        for (level, &action) in RBAC_ACTIONS.iter().enumerate() {
            let role = rbac_role(department, level);
            let inherited = if level > 0 { vec![rbac_role(department, level - 1)] } else { Vec::new() };
            parents.push((role.clone(), inherited));
            permissions.push((role.clone(), action, format!("t{}", department % RESOURCE_TYPES)));
            if level == 0 {
                permissions.push((role, action, format!("t{}", (department + 1) % RESOURCE_TYPES)));
            }
        }
    }
    let resources: Vec<(String, String)> =
        (0..RESOURCES).map(|i| (format!("r{i}"), format!("t{}", i % RESOURCE_TYPES))).collect();

    // Gov data.
    let gov_data = json!({
        "user_role": user_roles.iter().flat_map(|(u, rs)| rs.iter().map(move |r| json!({"user": u, "role": r}))).collect::<Vec<_>>(),
        "role_parent": parents.iter().flat_map(|(r, ps)| ps.iter().map(move |p| json!({"role": r, "parent": p}))).collect::<Vec<_>>(),
        "permission": permissions.iter().map(|(r, a, t)| json!({"role": r, "action": a, "resource_type": t})).collect::<Vec<_>>(),
        "resource_type": resources.iter().map(|(r, t)| json!({"resource": r, "resource_type": t})).collect::<Vec<_>>(),
        "suspended": suspended.iter().map(|u| json!({"user": u})).collect::<Vec<_>>(),
    });

    // Cedar: one permit per permission fact, appended to the hand-written file.
    let mut cedar = include_str!("../policies/rbac/rbac.cedar").to_owned();
    for (i, (role, action, ty)) in permissions.iter().enumerate() {
        let _ = write!(
            cedar,
            "\n@id(\"permission_{i}\")\npermit (principal in Role::\"{role}\", action == Action::\"{action}\", resource in ResourceType::\"{ty}\");\n"
        );
    }
    let mut entities = Vec::new();
    for (user, roles) in &user_roles {
        let mut ps: Vec<Json> = roles.iter().map(|r| uid("Role", r)).collect();
        if suspended.contains(user) {
            ps.push(uid("Group", "suspended"));
        }
        entities.push(entity("User", user, json!({}), ps));
    }
    for (role, inherited) in &parents {
        entities.push(entity("Role", role, json!({}), inherited.iter().map(|p| uid("Role", p)).collect()));
    }
    for (resource, ty) in &resources {
        entities.push(entity("Resource", resource, json!({}), vec![uid("ResourceType", ty)]));
    }
    for t in 0..RESOURCE_TYPES {
        entities.push(entity("ResourceType", &format!("t{t}"), json!({}), Vec::new()));
    }
    entities.push(entity("Group", "suspended", json!({}), Vec::new()));

    // Rego data.
    let mut rego_permissions = serde_json::Map::new();
    for (role, action, ty) in &permissions {
        let entry = rego_permissions.entry(role.clone()).or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(list) = entry {
            list.push(json!({"action": action, "type": ty}));
        }
    }
    let rego_data = json!({
        "user_roles": user_roles.iter().map(|(u, rs)| (u.clone(), json!(rs))).collect::<serde_json::Map<_, _>>(),
        "role_parents": parents.iter().map(|(r, ps)| (r.clone(), json!(ps))).collect::<serde_json::Map<_, _>>(),
        "permissions": rego_permissions,
        "resource_types": resources.iter().map(|(r, t)| (r.clone(), json!(t))).collect::<serde_json::Map<_, _>>(),
        "suspended": suspended.iter().map(|u| (u.clone(), json!(true))).collect::<serde_json::Map<_, _>>(),
    });

    let case = |name, expected, user: &str, action: &str, resource: &str| Case {
        name,
        expected,
        gov: json!({"request": [{"user": user, "action": action, "resource": resource}]}),
        cedar: CedarRequest {
            principal: format!("User::\"{user}\""),
            action: format!("Action::\"{action}\""),
            resource: format!("Resource::\"{resource}\""),
            context: json!({}),
        },
        rego: json!({"user": user, "action": action, "resource": resource}),
    };
    // u35: department 3, level (35 / 8) % 5 = 4, so it holds d3_l4 and inherits down to
    // d3_l0, whose `read` on t4 is 4 levels below. r4 is of type t4.
    // u36: department 4, level 4; it may not `admin` type t3 (r3).
    // u97: suspended.
    let cases = vec![
        case("allow_inherited", Expected::Allow, "u35", "read", "r4"),
        case("deny_no_permission", Expected::Deny, "u36", "admin", "r3"),
        case("deny_suspended", Expected::Deny, "u97", "read", "r1"),
    ];
    Scenario {
        name: "rbac",
        gov: include_str!("../policies/rbac/rbac.gov").to_owned(),
        gov_data,
        cedar,
        cedar_entities: Json::Array(entities),
        rego: include_str!("../policies/rbac/rbac.rego").to_owned(),
        rego_data,
        rego_rule: "data.rbac.decision",
        cases,
    }
}

// ---------------------------------------------------------------------------------------
// (b) Payments
// ---------------------------------------------------------------------------------------

const PAYMENT_AGENTS: usize = 1_000;
const ACCOUNTS: usize = 2_000;
const PAYMENT_ROLES: [(&str, i64); 5] =
    [("clerk", 1_000), ("analyst", 5_000), ("manager", 20_000), ("treasurer", 100_000), ("auditor", 0)];

/// (b) Payments like DESIGN §2: 1 000 agents (`bot-i` has role `i % 5`; every 50th is
/// frozen), 2 000 accounts (`acct-j` is a known payee for `j < 1500`, sanctioned when
/// `j % 37 == 5`). Outcomes: allow, deny, escalate.
pub fn payments() -> Scenario {
    let agents: Vec<(String, &str, bool)> = (0..PAYMENT_AGENTS)
        .map(|i| {
            (format!("bot-{i}"), PAYMENT_ROLES.get(i % PAYMENT_ROLES.len()).map_or("clerk", |r| r.0), i % 50 == 49)
        })
        .collect();
    let accounts: Vec<(String, bool, bool)> =
        (0..ACCOUNTS).map(|j| (format!("acct-{j}"), j < 1_500, j % 37 == 5)).collect();

    let gov_data = json!({
        "role": agents.iter().map(|(a, r, _)| json!({"agent": a, "role": r})).collect::<Vec<_>>(),
        "limit": PAYMENT_ROLES.iter().map(|(r, m)| json!({"role": r, "max": m})).collect::<Vec<_>>(),
        "frozen": agents.iter().filter(|a| a.2).map(|(a, _, _)| json!({"agent": a})).collect::<Vec<_>>(),
        "known_payee": accounts.iter().filter(|a| a.1).map(|(a, _, _)| json!({"account": a})).collect::<Vec<_>>(),
        "sanctioned": accounts.iter().filter(|a| a.2).map(|(a, _, _)| json!({"account": a})).collect::<Vec<_>>(),
    });

    let mut entities = Vec::new();
    for (agent, role, frozen) in &agents {
        let parents = if *frozen { vec![uid("Group", "frozen")] } else { Vec::new() };
        entities.push(entity("Agent", agent, json!({"role": {"__entity": {"type": "Role", "id": role}}}), parents));
    }
    for (role, max) in PAYMENT_ROLES {
        entities.push(entity("Role", role, json!({"max": max}), Vec::new()));
    }
    for (account, known, sanctioned) in &accounts {
        let mut parents = Vec::new();
        if *known {
            parents.push(uid("Group", "known"));
        }
        if *sanctioned {
            parents.push(uid("Group", "sanctioned"));
        }
        entities.push(entity("Account", account, json!({}), parents));
    }
    for group in ["frozen", "known", "sanctioned"] {
        entities.push(entity("Group", group, json!({}), Vec::new()));
    }

    let rego_data = json!({
        "roles": agents.iter().map(|(a, r, _)| (a.clone(), json!(r))).collect::<serde_json::Map<_, _>>(),
        "limits": PAYMENT_ROLES.iter().map(|(r, m)| ((*r).to_owned(), json!(m))).collect::<serde_json::Map<_, _>>(),
        "frozen": agents.iter().filter(|a| a.2).map(|(a, _, _)| (a.clone(), json!(true))).collect::<serde_json::Map<_, _>>(),
        "known_payees": accounts.iter().filter(|a| a.1).map(|(a, _, _)| (a.clone(), json!(true))).collect::<serde_json::Map<_, _>>(),
        "sanctioned": accounts.iter().filter(|a| a.2).map(|(a, _, _)| (a.clone(), json!(true))).collect::<serde_json::Map<_, _>>(),
    });

    let case = |name, expected, agent: &str, amount: i64, to: &str| Case {
        name,
        expected,
        gov: json!({"transfer": [{"agent": agent, "amount": amount, "to": to}]}),
        cedar: CedarRequest {
            principal: format!("Agent::\"{agent}\""),
            action: "Action::\"transfer\"".to_owned(),
            resource: format!("Account::\"{to}\""),
            context: json!({"amount": amount}),
        },
        rego: json!({"agent": agent, "amount": amount, "to": to}),
    };
    // bot-2 and bot-7 are managers (limit 20000), bot-1 an analyst (5000).
    // acct-9 is known and not sanctioned; acct-1700 is new; acct-42 (42 % 37 = 5) is sanctioned.
    let cases = vec![
        case("allow", Expected::Allow, "bot-2", 500, "acct-9"),
        case("escalate", Expected::Escalate, "bot-7", 12_000, "acct-1700"),
        case("deny", Expected::Deny, "bot-1", 6_000, "acct-42"),
    ];
    Scenario {
        name: "payments",
        gov: include_str!("../policies/payments/payments.gov").to_owned(),
        gov_data,
        cedar: include_str!("../policies/payments/payments.cedar").to_owned(),
        cedar_entities: Json::Array(entities),
        rego: include_str!("../policies/payments/payments.rego").to_owned(),
        rego_data,
        rego_rule: "data.payments.decision",
        cases,
    }
}

// ---------------------------------------------------------------------------------------
// (c) Generated
// ---------------------------------------------------------------------------------------

const GENERATED_ACTIONS: usize = 40;
const GENERATED_TYPES: usize = 25;

/// The threshold of generated rule `i`.
fn generated_threshold(i: usize) -> usize {
    1_000 + (i * 37) % 1_000 * 10
}

/// (c) A generated policy of `rules` deny rules (at most 1 000), rule `i` matching
/// action `act_{i % 40}` on resource type `type_{i / 40}` when the amount is above its
/// own threshold, and one allow rule for everything else. The same loop writes the three
/// languages.
pub fn generated(rules: usize) -> Scenario {
    let rules = rules.min(GENERATED_ACTIONS * GENERATED_TYPES);
    let mut gov = String::from(
        "package generated\n\n/// The request: may `action` be done on a resource of `resource_type` for `amount`?\ninput request(action: Str, resource_type: Str, amount: Int)\n\nallow otherwise :- request(_, _, _).\n\n",
    );
    let mut cedar = String::from("@id(\"otherwise\")\npermit (principal, action, resource);\n\n");
    let mut rego = String::from(
        "package generated\n\nimport rego.v1\n\ndecision := \"deny\" if {\n\tcount(deny) > 0\n} else := \"allow\"\n\n",
    );
    for i in 0..rules {
        let (action, ty, threshold) = (i % GENERATED_ACTIONS, i / GENERATED_ACTIONS, generated_threshold(i));
        let _ =
            writeln!(gov, "deny rule_{i} :- request(\"act_{action}\", \"type_{ty}\", amount), amount > {threshold}.");
        let _ = writeln!(
            cedar,
            "@id(\"rule_{i}\")\nforbid (principal, action == Action::\"act_{action}\", resource is Type_{ty}) when {{ context.amount > {threshold} }};"
        );
        let _ = writeln!(
            rego,
            "deny contains \"rule_{i}\" if {{\n\tinput.action == \"act_{action}\"\n\tinput.resource_type == \"type_{ty}\"\n\tinput.amount > {threshold}\n}}"
        );
    }
    let case = |name, expected, i: usize, amount: usize| {
        let (action, ty) = (format!("act_{}", i % GENERATED_ACTIONS), format!("type_{}", i / GENERATED_ACTIONS));
        Case {
            name,
            expected,
            gov: json!({"request": [{"action": action, "resource_type": ty, "amount": amount}]}),
            cedar: CedarRequest {
                principal: "Agent::\"bot-1\"".to_owned(),
                action: format!("Action::\"{action}\""),
                resource: format!("Type_{}::\"r\"", i / GENERATED_ACTIONS),
                context: json!({"amount": amount}),
            },
            rego: json!({"action": action, "resource_type": ty, "amount": amount}),
        }
    };
    let probe = (rules * 3 / 4).min(rules.saturating_sub(1));
    let threshold = generated_threshold(probe);
    let cases =
        vec![case("deny", Expected::Deny, probe, threshold + 1), case("allow", Expected::Allow, probe, threshold)];
    Scenario {
        name: "generated_1k",
        gov,
        gov_data: json!({}),
        cedar,
        cedar_entities: json!([]),
        rego,
        rego_data: json!({}),
        rego_rule: "data.generated.decision",
        cases,
    }
}

// ---------------------------------------------------------------------------------------
// (d) Reachability
// ---------------------------------------------------------------------------------------

/// (d) Transitive closure with the edges as input facts (each request brings a graph).
pub const REACH_INPUT: &str = "package reach

/// An edge of the graph; comes with each request.
input edge(src: Int, dst: Int)

/// The transitive closure.
reach(x, y) :- edge(x, y).
reach(x, z) :- reach(x, y), edge(y, z).

deny cycle \"{x} reaches itself\" :- reach(x, x).
";

/// (d) The same with the edges as data: the closure is computed when the bundle loads.
pub const REACH_DATA: &str = "package reach

/// An edge of the graph; comes with the bundle.
data edge(src: Int, dst: Int)
/// Asks whether `src` reaches `dst`.
input query(src: Int, dst: Int)

/// The transitive closure.
reach(x, y) :- edge(x, y).
reach(x, z) :- reach(x, y), edge(y, z).

allow reachable :- query(x, y), reach(x, y).
";

/// A random directed graph of `edges` distinct edges over `nodes` nodes, no self-loops.
pub fn random_graph(nodes: u32, edges: usize, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(edges);
    while out.len() < edges {
        let (a, b) = (rng.below(nodes), rng.below(nodes));
        if a != b && seen.insert((a, b)) {
            out.push((a, b));
        }
    }
    out
}

/// The edges as a Gov document for relation `edge`.
pub fn edges_json(edges: &[(u32, u32)]) -> Json {
    json!({"edge": edges.iter().map(|(a, b)| json!({"src": a, "dst": b})).collect::<Vec<_>>()})
}

// ---------------------------------------------------------------------------------------
// Bundle load
// ---------------------------------------------------------------------------------------

/// A package with one large data relation, `grant(user, resource, level)`, read by a
/// rule, for the bundle-load benchmark.
pub const LOAD_POLICY: &str = "package load

/// The request: may `user` use `resource`?
input request(user: Str, resource: Str)
/// Every grant: `user` may use `resource` up to `level`.
data grant(user: Str, resource: Str, level: Int)

allow granted :- request(u, r), grant(u, r, level), level > 2.
";

/// `facts` grant facts: users `u0…` × 100 resources `r0…r99`, levels 0–4.
pub fn load_data(facts: usize) -> Json {
    let rows: Vec<Json> = (0..facts)
        .map(|i| json!({"user": format!("u{}", i / 100), "resource": format!("r{}", i % 100), "level": i % 5}))
        .collect();
    json!({"grant": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiles(file: &str, source: &str, data: &Json) {
        let engine = engine_gov(file, source, data, true);
        assert!(engine.is_ok(), "{:?}", engine.err());
    }

    #[test]
    fn every_gov_policy_checks_without_warnings_and_compiles() {
        for scenario in [rbac(), payments(), generated(1_000)] {
            compiles("policy.gov", &scenario.gov, &scenario.gov_data);
        }
        compiles("reach.gov", REACH_INPUT, &json!({}));
        compiles("reach.gov", REACH_DATA, &edges_json(&random_graph(50, 100, 1)));
        compiles("load.gov", LOAD_POLICY, &load_data(1_000));
    }

    #[test]
    fn generated_policy_has_the_rules_asked_for() {
        let scenario = generated(1_000);
        assert_eq!(scenario.gov.matches("\ndeny rule_").count(), 1_000);
        assert_eq!(scenario.cedar.matches("\nforbid").count(), 1_000);
        assert_eq!(scenario.rego.matches("\ndeny contains").count(), 1_000);
    }
}
