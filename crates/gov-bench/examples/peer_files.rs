//! Writes a scenario of `gov_bench::peers` as files, for whole-process timing of the
//! command-line tools (see docs/performance.md, "govc eval as a whole process"):
//!
//! ```text
//! cargo run --release -p gov-bench --example peer_files -- payments /tmp/peers
//! ```
//!
//! writes `DIR/gov/policy.gov` with `DIR/gov/policy.data.json` (a package directory),
//! `DIR/policy.rego`, `DIR/data.json` (Rego data), and for each request `DIR/NAME.gov.json`
//! (a Gov request) and `DIR/NAME.input.json` (a Rego input).

use gov_bench::peers;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "payments".to_owned());
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/peers".to_owned()));
    let scenario = match name.as_str() {
        "rbac" => peers::rbac(),
        "payments" => peers::payments(),
        "generated" => peers::generated(1_000),
        other => return Err(format!("unknown scenario `{other}`: rbac, payments or generated").into()),
    };
    std::fs::create_dir_all(dir.join("gov"))?;
    std::fs::write(dir.join("gov/policy.gov"), &scenario.gov)?;
    std::fs::write(dir.join("gov/policy.data.json"), serde_json::to_string(&scenario.gov_data)?)?;
    std::fs::write(dir.join("policy.rego"), &scenario.rego)?;
    std::fs::write(dir.join("data.json"), serde_json::to_string(&scenario.rego_data)?)?;
    std::fs::write(dir.join("policy.cedar"), &scenario.cedar)?;
    std::fs::write(dir.join("entities.json"), serde_json::to_string(&scenario.cedar_entities)?)?;
    for case in &scenario.cases {
        std::fs::write(dir.join(format!("{}.gov.json", case.name)), serde_json::to_string(&case.gov)?)?;
        std::fs::write(dir.join(format!("{}.input.json", case.name)), serde_json::to_string(&case.rego)?)?;
        println!("{} {} (expected {})", case.name, scenario.rego_rule, case.expected.name());
    }
    Ok(())
}
