//! Thumbnails, made once when an image arrives and stored beside it
//! (`ID.thumb.webp`), so a day of segments loads small images and the full
//! ones are fetched only when someone opens one.

use stint_common::image::{encode, EncodeOptions, Format, Pixels};

/// Thumbnail width in pixels: 1.5 times the diary's 160 px column, for
/// high-density screens. A 1920x1080 screen of dense text stays under 15 KB
/// at this width and quality (the test below); 320 px took 17-21 KB.
pub const THUMB_WIDTH: u32 = 240;
const THUMB_QUALITY: u8 = 40;

/// The object key of the thumbnail of the image at `key`.
pub fn thumb_key(key: &str) -> String {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    format!("{stem}.thumb.webp")
}

/// Decodes an uploaded image into pixels: (data, layout, width, height).
fn decode(data: &[u8], format: &str) -> Option<(Vec<u8>, Pixels, u32, u32)> {
    match format {
        "webp" => {
            let img = webp::Decoder::new(data).decode()?;
            let layout = if img.is_alpha() {
                Pixels::Rgba
            } else {
                Pixels::Rgb
            };
            Some((img.to_vec(), layout, img.width(), img.height()))
        }
        "jpeg" => {
            let mut d = jpeg_decoder::Decoder::new(data);
            let pixels = d.decode().ok()?;
            let info = d.info()?;
            (info.pixel_format == jpeg_decoder::PixelFormat::RGB24).then_some((
                pixels,
                Pixels::Rgb,
                u32::from(info.width),
                u32::from(info.height),
            ))
        }
        _ => None,
    }
}

/// The thumbnail of an uploaded image, or `None` when it cannot be decoded
/// (the diary then shows the image itself).
pub fn make(data: &[u8], format: &str) -> Option<Vec<u8>> {
    let (pixels, layout, w, h) = decode(data, format)?;
    let opts = EncodeOptions {
        format: Format::Webp,
        quality: THUMB_QUALITY,
        max_width: THUMB_WIDTH,
        blur: false,
    };
    encode(&pixels, layout, w, h, opts).ok().map(|e| e.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_are_small_webps_of_the_image() {
        // A 1920x1080 "screen" of stripes, like lines of text.
        let (w, h) = (1920u32, 1080u32);
        let rgb: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                let ink = (y % 16 < 9) && (x / 7 + y / 16) % 3 != 0;
                if ink {
                    [20, 20, 20]
                } else {
                    [250, 250, 250]
                }
            })
            .collect();
        let full = encode(
            &rgb,
            Pixels::Rgb,
            w,
            h,
            EncodeOptions {
                format: Format::Webp,
                quality: 25,
                max_width: 0,
                blur: false,
            },
        )
        .unwrap();
        let thumb = make(&full.data, "webp").unwrap();
        assert!(thumb.len() <= 15 * 1024, "{} bytes", thumb.len());
        let back = webp::Decoder::new(&thumb).decode().unwrap();
        assert_eq!((back.width(), back.height()), (THUMB_WIDTH, 135));
        assert_eq!(make(b"not an image", "webp"), None);
        assert_eq!(thumb_key("dev/abc.webp"), "dev/abc.thumb.webp");
    }
}
