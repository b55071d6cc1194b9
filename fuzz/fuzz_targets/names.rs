//! Any name, folder and type a page can send, and any key a bucket can list: checked or
//! refused without a panic; what is accepted makes a key that stays under the prefix and
//! reads back as the file's path, and a download header with nothing that could end it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3drop::core::key::{
    Date, attachment_disposition, display_name, folder_of, object_key, uploaded_path,
};
use s3drop::core::policy::{check_folder, check_name, normalise_type};

const PREFIX: &str = "uploads/";
const DATE: Date = Date {
    year: 2026,
    month: 12,
    day: 4,
};
const ID: &str = "0123456789abcdef0123456789abcdef";

fuzz_target!(|input: (&str, &str, &str, &str)| {
    let (name, folder, content_type, listed) = input;
    if let Ok(normal) = normalise_type(content_type) {
        assert!(!normal.chars().any(char::is_control), "{normal:?}");
    }
    let _ = uploaded_path(PREFIX, listed);
    let _ = folder_of(listed);

    let disposition = attachment_disposition(name);
    assert!(
        disposition
            .chars()
            .all(|c| c == ' ' || c.is_ascii_graphic()),
        "a header value: {disposition:?}"
    );

    if check_name(name).is_err() || check_folder(folder).is_err() {
        return;
    }
    let key = object_key(PREFIX, DATE, ID, folder, name);
    let path = uploaded_path(PREFIX, &key).expect("a key s3drop made is its own");
    assert!(path.ends_with(display_name(&key)), "{key:?}");
    assert!(!display_name(&key).is_empty(), "{key:?}");
    assert!(
        !key.split('/')
            .any(|s| s.is_empty() || s == "." || s == ".."),
        "no empty or dot segment: {key:?}"
    );
});
