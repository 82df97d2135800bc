//! HTTP handlers, one module per resource. They parse the request, call the application
//! layer, and shape the answer; nothing else.

pub(crate) mod status;
