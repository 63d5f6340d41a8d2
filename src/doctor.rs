//! `stint doctor`: which capabilities work on this machine, and for each that does
//! not, why and how to fix it.

use serde::Serialize;

use crate::config::Config;
use crate::queue::{Queue, Role};
use crate::sampler::input::{self, InputSource, Limitation};
use crate::sampler::{self, SamplerError};

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// A failing required check makes `doctor` exit non-zero.
    pub required: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            ok: true,
            required: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            name,
            ok: false,
            required: true,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn from_sampler<T>(
        name: &'static str,
        r: Result<T, SamplerError>,
        ok_detail: impl FnOnce(&T) -> String,
    ) -> Check {
        match r {
            Ok(v) => Check::pass(name, ok_detail(&v)),
            Err(e) => Check::fail(name, e.to_string(), e.fix()),
        }
    }
}

pub fn run(cfg: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    let sources: Vec<String> = cfg.sources.iter().map(|s| s.to_string()).collect();
    checks.push(Check::pass("config", sources.join(" < ")));

    let dir = &cfg.storage.data_dir;
    let probe = dir.join(".doctor-write-test");
    let writable = crate::datadir::claim(dir)
        .map_err(|e| e.to_string())
        .and_then(|_| {
            std::fs::write(&probe, b"ok")
                .and_then(|_| std::fs::remove_file(&probe))
                .map_err(|e| format!("{}: {e}", dir.display()))
        });
    checks.push(match writable {
        Ok(()) => Check::pass("data dir", format!("{} (writable)", dir.display())),
        Err(e) => Check::fail(
            "data dir",
            e,
            "set storage.data_dir to a new or empty directory this user can write",
        ),
    });

    checks.push(match Queue::open(dir, Role::Reader) {
        Ok((q, _)) => match q.call_blocking(|s| s.stats(0)) {
            Ok(st) => Check::pass(
                "queue",
                format!(
                    "{} schema v{}, {} minutes and {} captures pending",
                    q.db_path().display(),
                    crate::queue::SCHEMA_VERSION,
                    st.pending_minutes,
                    st.pending_captures
                ),
            ),
            Err(e) => Check::fail(
                "queue",
                e.to_string(),
                "see the error; `stint run` repairs a corrupt queue",
            ),
        },
        Err(e) => Check::fail(
            "queue",
            e.to_string(),
            "see the error; `stint run` repairs a corrupt queue",
        ),
    });

    checks.push(Check::from_sampler(
        "session",
        sampler::probe_session(),
        |_| format!("{}, reachable", sampler::session_name()),
    ));
    checks.push(input_check(sampler::input::create()));
    checks.push(Check::from_sampler(
        "window",
        sampler::window::create(),
        |w| {
            let seen = match w.active() {
                Ok(Some(info)) => format!("active window: {:?} ({})", info.title, info.exe_path),
                Ok(None) => "no window has focus right now".into(),
                Err(e) => format!("probe ok, sample failed: {e}"),
            };
            format!("through {}: {seen}", w.backend())
        },
    ));
    let opts = cfg.capture.encode_options();
    let mut screen = Check::from_sampler(
        "screenshots",
        sampler::screen::create(cfg.capture.timeout).and_then(|s| s.capture_all(opts)),
        |shots| {
            let list: Vec<String> = shots
                .iter()
                .map(|s| {
                    format!(
                        "{} {}x{} {} KB",
                        s.monitor,
                        s.image.width,
                        s.image.height,
                        s.image.data.len() / 1024
                    )
                })
                .collect();
            format!(
                "through {}: {}",
                sampler::screen::backend(),
                list.join(", ")
            )
        },
    );
    screen.required = cfg.capture.screenshots;
    checks.push(screen);
    let mut cam = if cfg.capture.webcam {
        Check::from_sampler("webcam", sampler::webcam::create(), |_| {
            "camera found".into()
        })
    } else {
        Check::pass("webcam", "disabled by config (capture.webcam = false)")
    };
    cam.required = cfg.capture.webcam;
    checks.push(cam);
    // Optional: without a tray host stint still records; the user just has no icon.
    let mut tray = match crate::platform::tray_host() {
        Ok(host) => Check::pass("tray", host),
        Err(why) => Check::fail(
            "tray",
            why,
            "add a system tray or StatusNotifier area to the panel (GNOME: the AppIndicator extension); `stint status`, `stint start` and `stint stop` work without one",
        ),
    };
    tray.required = false;
    checks.push(tray);
    checks
}

/// Which backend counts input, and how exactly: events count every press; a
/// polling fallback misses short ones (a warning); a source that cannot count
/// at all fails, since counts are what stint is for.
fn input_check(r: Result<Box<dyn InputSource>, SamplerError>) -> Check {
    let source = match r {
        Ok(s) => s,
        Err(e) => return Check::fail("input", format!("{e}; counts would be unknown"), e.fix()),
    };
    match source.limitation() {
        None => Check::pass(
            "input",
            format!("counting every press and click through {} (events)", source.backend()),
        ),
        Some(Limitation::Polling(why)) => Check {
            required: false,
            ..Check::fail(
                "input",
                format!(
                    "counting with {} (polling): presses shorter than {} ms are missed; event source: {why}",
                    source.backend(),
                    input::POLL_MS
                ),
                format!("see why the event source failed; stint retries it every minute (unset {} if it is set)", input::BACKEND_ENV),
            )
        },
        Some(Limitation::NoCounts(e)) => Check::fail(
            "input",
            format!(
                "no counts: {e}; idle time is still measured, through {}",
                source.backend()
            ),
            e.fix(),
        ),
    }
}

/// True when every required check passed.
pub fn healthy(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.ok || !c.required)
}

pub fn render(checks: &[Check]) -> String {
    let mut out = format!("stint {} doctor\n", env!("CARGO_PKG_VERSION"));
    for c in checks {
        let mark = match (c.ok, c.required) {
            (true, _) => "ok  ",
            (false, true) => "FAIL",
            (false, false) => "warn",
        };
        out.push_str(&format!("  {mark}  {:<12} {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("        {:<12} fix: {fix}\n", ""));
        }
    }
    out
}
