//! A file's bytes: ranges of it as blobs (nothing read until sent or read), and a
//! part's CRC32C read from the browser's memory a window at a time.

use gloo_file::File;
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use crate::api::ApiError;
use crate::core::checksum::Crc32c;

/// How much of a part is copied into WASM memory at a time for its checksum.
const CHECKSUM_CHUNK: u32 = 256 * 1024;

/// Bytes `[start, end)` of a file, as a plain blob (gloo's slice wraps each in a new
/// `File`, which costs the browser another look at the file).
pub fn slice(file: &File, start: u64, end: u64) -> Blob {
    let blob: &Blob = file.as_ref();
    // Offsets are at most 5 TiB: exact in f64.
    blob.slice_with_f64_and_f64(start as f64, end as f64)
        .unwrap_or_else(|_| blob.clone())
}

/// A part's (or a small file's) CRC32C. The browser reads the part into its own memory
/// once; only a small window of it at a time is copied into WASM's, so the page's memory
/// does not grow with the part size. (Reading through `Blob.stream()` instead, in 64 KiB
/// chunks, measured ~5% slower in the page: one await per chunk.)
pub async fn part_crc32c(blob: &Blob) -> Result<String, ApiError> {
    let unreadable =
        |e: JsValue| ApiError::Transport(format!("the browser could not read the file: {e:?}"));
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(unreadable)?;
    let bytes = Uint8Array::new(&buffer);
    let mut window = vec![0; CHECKSUM_CHUNK.min(bytes.length()) as usize];
    let mut crc = Crc32c::new();
    let mut at = 0;
    while at < bytes.length() {
        let end = (at + CHECKSUM_CHUNK).min(bytes.length());
        let piece = &mut window[..(end - at) as usize];
        bytes.subarray(at, end).copy_to(piece);
        crc.update(piece);
        at = end;
    }
    Ok(crc.finish())
}
