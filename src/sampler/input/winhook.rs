//! The Windows low-level hooks' logic, kept free of Win32 calls so it is
//! unit-tested on every OS: which hook messages are presses, clicks and scroll
//! steps, which ones software injected, when the keys-down table must be
//! forgotten, and when silent hooks must be installed again.
//!
//! The message and flag values are Win32's; `windows.rs` checks at compile time
//! that they equal windows-sys's.

use super::{Button, Counters, KeyTracker};

pub(crate) const WM_MOUSEMOVE: u32 = 0x0200;
pub(crate) const WM_KEYDOWN: u32 = 0x0100;
pub(crate) const WM_KEYUP: u32 = 0x0101;
pub(crate) const WM_SYSKEYDOWN: u32 = 0x0104;
pub(crate) const WM_SYSKEYUP: u32 = 0x0105;
pub(crate) const WM_LBUTTONDOWN: u32 = 0x0201;
pub(crate) const WM_RBUTTONDOWN: u32 = 0x0204;
pub(crate) const WM_MBUTTONDOWN: u32 = 0x0207;
pub(crate) const WM_MOUSEWHEEL: u32 = 0x020A;
pub(crate) const WM_XBUTTONDOWN: u32 = 0x020B;
pub(crate) const WM_MOUSEHWHEEL: u32 = 0x020E;
pub(crate) const LLKHF_EXTENDED: u32 = 0x01;
pub(crate) const LLKHF_INJECTED: u32 = 0x10;
pub(crate) const LLMHF_INJECTED: u32 = 0x01;
pub(crate) const WHEEL_DELTA: u32 = 120;
pub(crate) const VK_LCONTROL: u32 = 0xA2;
/// The scan code of the left Ctrl that Windows fakes before each AltGr (right
/// Alt on layouts that have AltGr): one key, so one press.
const ALTGR_FAKE_CTRL_SCAN: u32 = 0x21D;

/// A keyboard with no event for this long has no key held: a held key
/// auto-repeats every few tens of milliseconds after a delay of at most one
/// second. Longer silence with keys in the table means their key-ups went
/// elsewhere (the session locked, the secure desktop, an elevated window).
pub(crate) const KEYS_QUIET_MS: u32 = 2_000;
/// Input the system saw this long after the hooks' last event means the hooks
/// no longer get called.
pub(crate) const SILENT_HOOK_MS: u32 = 2_000;

/// What one low-level hook call reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hooked {
    KeyDown {
        key: u16,
        injected: bool,
    },
    KeyUp {
        key: u16,
    },
    Click {
        injected: bool,
    },
    /// A wheel message: `delta` is its size (a notch is WHEEL_DELTA).
    Wheel {
        delta: u32,
        horizontal: bool,
    },
    Motion,
    Other,
}

/// A `WH_KEYBOARD_LL` call: `vk`, `scan` and `flags` from KBDLLHOOKSTRUCT.
/// The key is the virtual key plus the extended bit, so the two Enter keys are
/// two keys.
pub(crate) fn keyboard(msg: u32, vk: u32, scan: u32, flags: u32) -> Hooked {
    if vk == VK_LCONTROL && scan == ALTGR_FAKE_CTRL_SCAN {
        return Hooked::Other;
    }
    let key = (vk & 0xff) as u16 | (((flags & LLKHF_EXTENDED) as u16) << 8);
    match msg {
        WM_KEYDOWN | WM_SYSKEYDOWN => Hooked::KeyDown {
            key,
            injected: flags & LLKHF_INJECTED != 0,
        },
        WM_KEYUP | WM_SYSKEYUP => Hooked::KeyUp { key },
        _ => Hooked::Other,
    }
}

/// A `WH_MOUSE_LL` call: `mouse_data` and `flags` from MSLLHOOKSTRUCT.
pub(crate) fn mouse(msg: u32, mouse_data: u32, flags: u32) -> Hooked {
    match msg {
        WM_LBUTTONDOWN | WM_RBUTTONDOWN | WM_MBUTTONDOWN | WM_XBUTTONDOWN => Hooked::Click {
            injected: flags & LLMHF_INJECTED != 0,
        },
        WM_MOUSEWHEEL | WM_MOUSEHWHEEL => Hooked::Wheel {
            // The high word is the signed delta.
            delta: u32::from(((mouse_data >> 16) as u16 as i16).unsigned_abs()),
            horizontal: msg == WM_MOUSEHWHEEL,
        },
        WM_MOUSEMOVE => Hooked::Motion,
        _ => Hooked::Other,
    }
}

/// The hook thread's state: which keys are down (a down of a key already
/// down is auto-repeat), when the keyboard last spoke, and the part of a wheel
/// notch each axis has turned: high-resolution wheels and precision touchpads
/// send fractions of WHEEL_DELTA, which add up to steps.
#[derive(Default)]
pub(crate) struct HookState {
    keys: KeyTracker<u16>,
    last_key_tick: u32,
    wheel: [u32; 2],
}

