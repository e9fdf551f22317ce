//! Small statistics for benchmark results: medians of runs and latency percentiles.
//!
//! This module must not measure anything.

use serde::{Deserialize, Serialize};

/// Latency percentiles in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
}

/// Percentiles of a sample (sorted in place). An empty sample gives zeros.
pub fn percentiles(sample: &mut [u64]) -> Percentiles {
    if sample.is_empty() {
        return Percentiles::default();
    }
    sample.sort_unstable();
    let at = |q: f64| sample[((sample.len() - 1) as f64 * q).round() as usize];
    Percentiles {
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
    }
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The median of several percentile sets, field by field.
pub fn median_percentiles(sets: &[Percentiles]) -> Percentiles {
    let pick = |f: fn(&Percentiles) -> u64| {
        median(&sets.iter().map(|p| f(p) as f64).collect::<Vec<_>>()) as u64
    };
    Percentiles {
        p50: pick(|p| p.p50),
        p99: pick(|p| p.p99),
        p999: pick(|p| p.p999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_ramp() {
        let mut v: Vec<u64> = (1..=1000).rev().collect();
        let p = percentiles(&mut v);
        assert_eq!(p.p50, 501);
        assert_eq!(p.p99, 990);
        assert_eq!(p.p999, 999);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
