//! X11 plumbing shared by the Linux samplers: connecting with a clear error when
//! there is no usable X session, and reading text properties.

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

use super::SamplerError;

/// Connects to `$DISPLAY`, refusing Wayland sessions (counts and titles from
/// XWayland alone would be silently incomplete).
pub fn connect_x11() -> Result<(RustConnection, usize), SamplerError> {
    if super::desktop::current() != super::desktop::Desktop::X11 {
        return Err(SamplerError::Wayland(
            "X11 APIs see only XWayland windows and input there".into(),
        ));
    }
    let display = std::env::var("DISPLAY").unwrap_or_default();
    if display.is_empty() {
        return Err(SamplerError::NoDisplay("DISPLAY is not set".into()));
    }
    x11rb::connect(None).map_err(|e| {
        SamplerError::NoDisplay(format!("cannot connect to X display {display:?}: {e}"))
    })
}

pub fn atom(conn: &RustConnection, name: &str) -> Option<Atom> {
    conn.intern_atom(false, name.as_bytes())
        .ok()?
        .reply()
        .ok()
        .map(|r| r.atom)
}

/// Raw bytes and type of a property, or None when unset.
pub fn property(conn: &RustConnection, win: Window, prop: Atom) -> Option<(Atom, Vec<u8>)> {
    let reply = conn
        .get_property(false, win, prop, AtomEnum::ANY, 0, 4096)
        .ok()?
        .reply()
        .ok()?;
    (reply.type_ != u32::from(AtomEnum::NONE)).then_some((reply.type_, reply.value))
}

