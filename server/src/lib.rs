//! stint-server: the ingest server for stint agents and the web UI where
//! people see what was recorded. `api` is the agents' HTTP surface, `web`
//! the people's, `ops` the load balancer's and monitoring's; all three share
//! `state`. `store` is the storage (SQLite or PostgreSQL, a directory or an
//! S3 bucket), `access` who may do what, `certs` first-start TLS, `conns`
//! who gets a connection when there are too many.

pub mod access;
pub mod api;
pub mod certs;
pub mod conns;
#[cfg(feature = "faults")]
pub mod faults;
pub mod jobs;
pub mod limiter;
pub mod metrics;
pub mod oidc;
pub mod ops;
pub mod private;
pub mod state;
pub mod store;
pub mod web;
