//! A file taken in for upload: what the person gave, with its size and modification
//! time read once, and the fingerprint its records are kept under.

use gloo_file::File;

use crate::api::DropTag;
use crate::browser::given::{Given, Handle};
use crate::browser::runtime::now_ms;
use crate::browser::saved::{self, KeptFile};

/// A file as the person gave it: the file, and the folder it was in when they dropped or
/// picked a folder (`photos/2024`; empty for a file on its own).
#[derive(Debug, Clone)]
pub struct Picked {
    pub file: File,
    pub folder: String,
    /// The file's size and modification time (ms since the epoch), read once: for a
    /// file on disk each read of them is a synchronous trip to the browser's process.
    pub size: u64,
    pub modified_ms: f64,
    /// Its handle, where the browser gave one.
    pub handle: Option<Handle>,
    /// The drop it came in (set by the queue, which counts the drop's files).
    pub drop: Option<DropTag>,
}

impl Picked {
    /// A file the person gave, its size and modification time read.
    pub fn new(
        Given {
            file,
            folder,
            handle,
        }: Given,
    ) -> Self {
        let file = File::from(file);
        let modified_ms = file
            .last_modified_time()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1_000.0)
            .unwrap_or_default();
        Self {
            size: file.size(),
            modified_ms,
            file,
            folder,
            handle,
            drop: None,
        }
    }

    /// What the page keeps of a file it was given a handle for.
    pub fn kept(&self) -> Option<KeptFile> {
        Some(KeptFile {
            fingerprint: file_fingerprint(self),
            path: self.path(),
            folder: self.folder.clone(),
            size: self.size,
            modified_ms: self.modified_ms,
            handle: self.handle.clone()?,
            until: now_ms() / 1_000.0 + saved::KEPT_FOR_SECS,
        })
    }

    /// `folder/name`, or the name alone: how the page shows the file.
    pub fn path(&self) -> String {
        match self.folder.as_str() {
            "" => self.file.name(),
            folder => format!("{folder}/{}", self.file.name()),
        }
    }
}

/// The key of the file's records: its path, size and modification time.
pub fn file_fingerprint(picked: &Picked) -> String {
    saved::fingerprint(&picked.path(), picked.size, picked.modified_ms)
}
