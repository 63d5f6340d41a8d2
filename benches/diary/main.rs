//! Benchmark of the web diary: how long stint-server takes to answer a
//! person's full 8-hour day (480 minutes, 48 segments with a 1920x1080
//! screenshot each), how large the thumbnails it made are, and how long the
//! project report of 200 people over a month takes (projects.rs).
//!
//! Prints numbers; asserts nothing. Run with
//! `cargo build --release --workspace --bins && cargo bench --bench diary`.

#[cfg(target_os = "linux")]
#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/helpers/mod.rs"]
mod helpers;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod projects;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes harness=false benches this way
    }
    #[cfg(target_os = "linux")]
    {
        linux::run();
        projects::run();
    }
    #[cfg(not(target_os = "linux"))]
    eprintln!("the diary benchmark uses the Linux test helpers and runs on Linux only");
}
