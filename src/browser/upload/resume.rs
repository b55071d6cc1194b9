//! Picking an upload up after a reload: a small file whose PUT had landed is found
//! stored; a multipart upload goes on from the parts the store holds, once a part of
//! them is shown to be the file's; parts sent before the reload get their checksums.

use std::collections::HashMap;

use gloo_file::File;

use super::calls::retrying;
use super::picked::{Picked, file_fingerprint};
use super::session::Session;
use super::shared::Shared;
use crate::api::{self, CompletedPart, Completion, StoredObject};
use crate::browser::file_bytes::{part_crc32c, slice};
use crate::browser::runtime::now_ms;
use crate::browser::saved;
use crate::core::plan::PartPlan;
use crate::core::transfer::SentPart;

/// The object of a small file this page started before it was reloaded, when its PUT
/// had landed: completing that upload again finds it, and nothing is sent.
pub async fn stored_before(shared: &Shared, picked: &Picked) -> Option<StoredObject> {
    if !shared.goes_in_one_put(picked.size) {
        return None;
    }
    let fingerprint = file_fingerprint(picked);
    let started = shared.started_before.clone().await;
    let before = started.borrow_mut().remove(&fingerprint)?;
    let completion = Completion {
        token: before.token,
        parts: Vec::new(),
    };
    match retrying(|| shared.completes.call(completion.clone())).await {
        Ok(stored) => Some(stored),
        Err(_) => {
            shared.journal.forget(&fingerprint);
            None
        }
    }
}

/// What a file's upload told when the file changed between its start and its resume.
pub const CHANGED: &str = "this file changed since its upload began (a part the store holds \
    is not the file's), so the unfinished upload was discarded: Retry uploads it as it is now";

/// How a saved upload of a file was picked up.
pub enum Resumed {
    /// It goes on from the parts the store holds.
    Session(Box<Session>),
    /// There is none, or it can no longer go on: a new upload starts.
    Fresh,
    /// The file is not the one the store holds parts of (same name, size and
    /// modification time, but a stored part differs): the upload with `token` is void.
    Changed { token: String },
}

/// Picks up a saved upload of the same file, if the store still has it. Only multipart
/// uploads are saved, and a file that goes in one PUT is never one.
pub async fn resume(shared: &Shared, picked: &Picked) -> Resumed {
    if shared.goes_in_one_put(picked.size) {
        return Resumed::Fresh;
    }
    let fingerprint = file_fingerprint(picked);
    let Some(saved) = saved::load(&fingerprint).await else {
        return Resumed::Fresh;
    };
    let fresh = (saved.expires_at as f64) * 1_000.0 > now_ms() + 60_000.0;
    let parts = if fresh && saved.size == picked.size {
        api::list_parts(saved.token.clone()).await.ok()
    } else {
        None
    };
    let Some(parts) = parts else {
        saved::remove(&fingerprint).await;
        return Resumed::Fresh;
    };
    // The store is the authority; a part of the wrong size is sent again.
    let parts: Vec<_> = parts
        .into_iter()
        .filter(|p| saved.plan.part_len(p.part_number) == Some(p.size))
        .collect();
    let stored_crc32c = parts
        .iter()
        .filter_map(|p| Some((p.part_number, p.crc32c.clone()?)))
        .collect::<HashMap<_, _>>();
    // The same file: the first of the parts the store holds, which the upload would be
    // completed with, still holds the file's bytes (read again: one part costs little
    // beside the rest of the file). Its checksum is the store's, or this page's record
    // of it; a file that cannot be shown to be the same is not resumed on top of them.
    if let Some(check) = parts.iter().map(|p| p.part_number).min() {
        let recorded = (saved.checked_part.as_ref())
            .filter(|(n, _)| *n == check)
            .map(|(_, crc32c)| crc32c);
        let same = match (
            stored_crc32c.get(&check).or(recorded),
            saved.plan.range(check),
        ) {
            (Some(stored), Some((start, end))) => {
                match part_crc32c(&slice(&picked.file, start, end)).await {
                    Ok(crc32c) => crc32c == *stored,
                    // A file that cannot be read fails when its parts are sent, saying so.
                    Err(_) => true,
                }
            }
            _ => false,
        };
        if !same {
            return Resumed::Changed { token: saved.token };
        }
    }
    let stored = parts
        .into_iter()
        .map(|p| SentPart {
            part_number: p.part_number,
            etag: p.etag,
        })
        .collect();
    Resumed::Session(Box::new(Session {
        fingerprint,
        name: saved.name,
        key: saved.key,
        token: saved.token,
        expires_at: saved.expires_at,
        plan: saved.plan,
        multipart: true,
        presigned: None,
        stored,
        stored_crc32c,
    }))
}

/// Fills in the CRC32C of parts sent before a reload to a store that does not list part
/// checksums, reading those parts again (one at a time); the store needs every part's
/// checksum to complete.
pub async fn with_checksums(
    file: &File,
    plan: &PartPlan,
    mut parts: Vec<CompletedPart>,
) -> Vec<CompletedPart> {
    for part in parts.iter_mut().filter(|p| p.crc32c.is_none()) {
        let Some((start, end)) = plan.range(part.part_number) else {
            continue;
        };
        if let Ok(crc) = part_crc32c(&slice(file, start, end)).await {
            part.crc32c = Some(crc);
        }
    }
    parts
}
