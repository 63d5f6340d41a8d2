//! macOS input counting from a listen-only CGEventTap at the session level, on
//! a run-loop thread of its own.
//!
//! Key downs count unless `kCGKeyboardEventAutorepeat` is set; modifier keys
//! report FlagsChanged instead, which `macevents.rs` turns into presses. The
//! tap needs the Input Monitoring permission: without it stint asks once, and
//! until it is granted the source measures only idle time (which needs no
//! permission) and the minutes' counts are recorded as unknown. macOS disables
//! a tap whose callback is slow or when the user's secure input takes over;
//! the callback enables it again. Idle time is
//! `CGEventSourceSecondsSinceLastEventType` over all input of the session.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use objc2_core_foundation::{
    kCFRunLoopCommonModes, kCFRunLoopDefaultMode, CFMachPort, CFRetained, CFRunLoop,
};
use objc2_core_graphics::{
    CGEvent, CGEventField, CGEventSource, CGEventSourceStateID, CGEventTapLocation,
    CGEventTapOptions, CGEventTapPlacement, CGEventTapProxy, CGEventType,
    CGPreflightListenEventAccess, CGRequestListenEventAccess,
};

use super::macevents::{self, Modifiers};
use super::{Button, Counters, InputSource, Limitation, Ready};
use crate::sampler::SamplerError;

const BACKEND: &str = "cgeventtap";
/// The permission prompt is shown at most once per run of stint.
static ASKED: AtomicBool = AtomicBool::new(false);

/// What the tap callback touches; it lives on the tap thread.
struct Tap {
    counters: Arc<Counters>,
    port: RefCell<Option<CFRetained<CFMachPort>>>,
    modifiers: RefCell<Modifiers>,
    reenabled: Cell<u64>,
}

/// The tap thread's run loop, which `Drop` stops from the daemon's thread
/// (CFRunLoopStop may be called from any thread). A stop that lands before the
/// loop runs is lost, so the flag ends the loop at its next turn as well.
struct RunLoop(CFRetained<CFRunLoop>, Arc<AtomicBool>);
// SAFETY: only `stop` is called on it away from its own thread.
unsafe impl Send for RunLoop {}
// SAFETY: as above.
unsafe impl Sync for RunLoop {}

struct TapInput {
    counters: Arc<Counters>,
    run_loop: RunLoop,
    _thread: std::thread::JoinHandle<()>,
}

/// How long one turn of the tap thread's run loop lasts at most: the latest a
/// stop that raced the loop's start takes effect.
const RUN_LOOP_TURN_SECS: f64 = 10.0;

/// Counts unknown: only idle time, until Input Monitoring is granted.
struct IdleOnly;

pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    if !CGPreflightListenEventAccess() {
        if !ASKED.swap(true, Ordering::Relaxed) {
            // Shows the system's prompt, which leads to the setting.
            CGRequestListenEventAccess();
        }
        return Ok(Box::new(IdleOnly));
    }
    let t = super::start_event_thread(tap_thread)?;
    Ok(Box::new(TapInput {
        counters: t.counters,
        run_loop: t.ready,
        _thread: t.handle,
    }))
}

pub fn fallback(why: String) -> Result<Box<dyn InputSource>, SamplerError> {
    super::poll::create(why)
}

fn no_permission() -> SamplerError {
    SamplerError::Permission(
        "stint may not read keyboard and mouse events: turn stint on in System Settings > \
         Privacy & Security > Input Monitoring"
            .into(),
    )
}

fn mask(types: &[CGEventType]) -> u64 {
    types.iter().fold(0, |m, t| m | 1u64 << t.0)
}

fn tap_thread(counters: Arc<Counters>, ready: Ready<RunLoop>) {
    let tap = Box::new(Tap {
        counters: counters.clone(),
        port: RefCell::new(None),
        modifiers: RefCell::new(Modifiers::default()),
        reenabled: Cell::new(0),
    });
    let events = mask(&[
        CGEventType::KeyDown,
        CGEventType::FlagsChanged,
        CGEventType::LeftMouseDown,
        CGEventType::RightMouseDown,
        CGEventType::OtherMouseDown,
        CGEventType::ScrollWheel,
        CGEventType::MouseMoved,
        CGEventType::LeftMouseDragged,
        CGEventType::RightMouseDragged,
        CGEventType::OtherMouseDragged,
    ]);
    let user = &*tap as *const Tap as *mut c_void;
    // SAFETY: `callback` matches CGEventTapCallBack and `user` outlives the tap,
    // which is invalidated below before `tap` is dropped.
    let port = unsafe {
        CGEvent::tap_create(
            CGEventTapLocation::SessionEventTap,
            CGEventTapPlacement::HeadInsertEventTap,
            CGEventTapOptions::ListenOnly,
            events,
            Some(callback),
            user,
        )
    };
    let Some(port) = port else {
        let _ = ready.send(Err(SamplerError::Failed(
            "CGEventTapCreate refused a listen-only session tap".into(),
        )));
        return;
    };
    let (Some(source), Some(run_loop)) = (
        CFMachPort::new_run_loop_source(None, Some(&port), 0),
        CFRunLoop::current(),
    ) else {
        port.invalidate();
        let _ = ready.send(Err(SamplerError::Failed(
            "could not attach the event tap to a run loop".into(),
        )));
        return;
    };
    // SAFETY: reading an immutable CoreFoundation constant.
    run_loop.add_source(Some(&source), unsafe { kCFRunLoopCommonModes });
    CGEvent::tap_enable(&port, true);
    *tap.port.borrow_mut() = Some(port);
    let stop = Arc::new(AtomicBool::new(false));
    if ready.send(Ok(RunLoop(run_loop, stop.clone()))).is_ok() {
        tracing::info!(backend = BACKEND, "event tap installed");
        while !stop.load(Ordering::Relaxed) {
            // SAFETY: reading an immutable CoreFoundation constant.
            CFRunLoop::run_in_mode(unsafe { kCFRunLoopDefaultMode }, RUN_LOOP_TURN_SECS, false);
        }
    } // else create() gave up waiting: undo the tap and end
    if let Some(port) = tap.port.borrow_mut().take() {
        port.invalidate();
    }
    counters.set_dead();
}

