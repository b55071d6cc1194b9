//! What a person gave the page: dropped files and folders (as handles where the browser
//! has them, [`super::handles`], else walked through the File and Directory Entries
//! API), files picked (as handles, or from an `<input>`, a folder's through
//! `webkitRelativePath`), pasted files; each with the folder it was in, which the key
//! keeps.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    DataTransfer, FileList, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
};

use super::given::Given;
use super::handles;
use super::runtime::settled;
use crate::core::key::folder_of;

/// Files in a list (picked, pasted), each with the folder `webkitRelativePath` gives
/// when a folder was picked.
pub fn from_list(list: &FileList) -> Vec<Given> {
    (0..list.length())
        .filter_map(|index| list.get(index))
        .map(|file| {
            let relative = Reflect::get(&file, &JsValue::from_str("webkitRelativePath"))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            Given {
                file,
                folder: folder_of(&relative),
                handle: None,
            }
        })
        .collect()
}

/// What a drop holds, taken while the drop event is handled (the browser empties the
/// transfer afterwards): its handles where the browser gives them, and its entries.
pub struct DropContents {
    handles: Option<Vec<wasm_bindgen_futures::JsFuture>>,
    entries: Vec<Dropped>,
}

impl DropContents {
    pub fn take(transfer: &DataTransfer) -> Self {
        Self {
            handles: handles::of_drop(transfer),
            entries: entries(transfer),
        }
    }

    /// Every file dropped, folders walked: through their handles if the browser gave
    /// them (so the page keeps the files), else through their entries.
    pub async fn files(self) -> Vec<Given> {
        if let Some(handles) = self.handles
            && let Some(files) = handles::dropped_files(handles).await
        {
            return files;
        }
        files(self.entries).await
    }
}

/// The entries of a drop; walking folders happens later.
fn entries(transfer: &DataTransfer) -> Vec<Dropped> {
    let items = transfer.items();
    (0..items.length())
        .filter_map(|index| items.get(index))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| match item.webkit_get_as_entry() {
            Ok(Some(entry)) => Some(Dropped::Entry(entry)),
            // Synthetic transfers have no entries: the file itself.
            _ => item.get_as_file().ok().flatten().map(Dropped::File),
        })
        .collect()
}

/// A dropped item: an entry to walk, or a plain file.
enum Dropped {
    Entry(FileSystemEntry),
    File(web_sys::File),
}

/// Every file under the dropped items, folders walked depth-first; unreadable entries
/// are skipped.
async fn files(dropped: Vec<Dropped>) -> Vec<Given> {
    let mut out = Vec::new();
    let mut pending: Vec<FileSystemEntry> = Vec::new();
    for item in dropped {
        match item {
            Dropped::File(file) => out.push(Given {
                file,
                folder: String::new(),
                handle: None,
            }),
            Dropped::Entry(entry) => pending.push(entry),
        }
    }
    while let Some(entry) = pending.pop() {
        if entry.is_directory() {
            let directory: FileSystemDirectoryEntry = entry.unchecked_into();
            pending.extend(read_all(&directory).await);
        } else if let Ok(file) = file_of(entry.clone().unchecked_into()).await {
            out.push(Given {
                file,
                folder: folder_of(entry.full_path().trim_start_matches('/')),
                handle: None,
            });
        }
    }
    out
}

/// All entries of a directory: `readEntries` answers in batches until an empty one.
async fn read_all(directory: &FileSystemDirectoryEntry) -> Vec<FileSystemEntry> {
    let reader = directory.create_reader();
    let mut all = Vec::new();
    loop {
        let batch = settled(|resolve, reject| {
            let _ = reader.read_entries_with_callback_and_callback(resolve, reject);
        })
        .await;
        let Ok(batch) = batch else { break };
        let batch: Array = batch.unchecked_into();
        if batch.length() == 0 {
            break;
        }
        all.extend(batch.iter().map(JsCast::unchecked_into::<FileSystemEntry>));
    }
    all
}

async fn file_of(entry: FileSystemFileEntry) -> Result<web_sys::File, JsValue> {
    settled(|resolve, reject| entry.file_with_callback_and_callback(resolve, reject))
        .await
        .map(JsCast::unchecked_into)
}
