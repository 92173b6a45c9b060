//! Generates the LALR parser from `grammar/gov.lalrpop` at the repository root.

fn main() {
    // Read at run time, not with `env!`: a build script compiled in one checkout may be run
    // for another (a shared or copied target directory), and must read that one's grammar.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from).unwrap_or_default();
    let grammar_dir = manifest_dir.join("../../grammar");
    println!("cargo:rerun-if-changed={}", grammar_dir.join("gov.lalrpop").display());
    let out_dir = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from);
    let result = lalrpop::Configuration::new()
        .set_in_dir(&grammar_dir)
        .set_out_dir(out_dir.unwrap_or_default())
        .emit_rerun_directives(true)
        .process();
    if let Err(error) = result {
        eprintln!("lalrpop failed: {error}");
        std::process::exit(1);
    }
}
