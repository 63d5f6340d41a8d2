//! Input counts on any Wayland compositor, from the kernel's evdev devices
//! (`/dev/input/event*`), which the user can read as a member of the `input`
//! group. Counted: key-down transitions (value 1; 2 is auto-repeat), mouse
//! button presses, wheel notches. Devices on the virtual bus (uinput: ydotool
//! and the like) count as synthetic. Never which key.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Button, Counters, InputCounts, InputSource};
use crate::sampler::SamplerError;

const EV_KEY: u16 = 1;
const EV_REL: u16 = 2;
const EV_ABS: u16 = 3;
const REL_HWHEEL: u16 = 6;
const REL_WHEEL: u16 = 8;
const BTN_MISC: u16 = 0x100;
const BTN_MOUSE: u16 = 0x110;
const BTN_TASK: u16 = 0x117;
const KEY_OK: u16 = 0x160;
const BUS_VIRTUAL: u16 = 0x06;
/// `struct input_event` on 64-bit Linux: a timeval, type, code, value.
const EVENT_SIZE: usize = 24;

/// What one event means for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Key,
    Click,
    Scroll(u32),
    /// Input, but nothing to count (motion, releases, repeats, touches).
    Activity,
    /// Not input at all (sync reports, LEDs, ...).
    Nothing,
}

/// One event of a device: `(type, code, value)` as the kernel sends it.
pub fn classify(kind: u16, code: u16, value: i32) -> Counted {
    match kind {
        EV_KEY if value == 1 => match code {
            BTN_MOUSE..=BTN_TASK => Counted::Click,
            // Keyboard keys, and the media and special keys above the buttons.
            1..BTN_MISC => Counted::Key,
            c if c >= KEY_OK => Counted::Key,
            // Joystick, gamepad and digitizer buttons (BTN_TOUCH, BTN_TOOL_*):
            // a touchpad reports these for every finger it sees.
            _ => Counted::Activity,
        },
        // Releases (0) and auto-repeat (2).
        EV_KEY => Counted::Activity,
        // Only the classic wheel axes: a hi-res wheel reports REL_WHEEL_HI_RES
        // beside them, which would count each notch twice.
        EV_REL if code == REL_WHEEL || code == REL_HWHEEL => Counted::Scroll(value.unsigned_abs()),
        EV_REL | EV_ABS => Counted::Activity,
        _ => Counted::Nothing,
    }
}

/// Applies a stream of raw events (24 bytes each) from one device.
pub(crate) fn count(bytes: &[u8], synthetic: bool, counters: &Counters) {
    for e in bytes.chunks_exact(EVENT_SIZE) {
        let kind = u16::from_ne_bytes([e[16], e[17]]);
        let code = u16::from_ne_bytes([e[18], e[19]]);
        let value = i32::from_ne_bytes([e[20], e[21], e[22], e[23]]);
        match classify(kind, code, value) {
            Counted::Key => counters.key(synthetic),
            Counted::Click => counters.button(Button::Click, synthetic),
            Counted::Scroll(n) => counters.scroll(n),
            Counted::Activity => counters.touch(),
            Counted::Nothing => {}
        }
    }
}

pub struct EvdevInput {
    counters: Arc<Counters>,
}

/// Opens every readable input device and counts on a thread of its own.
pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    let dir = Path::new("/dev/input");
    let (devices, refused) = open_new(dir, &[]).map_err(|e| match e {
        SamplerError::Unsupported(why) => SamplerError::NoInputDevices(why),
        other => other,
    })?;
    if devices.is_empty() {
        return Err(match refused {
            Some(path) => SamplerError::InputGroup {
                group: group_of(&path).unwrap_or_else(|| "input".into()),
                path: path.display().to_string(),
                user: crate::platform::os_user(),
            },
            None => SamplerError::NoInputDevices("none is an event device".into()),
        });
    }
    let counters = Arc::new(Counters::new());
    let k = counters.clone();
    std::thread::Builder::new()
        .name("stint-evdev".into())
        .spawn(move || read_loop(dir, devices, &k, RESCAN))
        .map_err(|e| SamplerError::Failed(format!("spawn evdev thread: {e}")))?;
    Ok(Box::new(EvdevInput { counters }))
}

