//! What the stint agent and stint-server share beyond the wire format (that
//! is `stint-proto`): the SQLite migration runner, durable file writes and
//! time helpers. One copy of each, so the two programs cannot drift apart.

pub mod durable;
pub mod migrate;
pub mod time;
