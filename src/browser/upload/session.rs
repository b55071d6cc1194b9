//! One upload in progress, as its start (or its saved record) left it, and what is saved
//! of it for after a reload.

use std::collections::HashMap;

use crate::api::{CompletedPart, SignedPart};
use crate::browser::saved::SavedUpload;
use crate::core::plan::PartPlan;
use crate::core::transfer::SentPart;

/// One upload in progress: what the server said when it started (or what was saved).
pub struct Session {
    pub fingerprint: String,
    pub name: String,
    pub key: String,
    pub token: String,
    pub expires_at: u64,
    pub plan: PartPlan,
    /// Whether this is a multipart upload (saved for resuming) or a single PUT.
    pub multipart: bool,
    /// The single PUT's URL, when its start signed it with the file's checksum.
    pub presigned: Option<SignedPart>,
    /// Parts the store already holds (a resumed upload).
    pub stored: Vec<SentPart>,
    /// Their CRC32Cs, where the store listed them.
    pub stored_crc32c: HashMap<u32, String>,
}

impl Session {
    /// Makes `completed` (the parts of a refused completion) the parts the store holds,
    /// but for `again`, which the next transfer sends anew (all of them when `again` is
    /// empty: the browser may have sent a part twice without the page seeing it).
    pub fn send_again(&mut self, completed: &[CompletedPart], again: &[u32]) {
        let kept =
            || (completed.iter()).filter(|p| !again.is_empty() && !again.contains(&p.part_number));
        self.stored = kept()
            .map(|p| SentPart {
                part_number: p.part_number,
                etag: p.etag.clone(),
            })
            .collect();
        self.stored_crc32c = kept()
            .filter_map(|p| Some((p.part_number, p.crc32c.clone()?)))
            .collect();
    }
}

/// What is saved of an upload whose store holds `sent`; `crc32c` answers the checksum
/// this page read of a part, if it has.
pub fn record(
    session: &Session,
    sent: &[SentPart],
    crc32c: impl Fn(u32) -> Option<String>,
) -> SavedUpload {
    let lowest = sent.iter().map(|p| p.part_number).min();
    let checked_part = lowest.and_then(|n| {
        let crc32c = crc32c(n).or_else(|| session.stored_crc32c.get(&n).cloned())?;
        Some((n, crc32c))
    });
    SavedUpload {
        fingerprint: session.fingerprint.clone(),
        name: session.name.clone(),
        size: session.plan.size,
        key: session.key.clone(),
        token: session.token.clone(),
        plan: session.plan,
        sent: sent
            .iter()
            .map(|p| (p.part_number, p.etag.clone()))
            .collect(),
        expires_at: session.expires_at,
        checked_part,
    }
}
