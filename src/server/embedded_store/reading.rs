//! Reading an object's bytes while it may be replaced or deleted: an object completed
//! from parts is several data files, opened one after another as the body streams, so
//! files that a reader will still open are not removed under it. Replaced files are
//! retired instead, and removed by the last reader to let go of them.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::layout::ObjectMeta;

/// How many bytes each read of a data file asks for.
const READ_CHUNK: usize = 256 * 1024;

/// Data files being read, and whether each has been retired meanwhile.
#[derive(Debug, Default, Clone)]
pub struct Readers(Arc<Mutex<HashMap<PathBuf, Reading>>>);

#[derive(Debug, Default)]
struct Reading {
    readers: usize,
    retired: bool,
}

impl Readers {
    /// Marks `files` as being read until the guard is dropped. Call while the object's
    /// metadata is still current (under the index lock), so no retirement is missed.
    pub fn hold(&self, files: Vec<PathBuf>) -> ReadGuard {
        let mut reading = self.lock();
        for file in &files {
            reading.entry(file.clone()).or_default().readers += 1;
        }
        ReadGuard {
            readers: self.clone(),
            files,
        }
    }

    /// Removes data files no longer part of any object, now or, for those being read,
    /// when their last reader is done.
    pub fn retire(&self, files: impl IntoIterator<Item = PathBuf>) -> std::io::Result<()> {
        let mut remove_now = Vec::new();
        {
            let mut reading = self.lock();
            for file in files {
                match reading.get_mut(&file) {
                    Some(held) => held.retired = true,
                    None => remove_now.push(file),
                }
            }
        }
        remove_now.iter().try_for_each(|file| remove(file))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Reading>> {
        // The map stays consistent even if a holder panicked.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Keeps data files from removal while a body is read from them.
#[derive(Debug)]
pub struct ReadGuard {
    readers: Readers,
    files: Vec<PathBuf>,
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        let mut done = Vec::new();
        {
            let mut reading = self.readers.lock();
            for file in &self.files {
                if let Some(held) = reading.get_mut(file) {
                    held.readers -= 1;
                    if held.readers == 0 {
                        if held.retired {
                            done.push(file.clone());
                        }
                        reading.remove(file);
                    }
                }
            }
        }
        for file in done {
            // A file left behind is swept at the next start.
            let _ = remove(&file);
        }
    }
}

fn remove(file: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// One stretch of an object's bytes: `length` bytes from `offset` of a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece<'a> {
    pub file: &'a str,
    pub offset: u64,
    pub length: u64,
}

/// The stretches of an object's data files that hold its bytes `start..end`.
pub fn pieces(meta: &ObjectMeta, start: u64, end: u64) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for (file, size) in meta.files() {
        let (from, to) = (start.max(at), end.min(at + size));
        if from < to {
            pieces.push(Piece {
                file,
                offset: from - at,
                length: to - from,
            });
        }
        at += size;
    }
    pieces
}

/// The bytes of `pieces` (files under `dir`), opened one after another; `guard` is held
/// until the stream is dropped.
pub fn stream(
    dir: &Path,
    pieces: Vec<Piece<'_>>,
    guard: ReadGuard,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + Sync + use<> {
    let pieces: Vec<(PathBuf, u64, u64)> = pieces
        .into_iter()
        .map(|p| (dir.join(p.file), p.offset, p.length))
        .collect();
    futures::stream::iter(pieces)
        .then(|(path, offset, length)| async move {
            let mut file = fs::File::open(path).await?;
            file.seek(SeekFrom::Start(offset)).await?;
            Ok::<_, std::io::Error>(ReaderStream::with_capacity(file.take(length), READ_CHUNK))
        })
        .try_flatten()
        .map(move |chunk| {
            let _held = &guard;
            chunk
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::embedded_store::layout::{ObjectData, Segment};

    fn meta(sizes: &[u64]) -> ObjectMeta {
        ObjectMeta {
            key: "k".into(),
            size: sizes.iter().sum(),
            etag: String::new(),
            content_type: String::new(),
            last_modified: 0,
            data: ObjectData::Segments {
                segments: sizes
                    .iter()
                    .enumerate()
                    .map(|(i, &size)| Segment {
                        data: format!("{i}"),
                        size,
                    })
                    .collect(),
            },
            checksums: Default::default(),
            headers: Default::default(),
        }
    }

    fn spans(pieces: Vec<Piece<'_>>) -> Vec<(&str, u64, u64)> {
        pieces
            .into_iter()
            .map(|p| (p.file, p.offset, p.length))
            .collect()
    }

    #[test]
    fn ranges_map_onto_the_parts_files() {
        let m = meta(&[10, 10, 5]);
        assert_eq!(
            spans(pieces(&m, 0, 25)),
            [("0", 0, 10), ("1", 0, 10), ("2", 0, 5)]
        );
        assert_eq!(spans(pieces(&m, 8, 12)), [("0", 8, 2), ("1", 0, 2)]);
        assert_eq!(spans(pieces(&m, 10, 20)), [("1", 0, 10)]);
        assert_eq!(spans(pieces(&m, 24, 25)), [("2", 4, 1)]);
        assert_eq!(spans(pieces(&m, 5, 5)), []);
    }

    #[test]
    fn an_object_of_one_file_is_one_piece() {
        let mut m = meta(&[]);
        m.data = ObjectData::File {
            data: "whole".into(),
        };
        m.size = 7;
        assert_eq!(spans(pieces(&m, 2, 7)), [("whole", 2, 5)]);
    }

    #[test]
    fn retired_files_outlive_their_readers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        for file in [&a, &b] {
            std::fs::write(file, b"x").expect("write");
        }
        let readers = Readers::default();
        let guard = readers.hold(vec![a.clone()]);
        readers.retire([a.clone(), b.clone()]).expect("retire");
        assert!(a.exists(), "a reader still needs it");
        assert!(!b.exists(), "nobody reads it");
        let second = readers.hold(vec![a.clone()]);
        drop(guard);
        assert!(a.exists(), "the second reader still needs it");
        drop(second);
        assert!(!a.exists(), "removed by its last reader");
        assert!(readers.lock().is_empty());
    }
}
