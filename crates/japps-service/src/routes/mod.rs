//! HTTP handlers, one module per resource. They parse the request, call the application
//! layer, and shape the answer; nothing else.

pub(crate) mod catalog;
pub(crate) mod docs;
pub(crate) mod git_config;
pub(crate) mod lifecycle;
pub(crate) mod login;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod responses;
pub(crate) mod servers;
pub(crate) mod services;
pub(crate) mod static_files;
pub(crate) mod status;
pub(crate) mod theme;
pub(crate) mod user;
