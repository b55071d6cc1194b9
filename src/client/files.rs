//! The files a run uploads: each path given, a folder with everything in it (its own
//! name kept as the top of each file's folder, as a folder dropped on the page keeps
//! it), symbolic links followed, anything else (sockets, devices) left out and said.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use walkdir::WalkDir;

/// A file to upload.
#[derive(Debug, Clone)]
pub struct LocalFile {
    pub path: PathBuf,
    pub name: String,
    /// The folders it was in, below the folder given (`shoot/day 1`); empty for a file
    /// given on its own.
    pub folder: String,
    pub size: u64,
    pub modified_ms: u64,
    pub content_type: String,
}

impl LocalFile {
    /// What the journal knows it by: the same file, unchanged, has the same one.
    pub fn identity(&self) -> String {
        format!("{}|{}|{}", self.path.display(), self.size, self.modified_ms)
    }

    /// `folder/name`, as it is shown.
    pub fn shown(&self) -> String {
        match self.folder.is_empty() {
            true => self.name.clone(),
            false => format!("{}/{}", self.folder, self.name),
        }
    }
}

/// The files under `paths`, in order; and what was left out, with why.
pub fn gather(paths: &[PathBuf]) -> Result<(Vec<LocalFile>, Vec<String>), String> {
    let mut files = Vec::new();
    let mut left_out = Vec::new();
    for given in paths {
        let meta = std::fs::metadata(given).map_err(|e| format!("{}: {e}", given.display()))?;
        if meta.is_file() {
            match local_file(given, String::new(), &meta) {
                Ok(file) => files.push(file),
                Err(why) => left_out.push(why),
            }
            continue;
        }
        let root = given
            .canonicalize()
            .map_err(|e| format!("{}: {e}", given.display()))?;
        let top = root
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .unwrap_or_default();
        for entry in WalkDir::new(&root).follow_links(true).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    left_out.push(err.to_string());
                    continue;
                }
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) if meta.is_file() => meta,
                Ok(_) => {
                    left_out.push(format!("{}: not a file", entry.path().display()));
                    continue;
                }
                Err(err) => {
                    left_out.push(err.to_string());
                    continue;
                }
            };
            let folder = folder_of(&root, &top, entry.path());
            match folder.and_then(|folder| local_file(entry.path(), folder, &meta)) {
                Ok(file) => files.push(file),
                Err(why) => left_out.push(why),
            }
        }
    }
    Ok((files, left_out))
}

/// `top/…` of the folders between `root` and `path`.
fn folder_of(root: &Path, top: &str, path: &Path) -> Result<String, String> {
    let inside = path
        .parent()
        .and_then(|p| p.strip_prefix(root).ok())
        .ok_or_else(|| format!("{}: outside the folder given", path.display()))?;
    let mut parts = vec![top.to_owned()];
    for part in inside.components() {
        let part = part
            .as_os_str()
            .to_str()
            .ok_or_else(|| format!("{}: a folder name that is not UTF-8", path.display()))?;
        parts.push(part.to_owned());
    }
    parts.retain(|p| !p.is_empty());
    Ok(parts.join("/"))
}

fn local_file(path: &Path, folder: String, meta: &std::fs::Metadata) -> Result<LocalFile, String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: a name that is not UTF-8", path.display()))?
        .to_owned();
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let content_type = mime_guess::from_path(path)
        .first()
        .map(|m| m.essence_str().to_owned())
        .unwrap_or_default();
    Ok(LocalFile {
        path: path.to_path_buf(),
        name,
        folder,
        size: meta.len(),
        modified_ms,
        content_type,
    })
}
