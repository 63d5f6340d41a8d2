//! What a Wayland compositor offers an ordinary client and stint uses: idle
//! notifications (`ext-idle-notify-v1`, or KDE's `org_kde_kwin_idle`, which
//! sway 1.7 and KWin offer) and screenshots of every output through
//! `wlr-screencopy` (sway, Hyprland, river ...). Each probes for its global
//! and says which one is missing.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, FromRawFd};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use wayland_client::globals::{registry_queue_init, GlobalList, GlobalListContents};
use wayland_client::protocol::{wl_buffer, wl_output, wl_registry, wl_seat, wl_shm, wl_shm_pool};
use wayland_client::{Connection, Dispatch, EventQueue, Proxy, QueueHandle, WEnum};
use wayland_protocols::ext::idle_notify::v1::client::{
    ext_idle_notification_v1, ext_idle_notifier_v1,
};
use wayland_protocols_plasma::idle::client::{org_kde_kwin_idle, org_kde_kwin_idle_timeout};
use wayland_protocols_wlr::screencopy::v1::client::{
    zwlr_screencopy_frame_v1, zwlr_screencopy_manager_v1,
};

use crate::sampler::SamplerError;

/// The compositor tells "idle" after this much silence; idle time below it
/// reads as zero, far below any idle threshold (minutes).
const IDLE_AFTER_MS: u32 = 5_000;

fn failed(what: &str, e: impl std::fmt::Display) -> SamplerError {
    SamplerError::Failed(format!("Wayland {what}: {e}"))
}

pub(super) fn connect<S: Dispatch<wl_registry::WlRegistry, GlobalListContents> + 'static>(
) -> Result<(Connection, GlobalList, EventQueue<S>), SamplerError> {
    let conn = Connection::connect_to_env().map_err(|e| {
        SamplerError::NoDisplay(format!("cannot connect to the Wayland compositor: {e}"))
    })?;
    let (globals, queue) = registry_queue_init::<S>(&conn).map_err(|e| failed("registry", e))?;
    Ok((conn, globals, queue))
}

/// Whether the compositor answers at all.
pub fn probe_connection() -> Result<(), SamplerError> {
    Connection::connect_to_env().map(drop).map_err(|e| {
        SamplerError::NoDisplay(format!("cannot connect to the Wayland compositor: {e}"))
    })
}

/// Milliseconds since the compositor last saw input, shared with its thread.
pub struct Idle {
    /// When the compositor said "idle", in ms since `base`; 0 while active.
    idled_at: AtomicI64,
    base: Instant,
    pub protocol: &'static str,
}

impl Idle {
    pub fn idle_ms(&self) -> u64 {
        match self.idled_at.load(Ordering::Relaxed) {
            0 => 0,
            at => {
                let now = self.base.elapsed().as_millis() as i64;
                (now - at).max(0) as u64 + u64::from(IDLE_AFTER_MS)
            }
        }
    }

    fn set(&self, idle: bool) {
        let at = if idle {
            (self.base.elapsed().as_millis() as i64).max(1)
        } else {
            0
        };
        self.idled_at.store(at, Ordering::Relaxed);
    }
}

struct IdleState(Arc<Idle>);