impl HookState {
    /// `tick` is the event's time stamp (GetTickCount's clock).
    pub(crate) fn on(&mut self, event: Hooked, tick: u32, counters: &Counters) {
        match event {
            Hooked::KeyDown { key, injected } => {
                self.last_key_tick = tick;
                if self.keys.press(key) {
                    counters.key(injected);
                }
            }
            Hooked::KeyUp { key } => {
                self.last_key_tick = tick;
                self.keys.release(&key);
            }
            Hooked::Click { injected } => counters.button(Button::Click, injected),
            Hooked::Wheel { delta, horizontal } => {
                let turned = &mut self.wheel[usize::from(horizontal)];
                *turned += delta;
                let steps = *turned / WHEEL_DELTA;
                *turned %= WHEEL_DELTA;
                if steps > 0 {
                    counters.scroll(steps);
                } else {
                    counters.touch();
                }
            }
            Hooked::Motion => counters.touch(),
            Hooked::Other => {}
        }
    }

    /// Called now and then; true when the keys-down table was forgotten.
    pub(crate) fn tick(&mut self, now: u32) -> bool {
        if self.keys.any_down() && now.wrapping_sub(self.last_key_tick) > KEYS_QUIET_MS {
            self.keys.clear();
            return true;
        }
        false
    }
}

/// Windows removes a low-level hook whose callback misses LowLevelHooksTimeout,
/// without telling anyone. The sign is input the system saw (GetLastInputInfo)
/// that the hooks did not. Input to an elevated window or the secure desktop
/// looks the same, so the hooks are installed again once per silence: only an
/// event seen after that makes a later silence suspect again.
#[derive(Default)]
pub(crate) struct HookWatch {
    reinstalled_at: Option<u32>,
}

