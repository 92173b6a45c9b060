//! The peers' engines as the benchmarks (`decide`, `oopsla`), the differential test and the
//! `profile` example drive them: cedar-policy, and regorus's interpreter and RVM. Each is
//! built once from a policy, its data and its requests, then asked for request `i`'s
//! decision, which is all that is timed or counted.

use crate::oopsla::Instance;
use crate::peers::{CedarRequest, Expected, Scenario};
use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicyId, PolicySet, Request};
use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::str::FromStr;

/// cedar-policy with its policies, entities (the hierarchy's closure computed when they are
/// built) and requests prepared.
pub struct Cedar {
    policies: PolicySet,
    entities: Entities,
    /// Policies annotated `@effect("escalate")`: an allow they determine is an escalation.
    escalate: HashSet<PolicyId>,
    requests: Vec<Request>,
    authorizer: Authorizer,
}

/// What cedar-policy said of one request.
#[derive(Debug)]
pub struct CedarAnswer {
    /// The decision, read as [`Cedar::decide`] reads it.
    pub decision: Expected,
    /// The policies that determined the decision.
    pub reasons: Vec<String>,
    /// Evaluation errors (a policy that errs is skipped: a benchmark must have none).
    pub errors: Vec<String>,
}

impl Cedar {
    /// Parses the policies, the entities (JSON entity format) and each request.
    pub fn new<'a>(
        policies: &str,
        entities: &Json,
        requests: impl IntoIterator<Item = &'a CedarRequest>,
    ) -> Result<Cedar, String> {
        let policies = PolicySet::from_str(policies).map_err(text)?;
        let escalate = policies
            .policies()
            .filter(|p| p.annotation("effect") == Some("escalate"))
            .map(|p| p.id().clone())
            .collect();
        let uid = |text: &str| EntityUid::from_str(text).map_err(|e| format!("{text}: {e}"));
        let requests = requests
            .into_iter()
            .map(|r| {
                let context = Context::from_json_value(r.context.clone(), None).map_err(text)?;
                Request::new(uid(&r.principal)?, uid(&r.action)?, uid(&r.resource)?, context, None).map_err(text)
            })
            .collect::<Result<_, String>>()?;
        let entities = Entities::from_json_value(entities.clone(), None).map_err(text)?;
        Ok(Cedar { policies, entities, escalate, requests, authorizer: Authorizer::new() })
    }

    /// The Cedar side of a decision scenario (`decide/rbac`, `decide/payments`, …).
    pub fn for_scenario(scenario: &Scenario) -> Result<Cedar, String> {
        Cedar::new(&scenario.cedar, &scenario.cedar_entities, scenario.cases.iter().map(|c| &c.cedar))
    }

    /// The Cedar side of an OOPSLA'24 app instance.
    pub fn for_instance(instance: &Instance) -> Result<Cedar, String> {
        Cedar::new(instance.app.cedar(), &instance.cedar_entities, instance.requests.iter().map(|r| &r.cedar))
    }

    fn respond(&self, i: usize) -> Result<cedar_policy::Response, String> {
        let request = self.requests.get(i).ok_or_else(|| format!("no Cedar request {i}"))?;
        Ok(self.authorizer.is_authorized(request, &self.policies, &self.entities))
    }

    /// Request `i`'s decision: deny, escalate when an escalating policy determined the
    /// allow, or allow.
    pub fn decide(&self, i: usize) -> Result<Expected, String> {
        Ok(self.read(&self.respond(i)?))
    }

    /// Request `i`'s decision with the determining policies and the evaluation errors.
    pub fn answer(&self, i: usize) -> Result<CedarAnswer, String> {
        let response = self.respond(i)?;
        Ok(CedarAnswer {
            decision: self.read(&response),
            reasons: response.diagnostics().reason().map(ToString::to_string).collect(),
            errors: response.diagnostics().errors().map(ToString::to_string).collect(),
        })
    }

    fn read(&self, response: &cedar_policy::Response) -> Expected {
        match response.decision() {
            Decision::Deny => Expected::Deny,
            Decision::Allow
                if !self.escalate.is_empty()
                    && response.diagnostics().reason().any(|id| self.escalate.contains(id)) =>
            {
                Expected::Escalate
            }
            Decision::Allow => Expected::Allow,
        }
    }
}

