//! Part checksums: CRC32C, as S3's `x-amz-checksum-crc32c` carries it (the big-endian
//! CRC in base64). The browser computes one per part and the server signs it into the
//! part's URL, so the store rejects a part whose bytes changed on the way.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crc::{CRC_32_ISCSI, Crc, Table};
use std::sync::LazyLock;

/// CRC32C (Castagnoli, "iSCSI"), with the slicing-by-16 table: 1.6 GiB/s in Chromium's
/// WASM here (`bench/crc`; opt-level "z" and "3" alike), so about 0.6 s of CPU per GiB,
/// against ~2 s for the browser to read the part. WASM has no carry-less multiply, the
/// instruction that makes CRCs fast natively; see bench/README.md for what was tried.
/// Built at first use, not at compile time: its 16 KiB of tables would otherwise sit in
/// the WASM bundle, where they do not compress.
static CRC32C: LazyLock<Crc<u32, Table<16>>> =
    LazyLock::new(|| Crc::<u32, Table<16>>::new(&CRC_32_ISCSI));

/// The `x-amz-checksum-crc32c` value of `bytes`.
pub fn crc32c(bytes: &[u8]) -> String {
    encode(CRC32C.checksum(bytes))
}

fn encode(crc: u32) -> String {
    STANDARD.encode(crc.to_be_bytes())
}

