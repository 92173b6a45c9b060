//! The three applications of the Cedar OOPSLA'24 benchmark (cedar-policy/cedar-examples,
//! `oopsla2024-benchmarks`): gdrive, github and tinytodo, with a seeded generator of entity
//! graphs and requests of the same shape as the benchmark's Python generators.
//!
//! Each app's policy is in `crates/gov-bench/apps/<app>/` in Gov (with its tests), Cedar
//! (the benchmark's own policies, unchanged) and Rego. [`generate`] draws one hierarchy of
//! `size` entities of every type, each possible edge present with the benchmark's
//! connection probability of 0.05, and emits it three times: Gov data, Cedar entities
//! (the JSON entity format, in the shape of the benchmark's schema) and Rego data. Requests
//! are drawn as the benchmark's request generator draws them from the schema: a random user,
//! a random action and a random resource of a type the action applies to.

use crate::peers::{CedarRequest, Rng};
use serde_json::{Map, Value as Json, json};

/// The entities of every type in each hierarchy the paper measures (`--num-entities`).
pub const PAPER_SIZES: [usize; 7] = [5, 10, 15, 20, 30, 40, 50];
/// Requests per hierarchy in the paper (`--num-requests`).
pub const PAPER_REQUESTS: usize = 500;
/// Hierarchies per size in the paper (`--num-hierarchies`).
pub const PAPER_HIERARCHIES: usize = 200;
/// The chance of each possible edge, in millionths: the paper's 0.05.
const CONNECTION_PPM: u32 = 50_000;

/// One of the three applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// Documents in folders, shared with users and groups.
    Gdrive,
    /// Repositories, teams and organizations.
    Github,
    /// To-do lists shared with teams.
    Tinytodo,
}

impl App {
    /// The three applications.
    pub const ALL: [App; 3] = [App::Gdrive, App::Github, App::Tinytodo];

    /// The application's name (its folder under `apps/`, its package and its Rego package).
    pub fn name(self) -> &'static str {
        match self {
            App::Gdrive => "gdrive",
            App::Github => "github",
            App::Tinytodo => "tinytodo",
        }
    }

    /// The Gov package source.
    pub fn gov(self) -> &'static str {
        match self {
            App::Gdrive => include_str!("../apps/gdrive/gdrive.gov"),
            App::Github => include_str!("../apps/github/github.gov"),
            App::Tinytodo => include_str!("../apps/tinytodo/tinytodo.gov"),
        }
    }

    /// The Cedar policies.
    pub fn cedar(self) -> &'static str {
        match self {
            App::Gdrive => include_str!("../apps/gdrive/gdrive.cedar"),
            App::Github => include_str!("../apps/github/github.cedar"),
            App::Tinytodo => include_str!("../apps/tinytodo/tinytodo.cedar"),
        }
    }

    /// The Rego module.
    pub fn rego(self) -> &'static str {
        match self {
            App::Gdrive => include_str!("../apps/gdrive/gdrive.rego"),
            App::Github => include_str!("../apps/github/github.rego"),
            App::Tinytodo => include_str!("../apps/tinytodo/tinytodo.rego"),
        }
    }

    /// The Rego rule that yields `"allow"` or `"deny"`.
    pub fn rego_rule(self) -> &'static str {
        match self {
            App::Gdrive => "data.gdrive.decision",
            App::Github => "data.github.decision",
            App::Tinytodo => "data.tinytodo.decision",
        }
    }
}

/// One request in the three languages.
#[derive(Debug, Clone)]
pub struct AppRequest {
    /// Gov request JSON (`{"request": [{…}]}`).
    pub gov: Json,
    /// The Cedar request.
    pub cedar: CedarRequest,
    /// The Rego `input` document.
    pub rego: Json,
}

/// One generated hierarchy of an application, in the three languages, with its requests.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The application.
    pub app: App,
    /// Entities of every type.
    pub size: usize,
    /// The Gov data document.
    pub gov_data: Json,
    /// Cedar entities (the JSON entity format), action entities included.
    pub cedar_entities: Json,
    /// The Rego `data` document.
    pub rego_data: Json,
    /// The requests.
    pub requests: Vec<AppRequest>,
}

