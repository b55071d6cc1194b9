//! What survives a page reload or a browser crash, in IndexedDB: each unfinished
//! multipart upload (when the file comes back, it continues from the parts the store
//! already holds), each small file's started upload (it is completed from what the
//! store holds instead of sent again, so a folder goes on from where it stopped), and,
//! where the browser gives handles, each unfinished file's handle, so the page can open
//! the files again itself ("Resume all") instead of the person adding them again.
//! Best effort: where IndexedDB is unavailable (some private modes), uploads still
//! work, they just cannot resume after a reload.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

use super::given::Handle;
use super::runtime::settled;
use crate::api::codec;
use crate::core::plan::PartPlan;
use crate::core::token::DEFAULT_LIFETIME_SECS;

const DATABASE: &str = "s3drop";
/// The database's version: 2 added [`FILES`], 3 [`KEPT`].
const VERSION: u32 = 3;
/// Unfinished multipart uploads, by fingerprint.
const STORE: &str = "uploads";
/// Started single-PUT uploads, by fingerprint.
pub const FILES: &str = "files";
/// The handles of files not yet uploaded, by fingerprint.
pub const KEPT: &str = "kept";
/// How long changes to a journal wait to be written together, in milliseconds.
const JOURNAL_FLUSH_MS: f64 = 200.0;
/// How long a file's handle is kept, in seconds: the server's default token lifetime
/// (an upload started from it can be resumed that long).
pub const KEPT_FOR_SECS: f64 = DEFAULT_LIFETIME_SECS as f64;

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
    /// The lowest-numbered part the store acknowledged, with its CRC32C: a file resumed
    /// must still hold those bytes there (for stores that do not list part checksums).
    #[serde(default)]
    pub checked_part: Option<(u32, String)>,
}

/// A small file's upload, started: its token completes it once its PUT has landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedFile {
    pub fingerprint: String,
    pub token: String,
    /// When the token expires (seconds since the epoch).
    pub expires_at: u64,
}

/// A file the page can open again after a reload, kept until its upload ends.
#[derive(Debug, Clone)]
pub struct KeptFile {
    pub fingerprint: String,
    /// `folder/name`, as the page shows it.
    pub path: String,
    pub folder: String,
    pub size: u64,
    /// Its modification time when it was added (ms since the epoch).
    pub modified_ms: f64,
    pub handle: Handle,
    /// When the record is forgotten (seconds since the epoch).
    pub until: f64,
}

impl KeptFile {
    /// The record as IndexedDB keeps it: an object, since handles are cloned, not
    /// serialised.
    fn to_js(&self) -> JsValue {
        let record = js_sys::Object::new();
        let fields: [(&str, JsValue); 9] = [
            ("fingerprint", self.fingerprint.as_str().into()),
            ("path", self.path.as_str().into()),
            ("folder", self.folder.as_str().into()),
            ("size", (self.size as f64).into()),
            ("modified", self.modified_ms.into()),
            ("file", self.handle.file.clone().into()),
            ("root", self.handle.root.clone().into()),
            ("rootId", self.handle.root_id.as_str().into()),
            ("until", self.until.into()),
        ];
        for (name, value) in fields {
            let _ = js_sys::Reflect::set(&record, &name.into(), &value);
        }
        record.into()
    }

    fn from_js(record: &JsValue) -> Option<Self> {
        let get = |name: &str| js_sys::Reflect::get(record, &name.into()).ok();
        let text = |name: &str| get(name)?.as_string();
        let number = |name: &str| get(name)?.as_f64();
        let file = get("file")?
            .dyn_into::<web_sys::FileSystemFileHandle>()
            .ok()?;
        let root = get("root")?.dyn_into::<web_sys::FileSystemHandle>().ok()?;
        Some(Self {
            fingerprint: text("fingerprint")?,
            path: text("path")?,
            folder: text("folder")?,
            size: number("size")? as u64,
            modified_ms: number("modified")?,
            handle: Handle {
                file,
                root,
                root_id: text("rootId")?,
            },
            until: number("until")?,
        })
    }
}

