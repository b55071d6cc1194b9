//! Completing uploads: the parts the page lists checked against the plan and against
//! what the store holds, the whole file's CRC32C combined from its parts', and the
//! object's size checked; a completion asked again finds the finished object. An upload
//! whose link was revoked or expired meanwhile is cancelled instead; the stored ones
//! are recorded, one transaction per batch.

use std::collections::{HashMap, HashSet};

use futures::{StreamExt, stream};

use crate::api::error::ApiError;
use crate::api::types::{Answer, CompletedPart, Completion, StoredObject, UploadState};
use crate::core::checksum::{composite_crc32c, full_object_crc32c, is_crc32c};
use crate::core::key::attachment_disposition;
use crate::core::link::{LinkRefusal, check_open};
use crate::core::plan::PartPlan;
use crate::server::links::{self, LinksError};
use crate::server::record;
use crate::server::s3::client::{ListedPart, PartToComplete};
use crate::server::state::{AppState, app_state};
use crate::server::system;
use crate::server::token::Claims;
use crate::server::upload::abort::clear;
use crate::server::upload::{STORE_CALLS_AT_ONCE, check_batch, request_host, verify};

pub async fn complete_upload(
    token: String,
    parts: Vec<CompletedPart>,
) -> Result<StoredObject, ApiError> {
    complete_uploads(vec![Completion { token, parts }])
        .await?
        .pop()
        .unwrap_or(Err(ApiError::Internal))
}

/// Completes a batch: each token checked, the links the uploads came through checked
/// once each (an upload behind a revoked or expired link is cancelled instead), the
/// rest completed in the store a few at a time, and the stored ones recorded together.
pub async fn complete_uploads(
    uploads: Vec<Completion>,
) -> Result<Vec<Answer<StoredObject>>, ApiError> {
    check_batch(uploads.len())?;
    let state = app_state()?;
    let host = request_host();
    let now = system::now_secs();
    let verified: Vec<Result<(Claims, Vec<CompletedPart>), ApiError>> = uploads
        .into_iter()
        .map(|Completion { token, parts }| Ok((verify(&state, &token)?, parts)))
        .collect();
    let links = verified
        .iter()
        .flatten()
        .filter_map(|(c, _)| c.link.clone());
    let closed = closed_links(&state, links, now).await?;
    let answers: Vec<Answer<StoredObject>> = stream::iter(verified)
        .map(|entry| async {
            let (claims, parts) = entry?;
            if let Some(refusal) = claims.link.as_ref().and_then(|id| closed.get(id))
                && cancel(&state, &claims, refusal, now).await?
            {
                return Err(ApiError::Refused(format!(
                    "{refusal}: the upload was cancelled, and nothing of it was kept"
                )));
            }
            complete_one(&state, host.as_deref(), &claims, parts).await
        })
        .buffered(STORE_CALLS_AT_ONCE)
        .collect()
        .await;
    let stored: Vec<(String, Option<String>)> = answers
        .iter()
        .flatten()
        .map(|object| (object.key.clone(), object.crc32c.clone()))
        .collect();
    record::stored(&state.database, &stored, now).await?;
    state.deliveries.now();
    Ok(answers)
}

/// Why each of `links` takes no more files, for those that take none.
async fn closed_links(
    state: &AppState,
    links: impl Iterator<Item = String>,
    now: u64,
) -> Result<HashMap<String, LinkRefusal>, ApiError> {
    let mut closed = HashMap::new();
    for id in links.collect::<HashSet<_>>() {
        let refusal = match links::find(&state.database, &id).await {
            Ok(link) => check_open(link.expires_at, link.revoked_at, now).err(),
            Err(LinksError::NotFound(_)) => Some(LinkRefusal::Revoked),
            Err(other) => return Err(other.into()),
        };
        if let Some(refusal) = refusal {
            closed.insert(id, refusal);
        }
    }
    Ok(closed)
}

/// Cancels an upload whose link closed before it completed: its record ends, what it
/// held is given back, and the store keeps nothing of it. Answers false when it was
/// stored already (finished stays finished).
async fn cancel(
    state: &AppState,
    claims: &Claims,
    refusal: &LinkRefusal,
    now: u64,
) -> Result<bool, ApiError> {
    let reason = refusal.to_string();
    let keys = [claims.key.clone()];
    let ended = record::ended(&state.database, &keys, UploadState::Cancelled, &reason, now).await?;
    if ended.is_empty() {
        // Ended before (the link's revocation did it), or stored.
        let stored = record::state_of(&state.database, &claims.key).await?;
        return Ok(stored != Some(UploadState::Stored));
    }
    clear(state, &claims.key, claims.upload_id.as_deref()).await?;
    state.metrics.aborted.inc();
    tracing::info!(key = %claims.key, %reason, "upload cancelled at completion");
    Ok(true)
}