impl Instance {
    /// The number of Gov data facts: the size of the hierarchy as Gov holds it.
    pub fn gov_facts(&self) -> usize {
        self.gov_data
            .as_object()
            .map_or(0, |relations| relations.values().filter_map(Json::as_array).map(Vec::len).sum())
    }
}

/// Draws one hierarchy of `app` with `size` entities of every type and `requests` requests,
/// all from `seed`.
pub fn generate(app: App, size: usize, requests: usize, seed: u64) -> Instance {
    let mut rng = Rng::new(seed ^ (size as u64).rotate_left(32) ^ app as u64);
    let mut facts = Facts::default();
    let mut cedar = Vec::new();
    let mut rego = Map::new();
    let mut out = Vec::with_capacity(requests);
    match app {
        App::Gdrive => gdrive(&mut rng, size, requests, &mut facts, &mut cedar, &mut rego, &mut out),
        App::Github => github(&mut rng, size, requests, &mut facts, &mut cedar, &mut rego, &mut out),
        App::Tinytodo => tinytodo(&mut rng, size, requests, &mut facts, &mut cedar, &mut rego, &mut out),
    }
    Instance {
        app,
        size,
        gov_data: Json::Object(facts.0),
        cedar_entities: Json::Array(cedar),
        rego_data: Json::Object(rego),
        requests: out,
    }
}

/// Gov data facts by relation.
#[derive(Default)]
struct Facts(Map<String, Json>);

impl Facts {
    /// Adds the fact `relation(fields…)`, naming the fields as declared.
    fn add(&mut self, relation: &str, fields: &[(&str, &str)]) {
        let fact: Map<String, Json> = fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        if let Json::Array(rows) = self.0.entry(relation).or_insert_with(|| Json::Array(Vec::new())) {
            rows.push(Json::Object(fact));
        }
    }
}

impl Rng {
    /// True with the benchmark's connection probability.
    fn connects(&mut self) -> bool {
        self.below(1_000_000) < CONNECTION_PPM
    }

    /// One of `items` (not empty), uniformly.
    fn pick<'a>(&mut self, items: &'a [String]) -> &'a str {
        let i = self.below(u32::try_from(items.len()).unwrap_or(u32::MAX)) as usize;
        items.get(i).map_or("", String::as_str)
    }
}

fn names(prefix: &str, size: usize) -> Vec<String> {
    (0..size).map(|i| format!("{prefix}_{i}")).collect()
}

/// A Cedar entity reference (`{"__entity": …}`) for an attribute.
fn entity_ref(ty: &str, id: &str) -> Json {
    json!({"__entity": {"type": ty, "id": id}})
}

/// A Cedar entity UID for a parent list.
fn uid(ty: &str, id: &str) -> Json {
    json!({"type": ty, "id": id})
}

fn entity(ty: &str, id: &str, attrs: Json, parents: Vec<Json>) -> Json {
    json!({"uid": uid(ty, id), "attrs": attrs, "parents": parents})
}

/// A request of `user` doing `action` on `resource` of Cedar type `resource_type`; Gov
/// names the resource field `resource_field`.
fn request(user: &str, action: &str, resource_type: &str, resource: &str, resource_field: &str) -> AppRequest {
    AppRequest {
        gov: json!({"request": [{"user": user, "action": action, resource_field: resource}]}),
        cedar: CedarRequest {
            principal: format!("User::\"{user}\""),
            action: format!("Action::\"{action}\""),
            resource: format!("{resource_type}::\"{resource}\""),
            context: json!({}),
        },
        rego: json!({"user": user, "action": action, resource_field: resource}),
    }
}

fn push_to(map: &mut Map<String, Json>, key: &str, value: &str) {
    if let Json::Array(list) = map.entry(key).or_insert_with(|| Json::Array(Vec::new())) {
        list.push(json!(value));
    }
}

/// A Rego graph (node → [node]) with a key for every node.
fn graph(nodes: &[&[String]]) -> Map<String, Json> {
    nodes.iter().flat_map(|ns| ns.iter()).map(|n| (n.clone(), Json::Array(Vec::new()))).collect()
}

