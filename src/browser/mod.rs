//! The browser shell of the upload engine: it performs what the pure core decides (XHR
//! PUTs with progress, server function calls, timers) and reports back what happened.
//!
//! Compiled into both builds so components can name it, but only ever called from
//! event handlers and tasks, which run in the browser.

pub mod dropped;
pub mod put;
pub mod queue;
pub mod saved;
pub mod upload;

/// Milliseconds since the epoch, from the browser's clock (`Instant` panics on wasm32).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
