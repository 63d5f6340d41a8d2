//! Screenshot encoding: the code lives in stint-common, where the server uses
//! it for thumbnails too.

pub use stint_common::image::*;