/// gdrive, as `gdrive_entity_generator.py`: `size` users, groups, documents and folders.
/// A user is in each group, owns each document and each folder with the connection
/// probability; a document lies in each folder and is shared with each user and each
/// group likewise, and is public with probability 1/2; folder `i` lies in each folder
/// `j < i` (a DAG) and is shared likewise.
#[allow(clippy::too_many_arguments)]
fn gdrive(
    rng: &mut Rng,
    size: usize,
    requests: usize,
    facts: &mut Facts,
    cedar: &mut Vec<Json>,
    rego: &mut Map<String, Json>,
    out: &mut Vec<AppRequest>,
) {
    let (users, groups, docs, folders) =
        (names("user", size), names("group", size), names("doc", size), names("folder", size));
    let mut children = graph(&[&users, &groups, &docs, &folders]);
    let mut folder_parents = graph(&[&docs, &folders]);
    let (mut owned_documents, mut owned_folders, mut public) = (Map::new(), Map::new(), Map::new());
    let mut members: Vec<Vec<Json>> = vec![Vec::new(); size];
    for user in &users {
        let mut parents = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            if rng.connects() {
                parents.push(uid("Group", group));
                facts.add("member", &[("user", user), ("group", group)]);
                push_to(&mut children, user, group);
                if let Some(m) = members.get_mut(g) {
                    m.push(uid("View", &format!("User {user}")));
                }
            }
        }
        let (mut owned_docs, mut owned_dirs) = (Vec::new(), Vec::new());
        for doc in &docs {
            if rng.connects() {
                owned_docs.push(entity_ref("Document", doc));
                facts.add("owns_document", &[("user", user), ("document", doc)]);
                push_to(&mut owned_documents, user, doc);
            }
        }
        for folder in &folders {
            if rng.connects() {
                owned_dirs.push(entity_ref("Folder", folder));
                facts.add("owns_folder", &[("user", user), ("folder", folder)]);
                push_to(&mut owned_folders, user, folder);
            }
        }
        let attrs = json!({
            "documentsAndFoldersWithViewAccess": entity_ref("View", &format!("User {user}")),
            "ownedDocuments": owned_docs,
            "ownedFolders": owned_dirs,
        });
        cedar.push(entity("User", user, attrs, parents));
        cedar.push(entity("View", &format!("User {user}"), json!({}), Vec::new()));
    }
    for (group, m) in groups.iter().zip(members) {
        cedar.push(entity("Group", group, json!({}), Vec::new()));
        cedar.push(entity("View", &format!("Group {group}"), json!({}), m));
    }
    // An item's parents: folders it lies in (for documents, any folder; for folder `i`,
    // the folders before it), then the users and groups it is shared with.
    let mut item = |ty: &str, name: &str, folders: &[String], rng: &mut Rng, attrs: Json| {
        let mut parents = Vec::new();
        for folder in folders {
            if rng.connects() {
                parents.push(uid("Folder", folder));
                facts.add("in_folder", &[("item", name), ("folder", folder)]);
                push_to(&mut children, folder, name);
                push_to(&mut folder_parents, name, folder);
            }
        }
        for user in &users {
            if rng.connects() {
                parents.push(uid("View", &format!("User {user}")));
                facts.add("shared_with_user", &[("item", name), ("user", user)]);
                push_to(&mut children, user, name);
            }
        }
        for group in &groups {
            if rng.connects() {
                parents.push(uid("View", &format!("Group {group}")));
                facts.add("shared_with_group", &[("item", name), ("group", group)]);
                push_to(&mut children, group, name);
            }
        }
        cedar.push(entity(ty, name, attrs, parents));
    };
    for doc in &docs {
        let is_public = rng.below(2) == 0;
        if is_public {
            public.insert(doc.clone(), json!(true));
        }
        item("Document", doc, &folders, rng, json!({"isPublic": is_public}));
    }
    for (i, folder) in folders.iter().enumerate() {
        item("Folder", folder, folders.get(..i).unwrap_or_default(), rng, json!({}));
    }
    for doc in public.keys() {
        facts.add("public", &[("document", doc)]);
    }
    rego.insert("children".to_owned(), Json::Object(children));
    rego.insert("folder_parents".to_owned(), Json::Object(folder_parents));
    rego.insert("public".to_owned(), Json::Object(public));
    rego.insert("owned_documents".to_owned(), Json::Object(owned_documents));
    rego.insert("owned_folders".to_owned(), Json::Object(owned_folders));

    const ACTIONS: [&str; 5] = ["read", "write", "share", "changeOwner", "createDocument"];
    for _ in 0..requests {
        let user = rng.pick(&users).to_owned();
        let action = ACTIONS.get(rng.below(5) as usize).copied().unwrap_or("read");
        out.push(if action == "createDocument" {
            request(&user, action, "Folder", rng.pick(&folders), "resource")
        } else {
            request(&user, action, "Document", rng.pick(&docs), "resource")
        });
    }
}

