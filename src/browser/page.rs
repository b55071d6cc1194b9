//! What the page asks of the browser beyond uploads: the clipboard, a yes-or-no
//! question, local times, the page's own origin.

use wasm_bindgen_futures::JsFuture;

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
