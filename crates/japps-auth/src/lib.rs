//! How a browser logs in through the hub, and what JupyterHub's environment says — one
//! piece of code for the service (`japps serve`) and the app launcher (`japps launch`), so
//! that the two cannot drift apart.
//!
//! - [`env`]: the `JUPYTERHUB_*` variables the hub gives a service or a server;
//! - [`cookies`]: cookie names and attributes (`__Host-`, `Secure`, `Path`), and which
//!   cookies and headers carry a visitor's credentials and must never reach an app;
//! - [`login`]: the OAuth login (state + S256 PKCE, the encrypted state and session
//!   cookies, the `next` check, the code exchange);
//! - [`legacy`]: jhub-apps' `jhub_apps_access_token` cookie.

pub mod cookies;
pub mod env;
pub mod legacy;
pub mod login;
mod random;

pub use cookies::{CookiePolicy, Forwarding, strip_credentials};
pub use env::{EnvError, HubEnv};
pub use login::{BrowserLogin, CallbackQuery, LoginConfig, LoginError, Session, safe_next};
pub use random::{now, random_token};
