//! Thumbnails, made once when an image arrives and stored beside it
//! (`ID.thumb.webp`); how they are made is `stint_common::thumb`'s, which a
//! sealing agent uses too.

pub use stint_common::thumb::make;

/// The object key of the thumbnail of the image at `key`.
pub fn thumb_key(key: &str) -> String {
    let stem = key.rsplit_once('.').map_or(key, |(stem, _)| stem);
    format!("{stem}.thumb.webp")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_thumbnail_lives_beside_its_image() {
        assert_eq!(super::thumb_key("dev/abc.webp"), "dev/abc.thumb.webp");
    }
}
