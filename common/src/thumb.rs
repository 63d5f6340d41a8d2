//! Thumbnails: the server makes one when an image arrives and stores it
//! beside it, so a day of segments loads small images and the full ones are
//! fetched only when someone opens one; an agent sealing its screenshots
//! (`seal.rs`) makes the same one itself, since the server cannot.

use crate::image::{encode, EncodeOptions, Format, Pixels};

/// Thumbnail width in pixels: 1.5 times the diary's 160 px column, for
/// high-density screens. A 1920x1080 screen of dense text stays under 15 KB
/// at this width and quality (the test below); 320 px took 17-21 KB.
pub const THUMB_WIDTH: u32 = 240;
const THUMB_QUALITY: u8 = 40;

/// The largest image a thumbnail is made of: an 8K screen. A decoder
/// reserves memory for what a header declares before it scales (a small
/// progressive JPEG declaring 65535 x 65535 would ask for gigabytes), so a
/// header declaring more gets no thumbnail and is never decoded; the image
/// itself is kept and shown at full size.
pub const MAX_SOURCE_PIXELS: u64 = 7680 * 4320;
/// The longest side, whatever the area.
pub const MAX_SOURCE_SIDE: u64 = 16_384;

/// Whether a header's dimensions are worth decoding.
fn decodable(width: u64, height: u64) -> bool {
    width > 0
        && height > 0
        && width <= MAX_SOURCE_SIDE
        && height <= MAX_SOURCE_SIDE
        && width * height <= MAX_SOURCE_PIXELS
}

