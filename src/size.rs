//! Byte sizes on the command line: parses `4096`, `64MiB`, `1 GB` into a byte count and
//! formats a byte count back for humans.
//!
//! This module owns the size syntax only; it must not decide which sizes are acceptable for
//! a store (minimums, alignment, defaults belong to the resolve step and the engine).

/// Multipliers by suffix, lowercase. `K`, `M` and `G` are binary, like `KiB`, `MiB`, `GiB`.
const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("k", 1 << 10),
    ("kib", 1 << 10),
    ("kb", 1_000),
    ("m", 1 << 20),
    ("mib", 1 << 20),
    ("mb", 1_000_000),
    ("g", 1 << 30),
    ("gib", 1 << 30),
    ("gb", 1_000_000_000),
    ("t", 1 << 40),
    ("tib", 1 << 40),
    ("tb", 1_000_000_000_000),
];

/// Parses a byte size: a whole number with an optional, case-insensitive suffix
/// (`KiB MiB GiB TiB K M G T KB MB GB TB B`), optionally separated by spaces.
/// `KiB`, `K` = 1024; `KB` = 1000.
///
/// Used as a clap value parser, so the error is a plain message.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a size: expected a number like 4096 or 64MiB"
        ));
    }
    let suffix = suffix.trim_start().to_ascii_lowercase();
    let Some(&(_, unit)) = UNITS.iter().find(|(name, _)| *name == suffix) else {
        return Err(format!(
            "unknown size suffix `{}` in `{text}`: use KiB, MiB, GiB, TiB, K, M, G, T, KB, MB, GB or TB",
            suffix
        ));
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large for a size"))?;
    number
        .checked_mul(unit)
        .ok_or_else(|| format!("`{text}` is too large for a size"))
}

/// Formats a byte count with the largest binary unit that divides it exactly
/// (`67108864` → `64 MiB`, `1000` → `1000 B`), so the text parses back to the same value.
pub fn format_size(bytes: u64) -> String {
    const NAMES: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (name, unit) in NAMES {
        if bytes != 0 && bytes % unit == 0 {
            return format!("{} {name}", bytes / unit);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_are_bytes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("12B"), Ok(12));
    }

    #[test]
    fn binary_and_decimal_suffixes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("2 TB"), Ok(2_000_000_000_000));
        assert_eq!(format_size(1 << 40), "1 TiB");
        assert_eq!(parse_size("64mib"), Ok(64 << 20));
        assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("4KB"), Ok(4000));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("3gb"), Ok(3_000_000_000));
    }

    #[test]
    fn rejects_bad_sizes_with_a_reason() {
        let err = parse_size("12XB").unwrap_err();
        assert!(err.contains("unknown size suffix `xb`"), "{err}");
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
        assert!(parse_size("").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("1.5GiB").is_err());
        assert!(parse_size("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("17179869184GiB")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn format_round_trips() {
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(4096), "4 KiB");
        assert_eq!(format_size(1000), "1000 B");
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(3 << 30), "3 GiB");
        for n in [0, 1, 1000, 4096, 64 << 20, (1 << 30) + 1024] {
            assert_eq!(parse_size(&format_size(n)), Ok(n));
        }
    }
}
