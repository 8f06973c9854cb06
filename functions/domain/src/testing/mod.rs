//! In-memory fakes of the domain's ports (feature `testing`), one file per
//! port, so that services and handlers are tested in milliseconds.

pub mod store;
