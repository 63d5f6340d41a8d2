//! The macOS event tap's logic, kept free of Quartz calls so it is unit-tested
//! on every OS: which events software injected, how many scroll steps an event
//! is, and which modifier changes are presses.

use super::KeyTracker;

/// kCGEventSourceStateHIDSystemState: the state of events from HID devices.
pub(crate) const HID_SYSTEM_STATE: i64 = 1;
/// kVK_CapsLock: reports one FlagsChanged per press and none for releases.
pub(crate) const CAPS_LOCK: u16 = 57;
/// Shift, Control, Option, Command and Fn in CGEventFlags.
pub(crate) const HELD_MODIFIERS: u64 =
    0x0002_0000 | 0x0004_0000 | 0x0008_0000 | 0x0010_0000 | 0x0080_0000;

/// An event a process posted (kCGEventSourceUnixProcessID ≠ 0), or one from a
/// source state other than the HID system's, was not typed or clicked on a
/// device.
pub(crate) fn is_synthetic(source_pid: i64, source_state: i64) -> bool {
    source_pid != 0 || source_state != HID_SYSTEM_STATE
}

/// Scroll steps of one ScrollWheel event: a wheel notch is one; a trackpad or
/// Magic Mouse sends a stream of continuous events per gesture, which counts
/// once, at its beginning, and its momentum (the glide after the fingers
/// lift) not at all. A continuous event outside any gesture (some mice and
/// drivers send them) is one step, like a notch.
pub(crate) fn scroll_steps(continuous: bool, scroll_phase: i64, momentum_phase: i64) -> u32 {
    const BEGAN: i64 = 1; // kCGScrollPhaseBegan
    match (continuous, scroll_phase, momentum_phase) {
        (false, _, _) => 1,
        (true, BEGAN | 0, 0) => 1,
        _ => 0,
    }
}

/// Modifier keys report FlagsChanged instead of key down and up. Each change of
/// one key alternates press and release, except Caps Lock, whose every report
/// is a press; flags with no modifier held say every modifier is up, which
/// also mends a missed report.
#[derive(Default)]
pub(crate) struct Modifiers {
    down: KeyTracker<u16>,
}

impl Modifiers {
    /// True when this FlagsChanged report is a press.
    pub(crate) fn changed(&mut self, keycode: u16, flags: u64) -> bool {
        if keycode == CAPS_LOCK {
            return true;
        }
        if flags & HELD_MODIFIERS == 0 {
            self.down.clear();
            return false;
        }
        if self.down.press(keycode) {
            return true;
        }
        self.down.release(&keycode);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_sources_table() {
        for (pid, state, synthetic) in [
            (0, HID_SYSTEM_STATE, false),   // a keyboard or mouse
            (4242, HID_SYSTEM_STATE, true), // posted by a process
            (0, 0, true),                   // combined session state
            (0, -1, true),                  // a private source
        ] {
            assert_eq!(
                is_synthetic(pid, state),
                synthetic,
                "pid {pid} state {state}"
            );
        }
    }

    #[test]
    fn scroll_steps_table() {
        for (continuous, phase, momentum, steps) in [
            (false, 0, 0, 1), // wheel notch
            (true, 1, 0, 1),  // gesture begins
            (true, 2, 0, 0),  // gesture changes
            (true, 4, 0, 0),  // gesture ends
            (true, 0, 1, 0),  // momentum begins
            (true, 0, 2, 0),  // momentum continues
            (true, 0, 0, 1),  // continuous, but no gesture: a notch
        ] {
            assert_eq!(scroll_steps(continuous, phase, momentum), steps);
        }
    }

    #[test]
    fn modifier_changes_count_presses_only() {
        const SHIFT: u64 = 0x0002_0000;
        const COMMAND: u64 = 0x0010_0000;
        let mut m = Modifiers::default();
        // (keycode, flags after the change, press?)
        let reports = [
            (56, SHIFT, true),              // left Shift down
            (56, 0, false),                 // up
            (56, SHIFT, true),              // down
            (55, SHIFT | COMMAND, true),    // Command down while Shift is held
            (56, COMMAND, false),           // Shift up
            (55, 0, false),                 // Command up
            (CAPS_LOCK, 0x0001_0000, true), // Caps Lock on
            (CAPS_LOCK, 0, true),           // and off: a second press
            (60, SHIFT, true),              // right Shift down; its up report is lost
            (55, COMMAND, true),            // Command down
            (55, 0, false),                 // no modifier held: all up
            (60, SHIFT, true),              // so right Shift counts again
        ];
        for (i, (key, flags, press)) in reports.into_iter().enumerate() {
            assert_eq!(m.changed(key, flags), press, "report {i}");
        }
    }
}
