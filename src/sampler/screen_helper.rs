//! Screenshots in a short-lived helper process (`stint capture-screens`), so
//! the full-size pixel buffers of capture and encoding live and die in the
//! helper: the daemon only ever holds the encoded images, and its memory stays
//! at its idle size (docs/performance.md has the numbers).
//!
//! The helper writes, per monitor, one JSON header line and then the image's
//! bytes; a failure is one line on stderr, `permission: ...` or `failed: ...`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::source::{ScreenSource, Shot};
use super::SamplerError;
use crate::encode::{EncodeOptions, Encoded, Format};

/// More than any set of encoded screenshots; a helper that sends more is
/// not trusted further.
const MAX_OUTPUT: u64 = 256 << 20;

#[derive(Serialize, Deserialize)]
struct Header {
    monitor: String,
    width: u32,
    height: u32,
    format: String,
    bytes: usize,
}

/// The helper's side: capture with `source`, write the frames to `out`.
pub fn serve(
    source: &dyn ScreenSource,
    opts: EncodeOptions,
    out: &mut impl Write,
) -> Result<(), SamplerError> {
    let io = |e: std::io::Error| SamplerError::Failed(format!("writing to the daemon: {e}"));
    for shot in source.capture_all(opts)? {
        let header = Header {
            monitor: shot.monitor,
            width: shot.image.width,
            height: shot.image.height,
            format: shot.image.format.to_string(),
            bytes: shot.image.data.len(),
        };
        let line = serde_json::to_string(&header).expect("a header serialises");
        writeln!(out, "{line}").map_err(io)?;
        out.write_all(&shot.image.data).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// How the helper reports a failure on stderr, for `error_from` to read back.
pub fn error_line(e: &SamplerError) -> String {
    match e {
        SamplerError::Permission(why) => format!("permission: {why}"),
        other => format!("failed: {other}"),
    }
}

fn error_from(stderr: &str) -> SamplerError {
    let line = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line: String = line.chars().take(500).collect();
    match line.split_once(": ") {
        Some(("permission", why)) => SamplerError::Permission(why.to_string()),
        Some(("failed", why)) => SamplerError::Failed(why.to_string()),
        _ if line.is_empty() => {
            SamplerError::Failed("the screenshot helper failed silently".into())
        }
        _ => SamplerError::Failed(format!("screenshot helper: {line}")),
    }
}

/// Reads the helper's frames back into shots.
pub fn parse(mut bytes: &[u8]) -> Result<Vec<Shot>, SamplerError> {
    let bad = |why: &str| SamplerError::Failed(format!("screenshot helper output: {why}"));
    let mut shots = Vec::new();
    while !bytes.is_empty() {
        let end = bytes
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| bad("a header without its end"))?;
        let header: Header =
            serde_json::from_slice(&bytes[..end]).map_err(|e| bad(&e.to_string()))?;
        bytes = &bytes[end + 1..];
        if header.bytes > bytes.len() {
            return Err(bad("an image shorter than its header says"));
        }
        let format = match header.format.as_str() {
            "webp" => Format::Webp.name(),
            "jpeg" => Format::Jpeg.name(),
            other => return Err(bad(&format!("unknown format {other:?}"))),
        };
        let (data, rest) = bytes.split_at(header.bytes);
        bytes = rest;
        shots.push(Shot {
            monitor: header.monitor,
            image: Encoded {
                width: header.width,
                height: header.height,
                data: data.to_vec(),
                format,
            },
        });
    }
    Ok(shots)
}

/// The daemon's side: a screen source that runs the helper for each capture.
pub struct HelperScreens {
    pub exe: PathBuf,
    /// The helper is killed after this long (the capture timeout).
    pub timeout: Duration,
}

impl HelperScreens {
    fn args(opts: EncodeOptions) -> Vec<String> {
        let mut args = vec![
            "capture-screens".to_string(),
            "--format".into(),
            opts.format.name().into(),
            "--quality".into(),
            opts.quality.to_string(),
            "--max-width".into(),
            opts.max_width.to_string(),
        ];
        if opts.blur {
            args.push("--blur".into());
        }
        args
    }
}

impl ScreenSource for HelperScreens {
    fn capture_all(&self, opts: EncodeOptions) -> Result<Vec<Shot>, SamplerError> {
        let failed = |what: &str, e: std::io::Error| {
            SamplerError::Failed(format!(
                "screenshot helper {}: {what}: {e}",
                self.exe.display()
            ))
        };
        let mut command = Command::new(&self.exe);
        command
            .args(Self::args(opts))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::platform::no_console_window(&mut command);
        let mut child = command.spawn().map_err(|e| failed("start", e))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        // Both pipes are drained while the helper runs: an image is larger
        // than a pipe's buffer.
        let out = std::thread::spawn(move || {
            let mut buf = Vec::new();
            stdout.take(MAX_OUTPUT).read_to_end(&mut buf).map(|_| buf)
        });
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.take(64 << 10).read_to_string(&mut text);
            text
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait().map_err(|e| failed("wait", e))? {
                Some(status) => break status,
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SamplerError::TimedOut(self.timeout));
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        let bytes = out
            .join()
            .map_err(|_| SamplerError::Failed("screenshot helper reader panicked".into()))?
            .map_err(|e| failed("read", e))?;
        let stderr = err.join().unwrap_or_default();
        if !status.success() {
            return Err(error_from(&stderr));
        }
        parse(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Result<Vec<Shot>, fn() -> SamplerError>);

    impl ScreenSource for Fixed {
        fn capture_all(&self, _: EncodeOptions) -> Result<Vec<Shot>, SamplerError> {
            self.0.clone().map_err(|f| f())
        }
    }

    fn shot(monitor: &str, data: &[u8]) -> Shot {
        Shot {
            monitor: monitor.into(),
            image: Encoded {
                width: 3,
                height: 2,
                data: data.to_vec(),
                format: "webp",
            },
        }
    }

    const OPTS: EncodeOptions = EncodeOptions {
        format: Format::Webp,
        quality: 25,
        max_width: 0,
        blur: false,
    };

    #[test]
    fn frames_round_trip_bytes_that_look_like_headers_included() {
        let shots = vec![shot("DP-1 \"left\"", b"\n{\"x\":1}\n\0\xff"), shot("", b"")];
        let mut out = Vec::new();
        serve(&Fixed(Ok(shots.clone())), OPTS, &mut out).unwrap();
        let back = parse(&out).unwrap();
        assert_eq!(back.len(), 2);
        for (a, b) in back.iter().zip(&shots) {
            assert_eq!((&a.monitor, &a.image.data), (&b.monitor, &b.image.data));
        }
    }

    #[test]
    fn broken_output_and_failures_are_errors_in_words() {
        let mut good = Vec::new();
        serve(&Fixed(Ok(vec![shot("M", b"12345")])), OPTS, &mut good).unwrap();
        for (bytes, want) in [
            (&good[..good.len() - 1], "shorter than its header"),
            (&b"{\"monitor\":\"M\""[..], "without its end"),
            (&b"not json\n"[..], "screenshot helper output"),
            (
                &b"{\"monitor\":\"M\",\"width\":1,\"height\":1,\"format\":\"bmp\",\"bytes\":0}\n"[..],
                "unknown format",
            ),
        ] {
            let e = parse(bytes).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let denied = SamplerError::Permission("Screen Recording is off".into());
        assert!(
            matches!(error_from(&error_line(&denied)), SamplerError::Permission(w) if w == "Screen Recording is off")
        );
        assert!(error_from("").to_string().contains("silently"));
        assert!(error_from("thread 'main' panicked")
            .to_string()
            .contains("panicked"));
    }
}