impl HookWatch {
    /// All times in GetTickCount's clock: `system_input` from GetLastInputInfo,
    /// `hook_event` the hooks' newest event. True: install the hooks again.
    pub(crate) fn check(&mut self, now: u32, system_input: u32, hook_event: u32) -> bool {
        let system_age = now.wrapping_sub(system_input);
        let hook_age = now.wrapping_sub(hook_event);
        let silent = hook_age > system_age.saturating_add(SILENT_HOOK_MS);
        let heard_since_reinstall = self
            .reinstalled_at
            .is_none_or(|at| now.wrapping_sub(at) > hook_age);
        if silent && heard_since_reinstall {
            self.reinstalled_at = Some(now);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::input::InputCounts;

    fn down(key: u16, injected: bool) -> Hooked {
        Hooked::KeyDown { key, injected }
    }

    fn wheel(delta: u32, horizontal: bool) -> Hooked {
        Hooked::Wheel { delta, horizontal }
    }

    /// A wheel message's mouseData: the signed delta in the high word.
    fn data(delta: i16) -> u32 {
        u32::from(delta as u16) << 16
    }

    #[test]
    fn keyboard_messages_table() {
        // (message, vk, scan code, flags, what it is)
        let cases = [
            (WM_KEYDOWN, 0x41, 0x1e, 0, down(0x41, false)),
            (WM_SYSKEYDOWN, 0x12, 0x38, 0x20, down(0x12, false)),
            (WM_KEYDOWN, 0x41, 0x1e, LLKHF_INJECTED, down(0x41, true)),
            // LLKHF_LOWER_IL_INJECTED (0x02) comes with LLKHF_INJECTED.
            (WM_KEYDOWN, 0x41, 0x1e, 0x12, down(0x41, true)),
            (WM_KEYDOWN, 0x0d, 0x1c, LLKHF_EXTENDED, down(0x10d, false)),
            (WM_KEYUP, 0x0d, 0x1c, 0x81, Hooked::KeyUp { key: 0x10d }),
            (WM_SYSKEYUP, 0x12, 0x38, 0xa0, Hooked::KeyUp { key: 0x12 }),
            (WM_KEYDOWN, VK_LCONTROL, 0x1d, 0, down(0xa2, false)), // left Ctrl
            (WM_KEYDOWN, VK_LCONTROL, 0x21d, 0, Hooked::Other),    // AltGr's fake Ctrl
            (0x0102, 0x41, 0x1e, 0, Hooked::Other),                // WM_CHAR
        ];
        for (msg, vk, scan, flags, want) in cases {
            assert_eq!(
                keyboard(msg, vk, scan, flags),
                want,
                "{msg:#x} {vk:#x} {flags:#x}"
            );
        }
    }

    #[test]
    fn mouse_messages_table() {
        let cases = [
            (WM_LBUTTONDOWN, 0, 0, Hooked::Click { injected: false }),
            (
                WM_RBUTTONDOWN,
                0,
                LLMHF_INJECTED,
                Hooked::Click { injected: true },
            ),
            (WM_MBUTTONDOWN, 0, 0, Hooked::Click { injected: false }),
            (
                WM_XBUTTONDOWN,
                1 << 16,
                0,
                Hooked::Click { injected: false },
            ),
            (WM_MOUSEWHEEL, data(120), 0, wheel(120, false)),
            (WM_MOUSEWHEEL, data(-240), 0, wheel(240, false)),
            (WM_MOUSEHWHEEL, data(-30), LLMHF_INJECTED, wheel(30, true)),
            (WM_MOUSEMOVE, 0, 0, Hooked::Motion),
            (0x0202, 0, 0, Hooked::Other), // WM_LBUTTONUP
            (0x0205, 0, 0, Hooked::Other), // WM_RBUTTONUP
        ];
        for (msg, mouse_data, flags, want) in cases {
            assert_eq!(
                mouse(msg, mouse_data, flags),
                want,
                "{msg:#x} {mouse_data:#x}"
            );
        }
    }

    /// Wine does not flag XTEST input as injected, so this is the only test of
    /// the injected path: hook calls as Windows makes them, through to counts.
    #[test]
    fn injected_presses_and_clicks_count_as_synthetic_and_repeats_not_at_all() {
        let c = Counters::new();
        let mut s = HookState::default();
        let calls = [
            keyboard(WM_KEYDOWN, 0x41, 0x1e, 0),
            keyboard(WM_KEYDOWN, 0x41, 0x1e, 0), // auto-repeat
            keyboard(WM_KEYDOWN, 0x41, 0x1e, 0),
            keyboard(WM_KEYUP, 0x41, 0x1e, 0x80),
            keyboard(WM_KEYDOWN, 0x42, 0x30, LLKHF_INJECTED),
            keyboard(WM_KEYUP, 0x42, 0x30, LLKHF_INJECTED | 0x80),
            keyboard(WM_KEYDOWN, 0x0d, 0x1c, 0),
            keyboard(WM_KEYDOWN, 0x0d, 0x1c, LLKHF_EXTENDED), // the other Enter
            mouse(WM_LBUTTONDOWN, 0, LLMHF_INJECTED),
            mouse(WM_RBUTTONDOWN, 0, 0),
            mouse(WM_MOUSEWHEEL, data(240), LLMHF_INJECTED),
            mouse(WM_MOUSEMOVE, 0, LLMHF_INJECTED),
        ];
        for (i, ev) in calls.into_iter().enumerate() {
            s.on(ev, i as u32, &c);
        }
        let want = InputCounts {
            keystrokes: 4,
            clicks: 2,
            scrolls: 2,
            synthetic_keystrokes: 1,
            synthetic_clicks: 1,
        };
        assert_eq!(c.take(), want);
    }

    /// A high-resolution wheel turns in fractions of a notch: they add up per
    /// axis, so a notch is one step however it was reported.
    #[test]
    fn wheel_fractions_add_up_to_steps_per_axis() {
        let c = Counters::new();
        let mut s = HookState::default();
        for _ in 0..7 {
            s.on(mouse(WM_MOUSEWHEEL, data(-40), 0), 0, &c); // 280: two steps, 40 left
        }
        s.on(mouse(WM_MOUSEHWHEEL, data(100), 0), 0, &c); // under a notch
        assert_eq!(c.take().scrolls, 2);
        s.on(mouse(WM_MOUSEWHEEL, data(80), 0), 0, &c); // 40 + 80: a third
        s.on(mouse(WM_MOUSEHWHEEL, data(20), 0), 0, &c); // 100 + 20
        assert_eq!(c.take().scrolls, 2);
    }

    #[test]
    fn a_quiet_keyboard_forgets_keys_whose_up_went_elsewhere() {
        let c = Counters::new();
        let mut s = HookState::default();
        let t0 = u32::MAX - 500; // across the 49.7-day wrap of GetTickCount
        let win = keyboard(WM_KEYDOWN, 0x5b, 0x5b, LLKHF_EXTENDED); // Win+L locks...
        s.on(win, t0, &c);
        assert!(
            !s.tick(t0.wrapping_add(KEYS_QUIET_MS)),
            "not quiet long enough"
        );
        assert!(s.tick(t0.wrapping_add(KEYS_QUIET_MS + 1)));
        assert!(
            !s.tick(t0.wrapping_add(KEYS_QUIET_MS + 5_000)),
            "nothing left"
        );
        // ...and the key-up never came: the next press still counts.
        s.on(win, t0.wrapping_add(9_000), &c);
        assert_eq!(c.take().keystrokes, 2);
    }

    #[test]
    fn silent_hooks_are_reinstalled_once_per_silence() {
        let mut w = HookWatch::default();
        // (now, system's last input, hooks' last event, reinstall?)
        let steps = [
            (10_000, 9_000, 9_000, false),   // both saw the same input
            (10_000, 9_500, 9_000, false),   // within the margin
            (20_000, 19_000, 9_000, true),   // the system saw input the hooks did not
            (22_000, 21_000, 9_000, false),  // still silent: elevated window, secure desktop
            (30_000, 29_000, 29_000, false), // heard again after the reinstall
            (40_000, 39_000, 29_000, true),  // so this is a new silence
            (u32::MAX, u32::MAX - 10, u32::MAX - 10, false),
        ];
        for (now, system, hook, want) in steps {
            assert_eq!(w.check(now, system, hook), want, "now {now}");
        }
    }
}
