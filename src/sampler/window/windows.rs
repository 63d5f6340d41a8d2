//! Windows: the foreground window's title, and its program from the process
//! behind it (`PROCESS_QUERY_LIMITED_INFORMATION`, which elevated processes
//! grant to a normal user too). Packaged apps are resolved through their frame
//! host (`hosted.rs`); a process that cannot be read is named in `app` with
//! the reason rather than left blank. The application name is the
//! executable's FileDescription, as Task Manager shows it.

use std::ffi::c_void;
use std::sync::Arc;

use windows_sys::Win32::Foundation::{CloseHandle, BOOL, HWND, LPARAM};
use windows_sys::Win32::Storage::FileSystem::{
    GetFileVersionInfoSizeW, GetFileVersionInfoW, VerQueryValueW,
};
use windows_sys::Win32::System::Threading::{
    OpenProcess, QueryFullProcessImageNameW, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    EnumChildWindows, GetForegroundWindow, GetWindowTextLengthW, GetWindowTextW,
    GetWindowThreadProcessId,
};

use super::hosted;
use super::{WindowInfo, WindowSource};
use crate::sampler::SamplerError;

pub const BACKEND: &str = "win32";

struct Foreground;

pub fn create() -> Result<Arc<dyn WindowSource>, SamplerError> {
    Ok(Arc::new(Foreground))
}

pub fn probe_session() -> Result<(), SamplerError> {
    Ok(())
}

impl WindowSource for Foreground {
    fn active(&self) -> Result<Option<WindowInfo>, SamplerError> {
        // SAFETY: no arguments; null when no window has focus.
        let hwnd = unsafe { GetForegroundWindow() };
        if hwnd.is_null() {
            return Ok(None);
        }
        let title = window_text(hwnd);
        let frame_pid = window_pid(hwnd);
        let mut pid = frame_pid;
        let mut exe = process_image(pid);
        if exe.as_deref().is_ok_and(hosted::is_frame_host) {
            if let Some(app) = hosted::hosted_pid(frame_pid, &child_pids(hwnd)) {
                pid = app;
                exe = process_image(app);
            }
        }
        Ok(Some(match exe {
            Ok(exe_path) => WindowInfo {
                title,
                app: file_description(&exe_path).unwrap_or_else(|| super::app_from_path(&exe_path)),
                exe_path,
            },
            Err(e) => WindowInfo {
                title,
                exe_path: String::new(),
                app: hosted::unreadable(pid, e.raw_os_error(), &e.to_string()),
            },
        }))
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

fn window_text(hwnd: HWND) -> String {
    // SAFETY: reads the caption Windows keeps for the window (no message is
    // sent to another process), into a buffer of the length passed.
    unsafe {
        let len = GetWindowTextLengthW(hwnd).max(0) as usize;
        let mut buf = vec![0u16; len + 1];
        let n = GetWindowTextW(hwnd, buf.as_mut_ptr(), buf.len() as i32).max(0) as usize;
        String::from_utf16_lossy(&buf[..n.min(len)])
    }
}

fn window_pid(hwnd: HWND) -> u32 {
    let mut pid = 0u32;
    // SAFETY: pid is a valid out pointer.
    unsafe { GetWindowThreadProcessId(hwnd, &mut pid) };
    pid
}

fn child_pids(hwnd: HWND) -> Vec<u32> {
    unsafe extern "system" fn collect(child: HWND, out: LPARAM) -> BOOL {
        // SAFETY: `out` is the Vec below, alive for the whole enumeration.
        let pids = unsafe { &mut *(out as *mut Vec<u32>) };
        pids.push(window_pid(child));
        1
    }
    let mut pids: Vec<u32> = Vec::new();
    // SAFETY: the callback only pushes into `pids`, which outlives the call.
    unsafe { EnumChildWindows(hwnd, Some(collect), &mut pids as *mut Vec<u32> as LPARAM) };
    pids
}

/// The executable of process `pid`, or the OS's reason it cannot be read.
fn process_image(pid: u32) -> std::io::Result<String> {
    // SAFETY: the handle is checked, used once and closed.
    unsafe {
        let h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if h.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        let mut buf = vec![0u16; 32_768];
        let mut len = buf.len() as u32;
        let ok = QueryFullProcessImageNameW(h, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len);
        let err = std::io::Error::last_os_error();
        CloseHandle(h);
        if ok == 0 {
            return Err(err);
        }
        Ok(String::from_utf16_lossy(&buf[..len as usize]))
    }
}

/// The FileDescription of the executable's version resource, in its first
/// listed language ("Notepad", "Microsoft Edge").
fn file_description(exe_path: &str) -> Option<String> {
    let path = wide(exe_path);
    // SAFETY: the version block is read into a buffer of the size Windows
    // asked for, and every pointer VerQueryValueW returns points into it with
    // the length it reports.
    unsafe {
        let size = GetFileVersionInfoSizeW(path.as_ptr(), std::ptr::null_mut());
        if size == 0 {
            return None;
        }
        let mut block = vec![0u8; size as usize];
        if GetFileVersionInfoW(path.as_ptr(), 0, size, block.as_mut_ptr().cast()) == 0 {
            return None;
        }
        let query = |sub: &str| -> Option<(*const c_void, u32)> {
            let mut ptr: *mut c_void = std::ptr::null_mut();
            let mut len = 0u32;
            let ok = VerQueryValueW(
                block.as_ptr().cast(),
                wide(sub).as_ptr(),
                &mut ptr,
                &mut len,
            );
            (ok != 0 && !ptr.is_null() && len > 0).then_some((ptr as *const c_void, len))
        };
        let (tr, tr_len) = query(r"\VarFileInfo\Translation")?;
        if tr_len < 4 {
            return None;
        }
        let lang = *(tr as *const u16);
        let codepage = *(tr as *const u16).add(1);
        let (text, chars) = query(&format!(
            r"\StringFileInfo\{lang:04x}{codepage:04x}\FileDescription"
        ))?;
        let units = std::slice::from_raw_parts(text as *const u16, chars as usize);
        let s = String::from_utf16_lossy(units);
        let s = s.trim_end_matches('\0').trim();
        (!s.is_empty()).then(|| s.to_string())
    }
}
