//! Image encoding for captures: optional downscale, then lossy WebP (libwebp) or JPEG.
//!
//! WebP is the default because it measured about half the bytes of JPEG at the
//! same legibility on text-heavy screens (146 KB at WebP q25 against 279 KB at
//! JPEG q60 for a 1920x1080 desktop of terminals), and less again on photos. JPEG
//! (jpeg-encoder, simd: ~27 ms a frame where the `image` crate took ~95 ms) stays
//! available for viewers that need it; see docs/performance.md.

/// Output format of screenshots and decoded webcam frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Webp,
    Jpeg,
}

impl Format {
    /// The name stored with each capture and used on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Format::Webp => "webp",
            Format::Jpeg => "jpeg",
        }
    }

    /// Quality at which text on a 1920x1080 screen stays readable (measured: see
    /// docs/performance.md); the scales of the two encoders differ.
    pub fn default_quality(self) -> u8 {
        match self {
            Format::Webp => 25,
            Format::Jpeg => 60,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    pub format: Format,
    /// 1-100, in the chosen encoder's scale.
    pub quality: u8,
    /// 0 keeps the native width.
    pub max_width: u32,
    /// Average away detail (text) before encoding: see [`BLUR_FACTOR`].
    pub blur: bool,
}

/// A blurred image keeps one pixel per `BLUR_FACTOR` x `BLUR_FACTOR` block, the
/// mean of the block. At 10, a 1920x1080 screen is stored as 192x108: window
/// layout and colours stay visible, while a line of 8-16 px text becomes one or
/// two rows of averages from which no character can be recovered. A viewer
/// scaling it back up shows it blurred. The detail is gone on the device; it
/// never reaches the disk or the network.
pub const BLUR_FACTOR: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("image {width}x{height} has {got} bytes, expected {expected}")]
    BadBuffer {
        width: u32,
        height: u32,
        got: usize,
        expected: usize,
    },
    #[error("image {0}x{1} is too large for {2} (max {3} per side)")]
    TooLarge(u32, u32, &'static str, u32),
    #[error("{0} encoding failed: {1}")]
    Encoder(&'static str, String),
}

/// An encoded image.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
    pub format: &'static str,
}

/// Pixel layout of the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pixels {
    Rgba,
    Rgb,
}

impl Pixels {
    fn bytes(self) -> usize {
        match self {
            Pixels::Rgba => 4,
            Pixels::Rgb => 3,
        }
    }
}

pub fn encode(
    pixels: &[u8],
    layout: Pixels,
    width: u32,
    height: u32,
    opts: EncodeOptions,
) -> Result<Encoded, EncodeError> {
    let expected = width as usize * height as usize * layout.bytes();
    if pixels.len() != expected {
        return Err(EncodeError::BadBuffer {
            width,
            height,
            got: pixels.len(),
            expected,
        });
    }
    let scaled;
    let (data, w, h) = match target_size(width, height, opts) {
        Some((nw, nh)) => {
            scaled = downscale(pixels, layout.bytes(), width, height, nw, nh);
            (scaled.as_slice(), nw, nh)
        }
        None => (pixels, width, height),
    };
    let data = match opts.format {
        Format::Jpeg => jpeg(data, layout, w, h, opts.quality)?,
        Format::Webp => webp(data, layout, w, h, opts.quality)?,
    };
    Ok(Encoded {
        width: w,
        height: h,
        data,
        format: opts.format.name(),
    })
}

/// The size to scale to, if any: `max_width`, and with blur at most
/// 1/[`BLUR_FACTOR`] of each side (whichever is smaller).
fn target_size(width: u32, height: u32, opts: EncodeOptions) -> Option<(u32, u32)> {
    let mut w = width;
    if opts.max_width > 0 {
        w = w.min(opts.max_width);
    }
    if opts.blur {
        w = w.min((width / BLUR_FACTOR).max(1));
    }
    if w == width {
        return None;
    }
    let h = (u64::from(height) * u64::from(w) / u64::from(width)).max(1) as u32;
    Some((w, h))
}

fn jpeg(data: &[u8], layout: Pixels, w: u32, h: u32, quality: u8) -> Result<Vec<u8>, EncodeError> {
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(EncodeError::TooLarge(w, h, "JPEG", 65535));
    };
    let mut out = Vec::with_capacity(data.len() / 16);
    let color = match layout {
        Pixels::Rgba => jpeg_encoder::ColorType::Rgba,
        Pixels::Rgb => jpeg_encoder::ColorType::Rgb,
    };
    jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
        .encode(data, w16, h16, color)
        .map_err(|e| EncodeError::Encoder("JPEG", e.to_string()))?;
    Ok(out)
}

/// libwebp's own limit on either side.
const WEBP_MAX_SIDE: u32 = 16383;

fn webp(data: &[u8], layout: Pixels, w: u32, h: u32, quality: u8) -> Result<Vec<u8>, EncodeError> {
    if w > WEBP_MAX_SIDE || h > WEBP_MAX_SIDE {
        return Err(EncodeError::TooLarge(w, h, "WebP", WEBP_MAX_SIDE));
    }
    let mut config = webp::WebPConfig::new()
        .map_err(|()| EncodeError::Encoder("WebP", "bad libwebp version".into()))?;
    config.quality = f32::from(quality.clamp(1, 100));
    // Method 2 measured 57 ms and 146 KB on the text-heavy bench screen; method 4
    // (libwebp's default) saved 5 % more bytes for twice the time.
    config.method = 2;
    config.thread_level = 1;
    let encoder = match layout {
        Pixels::Rgba => webp::Encoder::from_rgba(data, w, h),
        Pixels::Rgb => webp::Encoder::from_rgb(data, w, h),
    };
    let out = encoder
        .encode_advanced(&config)
        .map_err(|e| EncodeError::Encoder("WebP", format!("{e:?}")))?;
    Ok(out.to_vec())
}

