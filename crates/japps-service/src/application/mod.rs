//! The application layer: what japps does for a user, independent of how it is asked (JSON
//! API today, server-rendered pages later). It owns every hub call a request makes, and with
//! them the per-request hub-call budget.

pub(crate) mod apps;
pub(crate) mod catalog;
pub(crate) mod git_config;
pub(crate) mod identity;
pub(crate) mod lifecycle;
pub(crate) mod python;
pub(crate) mod services;
pub(crate) mod sharing;
pub(crate) mod startup_apps;
pub(crate) mod thumbnails;