/// One of the five repository roles, each with probability 1/5 (`random_role_str`).
fn repo_role(rng: &mut Rng) -> &'static str {
    ["readers", "triagers", "writers", "maintainers", "admins"].get(rng.below(5) as usize).copied().unwrap_or("readers")
}

/// One of the three organization roles, each with probability 1/3 (`random_org_role_str`).
fn org_role(rng: &mut Rng) -> &'static str {
    ["readers", "writers", "admins"].get(rng.below(3) as usize).copied().unwrap_or("readers")
}

/// github, as `github_entity_generator.py`: `size` repositories, users, teams and
/// organizations. Organization `i` is a member of a random role of each organization
/// with the connection probability; each repository has a random owner; team `i` is in
/// each team `j < i` and has a random role on each repository likewise; a user has a
/// random role on each repository, is in each team, in each organization and has a random
/// role on each organization likewise.
#[allow(clippy::too_many_arguments)]
fn github(
    rng: &mut Rng,
    size: usize,
    requests: usize,
    facts: &mut Facts,
    cedar: &mut Vec<Json>,
    rego: &mut Map<String, Json>,
    out: &mut Vec<AppRequest>,
) {
    let (repos, users, teams, orgs) =
        (names("repo", size), names("user", size), names("team", size), names("org", size));
    // Every node is a key, roles included: regorus's `graph.reachable` leaves out a node
    // that is not.
    let role_nodes = |owners: &[String], roles: &[&str]| -> Vec<String> {
        owners.iter().flat_map(|o| roles.iter().map(move |r| format!("{o}_{r}"))).collect()
    };
    let repo_roles = role_nodes(&repos, &["readers", "triagers", "writers", "maintainers", "admins"]);
    let org_roles = role_nodes(&orgs, &["readers", "writers", "admins"]);
    let mut memberships = graph(&[&users, &teams, &orgs, &repo_roles, &org_roles]);
    let mut owner = Map::new();
    // Cedar's action hierarchy: read in triage in write in maintain in admin.
    let actions = ["read", "triage", "write", "maintain", "admin"];
    for (i, action) in actions.iter().enumerate() {
        let parents = actions.get(i + 1).map(|p| vec![uid("Action", p)]).unwrap_or_default();
        cedar.push(entity("Action", action, json!({}), parents));
    }
    for org in &orgs {
        let mut parents = Vec::new();
        for other in &orgs {
            if rng.connects() {
                let role = org_role(rng);
                parents.push(uid("OrgPermission", &format!("{other}_{role}")));
                facts.add("org_org_role", &[("member", org), ("org", other), ("role", role)]);
                push_to(&mut memberships, org, &format!("{other}_{role}"));
            }
        }
        let attrs = json!({
            "readers": entity_ref("OrgPermission", &format!("{org}_readers")),
            "writers": entity_ref("OrgPermission", &format!("{org}_writers")),
            "admins": entity_ref("OrgPermission", &format!("{org}_admins")),
        });
        cedar.push(entity("Organization", org, attrs, parents));
        for role in ["readers", "writers", "admins"] {
            cedar.push(entity("OrgPermission", &format!("{org}_{role}"), json!({}), Vec::new()));
        }
    }
    for repo in &repos {
        let org = rng.pick(&orgs).to_owned();
        facts.add("repo_owner", &[("repo", repo), ("org", &org)]);
        owner.insert(repo.clone(), json!(org));
        let mut attrs = Map::new();
        for role in ["readers", "triagers", "writers", "maintainers", "admins"] {
            attrs.insert(role.to_owned(), entity_ref("RepoPermission", &format!("{repo}_{role}")));
            cedar.push(entity("RepoPermission", &format!("{repo}_{role}"), json!({}), Vec::new()));
        }
        attrs.insert("owner".to_owned(), entity_ref("Organization", &org));
        cedar.push(entity("Repository", repo, Json::Object(attrs), Vec::new()));
    }
    for (i, team) in teams.iter().enumerate() {
        let mut parents = Vec::new();
        for parent in teams.get(..i).unwrap_or_default() {
            if rng.connects() {
                parents.push(uid("Team", parent));
                facts.add("team_in_team", &[("team", team), ("parent", parent)]);
                push_to(&mut memberships, team, parent);
            }
        }
        for repo in &repos {
            if rng.connects() {
                let role = repo_role(rng);
                parents.push(uid("RepoPermission", &format!("{repo}_{role}")));
                facts.add("team_repo_role", &[("team", team), ("repo", repo), ("role", role)]);
                push_to(&mut memberships, team, &format!("{repo}_{role}"));
            }
        }
        cedar.push(entity("Team", team, json!({}), parents));
    }
    for user in &users {
        let mut parents = Vec::new();
        for repo in &repos {
            if rng.connects() {
                let role = repo_role(rng);
                parents.push(uid("RepoPermission", &format!("{repo}_{role}")));
                facts.add("user_repo_role", &[("user", user), ("repo", repo), ("role", role)]);
                push_to(&mut memberships, user, &format!("{repo}_{role}"));
            }
        }
        for team in &teams {
            if rng.connects() {
                parents.push(uid("Team", team));
                facts.add("user_in_team", &[("user", user), ("team", team)]);
                push_to(&mut memberships, user, team);
            }
        }
        for org in &orgs {
            if rng.connects() {
                parents.push(uid("Organization", org));
                facts.add("user_in_org", &[("user", user), ("org", org)]);
                push_to(&mut memberships, user, org);
            }
            if rng.connects() {
                let role = org_role(rng);
                parents.push(uid("OrgPermission", &format!("{org}_{role}")));
                facts.add("user_org_role", &[("user", user), ("org", org), ("role", role)]);
                push_to(&mut memberships, user, &format!("{org}_{role}"));
            }
        }
        cedar.push(entity("User", user, json!({}), parents));
    }
    rego.insert("memberships".to_owned(), Json::Object(memberships));
    rego.insert("owner".to_owned(), Json::Object(owner));

    for _ in 0..requests {
        let user = rng.pick(&users).to_owned();
        let action = actions.get(rng.below(5) as usize).copied().unwrap_or("read");
        out.push(request(&user, action, "Repository", rng.pick(&repos), "repo"));
    }
}

