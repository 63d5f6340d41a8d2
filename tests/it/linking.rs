//! What the binaries link, read from the binaries themselves: the recording
//! daemon carries no GUI toolkit; only `stint-tray` does.

use std::path::Path;
use std::process::Command;

use crate::helpers::STINT;

/// The shared libraries an ELF binary names as NEEDED.
fn needed(bin: &Path) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(bin)
        .output()
        .expect("readelf (binutils) runs");
    assert!(
        out.status.success(),
        "readelf -d {}: {out:?}",
        bin.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect()
}

const GUI: [&str; 7] = [
    "gtk",
    "gdk",
    "appindicator",
    "glib",
    "gobject",
    "cairo",
    "pango",
];

#[test]
fn the_daemon_links_no_gui_toolkit_and_only_the_tray_does() {
    let stint = Path::new(STINT);
    let tray = stint.with_file_name("stint-tray");
    for (bin, wants_gui) in [(stint.to_path_buf(), false), (tray, true)] {
        let libs = needed(&bin);
        assert!(
            !libs.is_empty(),
            "{}: no NEEDED entries read",
            bin.display()
        );
        let gui: Vec<&String> = libs
            .iter()
            .filter(|l| GUI.iter().any(|g| l.contains(g)))
            .collect();
        assert_eq!(
            !gui.is_empty(),
            wants_gui,
            "{} links {gui:?} (all: {libs:?})",
            bin.display()
        );
    }
}