fn field(event: &CGEvent, f: CGEventField) -> i64 {
    CGEvent::integer_value_field(Some(event), f)
}

unsafe extern "C-unwind" fn callback(
    _proxy: CGEventTapProxy,
    ty: CGEventType,
    event: NonNull<CGEvent>,
    user: *mut c_void,
) -> *mut CGEvent {
    // SAFETY: `user` is the Tap the thread keeps alive while the tap exists, and
    // callbacks run on that thread only.
    let tap = unsafe { &*(user as *const Tap) };
    // SAFETY: the event is valid for the duration of the callback.
    let ev = unsafe { event.as_ref() };
    let synthetic = || {
        macevents::is_synthetic(
            field(ev, CGEventField::EventSourceUnixProcessID),
            field(ev, CGEventField::EventSourceStateID),
        )
    };
    let c = &tap.counters;
    match ty {
        CGEventType::TapDisabledByTimeout | CGEventType::TapDisabledByUserInput => {
            if let Ok(port) = tap.port.try_borrow() {
                if let Some(port) = port.as_ref() {
                    CGEvent::tap_enable(port, true);
                }
            }
            let n = tap.reenabled.get() + 1;
            tap.reenabled.set(n);
            tracing::warn!(times = n, "macOS disabled the event tap; enabled it again");
        }
        CGEventType::KeyDown => {
            if field(ev, CGEventField::KeyboardEventAutorepeat) == 0 {
                c.key(synthetic());
            }
        }
        CGEventType::FlagsChanged => {
            let key = field(ev, CGEventField::KeyboardEventKeycode) as u16;
            let flags = CGEvent::flags(Some(ev)).0;
            let press = tap
                .modifiers
                .try_borrow_mut()
                .is_ok_and(|mut m| m.changed(key, flags));
            if press {
                c.key(synthetic());
            }
        }
        CGEventType::LeftMouseDown | CGEventType::RightMouseDown | CGEventType::OtherMouseDown => {
            c.button(Button::Click, synthetic())
        }
        CGEventType::ScrollWheel => {
            let steps = macevents::scroll_steps(
                field(ev, CGEventField::ScrollWheelEventIsContinuous) != 0,
                field(ev, CGEventField::ScrollWheelEventScrollPhase),
                field(ev, CGEventField::ScrollWheelEventMomentumPhase),
            );
            if steps > 0 {
                c.scroll(steps);
            } else {
                c.touch();
            }
        }
        _ => c.touch(),
    }
    event.as_ptr()
}

/// Seconds since any input of the session, from the window server; needs no
/// permission.
fn system_idle_ms() -> u64 {
    // kCGAnyInputEventType is ~0.
    let secs = CGEventSource::seconds_since_last_event_type(
        CGEventSourceStateID::CombinedSessionState,
        CGEventType(!0),
    );
    (secs.max(0.0) * 1000.0) as u64
}

impl InputSource for TapInput {
    fn take_counts(&self) -> Option<super::InputCounts> {
        Some(self.counters.take())
    }

    fn idle_ms(&self) -> u64 {
        system_idle_ms()
    }

    /// Also false once Input Monitoring was taken back: the tap then sees
    /// nothing, and the daemon's re-probe turns the counts to unknown.
    fn healthy(&self) -> bool {
        self.counters.alive() && CGPreflightListenEventAccess()
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}

impl Drop for TapInput {
    fn drop(&mut self) {
        self.run_loop.1.store(true, Ordering::Relaxed);
        self.run_loop.0.stop();
    }
}

impl InputSource for IdleOnly {
    fn take_counts(&self) -> Option<super::InputCounts> {
        None
    }

    fn idle_ms(&self) -> u64 {
        system_idle_ms()
    }

    fn healthy(&self) -> bool {
        true
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn limitation(&self) -> Option<Limitation> {
        Some(Limitation::NoCounts(no_permission()))
    }
}
