//! Exports for `bench/bench.mjs`: it writes bytes into [`buffer`], then times
//! [`crc32c`], the page's own checksum fed through the same 256 KiB window the page
//! uses (`browser::file_bytes`), and checks the answer against its own JavaScript CRC32C.

use std::sync::Mutex;

use s3drop::core::checksum::{Crc32c, decode};

/// The page copies a part into WASM memory this much at a time.
const WINDOW: usize = 256 * 1024;

static BYTES: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Makes room for `len` bytes and answers where they start in WASM memory, for the
/// caller to fill before calling [`crc32c`].
#[unsafe(no_mangle)]
pub extern "C" fn buffer(len: u32) -> u32 {
    let mut bytes = BYTES.lock().unwrap_or_else(|e| e.into_inner());
    *bytes = vec![0; len as usize];
    bytes.as_mut_ptr() as u32
}

/// The CRC32C of the buffer, as the page computes a part's.
#[unsafe(no_mangle)]
pub extern "C" fn crc32c() -> u32 {
    let bytes = BYTES.lock().unwrap_or_else(|e| e.into_inner());
    let mut crc = Crc32c::new();
    for window in bytes.chunks(WINDOW) {
        crc.update(window);
    }
    decode(&crc.finish()).unwrap_or_default()
}