/// A CRC32C fed piece by piece, so a part can be checksummed through a small buffer
/// rather than copied whole.
pub struct Crc32c(crc::Digest<'static, u32, Table<16>>);

impl Crc32c {
    pub fn new() -> Self {
        Self(CRC32C.digest())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The `x-amz-checksum-crc32c` value of everything fed.
    pub fn finish(self) -> String {
        encode(self.0.finalize())
    }
}

impl Default for Crc32c {
    fn default() -> Self {
        Self::new()
    }
}

/// S3's composite checksum of a multipart object: the CRC32C of the parts' CRC32Cs (as
/// bytes, in part order), then `-` and the part count. `None` if any part lacks one.
pub fn composite_crc32c<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    let mut joined = Vec::new();
    let mut count = 0;
    for part in parts {
        joined.extend(STANDARD.decode(part?).ok().filter(|b| b.len() == 4)?);
        count += 1;
    }
    (count > 0).then(|| format!("{}-{count}", crc32c(&joined)))
}

/// The CRC32C of two pieces joined, from each piece's CRC32C and the second's length:
/// the whole file's checksum from its parts', without reading the file again. The
/// `crc` crate has no combination, so this is zlib's `crc32_combine` (multiplication
/// by x^(8·len) modulo the polynomial) for Castagnoli's polynomial.
pub fn combine(first: u32, second: u32, second_len: u64) -> u32 {
    multiply_mod_p(x_to_8n(second_len), first) ^ second
}

/// Castagnoli's polynomial, bit-reflected (x^0 is the highest bit).
const POLY: u32 = 0x82F6_3B78;

/// a·b modulo the polynomial, both reflected.
fn multiply_mod_p(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = 1 << 31;
    while bit != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        bit >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    product
}

/// x^(8n) modulo the polynomial: n zero bytes appended to a CRC.
fn x_to_8n(mut n: u64) -> u32 {
    let mut power = 1 << 31; // x^0
    let mut square = 1 << 23; // x^8, then x^16, x^32, …
    while n != 0 {
        if n & 1 != 0 {
            power = multiply_mod_p(square, power);
        }
        square = multiply_mod_p(square, square);
        n >>= 1;
    }
    power
}

/// The whole object's CRC32C (`x-amz-checksum-crc32c` form, S3's `FULL_OBJECT` type)
/// from each part's, in order, with its length: what a tool computes over the whole
/// file. `None` if any part lacks a well-formed one.
pub fn full_object_crc32c<'a>(
    parts: impl IntoIterator<Item = (Option<&'a str>, u64)>,
) -> Option<String> {
    let mut whole = 0;
    for (crc, len) in parts {
        whole = combine(whole, decode(crc?)?, len);
    }
    Some(encode(whole))
}

/// The CRC an `x-amz-checksum-crc32c` value carries.
pub fn decode(value: &str) -> Option<u32> {
    let bytes: [u8; 4] = STANDARD.decode(value).ok()?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

/// Whether an object's CRC32C is S3's composite (`…-N`, a checksum of the parts'
/// checksums) rather than the whole object's.
pub fn is_composite(value: &str) -> bool {
    value.contains('-')
}

/// Whether `value` has the shape of an `x-amz-checksum-crc32c` value (four bytes in base64).
pub fn is_crc32c(value: &str) -> bool {
    STANDARD.decode(value).is_ok_and(|bytes| bytes.len() == 4)
}

/// Whether a store's error body says the bytes did not match their signed checksum
/// (S3 and SeaweedFS: `BadDigest`; Garage: `InvalidDigest`): the bytes changed on the
/// way, and sending them again may succeed.
pub fn is_checksum_refusal(body: &str) -> bool {
    [
        "<Code>BadDigest<",
        "<Code>InvalidDigest<",
        "ChecksumMismatch",
    ]
    .iter()
    .any(|code| body.contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // The CRC32C of "hello" is 0x9a71bb4c; of "123456789" the standard check 0xe3069283.
        assert_eq!(crc32c(b"hello"), "mnG7TA==");
        assert_eq!(
            crc32c(b"123456789"),
            STANDARD.encode(0xe306_9283_u32.to_be_bytes())
        );
        assert_eq!(crc32c(b""), "AAAAAA==");
    }

    #[test]
    fn fed_in_pieces_equals_at_once() {
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut fed = Crc32c::new();
        for piece in bytes.chunks(4_096) {
            fed.update(piece);
        }
        assert_eq!(fed.finish(), crc32c(&bytes));
        assert_eq!(Crc32c::default().finish(), crc32c(b""));
    }

    #[test]
    fn composites_follow_the_parts() {
        let a = crc32c(b"first part");
        let b = crc32c(b"second part");
        let joined = [
            STANDARD.decode(&a).expect("base64"),
            STANDARD.decode(&b).expect("base64"),
        ]
        .concat();
        assert_eq!(
            composite_crc32c([Some(a.as_str()), Some(b.as_str())]),
            Some(format!("{}-2", crc32c(&joined)))
        );
        assert_eq!(composite_crc32c([Some(a.as_str()), None]), None);
        assert_eq!(composite_crc32c([Some("bad")]), None);
        assert_eq!(composite_crc32c(std::iter::empty()), None);
    }

    #[test]
    fn combined_parts_equal_the_whole() {
        let bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let whole = crc32c(&bytes);
        // (part size, what it covers): empty, one byte, exact boundaries, a short last part.
        for (part, len) in [
            (1, 1),
            (1, 2),
            (7, 7),
            (7, 8),
            (4_096, 4_096),
            (4_096, 12_288),
            (4_096, 10_000),
            (65_536, 70_000),
            (100_000, 70_000),
        ] {
            let covered = &bytes[..len];
            let parts: Vec<(String, u64)> = covered
                .chunks(part)
                .map(|c| (crc32c(c), c.len() as u64))
                .collect();
            assert_eq!(
                full_object_crc32c(parts.iter().map(|(c, l)| (Some(c.as_str()), *l))),
                Some(crc32c(covered)),
                "parts of {part} over {len} bytes"
            );
        }
        assert_eq!(full_object_crc32c(std::iter::empty()), Some(crc32c(b"")));
        assert_eq!(
            full_object_crc32c([(Some(whole.as_str()), 70_000), (None, 1)]),
            None
        );
        assert_eq!(full_object_crc32c([(Some("bad"), 1)]), None);
        // Appending an empty piece changes nothing; a zero-length first piece neither.
        let c = decode(&whole).expect("crc");
        assert_eq!(combine(c, 0, 0), c);
        assert_eq!(combine(0, c, 70_000), c);
    }

    #[test]
    fn combination_holds_at_any_length() {
        let crc = |b: &[u8]| decode(&crc32c(b)).expect("crc");
        let (a, b, c) = (crc(b"a"), crc(b"bb"), crc(b"ccc"));
        assert_eq!(combine(combine(a, b, 2), c, 3), crc(b"abbccc"));
        // Joining is associative whatever the lengths, up to S3's 5 TiB objects.
        for (b_len, c_len) in [(2, 3), (1 << 32, 5), (5 << 40, (1 << 40) + 7)] {
            assert_eq!(
                combine(combine(a, b, b_len), c, c_len),
                combine(a, combine(b, c, c_len), b_len + c_len),
                "{b_len} then {c_len}"
            );
        }
        assert_eq!(combine(0, 0, 1 << 40), 0);
    }

    #[test]
    fn composites_are_told_from_whole_object_checksums() {
        assert!(is_composite("mnG7TA==-3"));
        assert!(!is_composite("mnG7TA=="));
    }

    #[test]
    fn shapes() {
        assert!(is_crc32c("mnG7TA=="));
        for bad in ["", "mnG7", "mnG7TA", "not base64!", "AAAAAAAA"] {
            assert!(!is_crc32c(bad), "{bad:?}");
        }
    }

    #[test]
    fn checksum_refusals_are_recognised_from_each_store() {
        let body =
            |code: &str| format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code></Error>");
        assert!(is_checksum_refusal(&body("BadDigest")));
        assert!(is_checksum_refusal(&body("InvalidDigest")));
        assert!(!is_checksum_refusal(&body("InvalidArgument")));
        assert!(!is_checksum_refusal("plain text"));
    }
}

/// The checksum arithmetic against the plain CRC32C of the joined bytes, for any bytes
/// and any cut.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn value(bytes: &[u8]) -> u32 {
        decode(&crc32c(bytes)).expect("well-formed")
    }

    proptest! {
        #[test]
        fn two_pieces_combine_into_the_crc32c_of_both(
            first in prop::collection::vec(any::<u8>(), 0..2_000),
            second in prop::collection::vec(any::<u8>(), 0..2_000),
        ) {
            let joined = [first.as_slice(), second.as_slice()].concat();
            prop_assert_eq!(
                combine(value(&first), value(&second), second.len() as u64),
                value(&joined)
            );
        }

        #[test]
        fn parts_combine_into_the_whole_files_crc32c(
            bytes in prop::collection::vec(any::<u8>(), 0..8_000),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            at.extend([0, bytes.len()]);
            at.sort_unstable();
            let parts: Vec<(String, u64)> = at
                .windows(2)
                .map(|w| (crc32c(&bytes[w[0]..w[1]]), (w[1] - w[0]) as u64))
                .collect();
            let whole = full_object_crc32c(parts.iter().map(|(crc, len)| (Some(crc.as_str()), *len)));
            prop_assert_eq!(whole, Some(crc32c(&bytes)));
        }

        #[test]
        fn any_text_is_a_crc32c_or_not_without_panicking(text in ".{0,24}") {
            prop_assert_eq!(decode(&text).is_some(), is_crc32c(&text));
            let _ = full_object_crc32c([(Some(text.as_str()), 1)]);
            let _ = composite_crc32c([Some(text.as_str())]);
        }
    }
}
