//! Linux/X11 input counting from XInput2 raw events on the root window.
//!
//! Raw events arrive for every physical (and XTEST) press regardless of which client
//! has focus or a grab, so counts are exact; the thread sleeps in the X connection
//! between events, so an idle desktop costs nothing. Each raw event names the
//! slave device it came from: presses from the XTEST devices (xdotool, mouse
//! jigglers, remote-control tools) are counted as synthetic too. Idle time comes
//! from the MIT-SCREEN-SAVER extension, which also sees pointer motion.

use std::collections::HashSet;
use std::sync::Arc;

use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::protocol::screensaver::ConnectionExt as _;
use x11rb::protocol::xinput::{self, ConnectionExt as _};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use super::{classify_button, Counters, InputSource, KeyTracker};
use crate::sampler::x11::connect_x11;
use crate::sampler::SamplerError;

/// XIAllDevices: hierarchy changes are reported for this pseudo-device.
const ALL_DEVICES: u16 = 0;
/// XIAllMasterDevices: one event per press, not one per slave plus one per master.
const ALL_MASTER_DEVICES: u16 = 1;

struct X11Input {
    conn: Arc<RustConnection>,
    root: u32,
    screensaver: bool,
    counters: Arc<Counters>,
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> SamplerError {
    SamplerError::Failed(format!("{what}: {e}"))
}

pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    if crate::sampler::desktop::current() != crate::sampler::desktop::Desktop::X11 {
        // XWayland would show only its own clients' input: evdev, or idle
        // time from the compositor alone, never both counted.
        return super::wayland::input();
    }
    let (conn, screen) = connect_x11()?;
    let root = conn.setup().roots[screen].root;
    if conn
        .extension_information(xinput::X11_EXTENSION_NAME)
        .map_err(|e| failed("query XInputExtension", &e))?
        .is_none()
    {
        return Err(SamplerError::Unsupported(
            "the X server has no XInputExtension".into(),
        ));
    }
    // Announcing XI 2.2 is required before the server delivers raw events to us.
    let version = conn
        .xinput_xi_query_version(2, 2)
        .map_err(|e| failed("XIQueryVersion", &e))?
        .reply()
        .map_err(|e| failed("XIQueryVersion", &e))?;
    if version.major_version < 2 {
        return Err(SamplerError::Unsupported(format!(
            "the X server speaks XInput {}.{}, raw events need 2.0",
            version.major_version, version.minor_version
        )));
    }
    let mask = xinput::XIEventMask::RAW_KEY_PRESS
        | xinput::XIEventMask::RAW_KEY_RELEASE
        | xinput::XIEventMask::RAW_BUTTON_PRESS;
    conn.xinput_xi_select_events(
        root,
        &[
            xinput::EventMask {
                deviceid: ALL_MASTER_DEVICES,
                mask: vec![mask],
            },
            // A new master device brings its own XTEST slaves.
            xinput::EventMask {
                deviceid: ALL_DEVICES,
                mask: vec![xinput::XIEventMask::HIERARCHY],
            },
        ],
    )
    .map_err(|e| failed("XISelectEvents", &e))?
    .check()
    .map_err(|e| failed("XISelectEvents", &e))?;
    let xtest = xtest_devices(&conn)?;
    let screensaver = conn
        .extension_information(x11rb::protocol::screensaver::X11_EXTENSION_NAME)
        .ok()
        .flatten()
        .is_some();

    let conn = Arc::new(conn);
    let counters = Arc::new(Counters::new());
    let (c, k) = (conn.clone(), counters.clone());
    std::thread::Builder::new()
        .name("stint-input".into())
        .spawn(move || event_loop(&c, &k, xtest))
        .map_err(|e| failed("spawn input thread", &e))?;
    Ok(Box::new(X11Input {
        conn,
        root,
        screensaver,
        counters,
    }))
}

/// Linux has no fallback: XInput2 is in every X server of the last decade.
pub fn fallback(_why: String) -> Result<Box<dyn InputSource>, SamplerError> {
    Err(SamplerError::Unsupported("no fallback input source".into()))
}

/// The slave devices XTEST injects through. The X server names them after
/// their master ("Virtual core XTEST keyboard", "Virtual core XTEST pointer").
fn xtest_devices(conn: &RustConnection) -> Result<HashSet<u16>, SamplerError> {
    let devices = conn
        .xinput_xi_query_device(ALL_DEVICES)
        .map_err(|e| failed("XIQueryDevice", &e))?
        .reply()
        .map_err(|e| failed("XIQueryDevice", &e))?;
    Ok(devices
        .infos
        .iter()
        .filter(|d| is_xtest_name(&d.name))
        .map(|d| d.deviceid)
        .collect())
}

fn is_xtest_name(name: &[u8]) -> bool {
    name.ends_with(b" XTEST keyboard") || name.ends_with(b" XTEST pointer")
}

fn event_loop(conn: &RustConnection, counters: &Counters, mut xtest: HashSet<u16>) {
    let mut keys = KeyTracker::default();
    loop {
        match conn.wait_for_event() {
            Ok(Event::XinputRawKeyPress(e)) => {
                let repeat = u32::from(e.flags) & u32::from(xinput::KeyEventFlags::KEY_REPEAT) != 0;
                if !repeat && keys.press(e.detail) {
                    counters.key(xtest.contains(&e.sourceid));
                }
            }
            Ok(Event::XinputRawKeyRelease(e)) => keys.release(&e.detail),
            Ok(Event::XinputRawButtonPress(e)) => {
                counters.button(classify_button(e.detail), xtest.contains(&e.sourceid))
            }
            Ok(Event::XinputHierarchy(_)) => match xtest_devices(conn) {
                Ok(set) => xtest = set,
                Err(e) => tracing::warn!(error = %e, "could not re-read the XTEST devices"),
            },
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "X connection lost; input counting stopped");
                counters.set_dead();
                return;
            }
        }
    }
}

impl InputSource for X11Input {
    fn take_counts(&self) -> Option<super::InputCounts> {
        Some(self.counters.take())
    }

    fn idle_ms(&self) -> u64 {
        if self.screensaver {
            let reply = self
                .conn
                .screensaver_query_info(self.root)
                .ok()
                .and_then(|c| c.reply().ok());
            if let Some(r) = reply {
                return u64::from(r.ms_since_user_input);
            }
        }
        self.counters.idle_ms()
    }

    fn healthy(&self) -> bool {
        self.counters.alive()
    }

    fn backend(&self) -> &'static str {
        "xinput2-raw"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn xtest_device_names_table() {
        for (name, xtest) in [
            (&b"Virtual core XTEST keyboard"[..], true),
            (b"Virtual core XTEST pointer", true),
            (b"second XTEST pointer", true),
            (b"Virtual core keyboard", false),
            (b"AT Translated Set 2 keyboard", false),
            (b"Logitech USB Receiver", false),
            (b"XTEST", false),
        ] {
            assert_eq!(super::is_xtest_name(name), xtest, "{name:?}");
        }
    }
}
