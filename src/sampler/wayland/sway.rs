//! The focused window on sway, from its IPC socket (the i3 protocol): the
//! tree's focused node gives the title, the Wayland app_id (or the X11 class
//! for XWayland windows) and the pid, whose `/proc/PID/exe` is the program.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::Value;

use crate::sampler::source::{WindowInfo, WindowSource};
use crate::sampler::SamplerError;

const MAGIC: &[u8] = b"i3-ipc";
const GET_TREE: u32 = 4;
/// A tree bigger than this is not one sway sent.
const MAX_REPLY: usize = 64 << 20;

pub struct SwayWindows {
    socket: String,
}

impl SwayWindows {
    /// Probes the socket with one tree request.
    pub fn connect(socket: &str) -> Result<SwayWindows, SamplerError> {
        let s = SwayWindows {
            socket: socket.to_string(),
        };
        s.tree()?;
        Ok(s)
    }

    fn tree(&self) -> Result<Value, SamplerError> {
        let failed = |what: &str, e: std::io::Error| {
            SamplerError::Failed(format!("sway IPC {} ({what}): {e}", self.socket))
        };
        let mut conn = UnixStream::connect(&self.socket).map_err(|e| failed("connect", e))?;
        conn.set_read_timeout(Some(Duration::from_secs(2)))
            .and_then(|()| conn.set_write_timeout(Some(Duration::from_secs(2))))
            .map_err(|e| failed("timeouts", e))?;
        let mut request = MAGIC.to_vec();
        request.extend_from_slice(&0u32.to_ne_bytes());
        request.extend_from_slice(&GET_TREE.to_ne_bytes());
        conn.write_all(&request).map_err(|e| failed("send", e))?;
        let mut header = [0u8; 14];
        conn.read_exact(&mut header)
            .map_err(|e| failed("read", e))?;
        if &header[..6] != MAGIC {
            return Err(SamplerError::Failed(format!(
                "sway IPC {}: not an i3-ipc reply",
                self.socket
            )));
        }
        let len = u32::from_ne_bytes(header[6..10].try_into().expect("4 bytes")) as usize;
        if len > MAX_REPLY {
            return Err(SamplerError::Failed(format!(
                "sway IPC {}: a {len}-byte reply",
                self.socket
            )));
        }
        let mut body = vec![0u8; len];
        conn.read_exact(&mut body).map_err(|e| failed("read", e))?;
        serde_json::from_slice(&body)
            .map_err(|e| SamplerError::Failed(format!("sway IPC {}: {e}", self.socket)))
    }
}

impl WindowSource for SwayWindows {
    fn backend(&self) -> &'static str {
        "sway IPC"
    }

    fn active(&self) -> Result<Option<WindowInfo>, SamplerError> {
        let tree = self.tree()?;
        Ok(focused(&tree).and_then(|(title, app, pid)| {
            super::window_of(title, app.unwrap_or_default(), pid.unwrap_or(0))
        }))
    }
}

/// The focused window of a sway tree: (title, app id or X11 class, pid).
/// Workspaces and outputs can be focused too (an empty workspace): those
/// are no window.
pub fn focused(tree: &Value) -> Option<(String, Option<String>, Option<u32>)> {
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        let kind = node["type"].as_str().unwrap_or("");
        if node["focused"] == Value::Bool(true) && (kind == "con" || kind == "floating_con") {
            let title = node["name"].as_str().unwrap_or("").to_string();
            let app = node["app_id"]
                .as_str()
                .or_else(|| node["window_properties"]["class"].as_str())
                .map(str::to_string);
            let pid = node["pid"].as_u64().and_then(|p| u32::try_from(p).ok());
            return Some((title, app, pid));
        }
        for key in ["nodes", "floating_nodes"] {
            if let Some(children) = node[key].as_array() {
                stack.extend(children);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_focused_node_is_the_window() {
        let con = |name: &str, focused: bool, extra: Value| {
            let mut v = json!({"type": "con", "name": name, "focused": focused, "nodes": [], "floating_nodes": []});
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            v
        };
        let tree = |leaves: Vec<Value>, floating: Vec<Value>| {
            json!({"type": "root", "focused": false, "nodes": [
                {"type": "output", "name": "HEADLESS-1", "focused": false, "nodes": [
                    {"type": "workspace", "name": "1", "focused": false, "nodes": leaves, "floating_nodes": floating}
                ]}
            ]})
        };
        for (t, want) in [
            (
                tree(
                    vec![
                        con("one", false, json!({"app_id": "foot", "pid": 1})),
                        con("~/work: vim", true, json!({"app_id": "foot", "pid": 42})),
                    ],
                    vec![],
                ),
                Some(("~/work: vim".into(), Some("foot".into()), Some(42))),
            ),
            (
                tree(
                    vec![],
                    vec![
                        json!({"type": "floating_con", "name": "Find", "focused": true,
                        "app_id": null, "pid": 7, "window_properties": {"class": "Firefox"}}),
                    ],
                ),
                Some(("Find".into(), Some("Firefox".into()), Some(7))),
            ),
            // An empty workspace has the focus: no window.
            (
                json!({"type": "root", "nodes": [{"type": "workspace", "focused": true, "nodes": []}]}),
                None,
            ),
            (json!({"unexpected": "shape"}), None),
        ] {
            assert_eq!(focused(&t), want, "{t}");
        }
    }
}
