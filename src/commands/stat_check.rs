//! `mfq stat --check`: the store's facts judged against limits, for monitoring (Nagios
//! convention): OK, WARNING or CRITICAL, with one summary line and the exit status 0, 1 or 2.
//!
//! Critical: an issue that needs a repair, or a consumer past a `--max-*` limit; warning: a
//! consumer past a `--warn-*` limit. Idle is the time since a consumer's last commit (its
//! offset file's modification time), counted only while it has lag. A lag in messages that
//! cannot be counted exactly is judged by its lower bound.
//!
//! This module owns the judgement and its words; it must not read the store (`stat_facts`
//! does) or exit (the caller does).

use std::time::{Duration, SystemTime};

use mfq::queue::recovery::Severity;
use serde::Serialize;

use super::stat_facts::{to_time, ConsumerFacts, StatFacts};
use crate::cli::StatArgs;

/// The outcome of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Everything within the limits.
    Ok,
    /// Past a warning limit.
    Warning,
    /// Past a critical limit, or a repair is needed.
    Critical,
}

impl Level {
    /// The word the summary line starts with.
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }
}

/// One limit a consumer is past, or a repair the store needs.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// How bad.
    pub level: Level,
    /// The consumer, or null for the store as a whole.
    pub consumer: Option<String>,
    /// `lag_messages`, `lag_bytes`, `idle_seconds` or `needs_repair`.
    pub metric: &'static str,
    /// The value found (for `needs_repair`: the number of issues).
    pub value: u64,
    /// The limit it is past (null for `needs_repair`).
    pub limit: Option<u64>,
    /// The same in words.
    pub message: String,
}

/// The result of `stat --check`, printed by `--json`.
#[derive(Debug, Serialize)]
pub struct Check {
    /// `ok`, `warning` or `critical`.
    pub status: Level,
    /// The exit status: 0, 1 or 2.
    pub code: i32,
    /// The summary line.
    pub summary: String,
    /// What is past a limit, worst first.
    pub problems: Vec<Problem>,
    /// The consumers checked.
    pub consumers: Vec<String>,
}

/// The limits of one metric.
struct Limits {
    warn: Option<u64>,
    max: Option<u64>,
}

impl Limits {
    fn judge(&self, value: u64) -> Option<(Level, u64)> {
        match (self.max, self.warn) {
            (Some(m), _) if value > m => Some((Level::Critical, m)),
            (_, Some(w)) if value > w => Some((Level::Warning, w)),
            _ => None,
        }
    }
}

fn secs(d: Option<humantime::Duration>) -> Option<u64> {
    d.map(|d| Duration::from(d).as_secs())
}

/// Judges `facts` against the limits of `args` at time `now`. Fails when `--consumer` names
/// a consumer the store does not have.
pub fn judge(facts: &StatFacts, args: &StatArgs, now: SystemTime) -> anyhow::Result<Check> {
    let chosen: Vec<&ConsumerFacts> = facts
        .consumers
        .iter()
        .filter(|c| args.consumer.as_ref().map_or(true, |n| *n == c.name))
        .collect();
    if let Some(name) = &args.consumer {
        if chosen.is_empty() {
            anyhow::bail!("the store has no consumer {name} (`mfq stat` lists them)");
        }
    }
    let mut problems = vec![];
    let repairs = facts
        .issues
        .iter()
        .filter(|i| i.issue.severity == Severity::Repair)
        .count() as u64;
    if repairs > 0 {
        problems.push(Problem {
            level: Level::Critical,
            consumer: None,
            metric: "needs_repair",
            value: repairs,
            limit: None,
            message: format!("needs repair ({repairs} issue(s); run `mfq recover --dry-run`)"),
        });
    }
    let messages = Limits {
        warn: args.warn_lag_messages,
        max: args.max_lag_messages,
    };
    let bytes = Limits {
        warn: args.warn_lag_bytes,
        max: args.max_lag_bytes,
    };
    let idle = Limits {
        warn: secs(args.warn_idle),
        max: secs(args.max_idle),
    };
    for c in &chosen {
        let who = match c.name.as_str() {
            "consumer" => "the consumer".to_string(),
            n => format!("consumer {n}"),
        };
        if let Some(n) = c.lag_messages_at_least {
            if let Some((level, limit)) = messages.judge(n) {
                let at_least = if c.lag_messages_exact {
                    ""
                } else {
                    "at least "
                };
                problems.push(Problem {
                    level,
                    consumer: Some(c.name.clone()),
                    metric: "lag_messages",
                    value: n,
                    limit: Some(limit),
                    message: format!("{who} lags {at_least}{n} messages (> {limit})"),
                });
            }
        }
        if let Some(b) = c.lag_bytes {
            if let Some((level, limit)) = bytes.judge(b) {
                problems.push(Problem {
                    level,
                    consumer: Some(c.name.clone()),
                    metric: "lag_bytes",
                    value: b,
                    limit: Some(limit),
                    message: format!("{who} lags {b} bytes (> {limit})"),
                });
            }
        }
        let idle_secs = c
            .last_commit_unix_ms
            .filter(|_| c.lag_bytes.is_some_and(|b| b > 0))
            .and_then(|ms| now.duration_since(to_time(ms)).ok())
            .map(|d| d.as_secs());
        if let Some(s) = idle_secs {
            if let Some((level, limit)) = idle.judge(s) {
                problems.push(Problem {
                    level,
                    consumer: Some(c.name.clone()),
                    metric: "idle_seconds",
                    value: s,
                    limit: Some(limit),
                    message: format!(
                        "{who} has not committed for {} while it lags (> {})",
                        humantime::format_duration(Duration::from_secs(s)),
                        humantime::format_duration(Duration::from_secs(limit))
                    ),
                });
            }
        }
    }
    problems.sort_by_key(|p| std::cmp::Reverse(p.level));
    let status = problems.first().map_or(Level::Ok, |p| p.level);
    let summary = match problems.is_empty() {
        true => {
            let max_lag = chosen.iter().filter_map(|c| c.lag_bytes).max().unwrap_or(0);
            format!(
                "OK: {} consumer(s) within limits (largest lag {max_lag} bytes); {}",
                chosen.len(),
                facts.path.display()
            )
        }
        false => format!(
            "{}: {}; {}",
            status.word(),
            problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            facts.path.display()
        ),
    };
    Ok(Check {
        status,
        code: status as i32,
        summary,
        problems,
        consumers: chosen.iter().map(|c| c.name.clone()).collect(),
    })
}