/// tinytodo, as `tinytodo_entity_generator.py`: `size` users, teams and lists. A user is
/// in each team with the connection probability; team `i` is in each team `j < i`
/// likewise; each list has a random owner, a random team of readers and one of editors,
/// and 0 to 50 tasks (Cedar only: no policy reads them).
#[allow(clippy::too_many_arguments)]
fn tinytodo(
    rng: &mut Rng,
    size: usize,
    requests: usize,
    facts: &mut Facts,
    cedar: &mut Vec<Json>,
    rego: &mut Map<String, Json>,
    out: &mut Vec<AppRequest>,
) {
    let (users, teams, lists) = (names("user", size), names("team", size), names("list", size));
    let app = uid("Application", "TinyTodo");
    let mut parents_graph = graph(&[&users, &teams]);
    let mut rego_lists = Map::new();
    cedar.push(entity("Application", "TinyTodo", json!({}), Vec::new()));
    for user in &users {
        let mut parents = Vec::new();
        for team in &teams {
            if rng.connects() {
                parents.push(uid("Team", team));
                facts.add("user_in_team", &[("user", user), ("team", team)]);
                push_to(&mut parents_graph, user, team);
            }
        }
        parents.push(app.clone());
        cedar.push(entity("User", user, json!({}), parents));
    }
    for (i, team) in teams.iter().enumerate() {
        let mut parents = Vec::new();
        for parent in teams.get(..i).unwrap_or_default() {
            if rng.connects() {
                parents.push(uid("Team", parent));
                facts.add("team_in_team", &[("team", team), ("parent", parent)]);
                push_to(&mut parents_graph, team, parent);
            }
        }
        parents.push(app.clone());
        cedar.push(entity("Team", team, json!({}), parents));
    }
    for list in &lists {
        let owner = rng.pick(&users).to_owned();
        let readers = rng.pick(&teams).to_owned();
        let editors = rng.pick(&teams).to_owned();
        facts.add("list_owner", &[("list", list), ("user", &owner)]);
        facts.add("list_readers", &[("list", list), ("team", &readers)]);
        facts.add("list_editors", &[("list", list), ("team", &editors)]);
        rego_lists.insert(list.clone(), json!({"owner": owner, "readers": readers, "editors": editors}));
        let tasks: Vec<Json> = (0..rng.below(51))
            .map(|_| {
                let state = if rng.below(2) == 0 { "Checked" } else { "Unchecked" };
                json!({"name": format!("task_{}", rng.below(1_000_000) + 1), "id": rng.below(1_000_000) + 1, "state": state})
            })
            .collect();
        let attrs = json!({
            "name": list,
            "owner": entity_ref("User", &owner),
            "readers": entity_ref("Team", &readers),
            "editors": entity_ref("Team", &editors),
            "tasks": tasks,
        });
        cedar.push(entity("List", list, attrs, vec![app.clone()]));
    }
    rego.insert("parents".to_owned(), Json::Object(parents_graph));
    rego.insert("lists".to_owned(), Json::Object(rego_lists));

    const ACTIONS: [&str; 9] = [
        "CreateList",
        "GetList",
        "UpdateList",
        "DeleteList",
        "GetLists",
        "CreateTask",
        "UpdateTask",
        "DeleteTask",
        "EditShares",
    ];
    for _ in 0..requests {
        let user = rng.pick(&users).to_owned();
        let action = ACTIONS.get(rng.below(9) as usize).copied().unwrap_or("GetList");
        out.push(if matches!(action, "CreateList" | "GetLists") {
            request(&user, action, "Application", "TinyTodo", "resource")
        } else {
            request(&user, action, "List", rng.pick(&lists), "resource")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::engine_gov;

    #[test]
    fn every_app_checks_without_warnings_and_its_requests_are_accepted() {
        for app in App::ALL {
            let instance = generate(app, 10, 20, 7);
            let engine = engine_gov(&format!("{}.gov", app.name()), app.gov(), &instance.gov_data, true);
            let engine = match engine {
                Ok(engine) => engine,
                Err(e) => panic!("{}: {e}", app.name()),
            };
            assert!(instance.gov_facts() > 0, "{}: no data", app.name());
            assert_eq!(instance.requests.len(), 20);
            for r in &instance.requests {
                let request = engine.request_from_json(&r.gov.to_string());
                assert!(request.is_ok_and(|q| engine.decide(&q).is_ok()), "{}: {}", app.name(), r.gov);
            }
        }
    }

    #[test]
    fn generation_is_deterministic_and_grows_with_size() {
        for app in App::ALL {
            let a = generate(app, 20, 5, 1);
            let b = generate(app, 20, 5, 1);
            assert_eq!(a.gov_data, b.gov_data);
            assert_eq!(a.cedar_entities, b.cedar_entities);
            assert_eq!(a.rego_data, b.rego_data);
            assert!(generate(app, 50, 0, 1).gov_facts() > a.gov_facts(), "{}", app.name());
        }
    }
}
