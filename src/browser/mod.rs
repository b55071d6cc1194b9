//! The page's browser half: the upload engine ([`upload`]) and the adapters it and the
//! components draw on, each wrapping one thing the browser does. What a person gave
//! ([`given`]: by drop or paste, [`dropped`]; by File System Access, [`handles`]), a
//! file's bytes and CRC32C ([`file_bytes`]), an XHR PUT with progress ([`put`]), the
//! records IndexedDB keeps ([`saved`]), connection pools per origin ([`slots`]), the
//! clock and timers ([`runtime`]), and the clipboard, questions and local times
//! ([`page`]).
//!
//! Compiled into both builds so components can name it, but only ever called from
//! event handlers and tasks, which run in the browser.

pub mod dropped;
pub mod file_bytes;
pub mod given;
pub mod handles;
pub mod page;
pub mod put;
pub mod runtime;
pub mod saved;
pub mod slots;
pub mod upload;
