//! Benchmark of sync: how long `stint run` takes to drain a 7-day offline backlog
//! to a loopback stint-server, and how fast stint-server ingests minute batches
//! and captures from several devices at once.
//!
//! Prints numbers; asserts nothing. Run with
//! `cargo build --release --workspace --bins && cargo bench --bench sync`
//! (the first command builds the release stint-server the benchmark starts).

#[cfg(target_os = "linux")]
#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/helpers/mod.rs"]
mod helpers;
#[cfg(target_os = "linux")]
mod ingest;
#[cfg(target_os = "linux")]
mod linux;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes harness=false benches this way
    }
    #[cfg(target_os = "linux")]
    linux::run();
    #[cfg(not(target_os = "linux"))]
    eprintln!("the sync benchmark uses the Linux test helpers and runs on Linux only");
}
