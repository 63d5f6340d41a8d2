//! stint-server: the ingest server for stint agents and the web UI where
//! people see what was recorded. `api` is the agents' HTTP surface, `web`
//! the people's, `ops` the load balancer's and monitoring's; all three share
//! `state`. `store` is the storage (SQLite or PostgreSQL, a directory or an
//! S3 bucket), `access` who may do what, `certs` first-start TLS, `conns`
//! who gets a connection when there are too many; `days` and `periods` the
//! calendar arithmetic of a person's days and timesheet periods.

pub mod access;
pub mod api;
pub mod certs;
pub mod conns;
pub mod days;
#[cfg(feature = "faults")]
pub mod faults;
pub mod hooks;
pub mod jobs;
pub mod limiter;
pub mod metrics;
pub mod oidc;
pub mod ops;
pub mod periods;
pub mod private;
pub mod state;
pub mod store;
pub mod web;