/// regorus with the policy and data loaded, the inputs prepared, and the policy compiled to
/// the RVM when regorus's compiler can.
pub struct Rego {
    engine: regorus::Engine,
    rule: String,
    inputs: Vec<regorus::Value>,
    /// Why the RVM compiler could not compile the policy, if it could not.
    vm: Result<RegoVM, String>,
}

impl Rego {
    /// Loads the module `NAME.rego` and the data, prepares each input, and compiles `rule`
    /// (which yields `"allow"`, `"deny"` or `"escalate"`) for the RVM.
    pub fn new<'a>(
        name: &str,
        policy: &str,
        data: &Json,
        rule: &str,
        inputs: impl IntoIterator<Item = &'a Json>,
    ) -> Result<Rego, String> {
        let mut engine = regorus::Engine::new();
        engine.add_policy(format!("{name}.rego"), policy.to_owned()).map_err(text)?;
        let data = regorus::Value::from_json_str(&data.to_string()).map_err(text)?;
        engine.add_data(data.clone()).map_err(text)?;
        let inputs = inputs
            .into_iter()
            .map(|i| regorus::Value::from_json_str(&i.to_string()).map_err(text))
            .collect::<Result<_, _>>()?;
        let vm = (|| -> Result<RegoVM, String> {
            let compiled = engine.compile_with_entrypoint(&rule.into()).map_err(text)?;
            let program = Compiler::compile_from_policy(&compiled, &[rule]).map_err(text)?;
            let mut vm = RegoVM::new();
            vm.load_program(program);
            vm.set_data(data).map_err(text)?;
            Ok(vm)
        })();
        Ok(Rego { engine, rule: rule.to_owned(), inputs, vm })
    }

    /// The Rego side of a decision scenario.
    pub fn for_scenario(scenario: &Scenario) -> Result<Rego, String> {
        let inputs = scenario.cases.iter().map(|c| &c.rego);
        Rego::new(scenario.name, &scenario.rego, &scenario.rego_data, scenario.rego_rule, inputs)
    }

    /// The Rego side of an OOPSLA'24 app instance.
    pub fn for_instance(instance: &Instance) -> Result<Rego, String> {
        let app = instance.app;
        let inputs = instance.requests.iter().map(|r| &r.rego);
        Rego::new(app.name(), app.rego(), &instance.rego_data, app.rego_rule(), inputs)
    }

    /// Why regorus's RVM compiler could not compile the policy, if it could not.
    pub fn vm_error(&self) -> Option<&str> {
        self.vm.as_ref().err().map(String::as_str)
    }

    fn input(&self, i: usize) -> Result<regorus::Value, String> {
        self.inputs.get(i).cloned().ok_or_else(|| format!("no Rego input {i}"))
    }

    /// Input `i`'s decision by the interpreter: `set_input` (a reference-counted clone of
    /// the prepared value) and `eval_rule`, the cheapest documented entry point.
    pub fn decide(&mut self, i: usize) -> Result<Expected, String> {
        self.engine.set_input(self.input(i)?);
        read(&self.engine.eval_rule(self.rule.clone()).map_err(text)?)
    }

    /// Input `i`'s decision by the RVM: `set_input` and `execute`.
    pub fn decide_vm(&mut self, i: usize) -> Result<Expected, String> {
        let input = self.input(i)?;
        let vm = self.vm.as_mut().map_err(|e| format!("no RVM: {e}"))?;
        vm.set_input(input);
        read(&vm.execute().map_err(text)?)
    }
}

/// An error as text (regorus's are `anyhow` errors, cedar's its own).
fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn read(value: &regorus::Value) -> Result<Expected, String> {
    match value.as_string().map(|s| s.as_ref().to_owned()).unwrap_or_default().as_str() {
        "allow" => Ok(Expected::Allow),
        "escalate" => Ok(Expected::Escalate),
        "deny" => Ok(Expected::Deny),
        other => Err(format!("regorus answered {other:?} ({value:?})")),
    }
}
