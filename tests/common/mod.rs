//! Helpers shared by the integration tests: copying fixtures into temporary folders and
//! reading whole stores.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The folder of the golden .NET stores.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compat")
        .join(name)
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

/// A writable copy of a golden store in a fresh temporary folder.
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(name);
    copy_tree(&fixture(name), &store);
    (dir, store)
}

/// Every file under `commitlog/` and `offset/`, relative path -> bytes.
pub fn store_files(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for sub in ["commitlog", "offset"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            // Reading a FIFO would block: anything but a file is recorded by its kind.
            let bytes = match e.file_type().unwrap() {
                t if t.is_file() => std::fs::read(e.path()).unwrap(),
                t => format!("{t:?}").into_bytes(),
            };
            out.insert(format!("{sub}/{}", e.file_name().to_string_lossy()), bytes);
        }
    }
    out
}

/// Reads an 8-byte offset file.
pub fn offset_value(root: &Path, name: &str) -> u64 {
    let b = std::fs::read(root.join("offset").join(name)).unwrap();
    u64::from_le_bytes(b.try_into().unwrap())
}

/// The fixed test message i of the .NET suites: four i32 LE {i, i+1, i+2, i+3}.
pub fn fixed_message(i: i32) -> Vec<u8> {
    [i, i + 1, i + 2, i + 3]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}
