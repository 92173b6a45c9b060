//! ascent's transitive closure, the recursion peer: one definition for
//! `benches/recursion.rs`, which times it, and `examples/profile.rs`, which counts its
//! instructions (included by both with `#[path]`; ascent is a dev-dependency, so it cannot
//! live in the library).

use ascent::ascent;

ascent! {
    pub struct Closure;
    relation edge(u32, u32);
    relation reach(u32, u32);
    reach(x, y) <-- edge(x, y);
    reach(x, z) <-- reach(x, y), edge(y, z);
}

/// Runs ascent on `edges`; the program is returned so that freeing it is not counted.
#[inline(never)]
pub fn ascent_closure(edges: Vec<(u32, u32)>) -> Closure {
    let mut program = Closure { edge: edges, ..Closure::default() };
    program.run();
    program
}
