//! The tray icon's pixels: a disc in the state's colour with a white mark,
//! rendered at any size; assets/icons is generated from the same renderer.

use tray_icon::Icon;

use super::TrayState;

/// The icon as straight RGBA: a filled disc in the state's colour with a white
/// mark (clock hands while tracking, pause bars when paused, "!" otherwise),
/// anti-aliased by 4x4 supersampling so it reads at 16 px.
pub fn icon_rgba(state: TrayState, size: u32) -> Vec<u8> {
    let n = size as f32;
    let [r, g, b] = state.colour();
    let mut out = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (mut disc, mut mark) = (0u32, 0u32);
            for sy in 0..4 {
                for sx in 0..4 {
                    // Unit coordinates, centre 0, radius 1.
                    let u = ((x as f32 + (sx as f32 + 0.5) / 4.0) / n) * 2.0 - 1.0;
                    let v = ((y as f32 + (sy as f32 + 0.5) / 4.0) / n) * 2.0 - 1.0;
                    if u * u + v * v <= 0.94 * 0.94 {
                        disc += 1;
                        if in_mark(state, u, v) {
                            mark += 1;
                        }
                    }
                }
            }
            let a = disc as f32 / 16.0;
            let w = if disc > 0 {
                mark as f32 / disc as f32
            } else {
                0.0
            };
            let mix = |c: u8| (c as f32 * (1.0 - w) + 255.0 * w).round() as u8;
            out.extend_from_slice(&[mix(r), mix(g), mix(b), (a * 255.0).round() as u8]);
        }
    }
    out
}

fn in_mark(state: TrayState, u: f32, v: f32) -> bool {
    match state {
        // Hands at ten past: one up, one to the right.
        TrayState::Tracking => {
            (u.abs() < 0.11 && (-0.62..=0.06).contains(&v))
                || (v.abs() < 0.11 && (-0.06..=0.5).contains(&u))
        }
        TrayState::Paused => {
            (-0.5..=0.5).contains(&v) && ((-0.36..=-0.1).contains(&u) || (0.1..=0.36).contains(&u))
        }
        TrayState::Offline | TrayState::Error => {
            u.abs() < 0.12 && ((-0.6..=0.18).contains(&v) || (0.34..=0.56).contains(&v))
        }
    }
}

pub(super) fn icon(state: TrayState) -> Option<Icon> {
    const SIZE: u32 = 32;
    Icon::from_rgba(icon_rgba(state, SIZE), SIZE, SIZE).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(rgba: &[u8], size: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, size, size);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(rgba).unwrap();
        w.finish().unwrap();
        out
    }

    /// An .ico whose entries are PNGs (Windows Vista and later read these).
    fn ico(images: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0, 0, 1, 0];
        out.extend_from_slice(&(images.len() as u16).to_le_bytes());
        let mut offset = 6 + 16 * images.len() as u32;
        for (size, data) in images {
            let dim = if *size >= 256 { 0 } else { *size as u8 };
            out.extend_from_slice(&[dim, dim, 0, 0, 1, 0, 32, 0]);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offset += data.len() as u32;
        }
        for (_, data) in images {
            out.extend_from_slice(data);
        }
        out
    }

    /// assets/icons is generated from `icon_rgba`; this keeps the two equal.
    /// `STINT_UPDATE_ASSETS=1 cargo test --lib assets` rewrites the files.
    #[test]
    fn assets_icons_match_the_renderer() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/icons");
        let mut want: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
        // The application icon (installers, menus): hicolor sizes for Linux.
        for size in [16, 22, 24, 32, 48, 64, 128, 256] {
            let path = dir.join(format!("hicolor/{size}x{size}/apps/stint.png"));
            want.push((path, png(&icon_rgba(TrayState::Tracking, size), size)));
        }
        // Windows: one .ico with the sizes Explorer and the MSI dialogs use.
        let entries: Vec<_> = [16, 24, 32, 48, 256]
            .into_iter()
            .map(|s| (s, png(&icon_rgba(TrayState::Tracking, s), s)))
            .collect();
        want.push((dir.join("stint.ico"), ico(&entries)));
        // Tray states at tray sizes (22/44 for the macOS menu bar at 1x/2x).
        for state in TrayState::ALL {
            for size in [16, 22, 24, 32, 44, 48] {
                let path = dir.join(format!("tray/stint-{}-{size}.png", state.name()));
                want.push((path, png(&icon_rgba(state, size), size)));
            }
        }
        let update = std::env::var_os("STINT_UPDATE_ASSETS").is_some();
        for (path, data) in want {
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &data).unwrap();
            } else {
                let have = std::fs::read(&path).unwrap_or_default();
                assert!(
                    have == data,
                    "{} is stale or missing; regenerate with STINT_UPDATE_ASSETS=1 cargo test --lib assets",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn icons_differ_by_state_and_are_round() {
        for size in [16, 32] {
            let icons: Vec<_> = TrayState::ALL.iter().map(|s| icon_rgba(*s, size)).collect();
            for (i, a) in icons.iter().enumerate() {
                assert_eq!(a.len(), (size * size * 4) as usize);
                assert_eq!(a[3], 0, "corner is transparent");
                let centre = ((size / 2 * size + size / 2) * 4) as usize;
                assert_eq!(a[centre + 3], 255, "centre is opaque");
                for b in &icons[i + 1..] {
                    assert_ne!(a, b);
                }
            }
        }
    }
}
