//! Splitting `produce`'s input (a file or standard input) into messages: lines, fixed-size
//! raw chunks, the whole input, or length-prefixed frames. Each message is read into one
//! reused buffer, so splitting allocates nothing per message.
//!
//! This module owns input framing; it must not append to a store or decide padding.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::{bail, Context};

/// Read buffer size: large, so that small lines cost no system call each.
const READ_BUFFER: usize = 1 << 20;

/// How the input is cut into messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// One message per `\n`-terminated line; the `\n` is dropped, every other byte kept.
    Lines,
    /// Consecutive chunks of exactly this many bytes; a shorter last chunk is an error that is
    /// detected before the first message is returned.
    Chunks(usize),
    /// The whole input is one message (none when it is empty).
    Whole,
    /// A 4-byte little-endian length, then that many bytes; lengths above `max` are refused.
    LengthPrefixed {
        /// The largest length accepted.
        max: usize,
    },
}

/// Messages read from an input.
pub struct Messages {
    reader: BufReader<Box<dyn Read>>,
    split: Split,
    returned: u64,
    done: bool,
}

impl Messages {
    /// Opens `file`, or standard input when `None`. For `Split::Chunks` the input length is
    /// checked first: from the file size for a regular file, else by reading it all.
    pub fn open(file: Option<&Path>, split: Split) -> anyhow::Result<Messages> {
        let (mut input, known_len) = match file {
            Some(p) => {
                let f = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
                remaining(f)
            }
            None => stdin_input(),
        };
        if let Split::Chunks(size) = split {
            let len = match known_len {
                Some(len) => len,
                None => {
                    let mut all = Vec::new();
                    input
                        .read_to_end(&mut all)
                        .context("cannot read the input")?;
                    let len = all.len() as u64;
                    input = Box::new(Cursor::new(all));
                    len
                }
            };
            check_chunks(len, size)?;
        }
        Ok(Messages {
            reader: BufReader::with_capacity(READ_BUFFER, input),
            split,
            returned: 0,
            done: false,
        })
    }

    /// Reads the next message into `buf` (cleared first); `Ok(false)` at the end of the input.
    pub fn next_into(&mut self, buf: &mut Vec<u8>) -> anyhow::Result<bool> {
        buf.clear();
        if self.done {
            return Ok(false);
        }
        let index = self.returned + 1;
        let got = match self.split {
            Split::Lines => self.line(buf),
            Split::Chunks(size) => self.chunk(buf, size, index),
            Split::Whole => self.whole(buf),
            Split::LengthPrefixed { max } => self.frame(buf, max, index),
        }?;
        if got {
            self.returned = index;
        } else {
            self.done = true;
        }
        Ok(got)
    }

    fn line(&mut self, buf: &mut Vec<u8>) -> anyhow::Result<bool> {
        let n = self
            .reader
            .read_until(b'\n', buf)
            .context("cannot read the input")?;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(n > 0)
    }

    fn chunk(&mut self, buf: &mut Vec<u8>, size: usize, index: u64) -> anyhow::Result<bool> {
        buf.resize(size, 0);
        let n = read_full(&mut self.reader, buf)?;
        if n == 0 {
            return Ok(false);
        }
        if n < size {
            bail!("message {index}: the input ends after {n} of its {size} bytes (the input changed while it was read)");
        }
        Ok(true)
    }

    fn whole(&mut self, buf: &mut Vec<u8>) -> anyhow::Result<bool> {
        self.reader
            .read_to_end(buf)
            .context("cannot read the input")?;
        self.done = true;
        Ok(!buf.is_empty())
    }

    fn frame(&mut self, buf: &mut Vec<u8>, max: usize, index: u64) -> anyhow::Result<bool> {
        let mut prefix = [0u8; 4];
        match read_full(&mut self.reader, &mut prefix)? {
            0 => return Ok(false),
            4 => {}
            n => bail!("message {index}: the input ends after {n} of the 4 length bytes"),
        }
        let len = u32::from_le_bytes(prefix) as usize;
        if len > max {
            bail!("message {index}: its length prefix says {len} bytes, more than the largest payload of this store ({max} bytes)");
        }
        buf.resize(len, 0);
        let n = read_full(&mut self.reader, buf)?;
        if n < len {
            bail!("message {index}: the input ends after {n} of its {len} bytes");
        }
        Ok(true)
    }
}

/// Refuses an input whose length is not a whole number of `size`-byte chunks.
fn check_chunks(len: u64, size: usize) -> anyhow::Result<()> {
    let size = size as u64;
    if size > 0 && len % size != 0 {
        bail!(
            "the input is {len} bytes, not a multiple of the record size {size} \
             ({} whole records and {} bytes left over); nothing was written",
            len / size,
            len % size
        );
    }
    Ok(())
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> anyhow::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).context("cannot read the input"),
        }
    }
    Ok(filled)
}

/// A reader for an opened file, with the bytes left in it when it is a regular file.
fn remaining(mut file: File) -> (Box<dyn Read>, Option<u64>) {
    use std::io::Seek;
    let len = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .and_then(|m| Some(m.len().saturating_sub(file.stream_position().ok()?)));
    (Box::new(file), len)
}

/// Standard input as a file (so a redirected regular file shows its length), else as is.
fn stdin_input() -> (Box<dyn Read>, Option<u64>) {
    match io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => remaining(File::from(fd)),
        Err(_) => (Box::new(io::stdin()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(bytes: &[u8], how: Split) -> anyhow::Result<Vec<Vec<u8>>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in");
        std::fs::write(&path, bytes).unwrap();
        let mut m = Messages::open(Some(&path), how)?;
        let mut out = vec![];
        let mut buf = vec![];
        while m.next_into(&mut buf)? {
            out.push(buf.clone());
        }
        Ok(out)
    }

    #[test]
    fn lines_keep_carriage_returns_and_empty_lines() {
        let got = split(b"a\r\n\nb", Split::Lines).unwrap();
        assert_eq!(got, vec![b"a\r".to_vec(), vec![], b"b".to_vec()]);
        assert!(split(b"", Split::Lines).unwrap().is_empty());
    }

    #[test]
    fn chunks_whole_and_frames() {
        assert_eq!(split(b"abcd", Split::Chunks(2)).unwrap().len(), 2);
        let err = split(b"abcde", Split::Chunks(2)).unwrap_err().to_string();
        assert!(err.contains("not a multiple"), "{err}");
        assert_eq!(
            split(b"a\nb", Split::Whole).unwrap(),
            vec![b"a\nb".to_vec()]
        );
        let framed = [&2u32.to_le_bytes()[..], b"hi", &1u32.to_le_bytes(), b"x"].concat();
        let max = Split::LengthPrefixed { max: 10 };
        assert_eq!(
            split(&framed, max).unwrap(),
            vec![b"hi".to_vec(), b"x".to_vec()]
        );
        let err = split(&framed[..5], max).unwrap_err().to_string();
        assert!(
            err.starts_with("message 1: the input ends after 1 of its 2"),
            "{err}"
        );
        let err = split(&99u32.to_le_bytes(), max).unwrap_err().to_string();
        assert!(err.contains("99 bytes"), "{err}");
    }
}
