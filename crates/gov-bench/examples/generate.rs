//! Prints a generated package: `cargo run -p gov-bench --example generate -- 10000`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let rules = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 10_000,
        Some(Ok(rules)) => rules,
        Some(Err(error)) => {
            eprintln!("usage: generate [RULES]: {error}");
            return ExitCode::from(2);
        }
    };
    print!("{}", gov_bench::generate_package(rules));
    ExitCode::SUCCESS
}
