//! Windows input counting from low-level keyboard and mouse hooks
//! (`WH_KEYBOARD_LL`, `WH_MOUSE_LL`) on a thread that owns a message loop.
//!
//! Hooks, not Raw Input, because only hooks say which input software injected
//! (`LLKHF_INJECTED`, `LLMHF_INJECTED`); ARCHITECTURE.md has the comparison.
//! Every input event of the session waits for our callback, so it only
//! classifies the event and bumps atomics, and the thread does nothing else.
//! Windows silently removes a hook that misses LowLevelHooksTimeout: a timer on
//! the same thread compares the hooks' newest event with GetLastInputInfo and
//! installs them again when the system saw input they did not (`winhook.rs`).
//! Idle time is GetLastInputInfo, which sees all input of the session.

use std::cell::RefCell;
use std::sync::Arc;

use windows_sys::Win32::Foundation::{LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::System::LibraryLoader::GetModuleHandleW;
use windows_sys::Win32::System::SystemInformation::GetTickCount;
use windows_sys::Win32::System::Threading::GetCurrentThreadId;
use windows_sys::Win32::UI::Input::KeyboardAndMouse::{
    GetLastInputInfo, LASTINPUTINFO, VK_LCONTROL,
};
use windows_sys::Win32::UI::WindowsAndMessaging as wm;

use super::winhook::{self, HookState, HookWatch};
use super::{Counters, InputSource, Ready};
use crate::sampler::SamplerError;

// winhook.rs spells the Win32 values out so its logic builds and is tested on
// every OS; here they must be Windows's own.
const _: () = {
    assert!(winhook::WM_MOUSEMOVE == wm::WM_MOUSEMOVE);
    assert!(winhook::WM_KEYDOWN == wm::WM_KEYDOWN);
    assert!(winhook::WM_KEYUP == wm::WM_KEYUP);
    assert!(winhook::WM_SYSKEYDOWN == wm::WM_SYSKEYDOWN);
    assert!(winhook::WM_SYSKEYUP == wm::WM_SYSKEYUP);
    assert!(winhook::WM_LBUTTONDOWN == wm::WM_LBUTTONDOWN);
    assert!(winhook::WM_RBUTTONDOWN == wm::WM_RBUTTONDOWN);
    assert!(winhook::WM_MBUTTONDOWN == wm::WM_MBUTTONDOWN);
    assert!(winhook::WM_MOUSEWHEEL == wm::WM_MOUSEWHEEL);
    assert!(winhook::WM_XBUTTONDOWN == wm::WM_XBUTTONDOWN);
    assert!(winhook::WM_MOUSEHWHEEL == wm::WM_MOUSEHWHEEL);
    assert!(winhook::LLKHF_EXTENDED == wm::LLKHF_EXTENDED);
    assert!(winhook::LLKHF_INJECTED == wm::LLKHF_INJECTED);
    assert!(winhook::LLMHF_INJECTED == wm::LLMHF_INJECTED);
    assert!(winhook::WHEEL_DELTA == wm::WHEEL_DELTA);
    assert!(winhook::VK_LCONTROL == VK_LCONTROL as u32);
};

/// How often the hook thread checks its hooks and its keys-down table.
const WATCH_MS: u32 = 2_000;

/// What the hook callbacks touch, owned by the hook thread: hook callbacks
/// carry no user pointer, and they always run on the thread that installed them.
struct Thread {
    counters: Arc<Counters>,
    state: HookState,
    /// Time stamp of the newest hooked event (GetTickCount's clock).
    last_event: u32,
}

thread_local! {
    static THREAD: RefCell<Option<Thread>> = const { RefCell::new(None) };
}

struct HookInput {
    counters: Arc<Counters>,
    thread_id: u32,
    /// Held so the thread's id stays its own until we are done posting to it.
    thread: std::thread::JoinHandle<()>,
}

pub fn create() -> Result<Box<dyn InputSource>, SamplerError> {
    let t = super::start_event_thread(hook_thread)?;
    Ok(Box::new(HookInput {
        counters: t.counters,
        thread_id: t.ready,
        thread: t.handle,
    }))
}

pub fn fallback(why: String) -> Result<Box<dyn InputSource>, SamplerError> {
    super::poll::create(why)
}

/// Both hooks, or neither.
struct Hooks(wm::HHOOK, wm::HHOOK);

impl Hooks {
    fn install() -> Result<Hooks, SamplerError> {
        // SAFETY: plain Win32 calls; the procedures are 'static functions, and
        // a null module name means this executable.
        unsafe {
            let module = GetModuleHandleW(std::ptr::null());
            let kb = wm::SetWindowsHookExW(wm::WH_KEYBOARD_LL, Some(keyboard_proc), module, 0);
            if kb.is_null() {
                return Err(last_error("SetWindowsHookEx(WH_KEYBOARD_LL)"));
            }
            let mouse = wm::SetWindowsHookExW(wm::WH_MOUSE_LL, Some(mouse_proc), module, 0);
            if mouse.is_null() {
                let e = last_error("SetWindowsHookEx(WH_MOUSE_LL)");
                wm::UnhookWindowsHookEx(kb);
                return Err(e);
            }
            Ok(Hooks(kb, mouse))
        }
    }
}

impl Drop for Hooks {
    fn drop(&mut self) {
        // SAFETY: both handles came from SetWindowsHookExW on this thread.
        // Unhooking a hook Windows already removed fails harmlessly.
        unsafe {
            wm::UnhookWindowsHookEx(self.0);
            wm::UnhookWindowsHookEx(self.1);
        }
    }
}

fn last_error(what: &str) -> SamplerError {
    SamplerError::Failed(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn hook_thread(counters: Arc<Counters>, ready: Ready<u32>) {
    let now = tick();
    THREAD.with(|t| {
        *t.borrow_mut() = Some(Thread {
            counters: counters.clone(),
            state: HookState::default(),
            last_event: now,
        })
    });
    let mut hooks = match Hooks::install() {
        Ok(h) => Some(h),
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    // SAFETY: a MSG is plain data; PeekMessage creates this thread's queue so
    // the WM_QUIT that Drop posts cannot be lost, and the timer posts WM_TIMER
    // to it (no window, no callback).
    let mut msg: wm::MSG = unsafe { std::mem::zeroed() };
    unsafe {
        wm::PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, wm::PM_NOREMOVE);
        wm::SetTimer(std::ptr::null_mut(), 0, WATCH_MS, None);
    }
    // SAFETY: returns this thread's id, nothing else.
    if ready.send(Ok(unsafe { GetCurrentThreadId() })).is_err() {
        return; // create() gave up waiting: the hooks go with `hooks`
    }
    tracing::info!(backend = "win32-ll-hooks", "input hooks installed");
    let mut watch = HookWatch::default();
    // SAFETY: msg is a valid MSG; GetMessageW returns 0 on WM_QUIT, -1 on error.
    while unsafe { wm::GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) } > 0 {
        if msg.message != wm::WM_TIMER {
            continue;
        }
        let now = tick();
        let (forgot, last_event) = THREAD.with(|t| match t.borrow_mut().as_mut() {
            Some(t) => (t.state.tick(now), t.last_event),
            None => (false, now),
        });
        if forgot {
            tracing::debug!(
                "keyboard quiet with keys down; forgot them (their key-up went elsewhere)"
            );
        }
        if watch.check(now, system_last_input(), last_event) {
            tracing::warn!(
                "the input hooks saw nothing while Windows saw input: installing them again \
                 (Windows removes hooks that miss LowLevelHooksTimeout; input to elevated \
                 windows and the secure desktop is not shown to them either)"
            );
            // The old hooks go first: a hook that still works would count twice.
            hooks = None;
            match Hooks::install() {
                Ok(h) => hooks = Some(h),
                Err(e) => {
                    tracing::error!(error = %e, "could not install the input hooks again");
                    break;
                }
            }
        }
    }
    drop(hooks);
    counters.set_dead();
}

fn tick() -> u32 {
    // SAFETY: no arguments, no failure.
    unsafe { GetTickCount() }
}

/// GetLastInputInfo's time stamp (GetTickCount's clock), or now if it fails.
fn system_last_input() -> u32 {
    let mut info = LASTINPUTINFO {
        cbSize: std::mem::size_of::<LASTINPUTINFO>() as u32,
        dwTime: 0,
    };
    // SAFETY: info is a valid LASTINPUTINFO with cbSize set.
    if unsafe { GetLastInputInfo(&mut info) } == 0 {
        return tick();
    }
    info.dwTime
}

/// Hands one hooked event to the thread's state, stamped with GetTickCount
/// (the hook structs' `time` is whatever a SendInput caller put there); a
/// re-entrant call (which Windows never
/// makes, since the callbacks pump no messages) is skipped rather than panicking
/// across the FFI boundary.
fn with_thread(event: winhook::Hooked) {
    let time = tick();
    THREAD.with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            if let Some(t) = t.as_mut() {
                t.last_event = time;
                t.state.on(event, time, &t.counters);
            }
        }
    });
}

