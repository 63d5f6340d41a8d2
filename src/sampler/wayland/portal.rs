//! Screenshots through the desktop portal (`org.freedesktop.portal.Screenshot`),
//! the route GNOME and KDE leave open: non-interactive, the permission asked
//! once by the desktop. Bounded in time, so a portal that never answers (no
//! dialog can appear, a broken backend) is a clear error, never a hang.

use std::collections::HashMap;
use std::time::Duration;

use zbus::blocking::Connection;
use zbus::zvariant::{OwnedValue, Value};

use super::protocols::Frame;
use crate::sampler::SamplerError;

const PORTAL: &str = "org.freedesktop.portal.Desktop";

fn failed(e: impl std::fmt::Display) -> SamplerError {
    SamplerError::Failed(format!("screenshot portal: {e}"))
}

/// Whether a portal is on the session bus at all, running or activatable.
pub fn probe() -> Result<(), SamplerError> {
    let conn = Connection::session().map_err(failed)?;
    if crate::platform::reachable(&conn, PORTAL) {
        Ok(())
    } else {
        Err(SamplerError::Unsupported(format!(
            "no {PORTAL} on the session bus: install xdg-desktop-portal with the desktop's backend (xdg-desktop-portal-gnome or -kde)"
        )))
    }
}

/// The whole desktop as one picture, within `timeout`.
pub fn screenshot(timeout: Duration) -> Result<Frame, SamplerError> {
    probe()?;
    let conn = Connection::session().map_err(failed)?;
    // Unique per request: the portal names the request's object after it.
    static REQUESTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = format!("stint{}_{n}", std::process::id());
    let sender = conn
        .unique_name()
        .map(|n| n.trim_start_matches(':').replace('.', "_"))
        .ok_or_else(|| failed("no unique name on the bus"))?;
    let request = format!("/org/freedesktop/portal/desktop/request/{sender}/{token}");
    // Listen before asking: the answer may come before the call returns.
    let proxy = zbus::blocking::Proxy::new(
        &conn,
        PORTAL,
        request.as_str(),
        "org.freedesktop.portal.Request",
    )
    .map_err(failed)?;
    let mut responses = proxy.receive_signal("Response").map_err(failed)?;
    let options: HashMap<&str, Value> = HashMap::from([
        ("handle_token", Value::from(token.as_str())),
        ("interactive", Value::from(false)),
    ]);
    conn.call_method(
        Some(PORTAL),
        "/org/freedesktop/portal/desktop",
        Some("org.freedesktop.portal.Screenshot"),
        "Screenshot",
        &("", options),
    )
    .map_err(failed)?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(responses.next());
    });
    let message = match rx.recv_timeout(timeout) {
        Ok(Some(m)) => m,
        Ok(None) => return Err(failed("the portal closed the request")),
        // GNOME asks the user once before the first non-interactive
        // screenshot, and the request waits on that dialog. It is withdrawn:
        // an Allow given after stint gave up would otherwise leave a picture
        // in the user's Pictures that nobody reads or deletes. The Close is
        // sent without waiting, since the portal answers it only once its
        // dialog is gone.
        Err(_) => {
            let close = zbus::Message::method_call(request.as_str(), "Close")
                .and_then(|b| b.destination(PORTAL))
                .and_then(|b| b.interface("org.freedesktop.portal.Request"))
                .and_then(|b| b.with_flags(zbus::message::Flags::NoReplyExpected))
                .and_then(|b| b.build(&()));
            if let Ok(close) = close {
                let _ = conn.send(&close);
            }
            return Err(failed(format!(
                "no answer within {}s: the desktop may be asking to allow stint's screenshots; \
                 allow it once (docs/deploy.md shows how IT grants it in advance)",
                timeout.as_secs()
            )));
        }
    };
    let (code, results): (u32, HashMap<String, OwnedValue>) =
        message.body().deserialize().map_err(failed)?;
    match code {
        0 => {}
        1 => return Err(SamplerError::Permission(
            "the desktop refused the screenshot (allow stint in the desktop's privacy settings)"
                .into(),
        )),
        _ => return Err(failed(format!("the portal answered {code}"))),
    }
    let uri: String = results
        .get("uri")
        .and_then(|v| String::try_from(v.clone()).ok())
        .ok_or_else(|| failed("no uri in the answer"))?;
    let path = file_path(&uri).ok_or_else(|| failed(format!("not a local file: {uri}")))?;
    let data = std::fs::read(&path).map_err(|e| failed(format!("{path}: {e}")));
    // The portal leaves the picture in the user's Pictures: not stint's to keep.
    let _ = std::fs::remove_file(&path);
    decode_png(&data?)
}

/// `file:///a/b%20c.png` to `/a/b c.png`.
pub fn file_path(uri: &str) -> Option<String> {
    let raw = uri.strip_prefix("file://")?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn decode_png(data: &[u8]) -> Result<Frame, SamplerError> {
    // A picture of a desktop, not whatever a broken portal hands over.
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(data),
        png::Limits {
            bytes: super::protocols::MAX_FRAME_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(failed)?;
    let mut buf = vec![
        0u8;
        reader
            .output_buffer_size()
            .ok_or_else(|| failed("a PNG too large"))?
    ];
    let info = reader.next_frame(&mut buf).map_err(failed)?;
    let pixels = &buf[..info.buffer_size()];
    let rgba = match info.color_type {
        png::ColorType::Rgba => pixels.to_vec(),
        png::ColorType::Rgb => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => return Err(failed(format!("PNG colour type {other:?}"))),
    };
    Ok(Frame {
        output: "desktop".into(),
        width: info.width,
        height: info.height,
        rgba,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        for (uri, want) in [
            (
                "file:///home/ann/Pictures/Screenshot.png",
                Some("/home/ann/Pictures/Screenshot.png"),
            ),
            ("file:///tmp/a%20b%2Fc.png", Some("/tmp/a b/c.png")),
            ("file:///tmp/bad%zz.png", None),
            ("https://example.com/x.png", None),
        ] {
            assert_eq!(file_path(uri).as_deref(), want, "{uri}");
        }
    }

    #[test]
    fn png_answers_decode_to_rgba() {
        let mut png_bytes = Vec::new();
        {
            let mut e = png::Encoder::new(&mut png_bytes, 2, 1);
            e.set_color(png::ColorType::Rgb);
            e.set_depth(png::BitDepth::Eight);
            e.write_header()
                .unwrap()
                .write_image_data(&[1, 2, 3, 4, 5, 6])
                .unwrap();
        }
        let f = decode_png(&png_bytes).unwrap();
        assert_eq!((f.width, f.height), (2, 1));
        assert_eq!(f.rgba, [1, 2, 3, 255, 4, 5, 6, 255]);
        assert!(decode_png(b"not a png").is_err());
    }
}
