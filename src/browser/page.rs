//! What the page asks of the browser beyond uploads: the clipboard, a yes-or-no
//! question, local times, the page's own origin, and short lists it keeps across visits
//! (local storage).

use wasm_bindgen_futures::JsFuture;

use crate::api::codec;

/// Copies `text` to the clipboard; answers whether the browser allowed it.
pub async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    JsFuture::from(window.navigator().clipboard().write_text(text))
        .await
        .is_ok()
}

/// Asks the person `question`; answers whether they said yes.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// A Unix time as the person's locale writes it.
pub fn local_time(secs: u64) -> String {
    // Display only: milliseconds as a float for the browser's Date.
    js_sys::Date::new(&((secs as f64) * 1_000.0).into())
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

/// The page's origin (`https://drop.example.com`), for the links it shows.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// `text` made safe in a URL's query.
pub fn query_value(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

/// The most entries a kept list holds (the oldest go first).
const MAX_KEPT: usize = 1_000;

/// The list kept under `name` (empty when there is none, or no storage).
pub fn kept_list(name: &str) -> Vec<String> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(name).ok().flatten())
        .and_then(|text| codec::from_str(&text).ok())
        .unwrap_or_default()
}

/// Adds `entry` to the list kept under `name` (once), keeping the newest.
pub fn keep_in_list(name: &str, entry: &str) {
    let mut list = kept_list(name);
    if list.iter().any(|e| e == entry) {
        return;
    }
    list.push(entry.to_owned());
    let extra = list.len().saturating_sub(MAX_KEPT);
    list.drain(..extra);
    if let (Some(storage), Ok(text)) = (
        web_sys::window().and_then(|w| w.local_storage().ok().flatten()),
        codec::to_string(&list),
    ) {
        // Full or refused storage: the list is a convenience, the files are stored.
        let _ = storage.set_item(name, &text);
    }
}
