//! Generates the LALR parser from `grammar/gov.lalrpop` at the repository root.

fn main() {
    let grammar_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grammar");
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
