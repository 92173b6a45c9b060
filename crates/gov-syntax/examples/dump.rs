fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let parsed = gov_syntax::parse(gov_diag::FileId(0), &text);
    println!("{:#?}", parsed.diagnostics);
    for item in &parsed.file.items {
        println!("{:?}\n", item.kind);
    }
}
