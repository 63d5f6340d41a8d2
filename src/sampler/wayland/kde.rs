//! KDE Plasma (KWin) on Wayland: the focused window as stint's KWin script
//! (`installers/linux/kwin/`) reports it. KWin scripts can call out over
//! D-Bus but not be called, so the agent owns `dev.stint.Agent` on the
//! session bus and keeps the latest report.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::sampler::source::{WindowInfo, WindowSource};
use crate::sampler::SamplerError;

pub const AGENT_NAME: &str = "dev.stint.Agent";
pub const SCRIPT: &str = "stint-focus";

type Report = (String, String, u32);

/// The script's latest report, and a signal for whoever waits for the first.
#[derive(Default)]
struct Reports {
    latest: Mutex<Option<Report>>,
    arrived: Condvar,
}

struct Endpoint(Arc<Reports>);

#[zbus::interface(name = "dev.stint.Agent1")]
impl Endpoint {
    /// Called by the KWin script on every focus change. The pid comes as
    /// text: KWin turns a script's number into whichever D-Bus integer its
    /// Qt picks (KWin 5.27 sends `i`), and a method signature must match
    /// exactly, so the script sends a string on every version.
    fn focus_changed(&self, title: String, class: String, pid: String) {
        // Bounded like every window text; a report is only ever replaced.
        let clip = |s: String| s.chars().take(2048).collect::<String>();
        let pid = pid.trim().parse().unwrap_or(0);
        *self.0.latest.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((clip(title), clip(class), pid));
        self.0.arrived.notify_all();
    }
}

pub struct KdeWindows {
    reports: Arc<Reports>,
    conn: zbus::blocking::Connection,
}

impl KdeWindows {
    /// Takes the agent's name on the session bus and waits for reports.
    pub fn start() -> Result<KdeWindows, SamplerError> {
        let reports: Arc<Reports> = Arc::default();
        let conn = zbus::blocking::connection::Builder::session()
            .and_then(|b| b.name(AGENT_NAME))
            .and_then(|b| b.serve_at("/dev/stint/Agent", Endpoint(reports.clone())))
            .and_then(|b| b.build())
            .map_err(|e| {
                SamplerError::Failed(format!(
                    "owning {AGENT_NAME} on the session bus (is another stint running in this session?): {e}"
                ))
            })?;
        let windows = KdeWindows { reports, conn };
        windows.rerun_script();
        Ok(windows)
    }

    /// The script speaks on focus changes only, so the window focused when
    /// the agent starts (at login, say) would stay unknown until the user
    /// switches. Run anew, the script's first act is to report the active
    /// window: KWin unloads and loads it again, and the report is awaited
    /// for a moment.
    fn rerun_script(&self) {
        if !self.script_loaded() {
            return;
        }
        let Some(main) = installed_script() else {
            return;
        };
        let main = main.to_string_lossy().into_owned();
        let pause = Duration::from_millis(50);
        if self.scripting("unloadScript", &(SCRIPT,)).is_err() {
            return;
        }
        // KWin only schedules the unload, and refuses a load (-1) while the
        // old instance still exists: wait for it to go, then try a few
        // times, so the script is never left unloaded for the session.
        for _ in 0..40 {
            if !self.script_loaded() {
                break;
            }
            std::thread::sleep(pause);
        }
        let mut reloaded = false;
        for _ in 0..5 {
            reloaded = self
                .scripting("loadScript", &(main.as_str(), SCRIPT))
                .ok()
                .and_then(|r| r.body().deserialize::<i32>().ok())
                .is_some_and(|id| id >= 0);
            if reloaded {
                break;
            }
            std::thread::sleep(pause);
        }
        reloaded = reloaded && self.scripting("start", &()).is_ok();
        if !reloaded {
            tracing::warn!(script = %main, "KWin did not load the stint script again; enable it again in System Settings > Window Management > KWin Scripts");
            return;
        }
        let latest = self
            .reports
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let _ = self
            .reports
            .arrived
            .wait_timeout_while(latest, Duration::from_secs(1), |r| r.is_none());
    }

    fn scripting<B>(&self, method: &str, body: &B) -> zbus::Result<zbus::Message>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.conn.call_method(
            Some("org.kde.KWin"),
            "/Scripting",
            Some("org.kde.kwin.Scripting"),
            method,
            body,
        )
    }

    /// KWin's own answer to whether our script runs.
    fn script_loaded(&self) -> bool {
        self.scripting("isScriptLoaded", &(SCRIPT,))
            .ok()
            .and_then(|reply| reply.body().deserialize::<bool>().ok())
            .unwrap_or(false)
    }

    fn report(&self) -> Option<Report> {
        self.reports
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The script's code where KWin finds it: the user's data directory first,
/// then the system's (where the packages install it).
fn installed_script() -> Option<std::path::PathBuf> {
    let home = directories::BaseDirs::new().map(|d| d.data_dir().to_path_buf());
    let system = std::env::var("XDG_DATA_DIRS")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
    home.into_iter()
        .chain(system.split(':').map(std::path::PathBuf::from))
        .map(|d| {
            d.join("kwin/scripts")
                .join(SCRIPT)
                .join("contents/code/main.js")
        })
        .find(|p| p.is_file())
}

impl WindowSource for KdeWindows {
    fn backend(&self) -> &'static str {
        "KWin script"
    }

    fn active(&self) -> Result<Option<WindowInfo>, SamplerError> {
        match self.report() {
            Some((title, class, pid)) => Ok(super::window_of(title, class, pid)),
            // KWin runs the script or not; it reports only when the focus
            // changes, so a loaded script that has not spoken yet is not
            // the same trouble as a missing one.
            None if self.script_loaded() => Err(SamplerError::Wayland(format!(
                "the stint KWin script ({SCRIPT}) is loaded and reports at the next focus change"
            ))),
            None => Err(SamplerError::Wayland(format!(
                "the stint KWin script ({SCRIPT}) is not running: enable it in System Settings > Window Management > KWin Scripts, or kwriteconfig5 --file kwinrc --group Plugins --key {SCRIPT}Enabled true && qdbus org.kde.KWin /KWin reconfigure"
            ))),
        }
    }
}