/// The name of the group owning `path` (the one to join to read it).
fn group_of(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let gid = std::fs::metadata(path).ok()?.gid();
    // SAFETY: getgrgid returns null or a pointer to a static record, read
    // at once before any other call could reuse it.
    unsafe {
        let g = libc::getgrgid(gid);
        if g.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr((*g).gr_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// How often the directory is read again for devices plugged in since.
const RESCAN: Duration = Duration::from_secs(5);

/// An open input device; `synthetic` when it sits on the virtual bus.
struct Device {
    path: PathBuf,
    file: File,
    synthetic: bool,
}

/// Opens the `event*` devices under `dir` that `known` does not hold yet;
/// also names one that could not be opened, for the permission error.
fn open_new(dir: &Path, known: &[Device]) -> Result<(Vec<Device>, Option<PathBuf>), SamplerError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| SamplerError::Unsupported(format!("{}: {e}", dir.display())))?;
    let mut devices = Vec::new();
    let mut refused = None;
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("event")
            || known.iter().any(|d| d.path == path)
        {
            continue;
        }
        match File::open(&path) {
            Ok(file) => {
                let synthetic = bus_type(&file) == Some(BUS_VIRTUAL);
                devices.push(Device {
                    path,
                    file,
                    synthetic,
                });
            }
            Err(_) => refused = Some(path),
        }
    }
    Ok((devices, refused))
}

/// The device's bus (EVIOCGID), to tell uinput devices apart.
fn bus_type(f: &File) -> Option<u16> {
    let mut id = [0u16; 4];
    // EVIOCGID = _IOR('E', 0x02, struct input_id), 8 bytes.
    const EVIOCGID: libc::c_ulong = (2 << 30) | (8 << 16) | ((b'E' as libc::c_ulong) << 8) | 0x02;
    // SAFETY: the ioctl writes exactly the 8 bytes of `id`, which is alive.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), EVIOCGID as _, id.as_mut_ptr()) };
    (r == 0).then_some(id[0])
}