/// Area-averaging downscale: each output pixel is the mean of the input pixels it
/// covers, which keeps small text legible far better than nearest-neighbour.
fn downscale(src: &[u8], bpp: usize, sw: u32, sh: u32, dw: u32, dh: u32) -> Vec<u8> {
    let (sw, sh, dw, dh) = (sw as usize, sh as usize, dw as usize, dh as usize);
    let mut out = vec![0u8; dw * dh * bpp];
    for oy in 0..dh {
        let y0 = oy * sh / dh;
        let y1 = ((oy + 1) * sh / dh).max(y0 + 1);
        for ox in 0..dw {
            let x0 = ox * sw / dw;
            let x1 = ((ox + 1) * sw / dw).max(x0 + 1);
            let mut acc = [0u32; 4];
            for y in y0..y1 {
                let row = &src[(y * sw + x0) * bpp..(y * sw + x1) * bpp];
                for px in row.chunks_exact(bpp) {
                    for (a, &c) in acc.iter_mut().zip(px) {
                        *a += u32::from(c);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u32;
            let o = (oy * dw + ox) * bpp;
            for c in 0..bpp {
                out[o + c] = (acc[c] / n) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        (0..w * h)
            .flat_map(|i| [(i % w) as u8, (i / w) as u8, 128, 255])
            .collect()
    }

    fn opts(format: Format, max_width: u32) -> EncodeOptions {
        EncodeOptions {
            format,
            quality: format.default_quality(),
            max_width,
            blur: false,
        }
    }

    #[test]
    fn encodes_decodable_images_of_the_right_size() {
        for layout in [Pixels::Rgba, Pixels::Rgb] {
            let src: Vec<u8> = gradient(64, 48)
                .chunks_exact(4)
                .flat_map(|p| p[..layout.bytes()].to_vec())
                .collect();
            let e = encode(&src, layout, 64, 48, opts(Format::Jpeg, 0)).unwrap();
            assert_eq!(e.format, "jpeg");
            let mut d = jpeg_decoder::Decoder::new(e.data.as_slice());
            d.decode().unwrap();
            let info = d.info().unwrap();
            assert_eq!((info.width, info.height), (64, 48));

            let e = encode(&src, layout, 64, 48, opts(Format::Webp, 0)).unwrap();
            assert_eq!(e.format, "webp");
            let img = webp::Decoder::new(&e.data)
                .decode()
                .expect("decodable WebP");
            assert_eq!((img.width(), img.height()), (64, 48));
        }
    }

    #[test]
    fn too_large_names_the_format_and_limit() {
        let err = encode(
            &[0; 3 * 20000],
            Pixels::Rgb,
            20000,
            1,
            opts(Format::Webp, 0),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "image 20000x1 is too large for WebP (max 16383 per side)"
        );
    }

    #[test]
    fn downscale_keeps_aspect_ratio() {
        let e = encode(
            &gradient(64, 48),
            Pixels::Rgba,
            64,
            48,
            opts(Format::Jpeg, 32),
        )
        .unwrap();
        assert_eq!((e.width, e.height), (32, 24));
    }

    #[test]
    fn target_size_table() {
        // (width, height, max_width, blur) -> size to scale to
        let cases = [
            ((1920, 1080, 0, false), None),
            ((1920, 1080, 1280, false), Some((1280, 720))),
            ((1920, 1080, 0, true), Some((192, 108))),
            ((1920, 1080, 1280, true), Some((192, 108))),
            ((1920, 1080, 100, true), Some((100, 56))),
            ((7, 3, 0, true), Some((1, 1))),
            ((1, 1, 0, true), None),
        ];
        for ((w, h, max_width, blur), want) in cases {
            let o = EncodeOptions {
                blur,
                ..opts(Format::Webp, max_width)
            };
            assert_eq!(
                target_size(w, h, o),
                want,
                "{w}x{h} max {max_width} blur {blur}"
            );
        }
    }

    #[test]
    fn blur_leaves_no_trace_of_one_pixel_strokes() {
        // Black "text" strokes, one pixel wide every other column, on white:
        // blurred, every pixel is the same grey, whatever the strokes spelled.
        let (w, h) = (200u32, 40u32);
        let src: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                if (i % w) % 2 == 0 {
                    [0u8, 0, 0]
                } else {
                    [255, 255, 255]
                }
            })
            .collect();
        let (nw, nh) = target_size(
            w,
            h,
            EncodeOptions {
                blur: true,
                ..opts(Format::Webp, 0)
            },
        )
        .unwrap();
        let out = downscale(&src, 3, w, h, nw, nh);
        assert_eq!((nw, nh), (20, 4));
        assert!(out.iter().all(|&c| c == 127), "{out:?}");
        let e = encode(
            &src,
            Pixels::Rgb,
            w,
            h,
            EncodeOptions {
                blur: true,
                ..opts(Format::Jpeg, 0)
            },
        )
        .unwrap();
        assert_eq!((e.width, e.height), (20, 4));
    }

    #[test]
    fn downscale_averages() {
        let src = [0u8, 0, 0, 255, 255, 255, 255, 255];
        assert_eq!(downscale(&src, 4, 2, 1, 1, 1), vec![127, 127, 127, 255]);
    }

    #[test]
    fn wrong_buffer_length_is_a_clear_error() {
        let err = encode(&[0; 10], Pixels::Rgb, 4, 4, opts(Format::Webp, 0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("4x4 has 10 bytes, expected 48"), "{err}");
    }
}
