//! One PUT of a blob to a presigned URL, with upload progress. `fetch` reports no
//! upload progress, so this is XHR, wrapped as a future that aborts the request if dropped.
//!
//! The body is always a slice of the file, which Chromium reads as it sends, not the
//! bytes the page read for the checksum. Sending those bytes saves the second read, but
//! `send` copies them (3.6 s of the page's CPU per GiB): through the page it measured
//! 0.7–2.4 s of Chromium's CPU per GiB less in all and 0–7 % faster, with the renderer's
//! peak memory twice as high (2026-12-04, bench/README.md). (Earlier measurements that
//! found bytes 10× slower were Playwright's own cost: it copied such bodies into its
//! DevTools events, see `end2end/playwright-post-data.mjs`.)

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, ProgressEvent, XmlHttpRequest};

use super::runtime::settled;
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

/// PUTs `body` (a slice of the file) to `url` with `headers`, calling `on_progress`
/// with the bytes sent so far. Answers the `ETag` the store returned (`None` if CORS
/// hides it).
pub async fn put(
    url: &str,
    headers: &[(String, String)],
    body: &Blob,
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
    xhr.send_with_opt_blob(Some(body))
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
        // The body tells an expired URL or changed bytes from other refusals; a throttle
        // may say how long to wait (readable where the store's CORS exposes it).
        status => Err(retry::classify(
            status,
            &xhr.response_text().ok().flatten().unwrap_or_default(),
            xhr.get_response_header("Retry-After")
                .ok()
                .flatten()
                .as_deref(),
        )),
    }
}