fn poll_set(devices: &[Device]) -> Vec<libc::pollfd> {
    devices
        .iter()
        .map(|d| libc::pollfd {
            fd: d.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect()
}

/// Counts from `devices` forever; the poll set is rebuilt only when a device
/// comes or goes, not per wakeup.
fn read_loop(dir: &Path, mut devices: Vec<Device>, counters: &Counters, rescan: Duration) {
    let mut rescanned = Instant::now();
    let mut buf = vec![0u8; EVENT_SIZE * 64];
    let mut fds = poll_set(&devices);
    loop {
        if rescanned.elapsed() >= rescan {
            rescanned = Instant::now();
            if let Ok((found, _)) = open_new(dir, &devices) {
                if !found.is_empty() {
                    devices.extend(found);
                    fds = poll_set(&devices);
                }
            }
        }
        let timeout = rescan.saturating_sub(rescanned.elapsed()).as_millis() as libc::c_int;
        // SAFETY: `fds` is a live array of `fds.len()` pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n <= 0 {
            continue;
        }
        let mut gone = Vec::new();
        for (i, pfd) in fds.iter_mut().enumerate() {
            if std::mem::take(&mut pfd.revents) == 0 {
                continue;
            }
            let d = &mut devices[i];
            match d.file.read(&mut buf) {
                Ok(len) if len > 0 => count(&buf[..len], d.synthetic, counters),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Unplugged: forget it; a rescan finds it again if it returns.
                _ => gone.push(i),
            }
        }
        if !gone.is_empty() {
            // Highest first, so the indices still to go stay valid.
            for i in gone.into_iter().rev() {
                devices.remove(i);
            }
            fds = poll_set(&devices);
        }
    }
}

impl InputSource for EvdevInput {
    fn take_counts(&self) -> Option<InputCounts> {
        Some(self.counters.take())
    }

    fn idle_ms(&self) -> u64 {
        self.counters.idle_ms()
    }

    fn healthy(&self) -> bool {
        self.counters.alive()
    }

    fn backend(&self) -> &'static str {
        "evdev"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: u16, code: u16, value: i32) -> Vec<u8> {
        let mut e = vec![0u8; 16];
        e.extend_from_slice(&kind.to_ne_bytes());
        e.extend_from_slice(&code.to_ne_bytes());
        e.extend_from_slice(&value.to_ne_bytes());
        e
    }

    #[test]
    fn events_table() {
        for (kind, code, value, want) in [
            (EV_KEY, 30, 1, Counted::Key),         // KEY_A down
            (EV_KEY, 30, 2, Counted::Activity),    // held: auto-repeat
            (EV_KEY, 30, 0, Counted::Activity),    // up
            (EV_KEY, 0x110, 1, Counted::Click),    // BTN_LEFT
            (EV_KEY, 0x114, 1, Counted::Click),    // BTN_SIDE (back)
            (EV_KEY, 0x14a, 1, Counted::Activity), // BTN_TOUCH on a touchpad
            (EV_KEY, 0x145, 1, Counted::Activity), // BTN_TOOL_FINGER
            (EV_KEY, 0x130, 1, Counted::Activity), // a gamepad's BTN_A
            (EV_KEY, 0x163, 1, Counted::Key),      // KEY_PLAYPAUSE-range media key
            (EV_REL, 0, 5, Counted::Activity),     // REL_X motion
            (EV_REL, REL_WHEEL, -2, Counted::Scroll(2)),
            (EV_REL, REL_HWHEEL, 1, Counted::Scroll(1)),
            (EV_REL, 11, 120, Counted::Activity), // REL_WHEEL_HI_RES: not twice
            (EV_ABS, 0, 300, Counted::Activity),
            (0, 0, 0, Counted::Nothing),  // SYN_REPORT
            (17, 1, 1, Counted::Nothing), // EV_LED
        ] {
            assert_eq!(classify(kind, code, value), want, "{kind} {code} {value}");
        }
    }

    /// A recorded stream: "hi" typed with one key held into auto-repeat,
    /// a click, two wheel notches with their hi-res twins, and motion.
    #[test]
    fn a_recorded_stream_counts_presses_not_repeats() {
        let stream: Vec<u8> = [
            event(EV_KEY, 35, 1),
            event(0, 0, 0),
            event(EV_KEY, 35, 2),
            event(EV_KEY, 35, 2),
            event(EV_KEY, 35, 0),
            event(EV_KEY, 23, 1),
            event(EV_KEY, 23, 0),
            event(EV_KEY, 0x110, 1),
            event(EV_KEY, 0x110, 0),
            event(EV_REL, REL_WHEEL, 1),
            event(EV_REL, 11, 120),
            event(EV_REL, REL_WHEEL, 1),
            event(EV_REL, 11, 120),
            event(EV_REL, 0, -3),
        ]
        .concat();
        let counters = Counters::new();
        // Arrives cut anywhere: whole events only are read from a device, but
        // a partial tail must not count twice.
        count(&stream, false, &counters);
        let c = counters.take();
        assert_eq!((c.keystrokes, c.clicks, c.scrolls), (2, 1, 2));
        assert_eq!((c.synthetic_keystrokes, c.synthetic_clicks), (0, 0));
        count(&stream, true, &counters);
        let c = counters.take();
        assert_eq!((c.synthetic_keystrokes, c.synthetic_clicks), (2, 1));
        assert!(counters.idle_ms() < 1000);
    }

    fn fifo(path: &Path) -> File {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Read-write, so neither this open nor the loop's read-only one waits
        // for the other end.
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap()
    }

    /// Adds up what the loop counted until `want` (keys, clicks) or 10 s.
    fn counted(counters: &Counters, want: (u32, u32)) -> (u32, u32) {
        let mut got = (0, 0);
        let start = Instant::now();
        while got != want && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
            let c = counters.take();
            got = (got.0 + c.keystrokes, got.1 + c.clicks);
        }
        got
    }

    /// The loop on real file descriptors: FIFOs named like devices stand in
    /// for /dev/input, which this machine lacks. A device plugged in later is
    /// found; one unplugged (its writer gone) is dropped without stopping the
    /// others.
    #[test]
    fn the_loop_counts_from_devices_that_come_and_go() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut first = fifo(&dir.path().join("event0"));
        std::fs::write(dir.path().join("mouse0"), b"not a device").unwrap();
        let (devices, _) = open_new(dir.path(), &[]).unwrap();
        assert_eq!(devices.len(), 1, "only event* entries are devices");
        let counters = Arc::new(Counters::new());
        let (k, d) = (counters.clone(), dir.path().to_path_buf());
        std::thread::spawn(move || read_loop(&d, devices, &k, Duration::from_millis(50)));

        let typed = [
            event(EV_KEY, 35, 1),
            event(EV_KEY, 35, 2),
            event(EV_KEY, 35, 0),
        ]
        .concat();
        first.write_all(&typed).unwrap();
        assert_eq!(counted(&counters, (1, 0)), (1, 0));

        let mut second = fifo(&dir.path().join("event1"));
        let click = [event(EV_KEY, 0x110, 1), event(EV_KEY, 0x110, 0)].concat();
        second.write_all(&click).unwrap();
        assert_eq!(
            counted(&counters, (0, 1)),
            (0, 1),
            "a device plugged in later"
        );

        std::fs::remove_file(dir.path().join("event0")).unwrap();
        drop(first);
        std::thread::sleep(Duration::from_millis(200));
        second
            .write_all(&[typed.clone(), click.clone()].concat())
            .unwrap();
        assert_eq!(
            counted(&counters, (1, 1)),
            (1, 1),
            "after one was unplugged"
        );
    }
}
