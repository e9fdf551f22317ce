//! The page prefaulter: a helper thread that faults the next window of a segment into the
//! mapping ahead of its user, so the user does not take first-touch page faults. A producer
//! populates writable (`MADV_POPULATE_WRITE`) ahead of its appends; a reader working through a
//! backlog populates its read-only mapping (`MADV_POPULATE_READ`) ahead of its cursor. It is
//! separate from the flusher, whose msync calls block for milliseconds.
//!
//! This module must not write bytes; populating never changes a page's contents.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::queue::os::segment::Segment;

/// A range of a segment to populate.
type Job = (Arc<Segment>, usize, usize);

struct State {
    next: Option<Job>,
    /// Queued behind `next` (a reader's next segment, opened ahead of time).
    then: Option<Job>,
    /// Segments a reader has left, to be unmapped here rather than on its thread.
    retired: Vec<Arc<Segment>>,
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
                then: None,
                retired: Vec::new(),
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

    /// Asks for `[from, to)` of `seg` to be faulted in (replacing older requests, queued ones
    /// included).
    pub fn request(&self, seg: Arc<Segment>, from: usize, to: usize) {
        let (lock, cond) = &*self.shared;
        let mut st = lock.lock().expect("prefault lock");
        st.next = Some((seg, from, to));
        st.then = None;
        drop(st);
        cond.notify_one();
    }

    /// Asks for `[from, to)` of `seg` to be faulted in after the current request (replacing an
    /// older queued one).
    pub fn queue(&self, seg: Arc<Segment>, from: usize, to: usize) {
        let (lock, cond) = &*self.shared;
        let mut st = lock.lock().expect("prefault lock");
        let job = Some((seg, from, to));
        if st.next.is_some() {
            st.then = job;
        } else {
            st.next = job;
        }
        drop(st);
        cond.notify_one();
    }

    /// Hands over a segment its user has left: the helper drops it, so that unmapping it (tens
    /// of microseconds to milliseconds for a large populated mapping) does not stall the user.
    /// The caller releases the segment's lock first if others must see it released at once.
    pub fn retire(&self, seg: Arc<Segment>) {
        let (lock, cond) = &*self.shared;
        lock.lock().expect("prefault lock").retired.push(seg);
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
        if !st.retired.is_empty() {
            let retired = std::mem::take(&mut st.retired);
            drop(st);
            drop(retired);
            st = lock.lock().expect("prefault lock");
            continue;
        }
        match st.next.take().or_else(|| st.then.take()) {
            Some((seg, from, to)) => {
                drop(st);
                seg.map().populate(from, to.saturating_sub(from));
                st = lock.lock().expect("prefault lock");
            }
            None => st = cond.wait(st).expect("prefault lock"),
        }
    }
}
