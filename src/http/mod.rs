//! The portal over HTTP: `ecpa serve` ([`server`]) and [`RemotePortal`] ([`client`]), which
//! implements the same [`Portal`](crate::portal::Portal) trait as the embedded engine.
//!
//! axum, tokio and reqwest types stay inside this module; callers see the crate's own types
//! and errors. The API is versioned under `/api/v1`; its OpenAPI document is [`openapi`].

pub mod api;
pub mod client;
pub mod conn;
pub mod openapi;
pub mod server;
pub mod trust;
pub mod wire;

pub use client::{RemotePortal, RemotePortalBuilder};
pub use server::{ENDPOINTS, RunningServer, ServiceOptions, serve, start, start_with, status_of};