/// Decodes an uploaded image into pixels about `THUMB_WIDTH` wide (the
/// decoders scale while decoding, far cheaper than decoding a whole screen
/// and shrinking it): (data, layout, width, height).
fn decode(data: &[u8], format: &str) -> Option<(Vec<u8>, Pixels, u32, u32)> {
    match format {
        "webp" => decode_webp_scaled(data, THUMB_WIDTH),
        "jpeg" => {
            let mut d = jpeg_decoder::Decoder::new(data);
            d.read_info().ok()?;
            let info = d.info()?;
            if !decodable(u64::from(info.width), u64::from(info.height)) {
                return None;
            }
            let h = (u32::from(info.height) * THUMB_WIDTH / u32::from(info.width).max(1)).max(1);
            // The smallest of 1/8 .. 1/1 that is at least this big.
            d.scale(THUMB_WIDTH as u16, h.min(u32::from(u16::MAX)) as u16)
                .ok()?;
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

/// A WebP decoded straight to RGB at `width` (or its own width if smaller).
fn decode_webp_scaled(data: &[u8], width: u32) -> Option<(Vec<u8>, Pixels, u32, u32)> {
    use libwebp_sys as sys;
    let mut config = sys::WebPDecoderConfig::new().ok()?;
    // SAFETY: `data` outlives the call; `config.input` is a valid out-param.
    let found = unsafe { sys::WebPGetFeatures(data.as_ptr(), data.len(), &mut config.input) };
    if found != sys::VP8StatusCode::VP8_STATUS_OK {
        return None;
    }
    let (w, h) = (config.input.width, config.input.height);
    if w <= 0 || h <= 0 || !decodable(w as u64, h as u64) {
        return None;
    }
    let (out_w, out_h) = if w as u32 > width {
        let h2 = (i64::from(h) * i64::from(width) / i64::from(w)).max(1) as i32;
        (width as i32, h2)
    } else {
        (w, h)
    };
    let stride = out_w as usize * 3;
    let mut pixels = vec![0u8; stride * out_h as usize];
    config.options.use_scaling = (out_w != w) as i32;
    config.options.scaled_width = out_w;
    config.options.scaled_height = out_h;
    config.output.colorspace = sys::WEBP_CSP_MODE::MODE_RGB;
    // Decode into our own buffer: nothing for libwebp to allocate or free.
    config.output.is_external_memory = 1;
    config.output.u.RGBA = sys::WebPRGBABuffer {
        rgba: pixels.as_mut_ptr(),
        stride: stride as i32,
        size: pixels.len(),
    };
    // SAFETY: `data` is alive and `pixels` holds exactly stride x out_h bytes,
    // the buffer `config.output` describes; libwebp writes only inside it.
    let status = unsafe { sys::WebPDecode(data.as_ptr(), data.len(), &mut config) };
    (status == sys::VP8StatusCode::VP8_STATUS_OK).then_some((
        pixels,
        Pixels::Rgb,
        out_w as u32,
        out_h as u32,
    ))
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
        assert_eq!(make(b"not an image", "jpeg"), None);
        // A JPEG upload decodes at 1/8 scale and comes out the same width.
        let jpeg = encode(
            &rgb,
            Pixels::Rgb,
            w,
            h,
            EncodeOptions {
                format: Format::Jpeg,
                quality: 60,
                max_width: 0,
                blur: false,
            },
        )
        .unwrap();
        let thumb = make(&jpeg.data, "jpeg").unwrap();
        let back = webp::Decoder::new(&thumb).decode().unwrap();
        assert_eq!((back.width(), back.height()), (THUMB_WIDTH, 135));
    }

    /// A JPEG's frame header with its dimensions replaced.
    fn declaring(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
        let mut out = jpeg.to_vec();
        // SOF0 or SOF2: FF C0/C2, length (2), precision (1), height, width.
        let at = out
            .windows(2)
            .position(|w| w[0] == 0xFF && (w[1] == 0xC0 || w[1] == 0xC2))
            .unwrap();
        out[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
        out[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
        out
    }

    fn small(format: Format) -> Vec<u8> {
        let rgb = vec![128u8; 64 * 48 * 3];
        let opts = EncodeOptions {
            format,
            quality: 50,
            max_width: 0,
            blur: false,
        };
        encode(&rgb, Pixels::Rgb, 64, 48, opts).unwrap().data
    }

    /// Headers declaring more than an 8K screen are not decoded at all: a
    /// 200-byte JPEG claiming 65535 x 65535 comes back at once with no
    /// thumbnail, and so does a WebP claiming more than it may.
    #[test]
    fn huge_declared_dimensions_are_not_decoded() {
        let jpeg = small(Format::Jpeg);
        assert!(make(&jpeg, "jpeg").is_some());
        let started = std::time::Instant::now();
        for (w, h) in [(65535, 65535), (16_385, 10), (7681, 4321), (0, 10)] {
            assert_eq!(make(&declaring(&jpeg, w, h), "jpeg"), None, "{w}x{h}");
        }
        assert!(decodable(7680, 4320) && !decodable(7681, 4320));
        // Refusals read a header, nothing more: far under a second for all.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let webp = small(Format::Webp);
        // VP8 (lossy) keeps 14-bit dimensions in the frame header: the
        // largest it can declare, 16383 x 16383, is over the area bound.
        let mut big = webp.clone();
        let at = big
            .windows(3)
            .position(|w| w == [0x9d, 0x01, 0x2a])
            .unwrap()
            + 3;
        big[at..at + 4].copy_from_slice(&[0xff, 0x3f, 0xff, 0x3f]);
        assert_eq!(make(&big, "webp"), None);
    }

    /// Seeded garbage: images cut short, bytes flipped, headers rewritten
    /// to claim any size. `make` answers (an image or none) and never
    /// panics; replay a failure with STINT_FUZZ_SEED.
    #[test]
    fn mangled_images_never_panic() {
        let originals = [(small(Format::Jpeg), "jpeg"), (small(Format::Webp), "webp")];
        for seed in crate::fuzz::seeds("thumbnail", 0x7b7b) {
            let mut rng = crate::fuzz::SplitMix(seed);
            for _ in 0..300 {
                let (original, format) = &originals[rng.below(2)];
                let mut data = original.clone();
                match rng.below(4) {
                    0 => data.truncate(rng.below(data.len())),
                    1 => {
                        for _ in 0..1 + rng.below(8) {
                            let i = rng.below(data.len());
                            data[i] ^= 1 << rng.below(8);
                        }
                    }
                    2 if *format == "jpeg" => {
                        data = declaring(&data, rng.next() as u16, rng.next() as u16)
                    }
                    _ => {
                        let i = rng.below(data.len());
                        data.splice(i..i, (0..rng.below(64)).map(|_| rng.next() as u8));
                    }
                }
                let _ = make(&data, format);
            }
        }
    }
}
