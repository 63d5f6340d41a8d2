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
    fn backend(&self) -> &'static str {
        BACKEND
    }

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

/// The FileDescription of the executable's version resource ("Notepad",
/// "Microsoft Edge"): in the language its Translation table lists first, else
/// in US English with the Unicode or the Western code page, where resource
/// compilers often put it whatever the table says.
fn file_description(exe_path: &str) -> Option<String> {
    let path = wide(exe_path);
    // SAFETY: the version block is read into a buffer of at least the size
    // Windows asked for; u32 elements align it for the u16 reads below.
    let block = unsafe {
        let size = GetFileVersionInfoSizeW(path.as_ptr(), std::ptr::null_mut());
        if size == 0 {
            return None;
        }
        let mut block = vec![0u32; (size as usize).div_ceil(4)];
        if GetFileVersionInfoW(path.as_ptr(), 0, size, block.as_mut_ptr().cast()) == 0 {
            return None;
        }
        block
    };
    let units: &[u16] =
        // SAFETY: the same memory seen as u16, within the allocation.
        unsafe { std::slice::from_raw_parts(block.as_ptr().cast(), block.len() * 2) };
    // A value VerQueryValueW found, as the u16 units from it to the block's end.
    let query = |sub: &str| -> Option<&[u16]> {
        let mut ptr: *mut c_void = std::ptr::null_mut();
        let mut len = 0u32;
        // SAFETY: `block` is a version block GetFileVersionInfoW filled in.
        let ok = unsafe {
            VerQueryValueW(
                block.as_ptr().cast(),
                wide(sub).as_ptr(),
                &mut ptr,
                &mut len,
            )
        };
        if ok == 0 || ptr.is_null() || len == 0 {
            return None;
        }
        // Values point into the block; one that does not is not read.
        let offset = (ptr as usize).checked_sub(units.as_ptr() as usize)?;
        (offset % 2 == 0).then(|| units.get(offset / 2..)).flatten()
    };
    let mut languages = Vec::new();
    if let Some(&[lang, codepage, ..]) = query(r"\VarFileInfo\Translation") {
        languages.push(format!("{lang:04x}{codepage:04x}"));
    }
    languages.extend(["040904b0".to_string(), "040904e4".to_string()]);
    languages.iter().find_map(|l| {
        let text = query(&format!(r"\StringFileInfo\{l}\FileDescription"))?;
        // Some compilers count the length in bytes: read up to the NUL instead.
        let end = text.iter().position(|&u| u == 0).unwrap_or(text.len());
        let s = String::from_utf16_lossy(&text[..end]);
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    })
}
