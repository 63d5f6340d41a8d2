//! What the stint agent and stint-server share beyond the wire format (that
//! is `stint-proto`): the SQLite migration runner, durable file writes, time
//! helpers, and image scaling and encoding (screenshots, thumbnails). One copy of each, so the two programs cannot drift apart.

pub mod durable;
pub mod image;
pub mod migrate;
pub mod time;