/// Subscribes to the compositor's idle notification and follows it on a
/// thread of its own.
pub fn idle() -> Result<Arc<Idle>, SamplerError> {
    let (_conn, globals, mut queue) = connect::<IdleState>()?;
    let qh = queue.handle();
    let seat: wl_seat::WlSeat = globals
        .bind(&qh, 1..=1, ())
        .map_err(|e| failed("wl_seat", e))?;
    let protocol;
    if let Ok(n) = globals.bind::<ext_idle_notifier_v1::ExtIdleNotifierV1, _, _>(&qh, 1..=1, ()) {
        n.get_idle_notification(IDLE_AFTER_MS, &seat, &qh, ());
        protocol = "ext-idle-notify-v1";
    } else if let Ok(k) = globals.bind::<org_kde_kwin_idle::OrgKdeKwinIdle, _, _>(&qh, 1..=1, ()) {
        k.get_idle_timeout(&seat, IDLE_AFTER_MS, &qh, ());
        protocol = "org_kde_kwin_idle";
    } else {
        return Err(SamplerError::Unsupported(
            "the compositor offers neither ext-idle-notify-v1 nor org_kde_kwin_idle".into(),
        ));
    }
    let idle = Arc::new(Idle {
        idled_at: AtomicI64::new(0),
        base: Instant::now(),
        protocol,
    });
    let mut state = IdleState(idle.clone());
    queue
        .roundtrip(&mut state)
        .map_err(|e| failed("idle subscription", e))?;
    std::thread::Builder::new()
        .name("stint-wl-idle".into())
        .spawn(move || {
            let _seat = seat;
            while queue.blocking_dispatch(&mut state).is_ok() {}
            tracing::warn!("the Wayland connection for idle time closed");
        })
        .map_err(|e| failed("idle thread", e))?;
    Ok(idle)
}

impl Dispatch<ext_idle_notification_v1::ExtIdleNotificationV1, ()> for IdleState {
    fn event(
        s: &mut Self,
        _: &ext_idle_notification_v1::ExtIdleNotificationV1,
        event: ext_idle_notification_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            ext_idle_notification_v1::Event::Idled => s.0.set(true),
            ext_idle_notification_v1::Event::Resumed => s.0.set(false),
            _ => {}
        }
    }
}

impl Dispatch<org_kde_kwin_idle_timeout::OrgKdeKwinIdleTimeout, ()> for IdleState {
    fn event(
        s: &mut Self,
        _: &org_kde_kwin_idle_timeout::OrgKdeKwinIdleTimeout,
        event: org_kde_kwin_idle_timeout::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            org_kde_kwin_idle_timeout::Event::Idle => s.0.set(true),
            org_kde_kwin_idle_timeout::Event::Resumed => s.0.set(false),
            _ => {}
        }
    }
}

/// The widest and tallest output stint captures: the compositor's numbers
/// decide an allocation, so they are kept to what a screen can be.
const MAX_SIDE: u32 = 16_384;
/// The most bytes one captured screen may take (4 bytes a pixel): the
/// buffer mapped for the compositor to fill, and a portal's decoded PNG.
pub(super) const MAX_FRAME_BYTES: usize = MAX_SIDE as usize * MAX_SIDE as usize * 4;

