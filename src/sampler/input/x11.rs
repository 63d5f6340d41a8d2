//! Linux/X11 input counting from XInput2 raw events on the root window.
//!
//! Raw events arrive for every physical (and XTEST) press regardless of which client
//! has focus or a grab, so counts are exact; the thread sleeps in the X connection
//! between events, so an idle desktop costs nothing. Idle time comes from the
//! MIT-SCREEN-SAVER extension, which also sees pointer motion.

use std::sync::Arc;

use x11rb::connection::{Connection, RequestConnection as _};
use x11rb::protocol::screensaver::ConnectionExt as _;
use x11rb::protocol::xinput::{self, ConnectionExt as _};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use super::{classify_button, Counters, InputSource, KeyTracker};
use crate::sampler::x11::connect_x11;
use crate::sampler::SamplerError;

/// XIAllMasterDevices: one event per press, not one per slave plus one per master.
const ALL_MASTER_DEVICES: u16 = 1;

struct X11Input {
    conn: Arc<RustConnection>,
    root: u32,
    screensaver: bool,
    counters: Arc<Counters>,
}

pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    let (conn, screen) = connect_x11()?;
    let root = conn.setup().roots[screen].root;
    let failed =
        |what: &str, e: &dyn std::fmt::Display| SamplerError::Failed(format!("{what}: {e}"));
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
        &[xinput::EventMask {
            deviceid: ALL_MASTER_DEVICES,
            mask: vec![mask],
        }],
    )
    .map_err(|e| failed("XISelectEvents", &e))?
    .check()
    .map_err(|e| failed("XISelectEvents", &e))?;
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
        .spawn(move || event_loop(&c, &k))
        .map_err(|e| failed("spawn input thread", &e))?;
    Ok(Box::new(X11Input {
        conn,
        root,
        screensaver,
        counters,
    }))
}

fn event_loop(conn: &RustConnection, counters: &Counters) {
    let mut keys = KeyTracker::default();
    loop {
        match conn.wait_for_event() {
            Ok(Event::XinputRawKeyPress(e)) => {
                let repeat = u32::from(e.flags) & u32::from(xinput::KeyEventFlags::KEY_REPEAT) != 0;
                if !repeat && keys.press(e.detail) {
                    counters.key();
                }
            }
            Ok(Event::XinputRawKeyRelease(e)) => keys.release(&e.detail),
            Ok(Event::XinputRawButtonPress(e)) => counters.button(classify_button(e.detail)),
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
    fn take_counts(&self) -> super::InputCounts {
        self.counters.take()
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
