//! Unfinished multipart uploads kept in IndexedDB, so an upload survives a page reload
//! or a browser crash: when the person adds the same file again, it continues from the
//! parts the store already holds. Best effort: where IndexedDB is unavailable (some
//! private modes), uploads still work, they just cannot resume after a reload.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

use crate::core::plan::PartPlan;

const DATABASE: &str = "s3drop";
const STORE: &str = "uploads";

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

/// Runs one request against the object store in a transaction of `mode`.
async fn run(
    mode: IdbTransactionMode,
    request: impl FnOnce(&IdbObjectStore) -> Result<IdbRequest, JsValue>,
) -> Result<JsValue, JsValue> {
    let database = open().await?;
    let store = database
        .transaction_with_str_and_mode(STORE, mode)?
        .object_store(STORE)?;
    let result = settle(&request(&store)?).await;
    database.close();
    result
}

async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or(JsValue::NULL)?
        .indexed_db()?
        .ok_or(JsValue::NULL)?;
    let request: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1)?;
    let on_upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let database = event
            .target()
            .and_then(|t| t.dyn_into::<IdbOpenDbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|d| d.dyn_into::<IdbDatabase>().ok());
        if let Some(database) = database {
            let _ = database.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let database = settle(&request).await;
    drop(on_upgrade);
    database?.dyn_into::<IdbDatabase>()
}

/// Waits for a request to succeed or fail.
async fn settle(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let (sender, receiver) = oneshot::channel::<bool>();
    let sender = Rc::new(RefCell::new(Some(sender)));
    let settle_with = |ok: bool| {
        let sender = sender.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(sender) = sender.borrow_mut().take() {
                let _ = sender.send(ok);
            }
        })
    };
    let on_success = settle_with(true);
    let on_error = settle_with(false);
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let ok = receiver.await.unwrap_or(false);
    drop((on_success, on_error));
    if ok {
        request.result()
    } else {
        Err(JsValue::NULL)
    }
}
