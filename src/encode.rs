//! Image encoding for captures: optional downscale, then JPEG via jpeg-encoder.
//!
//! Measured on this project's 2-core machine at 1920x1080: jpeg-encoder (simd)
//! ~27 ms per frame against ~95 ms for the `image` crate's encoder, which is why it
//! is used here (see docs/performance.md).

#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions {
    pub quality: u8,
    /// 0 keeps the native width.
    pub max_width: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("image {width}x{height} has {got} bytes, expected {expected}")]
    BadBuffer {
        width: u32,
        height: u32,
        got: usize,
        expected: usize,
    },
    #[error("image {0}x{1} is too large for JPEG (max 65535 per side)")]
    TooLarge(u32, u32),
    #[error("JPEG encoding failed: {0}")]
    Jpeg(String),
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
    let (data, w, h) = if opts.max_width > 0 && width > opts.max_width {
        let nh = ((u64::from(height) * u64::from(opts.max_width)) / u64::from(width)).max(1) as u32;
        scaled = downscale(pixels, layout.bytes(), width, height, opts.max_width, nh);
        (scaled.as_slice(), opts.max_width, nh)
    } else {
        (pixels, width, height)
    };
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(EncodeError::TooLarge(w, h));
    };
    let mut out = Vec::with_capacity(data.len() / 16);
    let color = match layout {
        Pixels::Rgba => jpeg_encoder::ColorType::Rgba,
        Pixels::Rgb => jpeg_encoder::ColorType::Rgb,
    };
    jpeg_encoder::Encoder::new(&mut out, opts.quality.clamp(1, 100))
        .encode(data, w16, h16, color)
        .map_err(|e| EncodeError::Jpeg(e.to_string()))?;
    Ok(Encoded {
        width: w,
        height: h,
        data: out,
        format: "jpeg",
    })
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

    #[test]
    fn encodes_decodable_jpeg_of_the_right_size() {
        let opts = EncodeOptions {
            quality: 70,
            max_width: 0,
        };
        let e = encode(&gradient(64, 48), Pixels::Rgba, 64, 48, opts).unwrap();
        let mut d = jpeg_decoder::Decoder::new(e.data.as_slice());
        d.decode().unwrap();
        let info = d.info().unwrap();
        assert_eq!((info.width, info.height), (64, 48));
    }

    #[test]
    fn downscale_keeps_aspect_ratio() {
        let opts = EncodeOptions {
            quality: 70,
            max_width: 32,
        };
        let e = encode(&gradient(64, 48), Pixels::Rgba, 64, 48, opts).unwrap();
        assert_eq!((e.width, e.height), (32, 24));
    }

    #[test]
    fn downscale_averages() {
        let src = [0u8, 0, 0, 255, 255, 255, 255, 255];
        assert_eq!(downscale(&src, 4, 2, 1, 1, 1), vec![127, 127, 127, 255]);
    }

    #[test]
    fn wrong_buffer_length_is_a_clear_error() {
        let opts = EncodeOptions {
            quality: 70,
            max_width: 0,
        };
        let err = encode(&[0; 10], Pixels::Rgb, 4, 4, opts)
            .unwrap_err()
            .to_string();
        assert!(err.contains("4x4 has 10 bytes, expected 48"), "{err}");
    }
}
