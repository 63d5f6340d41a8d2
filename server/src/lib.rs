//! stint-server: the reference ingest server for stint agents. `api` is the HTTP
//! surface, `store` the SQLite + image storage, `certs` first-start TLS,
//! `conns` who gets a connection when there are too many.

pub mod access;
pub mod api;
pub mod certs;
pub mod conns;
pub mod jobs;
pub mod ops;
pub mod private;
pub mod store;
pub mod web;
