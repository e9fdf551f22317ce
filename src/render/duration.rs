//! Ages for people: "3s ago", "1h 2m ago", "just now".
//!
//! This module owns age formatting; it must not read clocks other than in `ago`.

use std::time::{Duration, SystemTime};

/// How long before `now` the moment `then` was, rounded to whole seconds: `"just now"`
/// under one second (or when `then` is in the future), else like `"1h 2m 3s ago"`.
pub fn age(then: SystemTime, now: SystemTime) -> String {
    match now.duration_since(then) {
        Ok(elapsed) if elapsed >= Duration::from_secs(1) => {
            let secs = (elapsed.as_millis() + 500) / 1000;
            let rounded = Duration::from_secs(u64::try_from(secs).unwrap_or(u64::MAX));
            format!("{} ago", humantime::format_duration(rounded))
        }
        _ => "just now".to_string(),
    }
}

/// `age(then, SystemTime::now())`.
pub fn ago(then: SystemTime) -> String {
    age(then, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn ages() {
        let now = at(10_000, 0);
        assert_eq!(age(at(10_000, 0), now), "just now");
        assert_eq!(age(at(9_999, 100), now), "just now");
        assert_eq!(age(at(9_997, 0), now), "3s ago");
        assert_eq!(age(at(9_996, 400), now), "4s ago");
        assert_eq!(age(at(10_000 - 3723, 0), now), "1h 2m 3s ago");
        assert_eq!(age(at(20_000, 0), now), "just now");
    }
}
