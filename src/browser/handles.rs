//! Files taken as File System Access handles, where the browser has the API (Chromium):
//! a handle is structured-cloneable, so IndexedDB keeps it ([`super::saved`]) and after
//! a reload or a crash one click opens the same files again, with no picking. Where the
//! API is missing, the pickers are `<input type=file>` and a drop gives entries, as
//! before ([`super::dropped`]).
//!
//! web-sys lacks the pickers and the drop's handles, and puts permissions behind an
//! unstable build flag, so the few calls used are declared here.

use js_sys::{Array, AsyncIterator, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, DataTransferItem, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemHandle, FileSystemHandleKind,
};

use super::given::{Given, Handle};
use crate::core::key::folder_of;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = showOpenFilePicker)]
    fn show_open_file_picker(options: &JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch, js_name = showDirectoryPicker)]
    fn show_directory_picker(options: &JsValue) -> Result<Promise, JsValue>;
    /// A drop's item, with what Chromium adds to it.
    #[wasm_bindgen(extends = DataTransferItem)]
    type ItemWithHandle;
    #[wasm_bindgen(method, catch, js_name = getAsFileSystemHandle)]
    fn get_as_file_system_handle(this: &ItemWithHandle) -> Result<Promise, JsValue>;
    /// A handle, with its permissions.
    #[wasm_bindgen(extends = FileSystemHandle)]
    type HandleWithPermission;
    #[wasm_bindgen(method, catch, js_name = requestPermission)]
    fn request_permission(
        this: &HandleWithPermission,
        descriptor: &JsValue,
    ) -> Result<Promise, JsValue>;
}

/// Whether the browser can give handles (and so the page can keep files).
pub fn supported() -> bool {
    web_sys::window()
        .is_some_and(|w| Reflect::has(&w, &JsValue::from_str("showOpenFilePicker")) == Ok(true))
}

/// Files the person picks in the browser's file picker; none when they close it.
pub async fn pick_files() -> Vec<Given> {
    let options = Object::new();
    let _ = Reflect::set(&options, &"multiple".into(), &JsValue::TRUE);
    let Ok(picked) = settle(show_open_file_picker(&options)).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for handle in Array::from(&picked).iter() {
        let root: FileSystemHandle = handle.unchecked_into();
        out.extend(walk(root, new_root_id()).await);
    }
    out
}

/// Every file of the folder the person picks (with the folder's own name first in each
/// file's folder, as a folder `<input>` gives it); none when they close the picker.
pub async fn pick_folder() -> Vec<Given> {
    let options = Object::new();
    let _ = Reflect::set(&options, &"mode".into(), &"read".into());
    match settle(show_directory_picker(&options)).await {
        Ok(folder) => walk(folder.unchecked_into(), new_root_id()).await,
        Err(_) => Vec::new(),
    }
}

/// The handles of a drop, asked for while the drop event is handled (the browser empties
/// the transfer afterwards); `None` where the browser has no handles for it (a synthetic
/// drop, or no API), so the drop's entries are walked instead.
pub fn of_drop(transfer: &DataTransfer) -> Option<Vec<JsFuture>> {
    if !supported() {
        return None;
    }
    let items = transfer.items();
    (0..items.length())
        .filter_map(|index| items.get(index))
        .filter(|item| item.kind() == "file")
        .map(|item| {
            let item: &ItemWithHandle = item.unchecked_ref();
            item.get_as_file_system_handle().ok().map(JsFuture::from)
        })
        .collect()
}

/// Every file under the dropped handles; `None` when any item had no handle (the
/// browser gives handles for all of a drop or none), so the entries are walked instead.
pub async fn dropped_files(handles: Vec<JsFuture>) -> Option<Vec<Given>> {
    let mut out = Vec::new();
    let root_id = new_root_id();
    for (index, handle) in handles.into_iter().enumerate() {
        let handle = handle
            .await
            .ok()
            .filter(|h| !h.is_null() && !h.is_undefined())?;
        out.extend(walk(handle.unchecked_into(), format!("{root_id}-{index}")).await);
    }
    Some(out)
}

/// Asks for read permission on `root` (the browser prompts where it must: after a
/// reload, once per folder); whether it is granted.
pub async fn ask_to_read(root: &FileSystemHandle) -> bool {
    let descriptor = Object::new();
    let _ = Reflect::set(&descriptor, &"mode".into(), &"read".into());
    let root: &HandleWithPermission = root.unchecked_ref();
    settle(root.request_permission(&descriptor))
        .await
        .ok()
        .and_then(|state| state.as_string())
        .is_some_and(|state| state == "granted")
}

/// Why a kept file could not be opened again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unopened {
    /// It was moved or deleted.
    Gone,
    /// The person did not allow reading it.
    NotAllowed,
    /// Anything else the browser refused.
    Unreadable,
}

/// Opens a kept file again.
pub async fn open(handle: &FileSystemFileHandle) -> Result<web_sys::File, Unopened> {
    match JsFuture::from(handle.get_file()).await {
        Ok(file) => Ok(file.unchecked_into()),
        Err(err) => Err(
            match Reflect::get(&err, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .as_deref()
            {
                Some("NotFoundError") => Unopened::Gone,
                Some("NotAllowedError" | "SecurityError") => Unopened::NotAllowed,
                _ => Unopened::Unreadable,
            },
        ),
    }
}

/// Every file under `root`, folders walked depth-first; unreadable entries are skipped.
async fn walk(root: FileSystemHandle, root_id: String) -> Vec<Given> {
    let mut out = Vec::new();
    let mut pending = vec![(root.clone(), String::new())];
    while let Some((handle, parent)) = pending.pop() {
        let path = match parent.as_str() {
            "" => handle.name(),
            parent => format!("{parent}/{}", handle.name()),
        };
        if handle.kind() == FileSystemHandleKind::Directory {
            let directory: FileSystemDirectoryHandle = handle.unchecked_into();
            for child in entries(directory.values()).await {
                pending.push((child, path.clone()));
            }
        } else {
            let file: FileSystemFileHandle = handle.unchecked_into();
            if let Ok(opened) = open(&file).await {
                out.push(Given {
                    file: opened,
                    folder: folder_of(&path),
                    handle: Some(Handle {
                        file,
                        root: root.clone(),
                        root_id: root_id.clone(),
                    }),
                });
            }
        }
    }
    out
}

/// What a directory's async iterator yields, until it ends or fails.
async fn entries(iterator: AsyncIterator) -> Vec<FileSystemHandle> {
    let mut out = Vec::new();
    while let Ok(next) = iterator.next().map(JsFuture::from) {
        let Ok(next) = next.await else { break };
        let done = Reflect::get(&next, &"done".into())
            .ok()
            .and_then(|d| d.as_bool());
        if done != Some(false) {
            break;
        }
        if let Ok(value) = Reflect::get(&next, &"value".into()) {
            out.push(value.unchecked_into());
        }
    }
    out
}

async fn settle(promise: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(promise?).await
}

fn new_root_id() -> String {
    format!(
        "{:x}-{:x}",
        super::runtime::now_ms() as u64,
        (js_sys::Math::random() * 1e12) as u64
    )
}
