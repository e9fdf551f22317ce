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

/// Folders on the filesystems a store may live on here: a tempdir on the disk (ext4 or
/// overlay) and one on tmpfs (`/dev/shm`, when it exists).
fn lock_dirs() -> Vec<tempfile::TempDir> {
    let mut dirs = vec![tempfile::tempdir().unwrap()];
    if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
        dirs.push(shm);
    }
    dirs
}

fn open_rw(path: &std::path::Path) -> File {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap()
}

/// A classic POSIX write lock on the whole file, as .NET's `FileStream.Lock(0, 0)` takes it.
fn posix_lock(file: &File, kind: libc::c_int) -> bool {
    let mut fl = whole_file(kind);
    // SAFETY: a valid descriptor and a live `struct flock`.
    unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &mut fl as *mut libc::flock) == 0 }
}

/// Issue #15 (1): mfq excludes its own processes with OFD locks and holds only `LOCK_SH`
/// (flock) where .NET opens files; that works only if the two kinds of lock ignore each other
/// on the filesystems stores live on.
#[test]
fn flock_and_ofd_locks_on_one_file_do_not_interact() {
    for dir in lock_dirs() {
        let path = dir.path().join("producer.offset");
        let (a, b, c) = (open_rw(&path), open_rw(&path), open_rw(&path));
        assert!(try_ofd_lock(&a).unwrap(), "{path:?}");
        assert!(
            !try_ofd_lock(&b).unwrap(),
            "OFD locks exclude each other: {path:?}"
        );
        assert_eq!(
            record_lock_holder(&b).unwrap(),
            Some(RecordHolder::OpenFile)
        );
        assert_eq!(
            record_lock_holder(&a).unwrap(),
            None,
            "its own lock is not reported"
        );
        // A .NET opener's LOCK_SH, and even a LOCK_EX, beside the OFD lock.
        assert!(try_lock(&b, Lock::Shared).unwrap(), "{path:?}");
        assert!(try_lock(&a, Lock::Shared).unwrap());
        unlock(&a);
        unlock(&b);
        assert!(try_lock(&c, Lock::Exclusive).unwrap(), "{path:?}");
        ofd_unlock(&a);
        assert!(
            try_ofd_lock(&b).unwrap(),
            "flock LOCK_EX does not stop an OFD lock: {path:?}"
        );
        ofd_unlock(&b);
        assert_eq!(record_lock_holder(&c).unwrap(), None, "released");
        drop((a, b, c));
    }
}

/// Issue #15 (3): a .NET recovery's classic POSIX lock on `recovery_lock.lock` and mfq's OFD
/// write lock exclude each other, and `F_OFD_GETLK` names the POSIX holder's process.
#[test]
fn ofd_and_classic_posix_locks_conflict_both_ways() {
    for dir in lock_dirs() {
        let path = dir.path().join("recovery_lock.lock");
        let (dotnet, mfq) = (open_rw(&path), open_rw(&path));
        assert!(posix_lock(&dotnet, libc::F_WRLCK), "{path:?}");
        assert!(
            !try_ofd_lock(&mfq).unwrap(),
            "the POSIX lock refuses the OFD lock"
        );
        assert_eq!(
            record_lock_holder(&mfq).unwrap(),
            Some(RecordHolder::Process(std::process::id()))
        );
        assert!(posix_lock(&dotnet, libc::F_UNLCK));
        assert!(try_ofd_lock(&mfq).unwrap(), "{path:?}");
        assert!(
            !posix_lock(&dotnet, libc::F_WRLCK),
            "the OFD lock refuses the POSIX lock"
        );
        ofd_unlock(&mfq);
        assert!(posix_lock(&dotnet, libc::F_WRLCK));
    }
}
