//! The `--output` writer shared by `consume` and `tail`: formats records as text, raw bytes,
//! hex dumps or JSON lines into a batch buffer, and writes a batch to standard output only
//! when asked, so the caller knows exactly which records reached the reader.
//!
//! This module owns the four output layouts; it must not read stores or commit offsets.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::values::{OutputMode, PayloadEncoding};
use crate::cli::GlobalOpts;
use crate::exit::{Exit, ExitStatus};
use crate::render;
use crate::render::json::{RecordJson, SCHEMA_VERSION};
use crate::render::payload::Encoding;

use super::resolve;

/// A batch is written once it holds this many bytes.
pub const BATCH_BYTES: usize = 256 * 1024;

/// Formats records into a buffer and writes the buffer to standard output in batches.
pub struct Output {
    mode: OutputMode,
    encoding: Encoding,
    color: bool,
    buf: Vec<u8>,
    pending: u64,
}

impl Output {
    /// A writer for `mode` with JSON payloads in `encoding`; hex dumps are coloured only on a
    /// terminal without `NO_COLOR`.
    pub fn new(mode: OutputMode, encoding: Encoding) -> Output {
        Output {
            mode,
            encoding,
            color: mode == OutputMode::Hex && render::color_enabled(render::Stream::Stdout),
            buf: Vec::with_capacity(BATCH_BYTES + 64 * 1024),
            pending: 0,
        }
    }

    /// The writer `consume` and `tail` use: `--output` (else JSON with the global `--json`,
    /// else text), with `--payload`, which only JSON takes (a usage error otherwise).
    pub fn for_command(
        global: &GlobalOpts,
        output: Option<OutputMode>,
        payload: Option<PayloadEncoding>,
    ) -> anyhow::Result<Output> {
        let mode = resolve::output_mode(global, output);
        let encoding = payload_encoding(mode == OutputMode::Json, payload)?;
        Ok(Output::new(mode, encoding))
    }

    /// Adds one record to the batch (nothing is written yet).
    #[inline]
    pub fn push(&mut self, offset: u64, next_offset: u64, payload: &[u8]) {
        self.pending += 1;
        let out = &mut self.buf;
        match self.mode {
            OutputMode::Raw => out.extend_from_slice(payload),
            OutputMode::Text => {
                push_text(out, payload);
                out.push(b'\n');
            }
            OutputMode::Hex => {
                let _ = writeln!(out, "offset {offset} ({} bytes):", payload.len());
                render::hex::hex_dump(out, payload, 0, self.color)
                    .expect("writing to a Vec cannot fail");
            }
            OutputMode::Json => {
                let rec = RecordJson {
                    v: Some(SCHEMA_VERSION),
                    offset,
                    next_offset: Some(next_offset),
                    record_size: next_offset.saturating_sub(offset),
                    payload_size: Some(payload.len() as u64),
                    payload: Some(render::payload::json_payload(payload, self.encoding)),
                };
                serde_json::to_writer(&mut *out, &rec).expect("a record always serializes");
                out.push(b'\n');
            }
        }
    }

    /// Whether the batch is big enough to be written now.
    pub fn is_full(&self) -> bool {
        self.buf.len() >= BATCH_BYTES
    }

    /// Records added since the last write.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Writes the batch to `out` and flushes it. On success every record pushed so far has
    /// reached `out`; on error some of them may have.
    pub fn write_to(&mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.buf.is_empty() {
            out.write_all(&self.buf)?;
            self.buf.clear();
        }
        out.flush()?;
        self.pending = 0;
        Ok(())
    }
}

/// The JSON payload encoding `--payload` asks for; `json` says whether the output is JSON,
/// the only output `--payload` applies to (a usage error otherwise).
pub fn payload_encoding(json: bool, given: Option<PayloadEncoding>) -> anyhow::Result<Encoding> {
    let Some(given) = given else {
        return Ok(Encoding::Auto);
    };
    if !json {
        let why = "--payload sets how JSON output encodes payloads: add --json (or --output \
                   json), or drop --payload";
        return Err(Exit::new(ExitStatus::Usage, why).into());
    }
    Ok(match given {
        PayloadEncoding::Auto => Encoding::Auto,
        PayloadEncoding::Text => Encoding::Text,
        PayloadEncoding::Base64 => Encoding::Base64,
        PayloadEncoding::Hex => Encoding::Hex,
    })
}

/// Standard output for whole batches: the file descriptor itself (a duplicate of it), so that
/// batches bypass the standard library's line buffering, which would scan every batch for its
/// last newline and copy the rest; the locked `io::Stdout` when it cannot be duplicated.
pub fn stdout_writer() -> Box<dyn Write> {
    match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(io::stdout().lock()),
    }
}

/// Whether standard output is a pipe (or a FIFO): what was written to it is delivered only once
/// the reader has taken it out of the pipe, so `consume` waits for that before it commits
/// ([`wait_drained`]).
pub fn stdout_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    File::from(fd)
        .metadata()
        .is_ok_and(|m| m.file_type().is_fifo())
}

