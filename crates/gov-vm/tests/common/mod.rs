//! What several of gov-vm's test binaries share: engines of the shipped examples.

use gov_driver::{Package, fs::Disk, read_data};
use gov_vm::Engine;
use std::path::Path;

/// The engine of `examples/NAME`, compiled with its data and loaded from its bundle, as
/// `govc build` builds it.
pub fn example(name: &str) -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name);
    let package = Package::load(&Disk, &root).unwrap();
    assert!(package.errors().is_none(), "examples/{name} does not check");
    let data = read_data(&Disk, package.data_files()).unwrap();
    let program = package.compile(&data).unwrap();
    Engine::load(&gov_vm::bundle::write(&program).unwrap()).unwrap()
}
