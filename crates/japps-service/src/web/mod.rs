//! The launcher's HTML face: server-rendered pages over the same application layer as the
//! JSON API, one stylesheet and one script. Handlers only translate HTTP to use cases and
//! view models to templates.

pub(crate) mod app_page;
pub(crate) mod assets;
pub(crate) mod form;
pub(crate) mod home;
pub(crate) mod layout;
pub(crate) mod templates;
