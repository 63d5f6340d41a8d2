//! Seeds for the fuzz-style tests: stint-common's, one definition for agent
//! and server.

pub use stint_common::fuzz::seeds;
