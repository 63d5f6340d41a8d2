//! Windows control endpoint: a named pipe named after the user's SID, whose
//! ACL grants access to that SID alone and which refuses remote clients.

use std::path::PathBuf;

use tokio::net::windows::named_pipe::{
    ClientOptions, NamedPipeClient, NamedPipeServer, ServerOptions,
};
use windows_sys::Win32::Foundation::{
    CloseHandle, LocalFree, ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_PIPE_BUSY, HANDLE,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, TOKEN_QUERY,
    TOKEN_USER,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

use super::{IpcError, Peer};
use crate::config::Config;

pub type Stream = NamedPipeServer;
pub type ClientStream = NamedPipeClient;

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The current user's SID as text (S-1-5-21-...).
fn user_sid() -> std::io::Result<String> {
    // SAFETY: standard token query; every buffer is sized by the first call and
    // every handle and allocation is released before returning.
    unsafe {
        let mut token: HANDLE = std::ptr::null_mut();
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut len = 0u32;
        GetTokenInformation(token, TokenUser, std::ptr::null_mut(), 0, &mut len);
        let mut buf = vec![0u8; len as usize];
        let ok = GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len);
        CloseHandle(token);
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let user = &*(buf.as_ptr() as *const TOKEN_USER);
        let mut text: *mut u16 = std::ptr::null_mut();
        if ConvertSidToStringSidW(user.User.Sid, &mut text) == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let n = (0..).take_while(|&i| *text.add(i) != 0).count();
        let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, n));
        LocalFree(text.cast());
        Ok(sid)
    }
}

fn pipe_name() -> String {
    let who = user_sid().unwrap_or_else(|_| crate::platform::os_user());
    format!(r"\\.\pipe\stint-{who}")
}

pub fn endpoint(_cfg: &Config) -> String {
    pipe_name()
}

/// A security descriptor granting full access to one SID and nobody else.
struct OwnerOnly(PSECURITY_DESCRIPTOR);

// SAFETY: the descriptor is immutable after creation and only read by the OS.
unsafe impl Send for OwnerOnly {}
unsafe impl Sync for OwnerOnly {}

impl OwnerOnly {
    fn new() -> std::io::Result<OwnerOnly> {
        let sddl = wide(&format!("D:P(A;;GA;;;{})", user_sid()?));
        let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `sddl` is NUL-terminated and outlives the call.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(OwnerOnly(sd))
    }

    fn create(&self, name: &str, first: bool) -> std::io::Result<NamedPipeServer> {
        let mut attrs = SECURITY_ATTRIBUTES {
            nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: self.0,
            bInheritHandle: 0,
        };
        // SAFETY: `attrs` points at a live descriptor for the duration of the call.
        unsafe {
            ServerOptions::new()
                .first_pipe_instance(first)
                .reject_remote_clients(true)
                .create_with_security_attributes_raw(
                    name,
                    (&mut attrs as *mut SECURITY_ATTRIBUTES).cast(),
                )
        }
    }
}

impl Drop for OwnerOnly {
    fn drop(&mut self) {
        // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
        unsafe { LocalFree(self.0) };
    }
}

pub struct Listener {
    next: tokio::sync::Mutex<NamedPipeServer>,
    name: String,
    acl: OwnerOnly,
    _lock: std::fs::File,
}

impl Listener {
    pub fn bind(cfg: &Config) -> Result<Listener, IpcError> {
        let name = pipe_name();
        let dir: PathBuf = cfg.storage.data_dir.clone();
        let lock = super::take_lock(&dir, &name)?;
        let io = |source| IpcError::Io {
            what: "cannot listen at",
            path: name.clone(),
            source,
        };
        let acl = OwnerOnly::new().map_err(io)?;
        let first = acl.create(&name, true).map_err(|e| {
            if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) {
                IpcError::AlreadyRunning {
                    pid: String::from("?"),
                    endpoint: name.clone(),
                }
            } else {
                io(e)
            }
        })?;
        Ok(Listener {
            next: tokio::sync::Mutex::new(first),
            name,
            acl,
            _lock: lock,
        })
    }

    /// The next connection; the ACL has already kept other users out.
    pub async fn accept(&self) -> std::io::Result<Peer<Stream>> {
        let mut next = self.next.lock().await;
        next.connect().await?;
        let fresh = self.acl.create(&self.name, false)?;
        Ok(Peer::Owner(std::mem::replace(&mut *next, fresh)))
    }
}

pub async fn connect(_cfg: &Config) -> Result<ClientStream, IpcError> {
    let name = pipe_name();
    for _ in 0..50 {
        match ClientOptions::new().open(&name) {
            Ok(c) => return Ok(c),
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY as i32) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) if e.raw_os_error() == Some(ERROR_FILE_NOT_FOUND as i32) => {
                return Err(IpcError::NotRunning(name))
            }
            Err(e) if e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) => {
                return Err(IpcError::Denied(name))
            }
            Err(e) => {
                return Err(IpcError::Io {
                    what: "cannot connect to",
                    path: name,
                    source: e,
                })
            }
        }
    }
    Err(IpcError::Io {
        what: "every instance stayed busy at",
        path: name,
        source: std::io::ErrorKind::TimedOut.into(),
    })
}
