//! The focused window on wlroots compositors without sway's IPC (Hyprland,
//! river, labwc, Wayfire ...): `wlr-foreign-toplevel-management` lists every
//! window with its title, app id and state, and the one in the "activated"
//! state has the focus. The protocol carries no pid, so the program's path
//! stays unknown there; the app id names it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wayland_client::backend::ObjectId;
use wayland_client::globals::GlobalListContents;
use wayland_client::protocol::wl_registry;
use wayland_client::{event_created_child, Connection, Dispatch, Proxy, QueueHandle};
use wayland_protocols_wlr::foreign_toplevel::v1::client::{
    zwlr_foreign_toplevel_handle_v1 as handle, zwlr_foreign_toplevel_manager_v1 as manager,
};

use crate::sampler::source::{WindowInfo, WindowSource};
use crate::sampler::SamplerError;

/// `zwlr_foreign_toplevel_handle_v1.state` value of the focused window.
const ACTIVATED: u32 = 2;

#[derive(Default, Clone)]
struct Toplevel {
    title: String,
    app_id: String,
    activated: bool,
}

#[derive(Default)]
struct State {
    /// What each window announced since its last `done`.
    pending: HashMap<ObjectId, Toplevel>,
    focused: Arc<Mutex<Option<(ObjectId, Toplevel)>>>,
}

pub struct Toplevels {
    focused: Arc<Mutex<Option<(ObjectId, Toplevel)>>>,
}

impl Toplevels {
    /// Binds the manager and follows the windows on a thread of its own.
    pub fn connect() -> Result<Toplevels, SamplerError> {
        let (_conn, globals, mut queue) = super::protocols::connect::<State>()?;
        let qh = queue.handle();
        globals
            .bind::<manager::ZwlrForeignToplevelManagerV1, _, _>(&qh, 1..=3, ())
            .map_err(|_| {
                SamplerError::Wayland(
                    "the compositor offers neither sway's IPC nor wlr-foreign-toplevel-management, so no program may learn the focused window".into(),
                )
            })?;
        let mut state = State::default();
        let focused = state.focused.clone();
        // The current windows arrive with the first round trips.
        for _ in 0..2 {
            queue
                .roundtrip(&mut state)
                .map_err(|e| SamplerError::Failed(format!("Wayland toplevels: {e}")))?;
        }
        std::thread::Builder::new()
            .name("stint-wl-toplevel".into())
            .spawn(move || {
                while queue.blocking_dispatch(&mut state).is_ok() {}
                tracing::warn!("the Wayland connection for the focused window closed");
            })
            .map_err(|e| SamplerError::Failed(format!("Wayland toplevel thread: {e}")))?;
        Ok(Toplevels { focused })
    }
}

impl WindowSource for Toplevels {
    fn backend(&self) -> &'static str {
        "wlr-foreign-toplevel-management"
    }

    fn active(&self) -> Result<Option<WindowInfo>, SamplerError> {
        let focused = self.focused.lock().unwrap_or_else(|p| p.into_inner());
        Ok(focused.as_ref().map(|(_, t)| {
            WindowInfo {
                title: t.title.clone(),
                exe_path: String::new(),
                app: t.app_id.clone(),
            }
            .clipped()
        }))
    }
}

impl Dispatch<manager::ZwlrForeignToplevelManagerV1, ()> for State {
    fn event(
        _: &mut Self,
        _: &manager::ZwlrForeignToplevelManagerV1,
        _: manager::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        // New windows arrive as handles, dispatched below.
    }

    event_created_child!(State, manager::ZwlrForeignToplevelManagerV1, [
        manager::EVT_TOPLEVEL_OPCODE => (handle::ZwlrForeignToplevelHandleV1, ()),
    ]);
}

impl Dispatch<handle::ZwlrForeignToplevelHandleV1, ()> for State {
    fn event(
        s: &mut Self,
        h: &handle::ZwlrForeignToplevelHandleV1,
        event: handle::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let id = h.id();
        let focused = s.focused.clone();
        let mut focused = focused.lock().unwrap_or_else(|p| p.into_inner());
        // A window's announcements start from what it last settled on.
        let current = || {
            focused
                .as_ref()
                .filter(|(f, _)| *f == id)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        let pending = s.pending.entry(id.clone()).or_insert_with(current);
        match event {
            handle::Event::Title { title } => pending.title = title,
            handle::Event::AppId { app_id } => pending.app_id = app_id,
            handle::Event::State { state } => {
                pending.activated = state
                    .chunks_exact(4)
                    .any(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) == ACTIVATED);
            }
            handle::Event::Done => {
                let t = s.pending.get(&id).cloned().unwrap_or_default();
                if t.activated {
                    *focused = Some((id, t));
                } else if focused.as_ref().is_some_and(|(f, _)| *f == id) {
                    *focused = None;
                }
            }
            handle::Event::Closed => {
                s.pending.remove(&id);
                if focused.as_ref().is_some_and(|(f, _)| *f == id) {
                    *focused = None;
                }
                h.destroy();
            }
            _ => {}
        }
    }
}

super::protocols::ignore_registry!(State);
