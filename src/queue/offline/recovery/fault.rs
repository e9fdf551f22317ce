//! A test hook that interrupts a repair before its Nth change to the store, as a kill would:
//! the kill-point sweep (`tests/engine_convergence.rs`) uses it to show that every interrupted
//! repair, followed by a full one, leaves the same store as one uninterrupted repair.
//!
//! The countdown is per thread and off unless a test sets it; a repair pays one thread-local
//! read per change. This module must not change files itself.

use std::cell::Cell;

use crate::queue::error::{Error, Result};

thread_local! {
    static COUNTDOWN: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Makes the repairs of this thread fail before their `n`th change from now (0: before the
/// first); `None` turns the hook off. For tests only.
#[doc(hidden)]
pub fn interrupt_after(n: Option<usize>) {
    COUNTDOWN.with(|c| c.set(n));
}

/// Called before each change a repair makes: fails when the countdown runs out.
pub(super) fn step() -> Result<()> {
    COUNTDOWN.with(|c| match c.get() {
        Some(0) => {
            c.set(None);
            Err(Error::Usage("repair interrupted by the test hook".into()))
        }
        Some(n) => {
            c.set(Some(n - 1));
            Ok(())
        }
        None => Ok(()),
    })
}