/// A window's title: `_NET_WM_NAME` (UTF-8) first, then the legacy `WM_NAME`,
/// which windows such as xterm set alone and which may be Latin-1 (STRING),
/// UTF8_STRING or COMPOUND_TEXT.
pub fn window_title(conn: &RustConnection, win: Window) -> Option<String> {
    let utf8 = atom(conn, "UTF8_STRING");
    if let Some(net) = atom(conn, "_NET_WM_NAME") {
        if let Some((_, bytes)) = property(conn, win, net) {
            if !bytes.is_empty() {
                return Some(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    let (ty, bytes) = property(conn, win, AtomEnum::WM_NAME.into())?;
    let text = if Some(ty) == utf8 {
        String::from_utf8_lossy(&bytes).into_owned()
    } else if ty == u32::from(AtomEnum::STRING) {
        latin1(&bytes)
    } else {
        decode_compound_text(&bytes)
    };
    (!text.is_empty()).then_some(text)
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// A character set COMPOUND_TEXT can designate into GL (bytes < 0x80) or GR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Ascii,
    /// The right half of an ISO 8859 part; decoded by its encoding_rs table.
    Iso8859(&'static encoding_rs::Encoding),
    /// A 94x94 double-byte set, decoded as its EUC form (high bit set on both bytes).
    DoubleByte(&'static encoding_rs::Encoding),
    Utf8,
    /// A set this decoder does not know; its bytes are dropped.
    Unknown,
}

impl Charset {
    fn encoding(self) -> Option<&'static encoding_rs::Encoding> {
        match self {
            Charset::Ascii | Charset::Utf8 => Some(encoding_rs::UTF_8),
            Charset::Iso8859(e) | Charset::DoubleByte(e) => Some(e),
            Charset::Unknown => None,
        }
    }
}

/// The ISO 8859 part selected by `ESC - F` (final byte F, ISO-IR registration).
fn iso8859(final_byte: u8) -> Charset {
    use encoding_rs::*;
    match final_byte {
        b'A' => Charset::Iso8859(WINDOWS_1252), // identical to 8859-1 for 0xA0-0xFF
        b'B' => Charset::Iso8859(ISO_8859_2),
        b'C' => Charset::Iso8859(ISO_8859_3),
        b'D' => Charset::Iso8859(ISO_8859_4),
        b'F' => Charset::Iso8859(ISO_8859_7),
        b'G' => Charset::Iso8859(ISO_8859_6),
        b'H' => Charset::Iso8859(ISO_8859_8),
        b'L' => Charset::Iso8859(ISO_8859_5),
        b'M' => Charset::Iso8859(WINDOWS_1254),
        b'V' => Charset::Iso8859(ISO_8859_10),
        b'Y' => Charset::Iso8859(ISO_8859_13),
        b'_' => Charset::Iso8859(ISO_8859_14),
        b'b' => Charset::Iso8859(ISO_8859_15),
        b'f' => Charset::Iso8859(ISO_8859_16),
        _ => Charset::Unknown,
    }
}

fn double_byte(final_byte: u8) -> Charset {
    match final_byte {
        b'A' => Charset::DoubleByte(encoding_rs::GBK),
        b'B' => Charset::DoubleByte(encoding_rs::EUC_JP),
        b'C' => Charset::DoubleByte(encoding_rs::EUC_KR),
        _ => Charset::Unknown,
    }
}

/// Decodes COMPOUND_TEXT (X Consortium standard), as xterm and Xlib write WM_NAME
/// for non-Latin titles: ISO 2022 designations of ISO 8859 parts, JIS X 0208,
/// GB 2312 and KS C 5601, and `ESC % G` UTF-8 runs. Unknown sets are dropped rather
/// than shown as mojibake.
pub fn decode_compound_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut gl, mut gr) = (Charset::Ascii, iso8859(b'A'));
    let mut run: Vec<u8> = Vec::new();
    let mut run_set = Charset::Ascii;
    let flush = |out: &mut String, run: &mut Vec<u8>, set: Charset| {
        if let Some(enc) = set.encoding() {
            out.push_str(&enc.decode_without_bom_handling(run).0);
        }
        run.clear();
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            let rest = &bytes[i + 1..];
            let (len, designation) = match rest {
                [b'%', b'G', ..] => (3, Some((true, Charset::Utf8))),
                [b'%', b'@', ..] => (3, Some((true, Charset::Ascii))),
                [b'(', f, ..] => (
                    3,
                    Some((
                        true,
                        if *f == b'B' || *f == b'J' {
                            Charset::Ascii
                        } else {
                            Charset::Unknown
                        },
                    )),
                ),
                [b'-', f, ..] => (3, Some((false, iso8859(*f)))),
                [b'$', b'(', f, ..] => (4, Some((true, double_byte(*f)))),
                [b'$', b')', f, ..] => (4, Some((false, double_byte(*f)))),
                _ => {
                    // Any other escape: intermediates 0x20-0x2f, then one final byte.
                    let n = rest
                        .iter()
                        .take_while(|c| (0x20..=0x2f).contains(*c))
                        .count();
                    (n + 2, None)
                }
            };
            match designation {
                Some((true, set)) => gl = set,
                Some((false, set)) => gr = set,
                None => {}
            }
            if gl == Charset::Utf8 {
                gr = Charset::Utf8;
            } else if gr == Charset::Utf8 {
                gr = iso8859(b'A');
            }
            i += len;
            continue;
        }
        let (set, byte) = match (b < 0x80, gl, gr) {
            (_, Charset::Utf8, _) => (Charset::Utf8, b),
            (true, Charset::DoubleByte(_), _) if b > 0x20 => (gl, b | 0x80),
            (true, _, _) => (Charset::Ascii, b),
            (false, _, Charset::Iso8859(_) | Charset::DoubleByte(_) | Charset::Unknown) => (gr, b),
            (false, _, _) => (Charset::Unknown, b),
        };
        if set != run_set {
            flush(&mut out, &mut run, run_set);
            run_set = set;
        }
        run.push(byte);
        i += 1;
    }
    flush(&mut out, &mut run, run_set);
    out
}

/// Whether the window manager advertises `_NET_ACTIVE_WINDOW` in `_NET_SUPPORTED`.
pub fn wm_publishes_active_window(conn: &RustConnection, screen: usize) -> bool {
    let root = conn.setup().roots[screen].root;
    let (Some(supported), Some(active)) = (
        atom(conn, "_NET_SUPPORTED"),
        atom(conn, "_NET_ACTIVE_WINDOW"),
    ) else {
        return false;
    };
    property(conn, root, supported).is_some_and(|(_, bytes)| {
        bytes
            .chunks_exact(4)
            .any(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) == active)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_text_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain", "plain"),
            (b"caf\xe9", "café"),
            (b"a\x1b%G\xd0\xa2\xd0\xb5\xd1\x81\xd1\x82\x1b%@b", "aТестb"),
            (b"x\x1b(Zy", "xy"),
            (b"\x1b%G\xe6\x97\xa5\xe6\x9c\xac", "日本"),
            (b"x\x1b-Ay", "xy"),
            // What xterm writes for "Тест ✓ 日本語": ISO 8859-5, a UTF-8 run, JIS X 0208.
            (
                b"\x1b-L\xc2\xd5\xe1\xe2 \x1b%G\xe2\x9c\x93\x1b%@ \x1b$)B\xc6\xfc\xcb\xdc\xb8\xec",
                "Тест ✓ 日本語",
            ),
            (b"\x1b-F\xe1\xe2", "αβ"),
            (b"\x1b$)A\xd6\xd0\xce\xc4", "中文"),
            (b"\x1b$)C\xc7\xd1", "한"),
            (b"\x1b$(B\x46\x7c", "日"),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode_compound_text(bytes), *want);
        }
    }
}
