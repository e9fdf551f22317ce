//! The mapping's hot-path accessors: a published record reads back exactly, an unset marker
//! or a range past the end reads as nothing, and writes past the end are refused.

use super::*;

fn mapped(len: u64) -> (tempfile::TempDir, File, Map) {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.path().join("seg"))
        .unwrap();
    file.set_len(len).unwrap();
    let map = Map::read_write(&file, len as usize).unwrap();
    (dir, file, map)
}

#[test]
fn a_published_record_reads_back_and_an_unpublished_one_does_not() {
    let (_dir, _file, map) = mapped(4096);
    assert_eq!(map.published(0, 3, 0xFF), None, "nothing written yet");
    map.publish(0, b"abc", 0xFF);
    assert_eq!(map.published(0, 3, 0xFF), Some(&b"abc"[..]));
    assert_eq!(map.published(0, 3, 0xEE), None, "another marker");
    assert_eq!(
        map.published(4, 3, 0xFF),
        None,
        "the next record is not there"
    );
    assert_eq!(map.slice(0, 4), b"abc\xff");
}

#[test]
fn ranges_at_or_past_the_end_read_as_nothing() {
    let (_dir, _file, map) = mapped(4096);
    map.publish(4092, b"xyz", 0xFF);
    assert_eq!(
        map.published(4092, 3, 0xFF),
        Some(&b"xyz"[..]),
        "last bytes"
    );
    assert_eq!(map.published(4093, 3, 0xFF), None, "marker past the end");
    assert_eq!(map.published(usize::MAX, 1, 0xFF), None, "overflow");
    assert_eq!(map.published(1, usize::MAX, 0xFF), None, "overflow");
}

#[test]
#[should_panic(expected = "beyond 4096")]
fn publishing_past_the_end_panics_before_writing() {
    let (_dir, _file, map) = mapped(4096);
    map.publish(4093, b"xyz", 0xFF);
}

#[test]
fn an_empty_mapping_gives_empty_slices_only() {
    let (_dir, file, _) = mapped(0);
    let map = Map::read_only(&file, 0).unwrap();
    assert_eq!(map.slice(0, 0), b"");
    assert_eq!(map.published(0, 0, 0xFF), None);
    map.prefetch(1 << 20);
}

/// Issue #14 (6): on a filesystem without fallocate, `allocate` fell back to a sparse
/// `set_len`, and a full disk then killed the producer with SIGBUS. The fallback now writes
/// zero blocks: they take real space (`st_blocks`), keep the bytes the file held, and a file
/// already long enough is left alone.
#[test]
fn allocate_without_fallocate_writes_zero_blocks() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seg");
    std::fs::write(&path, b"kept").unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let len = 3 * ZERO_CHUNK as u64 + 123;
    allocate_by_writing(&file, len).unwrap();
    let meta = file.metadata().unwrap();
    assert_eq!(meta.len(), len);
    assert!(
        meta.blocks() * 512 >= len,
        "{} bytes allocated for {len}",
        meta.blocks() * 512
    );
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"kept");
    assert!(bytes[4..].iter().all(|&b| b == 0));
    allocate_by_writing(&file, 10).unwrap();
    assert_eq!(file.metadata().unwrap().len(), len, "never shrinks");
}
