//! macOS menu-bar loop: the status item lives on the tray process's main thread,
//! which must run AppKit's event loop for the icon and its menu to answer;
//! desktop notifications through Notification Center.

use objc2::MainThreadMarker;
use objc2_app_kit::{NSApplication, NSApplicationActivationPolicy, NSEventMask};
use objc2_foundation::{NSDate, NSDefaultRunLoopMode};

use super::{Tray, TrayError, TICK};
use stint::config::Config;

/// Shows the icon and pumps AppKit's events until Quit or until the daemon is gone.
pub fn run(cfg: Config) -> Result<(), TrayError> {
    let mtm = MainThreadMarker::new().ok_or_else(|| {
        TrayError::Unavailable("the menu-bar icon must be created on the main thread".into())
    })?;
    let app = NSApplication::sharedApplication(mtm);
    // A menu-bar agent: no Dock icon and no application menu of its own.
    app.setActivationPolicy(NSApplicationActivationPolicy::Accessory);
    // tray-icon wants a running loop before the status item is made; a hand-run
    // loop counts once the application has finished launching.
    app.finishLaunching();
    let mut tray = Tray::new(cfg)?;
    tracing::info!("tray icon shown");
    loop {
        let until = NSDate::dateWithTimeIntervalSinceNow(TICK.as_secs_f64());
        // SAFETY: the standard event pump on the main thread; a menu opened
        // from the icon runs its own nested loop inside sendEvent.
        while let Some(event) = unsafe {
            app.nextEventMatchingMask_untilDate_inMode_dequeue(
                NSEventMask::Any,
                Some(&until),
                NSDefaultRunLoopMode,
                true,
            )
        } {
            app.sendEvent(&event);
        }
        if !tray.tick() {
            return Ok(());
        }
    }
}

/// Shows a notification in Notification Center, through `osascript` (the
/// UserNotifications framework serves app bundles only).
pub fn notify(summary: &str, body: &str) -> Result<(), String> {
    let quoted = |t: &str| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""));
    let script = format!(
        "display notification {} with title \"stint\" subtitle {}",
        quoted(body),
        quoted(summary)
    );
    let status = std::process::Command::new("osascript")
        .args(["-e", &script])
        .status()
        .map_err(|e| format!("osascript: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("osascript: {status}"))
    }
}
