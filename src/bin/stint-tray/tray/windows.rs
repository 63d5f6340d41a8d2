//! Windows tray loop: the notification-area icon lives on the tray process's
//! main thread, which must pump that thread's Win32 messages for the icon and
//! its menu.

use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, MsgWaitForMultipleObjects, PeekMessageW, TranslateMessage, MSG, PM_REMOVE,
    QS_ALLINPUT,
};

use super::{Tray, TrayError, TICK};
use stint::config::Config;

pub fn run(cfg: Config) -> Result<(), TrayError> {
    let mut tray = Tray::new(cfg)?;
    tracing::info!("tray icon shown");
    loop {
        // SAFETY: a plain message pump on the thread that owns the icon's window.
        unsafe {
            MsgWaitForMultipleObjects(0, std::ptr::null(), 0, TICK.as_millis() as u32, QS_ALLINPUT);
            let mut msg: MSG = std::mem::zeroed();
            while PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) != 0 {
                TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
        }
        if !tray.tick() {
            return Ok(());
        }
    }
}

/// Desktop notifications are not built on Windows yet: the "Away" menu
/// entry and `stint idle` ask instead.
pub fn notify(_summary: &str, _body: &str) -> Result<(), String> {
    Err("desktop notifications are not built on Windows yet".into())
}