unsafe extern "system" fn keyboard_proc(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if code == wm::HC_ACTION as i32 {
        // SAFETY: for HC_ACTION, lparam points to a KBDLLHOOKSTRUCT.
        let k = unsafe { &*(lparam as *const wm::KBDLLHOOKSTRUCT) };
        with_thread(winhook::keyboard(
            wparam as u32,
            k.vkCode,
            k.scanCode,
            k.flags,
        ));
    }
    // SAFETY: passing the call on, as every hook must.
    unsafe { wm::CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}

unsafe extern "system" fn mouse_proc(code: i32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    if code == wm::HC_ACTION as i32 {
        // SAFETY: for HC_ACTION, lparam points to a MSLLHOOKSTRUCT.
        let m = unsafe { &*(lparam as *const wm::MSLLHOOKSTRUCT) };
        with_thread(winhook::mouse(wparam as u32, m.mouseData, m.flags));
    }
    // SAFETY: as above.
    unsafe { wm::CallNextHookEx(std::ptr::null_mut(), code, wparam, lparam) }
}

impl InputSource for HookInput {
    fn take_counts(&self) -> Option<super::InputCounts> {
        Some(self.counters.take())
    }

    fn idle_ms(&self) -> u64 {
        u64::from(tick().wrapping_sub(system_last_input()))
    }

    fn healthy(&self) -> bool {
        self.counters.alive()
    }

    fn backend(&self) -> &'static str {
        "win32-ll-hooks"
    }
}

impl Drop for HookInput {
    fn drop(&mut self) {
        if self.thread.is_finished() {
            return;
        }
        // SAFETY: the thread still runs (and its handle, held until after
        // this call, keeps its id from being given to another thread).
        unsafe {
            wm::PostThreadMessageW(self.thread_id, wm::WM_QUIT, 0, 0);
        }
    }
}