/// One output's pixels, RGBA, top row first.
pub struct Frame {
    pub output: String,
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

#[derive(Default)]
struct CopyState {
    names: Vec<(u32, String)>,
    buffer: Option<(WEnum<wl_shm::Format>, u32, u32, u32)>,
    buffer_done: bool,
    y_invert: bool,
    ready: bool,
    failed: bool,
}

/// Whether this compositor offers wlr-screencopy, without taking a picture.
pub fn probe_screencopy() -> Result<(), SamplerError> {
    let (_conn, globals, queue) = connect::<CopyState>()?;
    globals
        .bind::<zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1, _, _>(&queue.handle(), 1..=3, ())
        .map(drop)
        .map_err(|_| {
            SamplerError::Unsupported(
                "the compositor offers no wlr-screencopy (GNOME and KDE take screenshots through their portal)"
                    .into(),
            )
        })
}

/// Every output's picture through wlr-screencopy.
pub fn screencopy() -> Result<Vec<Frame>, SamplerError> {
    let (_conn, globals, mut queue) = connect::<CopyState>()?;
    let qh = queue.handle();
    let manager: zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1 = globals
        .bind(&qh, 1..=3, ())
        .map_err(|_| SamplerError::Unsupported("no wlr-screencopy".into()))?;
    let shm: wl_shm::WlShm = globals
        .bind(&qh, 1..=1, ())
        .map_err(|e| failed("wl_shm", e))?;
    let outputs: Vec<(u32, wl_output::WlOutput)> = globals
        .contents()
        .with_list(|list| {
            list.iter()
                .filter(|g| g.interface == "wl_output")
                .map(|g| (g.name, g.version.min(4)))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .map(|(name, version)| (name, globals.registry().bind(name, version, &qh, name)))
        .collect();
    let mut state = CopyState::default();
    queue
        .roundtrip(&mut state)
        .map_err(|e| failed("outputs", e))?;
    let mut frames = Vec::new();
    for (i, (global, output)) in outputs.iter().enumerate() {
        let name = state
            .names
            .iter()
            .find(|(g, _)| g == global)
            .map_or_else(|| format!("output-{i}"), |(_, n)| n.clone());
        state.buffer = None;
        state.buffer_done = false;
        state.ready = false;
        state.failed = false;
        let frame = manager.capture_output(0, output, &qh, ());
        while state.buffer.is_none() || (frame.version() >= 3 && !state.buffer_done) {
            if state.failed {
                return Err(failed("screencopy", "the compositor refused the frame"));
            }
            queue
                .blocking_dispatch(&mut state)
                .map_err(|e| failed("screencopy", e))?;
        }
        let (format, width, height, stride) = state.buffer.expect("announced");
        let size = stride as usize * height as usize;
        if width == 0
            || height == 0
            || width > MAX_SIDE
            || height > MAX_SIDE
            || size > MAX_FRAME_BYTES
        {
            return Err(failed(
                "screencopy",
                format!("an implausible {width}x{height} frame with stride {stride}"),
            ));
        }
        let file = memfd(size)?;
        let pool = shm.create_pool(file.as_fd(), size as i32, &qh, ());
        let WEnum::Value(fmt) = format else {
            return Err(failed("screencopy", "an unknown pixel format"));
        };
        let buffer =
            pool.create_buffer(0, width as i32, height as i32, stride as i32, fmt, &qh, ());
        frame.copy(&buffer);
        while !state.ready {
            if state.failed {
                return Err(failed("screencopy", "copying the output failed"));
            }
            queue
                .blocking_dispatch(&mut state)
                .map_err(|e| failed("screencopy", e))?;
        }
        let mut raw = Vec::with_capacity(size);
        (&file)
            .read_to_end(&mut raw)
            .map_err(|e| failed("reading the frame", e))?;
        buffer.destroy();
        pool.destroy();
        frame.destroy();
        frames.push(Frame {
            output: name,
            width,
            height,
            rgba: to_rgba(&raw, fmt, width, height, stride, state.y_invert)?,
        });
    }
    Ok(frames)
}

/// An anonymous shared-memory file of `size` bytes for the compositor to fill.
fn memfd(size: usize) -> Result<File, SamplerError> {
    // SAFETY: a NUL-terminated name and valid flags; the fd is checked below
    // and owned by the File from then on.
    let fd = unsafe { libc::memfd_create(c"stint-screencopy".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(failed("memfd_create", std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    let file = unsafe { File::from_raw_fd(fd) };
    file.set_len(size as u64)
        .map_err(|e| failed("sizing the frame buffer", e))?;
    Ok(file)
}

/// The frame's pixels as RGBA rows, top first. Wayland's formats name the
/// bytes of a little-endian word: ARGB8888 is B, G, R, A in memory.
pub fn to_rgba(
    raw: &[u8],
    format: wl_shm::Format,
    width: u32,
    height: u32,
    stride: u32,
    y_invert: bool,
) -> Result<Vec<u8>, SamplerError> {
    let bgr = match format {
        wl_shm::Format::Argb8888 | wl_shm::Format::Xrgb8888 => true,
        wl_shm::Format::Abgr8888 | wl_shm::Format::Xbgr8888 => false,
        other => return Err(failed("screencopy", format!("pixel format {other:?}"))),
    };
    let (w, h, stride) = (width as usize, height as usize, stride as usize);
    if raw.len() < stride * h || stride < w * 4 {
        return Err(failed("screencopy", "a frame smaller than announced"));
    }
    let mut out = Vec::with_capacity(w * h * 4);
    for row in 0..h {
        let src = if y_invert { h - 1 - row } else { row };
        for px in raw[src * stride..src * stride + w * 4].chunks_exact(4) {
            let (r, b) = if bgr { (px[2], px[0]) } else { (px[0], px[2]) };
            out.extend_from_slice(&[r, px[1], b, 255]);
        }
    }
    Ok(out)
}

impl Dispatch<wl_output::WlOutput, u32> for CopyState {
    fn event(
        s: &mut Self,
        _: &wl_output::WlOutput,
        event: wl_output::Event,
        global: &u32,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let wl_output::Event::Name { name } = event {
            s.names.push((*global, name));
        }
    }
}

impl Dispatch<zwlr_screencopy_frame_v1::ZwlrScreencopyFrameV1, ()> for CopyState {
    fn event(
        s: &mut Self,
        _: &zwlr_screencopy_frame_v1::ZwlrScreencopyFrameV1,
        event: zwlr_screencopy_frame_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        use zwlr_screencopy_frame_v1::Event;
        match event {
            Event::Buffer {
                format,
                width,
                height,
                stride,
            } => s.buffer = Some((format, width, height, stride)),
            Event::BufferDone => s.buffer_done = true,
            Event::Flags { flags } => {
                s.y_invert = matches!(flags, WEnum::Value(f) if f.contains(zwlr_screencopy_frame_v1::Flags::YInvert))
            }
            Event::Ready { .. } => s.ready = true,
            Event::Failed => s.failed = true,
            _ => {}
        }
    }
}

/// Globals and objects whose events stint does not need.
macro_rules! ignore_events {
    ($state:ty: $($proxy:ty),* $(,)?) => {$(
        impl Dispatch<$proxy, ()> for $state {
            fn event(_: &mut Self, _: &$proxy, _: <$proxy as wayland_client::Proxy>::Event, _: &(), _: &Connection, _: &QueueHandle<Self>) {}
        }
    )*};
}
ignore_events!(IdleState: wl_seat::WlSeat, ext_idle_notifier_v1::ExtIdleNotifierV1, org_kde_kwin_idle::OrgKdeKwinIdle);
ignore_events!(CopyState: zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1, wl_shm::WlShm, wl_shm_pool::WlShmPool, wl_buffer::WlBuffer);

/// The registry's later announcements (outputs coming and going) change
/// nothing for a state that bound what it needs at the start.
macro_rules! ignore_registry {
    ($($state:ty),*) => {$(
        impl Dispatch<wl_registry::WlRegistry, GlobalListContents> for $state {
            fn event(_: &mut Self, _: &wl_registry::WlRegistry, _: wl_registry::Event, _: &GlobalListContents, _: &Connection, _: &QueueHandle<Self>) {}
        }
    )*};
}
pub(super) use ignore_registry;
ignore_registry!(IdleState, CopyState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_rgba_top_row_first() {
        // 2x2, stride 12 (4 bytes of padding per row), ARGB8888 in memory as BGRA.
        let raw = [
            1, 2, 3, 0, 4, 5, 6, 0, 9, 9, 9, 9, // row 0: (3,2,1) (6,5,4)
            7, 8, 9, 0, 10, 11, 12, 0, 9, 9, 9, 9, // row 1
        ];
        let top = to_rgba(&raw, wl_shm::Format::Xrgb8888, 2, 2, 12, false).unwrap();
        assert_eq!(
            top,
            [3, 2, 1, 255, 6, 5, 4, 255, 9, 8, 7, 255, 12, 11, 10, 255]
        );
        let flipped = to_rgba(&raw, wl_shm::Format::Xrgb8888, 2, 2, 12, true).unwrap();
        assert_eq!(&flipped[..8], &[9, 8, 7, 255, 12, 11, 10, 255]);
        let abgr = to_rgba(&raw, wl_shm::Format::Xbgr8888, 2, 2, 12, false).unwrap();
        assert_eq!(&abgr[..4], &[1, 2, 3, 255]);
        assert!(to_rgba(&raw[..10], wl_shm::Format::Xrgb8888, 2, 2, 12, false).is_err());
        assert!(to_rgba(&raw, wl_shm::Format::Rgb565, 2, 2, 12, false).is_err());
    }
}