/// Records written behind in batches to one object store (a folder starts hundreds of
/// files a second: one transaction each would keep IndexedDB busy); clones share one
/// journal.
#[derive(Clone)]
pub struct Journal(Rc<RefCell<JournalState>>);

struct JournalState {
    store: &'static str,
    /// What to write: a record to keep, or `None` to forget the fingerprint.
    pending: Vec<(String, Option<JsValue>)>,
    flushing: bool,
}

impl Journal {
    /// A journal of object store `store` ([`FILES`] or [`KEPT`]).
    pub fn new(store: &'static str) -> Self {
        Self(Rc::new(RefCell::new(JournalState {
            store,
            pending: Vec::new(),
            flushing: false,
        })))
    }

    /// Keeps a started file's record.
    pub fn remember(&self, file: &StartedFile) {
        if let Ok(json) = codec::to_string(file) {
            self.push(file.fingerprint.clone(), Some(JsValue::from_str(&json)));
        }
    }

    /// Keeps a file's handle.
    pub fn keep(&self, file: &KeptFile) {
        self.push(file.fingerprint.clone(), Some(file.to_js()));
    }

    /// Forgets the record of the file with `fingerprint`.
    pub fn forget(&self, fingerprint: &str) {
        self.push(fingerprint.to_owned(), None);
    }

    fn push(&self, fingerprint: String, record: Option<JsValue>) {
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
            super::runtime::sleep(JOURNAL_FLUSH_MS).await;
            let (store, pending) = {
                let mut state = self.0.borrow_mut();
                (state.store, std::mem::take(&mut state.pending))
            };
            if pending.is_empty() {
                self.0.borrow_mut().flushing = false;
                return;
            }
            let _ = write_all(store, &pending).await;
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
        .filter_map(|v| codec::from_str::<StartedFile>(&v.as_string()?).ok())
        .filter(|f| (f.expires_at as f64) > now_secs)
        .map(|f| (f.fingerprint.clone(), f))
        .collect()
}

/// Every kept file whose record is still valid at `now_secs`; the expired ones are
/// forgotten.
pub async fn kept_files(now_secs: f64) -> Vec<KeptFile> {
    let Ok(values) = run_in(KEPT, IdbTransactionMode::Readonly, IdbObjectStore::get_all).await
    else {
        return Vec::new();
    };
    let (valid, expired): (Vec<_>, Vec<_>) = js_sys::Array::from(&values)
        .iter()
        .filter_map(|v| KeptFile::from_js(&v))
        .partition(|f| f.until > now_secs);
    if !expired.is_empty() {
        let forget: Vec<_> = expired.into_iter().map(|f| (f.fingerprint, None)).collect();
        let _ = write_all(KEPT, &forget).await;
    }
    valid
}

/// Forgets the kept files with `fingerprints`, in one transaction.
pub async fn forget_kept(fingerprints: &[String]) {
    if fingerprints.is_empty() {
        return;
    }
    let forget: Vec<_> = fingerprints.iter().map(|f| (f.clone(), None)).collect();
    let _ = write_all(KEPT, &forget).await;
}

/// Identifies a file across page loads by what the browser tells of it: name, size and
/// modification time. Adding the same file again gives the same fingerprint.
pub fn fingerprint(name: &str, size: u64, last_modified_ms: f64) -> String {
    format!("{name}\u{1f}{size}\u{1f}{last_modified_ms}")
}

/// Saves (or replaces) a record.
pub async fn save(upload: &SavedUpload) {
    let Ok(json) = codec::to_string(upload) else {
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
    codec::from_str(&value.as_string()?).ok()
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
        .filter_map(|v| codec::from_str(&v.as_string()?).ok())
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
async fn write_all(name: &str, records: &[(String, Option<JsValue>)]) -> Result<(), JsValue> {
    let database = open().await?;
    let store = database
        .transaction_with_str_and_mode(name, IdbTransactionMode::Readwrite)?
        .object_store(name)?;
    let mut last = None;
    for (key, record) in records {
        let key = JsValue::from_str(key);
        last = Some(match record {
            Some(value) => store.put_with_key(value, &key)?,
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
            for name in [STORE, FILES, KEPT] {
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