/// Waits until the reader of the pipe on standard output has read every byte written to it
/// (the pipe holds none). Ends as a failed write to a closed pipe does (a `BrokenPipe` error)
/// when the reader closed its end first, whether or not it read what the pipe held.
pub fn wait_drained() -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut pause = Duration::from_micros(10);
    let mut round = 0u32;
    loop {
        match rustix::io::ioctl_fionread(&stdout) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            // Not a pipe after all (nothing to wait for).
            Err(_) => return Ok(()),
        }
        if stdout_hung_up() {
            return Err(io::Error::from(io::ErrorKind::BrokenPipe))
                .context("cannot write to standard output");
        }
        // A reader that keeps up drains the pipe within microseconds: give it the CPU first,
        // then sleep, longer and longer, for a slow one.
        round += 1;
        if round <= 64 {
            std::thread::yield_now();
            continue;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// How often a reader waiting for records checks whether standard output has hung up.
const HANGUP_CHECK: Duration = Duration::from_millis(250);

/// Waits for the next record until `deadline` (forever when `None`) in rounds: `next(until)`
/// reads one into the batch, waiting at most until `until`. Between rounds it checks whether
/// nobody can read standard output any more (`mfq tail | head` after head has its lines) and
/// then ends as a failed write to a closed pipe does: with a `BrokenPipe` error, which the
/// binary turns into a quiet exit 0. `Ok(false)` when the deadline passed without a record.
pub fn wait_watching_stdout(
    deadline: Option<Instant>,
    mut next: impl FnMut(Instant) -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    loop {
        let round = Instant::now() + HANGUP_CHECK;
        if next(deadline.map_or(round, |d| d.min(round)))? {
            return Ok(true);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(false);
        }
        if stdout_hung_up() {
            return Err(io::Error::from(io::ErrorKind::BrokenPipe))
                .context("cannot write to standard output");
        }
    }
}

/// Whether nobody can read standard output any more (the read end of a pipe was closed).
/// A terminal or a file never hangs up.
fn stdout_hung_up() -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let stdout = io::stdout();
    let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&zero)) {
        Ok(n) if n > 0 => fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP),
        _ => false,
    }
}

/// A payload as one line of text: as is when it is valid UTF-8 without control characters
/// (tabs allowed), else fully escaped (`\n`, `\0`, `\xff`, ...) so that it stays one line.
fn push_text(out: &mut Vec<u8>, payload: &[u8]) {
    match std::str::from_utf8(payload) {
        Ok(text) if !text.chars().any(|c| c.is_control() && c != '\t') => {
            out.extend_from_slice(payload)
        }
        _ => out.extend_from_slice(render::payload::preview(payload, usize::MAX).as_bytes()),
    }
}

/// Says on standard error which recorded gaps a reader stepped over (records a crash lost,
/// which a repair left as zeros on purpose), so that a reader of the output knows offsets jump.
pub fn note_skipped_gaps(gaps: Vec<(u64, u64)>) {
    for (a, b) in gaps {
        let _ = writeln!(
            std::io::stderr(),
            "mfq: stepped over the recorded gap {a}..{b} (records a crash lost; see `mfq stat`)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_as(mode: OutputMode, encoding: Encoding, payload: &[u8]) -> String {
        let mut o = Output::new(mode, encoding);
        o.push(10, 20, payload);
        assert_eq!(o.pending(), 1);
        let mut sink = Vec::new();
        o.write_to(&mut sink).unwrap();
        assert_eq!(o.pending(), 0);
        String::from_utf8(sink).unwrap()
    }

    fn render(mode: OutputMode, payload: &[u8]) -> String {
        render_as(mode, Encoding::Auto, payload)
    }

    #[test]
    fn text_lines_and_escapes() {
        assert_eq!(render(OutputMode::Text, b"hello\tworld"), "hello\tworld\n");
        assert_eq!(render(OutputMode::Text, b"a\nb\0\xff"), "a\\nb\\0\\xff\n");
    }

    #[test]
    fn json_fields() {
        let line = render(OutputMode::Json, b"\xff\x00");
        let v: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["offset"], 10);
        assert_eq!(v["next_offset"], 20);
        assert_eq!(v["record_size"], 10);
        assert_eq!(v["payload_size"], 2);
        assert_eq!(v["payload"]["base64"], "/wA=");
        let line = render_as(OutputMode::Json, Encoding::Hex, b"\xff\x00");
        let v: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(v["payload"], serde_json::json!({ "hex": "ff00" }));
    }

    #[test]
    fn payload_only_with_json() {
        assert_eq!(payload_encoding(false, None).unwrap(), Encoding::Auto);
        assert_eq!(
            payload_encoding(true, Some(PayloadEncoding::Hex)).unwrap(),
            Encoding::Hex
        );
        let err = payload_encoding(false, Some(PayloadEncoding::Hex)).unwrap_err();
        assert_eq!(crate::exit::exit_code_for(&err), 2);
    }

    #[test]
    fn raw_and_hex() {
        assert_eq!(render(OutputMode::Raw, b"abc"), "abc");
        let hex = render(OutputMode::Hex, b"abc");
        assert!(hex.starts_with("offset 10 (3 bytes):\n"), "{hex}");
        assert!(hex.contains("61 62 63"), "{hex}");
    }
}