/// Verifies one upload's claims' parts, completes it, and counts and logs the outcome.
async fn complete_one(
    state: &AppState,
    host: Option<&str>,
    claims: &Claims,
    parts: Vec<CompletedPart>,
) -> Result<StoredObject, ApiError> {
    let result = finish(state, host, claims, parts).await;
    match &result {
        Ok(stored) => {
            state.metrics.completed.inc();
            state.metrics.bytes_completed.inc_by(stored.size);
            let seconds = system::now_secs().saturating_sub(claims.started_at);
            let crc32c = stored.crc32c.as_deref().unwrap_or("none");
            tracing::info!(key = %claims.key, size = stored.size, seconds, crc32c, "upload completed");
        }
        Err(err) => {
            state.metrics.failed.inc();
            tracing::warn!(key = %claims.key, reason = %err, "upload completion refused");
        }
    }
    result
}

/// Checks the stored parts (or single object) against the plan and completes.
async fn finish(
    state: &AppState,
    host: Option<&str>,
    claims: &Claims,
    parts: Vec<CompletedPart>,
) -> Result<StoredObject, ApiError> {
    // The whole file's checksum from the parts, for stores that do not record one.
    let mut from_parts = None;
    match &claims.upload_id {
        None if !parts.is_empty() => {
            return Err(ApiError::BadRequest(
                "a single-PUT upload is completed without parts".into(),
            ));
        }
        None => {}
        Some(upload_id) => {
            check_parts(&claims.plan, &parts)?;
            match state.storage.list_parts(&claims.key, upload_id).await {
                Ok(stored) => {
                    let parts = check_stored(&claims.plan, &parts, &stored)?;
                    // The whole file's CRC32C, combined from the parts' (no second read).
                    let whole = full_object_crc32c(parts.iter().map(|p| {
                        let len = claims.plan.part_len(p.part_number).unwrap_or_default();
                        (p.crc32c.as_deref(), len)
                    }));
                    from_parts = match claims.full_object {
                        true => whole.clone(),
                        false => composite_crc32c(parts.iter().map(|p| p.crc32c.as_deref())),
                    };
                    let parts: Vec<PartToComplete> = parts
                        .into_iter()
                        .map(|p| PartToComplete {
                            number: p.part_number,
                            etag: p.etag,
                            crc32c: p.crc32c,
                        })
                        .collect();
                    let full_object_crc32c = whole.filter(|_| claims.full_object);
                    state
                        .storage
                        .complete_multipart(
                            &claims.key,
                            upload_id,
                            &parts,
                            full_object_crc32c.as_deref(),
                        )
                        .await
                        .map_err(|err| match err.code() {
                            // Every part matched the store's own list just now: what it
                            // completes with is an unfinished try it does not list.
                            Some("InvalidPart") => ApiError::PartToSendAgain,
                            _ => err.into(),
                        })?;
                }
                // Completed already (a retried call whose first answer was lost): the
                // object itself is checked below, so completing is idempotent.
                Err(err) if err.is_no_such_upload() => {}
                Err(other) => return Err(other.into()),
            }
        }
    }
    let info = state
        .storage
        .find(&claims.key)
        .await?
        .ok_or_else(|| ApiError::NotFound("the file has not been uploaded".into()))?;
    if info.size != claims.plan.size {
        return Err(ApiError::BadRequest(format!(
            "the store holds {} bytes but the file has {}",
            info.size, claims.plan.size
        )));
    }
    let download_url = state
        .storage
        .presign_get(host, &claims.key, &attachment_disposition(&claims.name))
        .await?;
    Ok(StoredObject {
        key: claims.key.clone(),
        name: claims.name.clone(),
        size: info.size,
        content_type: claims.content_type.clone(),
        etag: info.etag,
        crc32c: info.crc32c.or(from_parts),
        download_url,
    })
}

/// The parts the browser lists must be exactly 1..=count, in order, each with an ETag.
fn check_parts(plan: &PartPlan, parts: &[CompletedPart]) -> Result<(), ApiError> {
    if parts.len() != plan.part_count as usize {
        return Err(ApiError::BadRequest(format!(
            "the upload has {} parts; {} were listed",
            plan.part_count,
            parts.len()
        )));
    }
    for (expected, part) in (1..).zip(parts) {
        if part.part_number != expected {
            return Err(ApiError::BadRequest(format!(
                "parts must be listed once each, in order: expected part {expected}, got {}",
                part.part_number
            )));
        }
        if part.etag.trim().is_empty() {
            return Err(ApiError::BadRequest(format!("part {expected} has no ETag")));
        }
        if part.crc32c.as_deref().is_some_and(|c| !is_crc32c(c)) {
            return Err(ApiError::BadRequest(format!(
                "part {expected}'s CRC32C is not four bytes in base64"
            )));
        }
    }
    Ok(())
}

