//! Integration tests: the real `stint` binary on a real X desktop (Xvfb, openbox,
//! xterm) driven by real XTEST input, recording into real SQLite files.
#![cfg(target_os = "linux")]

mod api_people;
mod control;
mod fleet;
mod helpers;
mod hostile;
mod install;
mod linking;
mod msi;
mod privacy;
mod recording;
mod robustness;
mod sealed;
mod server_files;
mod server_limits;
mod source;
mod sync;
mod tray;
mod wayland;
mod web;
mod web_admin;
mod web_browser;
mod web_oidc;
mod web_routes;
mod web_time;
mod webhooks;
mod wine_input;
mod work;
