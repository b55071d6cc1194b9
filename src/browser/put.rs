//! One PUT of a blob to a presigned URL, with upload progress. `fetch` reports no
//! upload progress, so this is XHR, wrapped as a future that aborts the request if dropped.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, ProgressEvent, XmlHttpRequest};

/// What a PUT sends.
pub enum Body {
    /// A slice of the file: the browser reads it as it sends.
    Blob(Blob),
    /// Bytes already read (a small file, read for its checksum): sending them spares the
    /// browser its synchronous look at the file on disk, which costs more than a small
    /// file's whole upload. (Not for large parts: bytes from the page cost Chromium far
    /// more to send than a slice it reads itself.)
    Bytes(Uint8Array),
}

use super::settled;
use crate::core::retry::{self, Failure};

/// Aborts the request when the future owning it is dropped (an upload cancelled).
struct AbortOnDrop {
    xhr: XmlHttpRequest,
    done: bool,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.xhr.abort();
        }
    }
}

/// PUTs `body` to `url` with `headers`, calling `on_progress` with the bytes sent so
/// far. Answers the `ETag` the store returned (`None` if CORS hides it).
pub async fn put(
    url: &str,
    headers: &[(String, String)],
    body: &Body,
    on_progress: impl Fn(u64) + 'static,
) -> Result<Option<String>, Failure> {
    let xhr = XmlHttpRequest::new().map_err(|_| Failure::Network)?;
    xhr.open_with_async("PUT", url, true)
        .map_err(|_| Failure::Network)?;
    for (name, value) in headers {
        xhr.set_request_header(name, value)
            .map_err(|_| Failure::Network)?;
    }

    let finished = settled(|loaded, failed| {
        xhr.set_onload(Some(loaded));
        xhr.set_onerror(Some(failed));
        xhr.set_onabort(Some(failed));
        xhr.set_ontimeout(Some(failed));
    });
    let on_upload_progress =
        Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            // Progress counts are byte counts well within f64's exact range.
            on_progress(event.loaded() as u64);
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_upload_progress.as_ref().unchecked_ref()));
    }

    let mut guard = AbortOnDrop {
        xhr: xhr.clone(),
        done: false,
    };
    match body {
        Body::Blob(blob) => xhr.send_with_opt_blob(Some(blob)),
        Body::Bytes(bytes) => xhr.send_with_opt_js_u8_array(Some(bytes)),
    }
    .map_err(|_| Failure::Network)?;
    let loaded = finished.await.is_ok();
    guard.done = true;

    // The progress closure must outlive the request; drop it only now.
    drop(on_upload_progress);
    if !loaded {
        return Err(Failure::Network);
    }
    match xhr.status().map_err(|_| Failure::Network)? {
        200..=299 => Ok(xhr.get_response_header("ETag").ok().flatten()),
        0 => Err(Failure::Network),
        // The body tells an expired URL or changed bytes from other refusals.
        status => Err(retry::classify(
            status,
            &xhr.response_text().ok().flatten().unwrap_or_default(),
        )),
    }
}
