//! The page prefaulter: a helper thread that faults the next window of a segment into the
//! mapping ahead of its user, so the user does not take first-touch page faults. A producer
//! populates writable (`MADV_POPULATE_WRITE`) ahead of its appends; a reader working through a
//! backlog populates its read-only mapping (`MADV_POPULATE_READ`) ahead of its cursor. It is
//! separate from the flusher, whose msync calls block for milliseconds.
//!
//! This module must not write bytes; populating never changes a page's contents.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::segment::Segment;

struct State {
    next: Option<(Arc<Segment>, usize, usize)>,
    stop: bool,
}

/// Handle owned by the producer.
pub struct Prefaulter {
    shared: Arc<(Mutex<State>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Prefaulter {
    /// Starts the helper thread, named `name`.
    pub fn start(name: &str) -> Prefaulter {
        let shared = Arc::new((
            Mutex::new(State {
                next: None,
                stop: false,
            }),
            Condvar::new(),
        ));
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(&sh))
            .expect("spawn prefault thread");
        Prefaulter {
            shared,
            thread: Some(thread),
        }
    }

    /// Asks for `[from, to)` of `seg` to be faulted in (replacing an older request).
    pub fn request(&self, seg: Arc<Segment>, from: usize, to: usize) {
        let (lock, cond) = &*self.shared;
        lock.lock().expect("prefault lock").next = Some((seg, from, to));
        cond.notify_one();
    }
}

impl Drop for Prefaulter {
    fn drop(&mut self) {
        let (lock, cond) = &*self.shared;
        lock.lock().expect("prefault lock").stop = true;
        cond.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(shared: &(Mutex<State>, Condvar)) {
    let (lock, cond) = shared;
    let mut st = lock.lock().expect("prefault lock");
    loop {
        if st.stop {
            return;
        }
        match st.next.take() {
            Some((seg, from, to)) => {
                drop(st);
                seg.map().populate(from, to.saturating_sub(from));
                st = lock.lock().expect("prefault lock");
            }
            None => st = cond.wait(st).expect("prefault lock"),
        }
    }
}
