//! stint-server: the reference ingest server for stint agents. `api` is the HTTP
//! surface, `store` the SQLite + image storage, `certs` first-start TLS.

pub mod api;
pub mod certs;
pub mod private;
pub mod store;
