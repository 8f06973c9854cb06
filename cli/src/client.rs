//! The HTTP API as the command speaks it: SigV4, a bearer token or the
//! local stack's headers. (Helper `cli-client` writes this.)
