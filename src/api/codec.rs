//! The wire's JSON, as each build writes and reads it: serde_json on the server; in the
//! browser, the browser's own `JSON.parse` and `JSON.stringify`, with serde-wasm-bindgen
//! between them and Rust values, which leaves serde_json's parser and printer out of the
//! page's WASM. The text on the wire is the same JSON either way (what scripts and the
//! documented API send and read): `None` is `null`, maps are objects.
//!
//! [`Json`] is the server functions' codec (their arguments, answers and errors); the
//! page keeps its own records (IndexedDB, local storage) with [`to_string`] and
//! [`from_str`] too.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON in the body of a POST, written and read as this build does.
pub type Json = Post<WireJson>;

/// See the module's doc.
pub struct WireJson;

impl ContentType for WireJson {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for WireJson {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for WireJson {
    type Error = String;

    fn encode(value: &T) -> Result<Bytes, String> {
        to_string(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for WireJson {
    type Error = String;

    fn decode(bytes: Bytes) -> Result<T, String> {
        from_slice(&bytes)
    }
}

/// `value` as JSON text.
#[cfg(not(feature = "hydrate"))]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

/// A value read from JSON text.
#[cfg(not(feature = "hydrate"))]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// A value read from JSON bytes.
#[cfg(not(feature = "hydrate"))]
fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// `value` as JSON text.
#[cfg(feature = "hydrate")]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let value = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())?;
    js_sys::JSON::stringify(&value)
        .map(String::from)
        .map_err(|_| "a value JSON cannot hold".to_owned())
}

/// A value read from JSON text.
#[cfg(feature = "hydrate")]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not JSON".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

/// A value read from JSON bytes.
#[cfg(feature = "hydrate")]
fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    from_str(std::str::from_utf8(bytes).map_err(|e| e.to_string())?)
}
