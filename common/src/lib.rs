//! What the stint agent and stint-server share beyond the wire format (that
//! is `stint-proto`): the migration runner for every database, durable file
//! writes, time helpers, seeds for fuzz-style tests, and image scaling and
//! encoding (screenshots, thumbnails). One copy of each, so the two programs
//! cannot drift apart.

pub mod durable;
pub mod fuzz;
pub mod image;
pub mod migrate;
pub mod seal;
pub mod thumb;
pub mod time;
