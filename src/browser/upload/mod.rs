//! The upload engine: the page's model of an upload and its whole lifecycle, in one
//! place. A file taken in ([`Picked`]) waits its turn in the [`Uploader`]'s queue, then
//! [`lifecycle`] starts it, or [`resume`]s it after a reload, runs the pure transfer
//! machine with the [`shell`] performing its commands (batched calls, PUTs over shared
//! connections), and completes or aborts it; each change reaches the page as a
//! [`FileStatus`], and the page steers it with a [`Controller`]. [`unfinished`] lists
//! what a reload left and picks it up again.
//!
//! Components use only what is re-exported here.

mod batch;
mod calls;
mod lifecycle;
mod picked;
mod queue;
mod resume;
mod session;
mod shared;
mod shell;
mod status;
pub mod unfinished;
mod uploader;

pub use picked::Picked;
pub use status::{Controller, FileStatus};
pub use uploader::Uploader;