/// What the store holds must match the plan's sizes and the browser's ETags and
/// checksums; answers the parts to complete with, each with its CRC32C (the store's,
/// or the browser's where the store lists none).
fn check_stored(
    plan: &PartPlan,
    parts: &[CompletedPart],
    stored: &[ListedPart],
) -> Result<Vec<CompletedPart>, ApiError> {
    parts
        .iter()
        .map(|part| {
            let n = part.part_number;
            let held = stored
                .iter()
                .find(|s| s.number == n)
                .ok_or_else(|| ApiError::BadRequest(format!("part {n} is not in the store")))?;
            let planned = plan.part_len(n).unwrap_or_default();
            if held.size != planned {
                return Err(ApiError::BadRequest(format!(
                    "part {n} in the store is {} bytes; the plan says {planned}",
                    held.size
                )));
            }
            if held.etag.trim_matches('"') != part.etag.trim_matches('"') {
                return Err(ApiError::BadRequest(format!(
                    "part {n}'s ETag does not match the store's"
                )));
            }
            let crc32c = match (&held.crc32c, &part.crc32c) {
                (Some(held), Some(sent)) if held != sent => {
                    return Err(ApiError::BadRequest(format!(
                        "part {n}'s CRC32C does not match the store's"
                    )));
                }
                (Some(value), _) | (None, Some(value)) => Some(value.clone()),
                (None, None) => None,
            };
            Ok(CompletedPart {
                crc32c,
                ..part.clone()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::MIB;

    fn plan() -> PartPlan {
        PartPlan::new(12 * MIB, 5 * MIB).expect("plannable")
    }

    fn listed(numbers: &[u32]) -> Vec<CompletedPart> {
        numbers
            .iter()
            .map(|&n| CompletedPart {
                part_number: n,
                etag: format!("\"e{n}\""),
                crc32c: Some(crate::core::checksum::crc32c(&[n as u8])),
            })
            .collect()
    }

    #[test]
    fn listed_parts_must_match_the_plan() {
        assert_eq!(check_parts(&plan(), &listed(&[1, 2, 3])), Ok(()));
        for bad in [
            &[1, 2][..],
            &[1, 2, 3, 4],
            &[1, 3, 2],
            &[1, 1, 3],
            &[0, 1, 2],
            &[2, 3, 4],
        ] {
            assert!(check_parts(&plan(), &listed(bad)).is_err(), "{bad:?}");
        }
        let mut no_etag = listed(&[1, 2, 3]);
        no_etag[1].etag = " ".into();
        assert!(check_parts(&plan(), &no_etag).is_err());
    }

    #[test]
    fn stored_parts_must_match_sizes_etags_and_checksums() {
        let stored = |sizes: [u64; 3]| -> Vec<ListedPart> {
            (1..=3)
                .zip(sizes)
                .map(|(n, size)| ListedPart {
                    number: n,
                    etag: format!("e{n}"),
                    size,
                    crc32c: None,
                })
                .collect()
        };
        let parts = listed(&[1, 2, 3]);
        // A store that lists no checksums: the browser's are used.
        assert_eq!(
            check_stored(&plan(), &parts, &stored([5 * MIB, 5 * MIB, 2 * MIB])),
            Ok(parts.clone())
        );
        // A store that lists them: they must agree; the store's are used.
        let mut listing = stored([5 * MIB, 5 * MIB, 2 * MIB]);
        listing[0].crc32c = parts[0].crc32c.clone();
        let mut unsent = parts.clone();
        unsent[0].crc32c = None;
        assert_eq!(check_stored(&plan(), &unsent, &listing), Ok(parts.clone()));
        listing[0].crc32c = Some("BBBBBB==".into());
        assert!(check_stored(&plan(), &parts, &listing).is_err());
        assert!(check_stored(&plan(), &parts, &stored([5 * MIB, 5 * MIB, 2 * MIB + 1])).is_err());
        assert!(check_stored(&plan(), &parts, &stored([5 * MIB, 5 * MIB, 2 * MIB])[..2]).is_err());
        let mut wrong = stored([5 * MIB, 5 * MIB, 2 * MIB]);
        wrong[0].etag = "other".into();
        assert!(check_stored(&plan(), &parts, &wrong).is_err());
    }
}
