//! Windows's rules for naming the foreground window's program, kept free of
//! Win32 calls so they are unit-tested on every OS.
//!
//! Packaged (UWP) apps draw inside a frame window of `ApplicationFrameHost.exe`,
//! which would name one program for Calculator, Settings, Store and Mail alike;
//! the app's own window is a child of that frame owned by another process.

/// The host process of packaged apps' frames.
const FRAME_HOST: &str = "ApplicationFrameHost.exe";

/// Whether `exe_path` is the frame host, by file name, in any case.
pub(crate) fn is_frame_host(exe_path: &str) -> bool {
    exe_path
        .rsplit(['\\', '/'])
        .next()
        .is_some_and(|name| name.eq_ignore_ascii_case(FRAME_HOST))
}

/// The process of the app inside a frame: the first child window (in
/// EnumChildWindows order) owned by a process other than the frame's. None
/// when the app is not there (suspended, minimized or closing): the frame host
/// is then what the user sees.
pub(crate) fn hosted_pid(frame_pid: u32, child_pids: &[u32]) -> Option<u32> {
    child_pids
        .iter()
        .copied()
        .find(|&p| p != frame_pid && p != 0)
}

/// What a record says for a process whose executable cannot be read (a
/// protected process, or one gone between two calls), instead of nothing.
pub(crate) fn unreadable(pid: u32, os_error: Option<i32>, message: &str) -> String {
    const ERROR_ACCESS_DENIED: i32 = 5;
    const ERROR_INVALID_PARAMETER: i32 = 87;
    let why = match os_error {
        Some(ERROR_ACCESS_DENIED) => "access denied",
        Some(ERROR_INVALID_PARAMETER) => "process ended",
        _ => message.trim(),
    };
    format!("unknown (pid {pid}: {why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_host_names_table() {
        for (path, host) in [
            (r"C:\Windows\System32\ApplicationFrameHost.exe", true),
            (r"c:\windows\system32\applicationframehost.EXE", true),
            ("ApplicationFrameHost.exe", true),
            (r"C:\Windows\System32\notepad.exe", false),
            (r"C:\Apps\NotApplicationFrameHost.exe", false),
            ("", false),
        ] {
            assert_eq!(is_frame_host(path), host, "{path}");
        }
    }

    #[test]
    fn hosted_app_resolution_table() {
        let frame = 100;
        for (children, want) in [
            (&[100, 100, 4242][..], Some(4242)), // CoreWindow of Calculator
            (&[4242, 100][..], Some(4242)),
            (&[100, 0][..], None), // app suspended: only the frame's own windows
            (&[][..], None),
            (&[100, 777, 4242][..], Some(777)), // the first foreign child wins
        ] {
            assert_eq!(hosted_pid(frame, children), want, "{children:?}");
        }
    }

    #[test]
    fn unreadable_processes_say_why() {
        for (pid, code, message, want) in [
            (
                4,
                Some(5),
                "Access is denied. (os error 5)",
                "unknown (pid 4: access denied)",
            ),
            (
                9,
                Some(87),
                "The parameter is incorrect.",
                "unknown (pid 9: process ended)",
            ),
            (
                7,
                Some(31),
                " A device attached is not functioning. ",
                "unknown (pid 7: A device attached is not functioning.)",
            ),
        ] {
            assert_eq!(unreadable(pid, code, message), want);
        }
    }
}
