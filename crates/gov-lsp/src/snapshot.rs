//! A package as `gov_driver` loads it, taken from the server's state so that it can be
//! loaded away from the state's lock: the open documents' texts over the disk.

use crate::state::{State, file_path};
use gov_driver::Package;
use gov_driver::fs::{Disk, FileSystem, Kind, Overlay};
use std::path::PathBuf;

/// The open documents and where the package lies, copied out of the state.
pub struct Snapshot {
    /// The package's directory key (a directory for files on disk).
    dir: PathBuf,
    /// Every open document with a file path: its path and unsaved text.
    open: Vec<(PathBuf, String)>,
    /// The files to check when the directory is not on disk (unsaved or virtual
    /// documents): (key, text) pairs.
    fallback: Vec<(String, String)>,
}

impl Snapshot {
    /// The package `package` of `state`; `fallback` are the files it is made of when its
    /// directory is not on disk.
    pub fn new(state: &State, package: &str, fallback: Vec<(String, String)>) -> Snapshot {
        let open = state.documents.values().filter_map(|d| Some((file_path(&d.uri)?, d.text.clone()))).collect();
        Snapshot { dir: PathBuf::from(package), open, fallback }
    }

    /// The disk with the open documents' texts in place of the saved ones.
    pub fn files(&self) -> Overlay<'static, Disk> {
        Overlay::new(&Disk, self.open.iter().cloned())
    }

    /// Loads and checks the package through `files` (see [`Snapshot::files`]) exactly as
    /// `govc` would, data files included; from the fallback files, without data, when its
    /// directory is not on disk.
    pub fn load(&self, files: &dyn FileSystem) -> Result<Package, String> {
        if self.dir.is_absolute() && files.kind(&self.dir).is_ok_and(|k| k == Kind::Dir) {
            Package::load(files, &self.dir)
        } else {
            Package::from_sources(self.fallback.clone()).ok_or_else(|| "the package could not be loaded".to_owned())
        }
    }
}
