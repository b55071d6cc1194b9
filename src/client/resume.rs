//! The journal of a run: each file's upload as it started (its key and token) and
//! whether it is stored, written after each batch, so a run stopped part-way (a crash,
//! Ctrl-C, a lost connection) goes on where it stopped when it is run again: stored
//! files are skipped, and a large file's parts already in the store are not sent again
//! (the store lists them). Removed once every file is stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a run knows of each file, by [`LocalFile::identity`](super::files::LocalFile).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Journal {
    pub files: BTreeMap<String, Entry>,
}

/// One file's upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub token: String,
    /// When the token expires (Unix seconds): after that the file starts again.
    pub expires_at: u64,
    pub stored: bool,
}

impl Journal {
    /// The journal at `path`, or an empty one (none there, or unreadable: then every
    /// file starts afresh, which is always safe).
    pub fn load(path: &Path) -> Self {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the journal whole (to a file beside it, then renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let aside = path.with_extension("json.new");
        let bytes = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        std::fs::write(&aside, bytes)
            .and_then(|()| std::fs::rename(&aside, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Where a run's journal is kept unless `--journal` says: the user's state folder, named
/// for the server and the paths given, so the same command finds it again from anywhere.
pub fn default_path(server: &str, paths: &[PathBuf]) -> PathBuf {
    let mut hash = Sha256::new();
    hash.update(server.as_bytes());
    for path in paths {
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        hash.update(b"\0");
        hash.update(path.to_string_lossy().as_bytes());
    }
    let name = format!("upload-{}.json", &hex::encode(hash.finalize())[..16]);
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    state.join("s3drop").join(name)
}
