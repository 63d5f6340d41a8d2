//! stint: a privacy-minded desktop time-tracking agent. Everything lives in this
//! library; `main.rs` is only the command-line edge.

pub mod clock;
pub mod config;
pub mod daemon;
pub mod datadir;
pub mod doctor;
pub mod encode;
pub mod exit;
#[cfg(test)]
mod fuzz;
pub mod indicator;
pub mod ipc;
pub mod logging;
pub mod model;
pub mod platform;
pub mod policy;
pub mod private;
pub mod queue;
pub mod review;
pub mod sampler;
pub mod status;
pub mod sync;
pub mod sysfacts;
pub mod work;
