//! Benchmark of the agent's footprint: CPU and memory of `stint run` on an idle and
//! a busy desktop, screenshot capture + encode cost at 1920x1080, and stint.exe
//! under Wine with its input hooks against the polling fallback.
//!
//! Prints numbers; asserts nothing. Run with `cargo bench --bench agent`
//! (`BENCH_SECS` sets each load phase, default 60). Needs Xvfb, openbox, xterm and
//! xdotool, which `scripts/setup-debian.sh` installs.

#[cfg(target_os = "linux")]
#[allow(dead_code, unused_imports)]
#[path = "../../tests/it/helpers/mod.rs"]
mod helpers;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod wine;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes harness=false benches this way
    }
    #[cfg(target_os = "linux")]
    linux::run();
    #[cfg(not(target_os = "linux"))]
    eprintln!("the agent benchmark drives an X11 desktop and runs on Linux only");
}
