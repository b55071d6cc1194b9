//! s3drop: upload files from the browser straight to S3 with presigned URLs.
//!
//! The crate is built twice by cargo-leptos: with `ssr` as the server binary, with
//! `hydrate` as the page's WASM. The tree shows the four areas, and what uses what runs
//! one way (the page and the server both use the contract, which uses the core):
//!
//! - [`core`]: pure logic both sides share (planning, policy, keys, retry, transfer);
//! - [`api`]: the contract, server functions and their wire types;
//! - [`server`] (ssr only): the HTTP surface, the server functions' bodies, the S3
//!   client, the embedded store, and the command line that starts them;
//! - [`browser`] and [`components`] (with [`app`]): the page and the upload engine's
//!   browser shell;
//! - [`client`] (ssr only): `s3drop upload`, the command-line uploader, a client of the
//!   API as a script is.
//!
//! With neither build's feature only [`core`] is compiled: that is what the fuzz targets
//! in `fuzz/` link, without the page's or the server's dependencies.

// The page's view types nest deeper than the compiler's default query limit.
#![recursion_limit = "256"]

#[cfg(feature = "page")]
pub mod api;
#[cfg(feature = "page")]
pub mod app;
#[cfg(feature = "page")]
pub mod browser;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "page")]
pub mod components;
pub mod core;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Tests (and anyone curious) can tell when the page has become interactive.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
