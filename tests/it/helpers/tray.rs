//! The tray as a person uses it on a test desktop: trayer as the XEmbed
//! tray, the stint icon found by its colour, its menu opened by a click.

use std::time::Duration;

use stint::indicator::TrayState;

use super::{wait_for, Desktop};

/// Pixels in the tray strip within a small distance of `colour`.
pub fn count(pixels: &[[u8; 3]], colour: [u8; 3]) -> usize {
    pixels
        .iter()
        .filter(|p| {
            p.iter()
                .zip(colour)
                .all(|(a, b)| (i16::from(*a) - i16::from(b)).abs() <= 12)
        })
        .count()
}

/// A desktop with trayer, an XEmbed tray, in a 160x40 strip at the top left.
pub fn desktop_with_trayer() -> Desktop {
    let mut desk = Desktop::start(800, 600);
    desk.spawn(
        "trayer",
        &[
            "--edge",
            "top",
            "--align",
            "left",
            "--widthtype",
            "pixel",
            "--width",
            "160",
            "--heighttype",
            "pixel",
            "--height",
            "40",
            "--transparent",
            "false",
            "--tint",
            "0x000000",
            "--SetDockType",
            "true",
        ],
    );
    wait_for(
        "trayer to own the system tray",
        Duration::from_secs(10),
        || desk.has_system_tray().then_some(()),
    );
    desk
}

/// Clicks the centre of the icon (green or grey) in trayer's strip, which
/// opens the tray's menu with nothing selected.
pub fn open_menu(desk: &Desktop) {
    let colours = [TrayState::Tracking.colour(), TrayState::Paused.colour()];
    let s = desk.grab(0, 0, 160, 40);
    let (sum_x, sum_y, n) = s
        .iter()
        .enumerate()
        .filter(|(_, p)| colours.iter().any(|c| count(&[**p], *c) == 1))
        .fold((0, 0, 0), |(x, y, n), (i, _)| {
            (x + i % 160, y + i / 160, n + 1)
        });
    assert!(n > 0, "no stint icon in the tray");
    let (x, y) = ((sum_x / n).to_string(), (sum_y / n).to_string());
    desk.xdotool(&["mousemove", &x, &y, "click", "1"]);
    std::thread::sleep(Duration::from_millis(500));
}
