//! What survives a page reload or a browser crash, in IndexedDB: each unfinished
//! multipart upload (when the person adds the same file again, it continues from the
//! parts the store already holds), and each small file's started upload (added again,
//! it is completed from what the store holds instead of sent again, so a folder goes
//! on from where it stopped). Best effort: where IndexedDB is unavailable (some private
//! modes), uploads still work, they just cannot resume after a reload.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

use super::settled;
use crate::core::plan::PartPlan;

const DATABASE: &str = "s3drop";
/// The database's version: 2 added [`FILES`].
const VERSION: u32 = 2;
/// Unfinished multipart uploads, by fingerprint.
const STORE: &str = "uploads";
/// Started single-PUT uploads, by fingerprint.
const FILES: &str = "files";
/// How long changes to [`FILES`] wait to be written together, in milliseconds.
const JOURNAL_FLUSH_MS: f64 = 200.0;

/// What the page remembers of an unfinished multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedUpload {
    /// Which file this is: see [`fingerprint`].
    pub fingerprint: String,
    pub name: String,
    pub size: u64,
    pub key: String,
    pub token: String,
    pub plan: PartPlan,
    /// Parts the store acknowledged, with their ETags.
    pub sent: Vec<(u32, String)>,
    /// When the token expires (seconds since the epoch); the record is useless after.
    pub expires_at: u64,
}

/// A small file's upload, started: its token completes it once its PUT has landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedFile {
    pub fingerprint: String,
    pub token: String,
    /// When the token expires (seconds since the epoch).
    pub expires_at: u64,
}

/// The started small files, written behind in batches (a folder starts hundreds a
/// second: one transaction each would keep IndexedDB busy); clones share one journal.
#[derive(Clone, Default)]
pub struct Journal(Rc<RefCell<JournalState>>);

#[derive(Default)]
struct JournalState {
    /// What to write: a record to keep, or `None` to forget the fingerprint.
    pending: Vec<(String, Option<String>)>,
    flushing: bool,
}

impl Journal {
    /// Keeps `file`'s record.
    pub fn remember(&self, file: &StartedFile) {
        if let Ok(json) = serde_json::to_string(file) {
            self.push(file.fingerprint.clone(), Some(json));
        }
    }

    /// Forgets the record of the file with `fingerprint`.
    pub fn forget(&self, fingerprint: &str) {
        self.push(fingerprint.to_owned(), None);
    }

    fn push(&self, fingerprint: String, record: Option<String>) {
        let start = {
            let mut state = self.0.borrow_mut();
            state.pending.push((fingerprint, record));
            !std::mem::replace(&mut state.flushing, true)
        };
        if start {
            let journal = self.clone();
            leptos::task::spawn_local(async move { journal.flush().await });
        }
    }

    async fn flush(self) {
        loop {
            super::sleep(JOURNAL_FLUSH_MS).await;
            let pending = std::mem::take(&mut self.0.borrow_mut().pending);
            if pending.is_empty() {
                self.0.borrow_mut().flushing = false;
                return;
            }
            let _ = write_all(FILES, &pending).await;
        }
    }
}

/// Every started small file whose token is still valid at `now_secs`, by fingerprint.
pub async fn started_files(now_secs: f64) -> HashMap<String, StartedFile> {
    let Ok(values) = run_in(FILES, IdbTransactionMode::Readonly, IdbObjectStore::get_all).await
    else {
        return HashMap::new();
    };
    js_sys::Array::from(&values)
        .iter()
        .filter_map(|v| serde_json::from_str::<StartedFile>(&v.as_string()?).ok())
        .filter(|f| (f.expires_at as f64) > now_secs)
        .map(|f| (f.fingerprint.clone(), f))
        .collect()
}

/// Identifies a file across page loads by what the browser tells of it: name, size and
/// modification time. Adding the same file again gives the same fingerprint.
pub fn fingerprint(name: &str, size: u64, last_modified_ms: f64) -> String {
    format!("{name}\u{1f}{size}\u{1f}{last_modified_ms}")
}

/// Saves (or replaces) a record.
pub async fn save(upload: &SavedUpload) {
    let Ok(json) = serde_json::to_string(upload) else {
        return;
    };
    let _ = run(IdbTransactionMode::Readwrite, |store| {
        store.put_with_key(
            &JsValue::from_str(&json),
            &JsValue::from_str(&upload.fingerprint),
        )
    })
    .await;
}

/// The record for a fingerprint, if any.
pub async fn load(fingerprint: &str) -> Option<SavedUpload> {
    let value = run(IdbTransactionMode::Readonly, |store| {
        store.get(&JsValue::from_str(fingerprint))
    })
    .await
    .ok()?;
    serde_json::from_str(&value.as_string()?).ok()
}

/// Forgets a record.
pub async fn remove(fingerprint: &str) {
    let _ = run(IdbTransactionMode::Readwrite, |store| {
        store.delete(&JsValue::from_str(fingerprint))
    })
    .await;
}

/// Every record.
pub async fn all() -> Vec<SavedUpload> {
    let Ok(values) = run(IdbTransactionMode::Readonly, IdbObjectStore::get_all).await else {
        return Vec::new();
    };
    js_sys::Array::from(&values)
        .iter()
        .filter_map(|v| serde_json::from_str(&v.as_string()?).ok())
        .collect()
}

/// Runs one request against the uploads' object store in a transaction of `mode`.
async fn run(
    mode: IdbTransactionMode,
    request: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue>,
) -> Result<JsValue, JsValue> {
    run_in(STORE, mode, request).await
}

/// Runs one request against object store `name` in a transaction of `mode`.
async fn run_in(
    name: &str,
    mode: IdbTransactionMode,
    request: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue>,
) -> Result<JsValue, JsValue> {
    let database = open().await?;
    let store = database
        .transaction_with_str_and_mode(name, mode)?
        .object_store(name)?;
    let result = settle(&request(&store)?).await;
    database.close();
    result
}

/// Puts (or, for `None`, deletes) every record in one transaction on store `name`.
async fn write_all(name: &str, records: &[(String, Option<String>)]) -> Result<(), JsValue> {
    let database = open().await?;
    let store = database
        .transaction_with_str_and_mode(name, IdbTransactionMode::Readwrite)?
        .object_store(name)?;
    let mut last = None;
    for (key, record) in records {
        let key = JsValue::from_str(key);
        last = Some(match record {
            Some(json) => store.put_with_key(&JsValue::from_str(json), &key)?,
            None => store.delete(&key)?,
        });
    }
    // A transaction's requests run in order: when the last has succeeded, all have.
    let result = match last {
        Some(request) => settle(&request).await.map(drop),
        None => Ok(()),
    };
    database.close();
    result
}

async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or(JsValue::NULL)?
        .indexed_db()?
        .ok_or(JsValue::NULL)?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, VERSION)?;
    let on_upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let database = event
            .target()
            .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|d| d.dyn_into::<IdbDatabase>().ok());
        if let Some(database) = database {
            let names = database.object_store_names();
            for name in [STORE, FILES] {
                if !names.contains(name) {
                    let _ = database.create_object_store(name);
                }
            }
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let database = settle(&request).await;
    drop(on_upgrade);
    database?.dyn_into::<IdbDatabase>()
}

/// Waits for a request to succeed or fail.
async fn settle(request: &IdbRequest) -> Result<JsValue, JsValue> {
    settled(|done, failed| {
        request.set_onsuccess(Some(done));
        request.set_onerror(Some(failed));
    })
    .await?;
    request.result()
}
