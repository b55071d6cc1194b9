//! What a person gave the page, however they gave it (dropped, picked, pasted, or opened
//! again after a reload): the file, the folder it was in, and its handle where the
//! browser gave one. [`super::dropped`] and [`super::handles`] make these; the upload
//! engine takes them.

use web_sys::{FileSystemFileHandle, FileSystemHandle};

/// A file the person gave, and the folder it was in (`photos/2024`; empty for a file on
/// its own). Nothing of the file is read yet: a folder may hold 10,000 files, and the
/// page reads their sizes a chunk at a time.
#[derive(Debug, Clone)]
pub struct Given {
    pub file: web_sys::File,
    pub folder: String,
    /// Its handle, where the browser gave one: the page can open the file again itself.
    pub handle: Option<Handle>,
}

/// A file's handle, and the handle read permission is asked of after a reload: the
/// folder it was dropped or picked in (one prompt for the whole folder), or the file.
#[derive(Debug, Clone)]
pub struct Handle {
    pub file: FileSystemFileHandle,
    pub root: FileSystemHandle,
    /// Which drop or pick the root came from: files sharing it share one prompt.
    pub root_id: String,
}
