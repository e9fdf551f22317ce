//! Waiting for the next record: spin for a while, then sleep on mfq's wake-up word (or, when
//! it is unavailable, plain sleeps) in steps of the retry interval, as the .NET consumers do,
//! with a deadline and a cancellation flag. A stream cursor re-checks for a rolled segment on
//! every sleeping poll, so a segment boundary adds no latency.
//!
//! This module must not commit anything.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::queue::error::Result;
use crate::queue::os::wake::Wake;
use crate::queue::read::reader::{Reader, RecordLoc};

/// How a reader waits when nothing is ready.
#[derive(Clone, Copy, Debug)]
pub struct WaitOptions {
    /// Busy-poll this long first (the .NET `ConsumerSpinWaitDuration`, default 100 ms).
    pub spin: Duration,
    /// Then sleep at most this long between polls (the .NET `ConsumerRetryInterval`, default
    /// 1 s). An mfq producer wakes sleepers at once; a .NET producer does not, so this bounds
    /// the latency for messages from .NET.
    pub retry: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            spin: Duration::from_millis(100),
            retry: Duration::from_secs(1),
        }
    }
}

/// Futex sleeps back off through these lengths. The producer checks for waiters with a relaxed
/// load (no fence on its hot path), so a message published just as a waiter registers can miss
/// its wake-up; the short first sleep bounds that cost, the long last one keeps an idle reader
/// at about 20 wake-ups a second.
const FUTEX_SLEEPS: [Duration; 4] = [
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(50),
];

/// A spinning reader pauses this many times between polls. A reader at the head polls the
/// cache line the producer is writing; polling it less often leaves the line to the producer,
/// at the cost of a fraction of a microsecond for a message that arrives meanwhile
/// (measurements: docs/performance.md, "Two processes on two vCPUs").
const PAUSES_PER_POLL: u32 = 4;

/// A reader that has spun this long without a record offers its CPU to other runnable threads
/// between polls: on a small machine the producer it waits for may need that CPU (its page
/// prefaulter, or the producer itself). Shorter waits spin undisturbed, for latency.
const YIELD_AFTER: Duration = Duration::from_micros(20);

/// Polls `reader` until a record is ready, the deadline passes or `cancel` is set.
pub fn wait_next(
    reader: &mut Reader,
    wake: Option<&Wake>,
    opts: &WaitOptions,
    deadline: Option<Instant>,
    cancel: Option<&AtomicBool>,
) -> Result<Option<RecordLoc>> {
    let t0 = Instant::now();
    let mut polls = 0u32;
    let mut sleeping = opts.spin.is_zero();
    let mut naps = 0usize;
    loop {
        if let Some(loc) = reader.poll(sleeping || polls % 1024 == 1023)? {
            return Ok(Some(loc));
        }
        polls = polls.wrapping_add(1);
        if !sleeping && polls % 64 != 0 {
            for _ in 0..PAUSES_PER_POLL {
                std::hint::spin_loop();
            }
            continue;
        }
        let now = Instant::now();
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) || deadline.is_some_and(|d| now >= d) {
            return Ok(None);
        }
        if !sleeping {
            let spun = now.duration_since(t0);
            sleeping = spun >= opts.spin;
            if spun >= YIELD_AFTER {
                std::thread::yield_now();
            }
            continue;
        }
        let left = deadline.map_or(opts.retry, |d| d.saturating_duration_since(now));
        let nap = opts.retry.min(left).max(Duration::from_micros(50));
        match wake {
            Some(w) => {
                let mut ready = false;
                let cap = FUTEX_SLEEPS[naps.min(FUTEX_SLEEPS.len() - 1)];
                naps += 1;
                w.wait(nap.min(cap), || {
                    ready = reader.poll(true).map(|r| r.is_some()).unwrap_or(true);
                    ready
                });
            }
            None => std::thread::sleep(nap.min(if cancel.is_some() {
                Duration::from_millis(100)
            } else {
                nap
            })),
        }
    }
}
