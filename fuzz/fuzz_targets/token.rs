//! Any bytes as an upload token, and as a token's claims, read as if the server had
//! signed them (the HMAC is checked first in real use; this reaches everything past it):
//! never a panic, and what opens has a plan whose every part can be asked for and a
//! token that opens the same. `token.dict` names the claims' fields.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use s3drop::core::token::{Claims, TokenError, open, seal};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(token) = std::str::from_utf8(bytes) {
        check(open(token, 0, |_, _| true));
    }
    let signed = format!("{}.tag", URL_SAFE_NO_PAD.encode(bytes));
    check(open(&signed, 0, |_, _| true));
});

fn check(opened: Result<Claims, TokenError>) {
    let Ok(claims) = opened else {
        return;
    };
    let plan = claims.plan;
    let mut covered = 0;
    for part in 1..=plan.part_count {
        let (start, end) = plan.range(part).expect("a planned part has a range");
        assert_eq!(start, covered, "parts follow one another");
        assert_eq!(plan.part_len(part), Some(end - start));
        covered = end;
    }
    assert_eq!(covered, plan.size, "the parts cover the file");
    assert_eq!(plan.range(0), None);
    assert_eq!(plan.range(plan.part_count + 1), None);
    let again = seal(&claims, |_| "tag".into());
    assert_eq!(open(&again, 0, |_, _| true), Ok(claims));
}
