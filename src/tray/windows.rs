//! Windows tray loop: the notification-area icon lives on its own thread,
//! which must pump that thread's Win32 messages for the icon and its menu.

use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, MsgWaitForMultipleObjects, PeekMessageW, TranslateMessage, MSG, PM_REMOVE,
    QS_ALLINPUT,
};

use super::{Control, Tray, TrayError, TICK};

pub fn spawn(ctl: Control, ready: std::sync::mpsc::Sender<Result<(), TrayError>>) {
    let started = std::thread::Builder::new()
        .name("stint-tray".into())
        .spawn(move || {
            let mut tray = match Tray::new(ctl) {
                Ok(t) => t,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            loop {
                // SAFETY: a plain message pump on the thread that owns the icon's window.
                unsafe {
                    MsgWaitForMultipleObjects(
                        0,
                        std::ptr::null(),
                        0,
                        TICK.as_millis() as u32,
                        QS_ALLINPUT,
                    );
                    let mut msg: MSG = std::mem::zeroed();
                    while PeekMessageW(&mut msg, std::ptr::null_mut(), 0, 0, PM_REMOVE) != 0 {
                        TranslateMessage(&msg);
                        DispatchMessageW(&msg);
                    }
                }
                if !tray.tick() {
                    break;
                }
            }
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "could not start the tray thread");
    }
}

/// Explorer's notification area is always there in a desktop session.
pub fn host() -> Result<String, String> {
    Ok("the Windows notification area".into())
}
