//! The browser's clock and timers, and callbacks made futures: what every adapter here
//! and the upload engine wait on.

/// Milliseconds since the epoch, from the browser's clock (`Instant` panics on wasm32).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The page's path (`/l/…`), as the browser's address bar has it.
pub fn location_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// Waits `ms` milliseconds (clamped to a timer's range; delays are at most minutes).
pub async fn sleep(ms: f64) {
    gloo_timers::future::TimeoutFuture::new(ms.clamp(0.0, f64::from(u32::MAX)) as u32).await;
}

/// The future of an API that reports through a success and a failure callback (XHR's
/// events, IndexedDB's requests, the Entries API): `call` hooks the two functions up at
/// once, and the future settles with whichever fires first. A JS promise's own resolve
/// and reject serve as the callbacks, so no closure needs keeping alive.
pub fn settled(
    call: impl FnOnce(&js_sys::Function, &js_sys::Function),
) -> wasm_bindgen_futures::JsFuture {
    let mut call = Some(call);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        if let Some(call) = call.take() {
            call(&resolve, &reject);
        }
    });
    wasm_bindgen_futures::JsFuture::from(promise)
}
