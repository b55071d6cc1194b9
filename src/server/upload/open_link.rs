//! Opening an upload link's page: what the uploader sees of the link before sending
//! anything (its label; behind a password, the rest once the password is given, with
//! the grant their starts then carry).

use std::time::{Duration, Instant};

use leptos::prelude::use_context;

use crate::api::error::ApiError;
use crate::api::types::{LinkDetails, LinkView, SentFile};
use crate::core::key::attachment_disposition;
use crate::core::link::check_open;
use crate::server::http::access::LinkGuesses;
use crate::server::links;
use crate::server::record::listing::{MAX_KEYS, stored_through};
use crate::server::state::app_state;
use crate::server::system;
use crate::server::upload::{request_host, visitor};

pub async fn open_link(secret: String, password: Option<String>) -> Result<LinkView, ApiError> {
    let state = app_state()?;
    let now = system::now_secs();
    let no_such_link = || ApiError::NotFound("there is no such upload link".into());
    let opened = links::by_secret(&state.database, &secret)
        .await?
        .ok_or_else(no_such_link)?;
    let link = &opened.link;
    check_open(link.expires_at, link.revoked_at, now)
        .map_err(|refusal| ApiError::Refused(refusal.to_string()))?;
    let locked = LinkView {
        label: link.label.clone(),
        needs_password: link.has_password,
        grant: None,
        details: None,
    };
    let grant = match (link.has_password, password) {
        (false, _) => None,
        (true, None) => return Ok(locked),
        (true, Some(password)) => {
            check_guess(&opened, &password).await?;
            Some(links::grant(&state.grants, &link.id, now))
        }
    };
    let left = |limit: Option<u64>, held: u64| limit.map(|l| l.saturating_sub(held));
    Ok(LinkView {
        grant,
        details: Some(LinkDetails {
            message: link.message.clone(),
            expires_at: link.expires_at,
            limits: link.limits.clone(),
            bytes_left: left(link.limits.max_bytes, link.held.bytes),
            files_left: left(link.limits.max_files, link.held.files),
            ask_name: link.ask_name,
        }),
        ..locked
    })
}

/// Checks a guess at a link's password; wrong ones are counted per client, and after a
/// few in a row the client waits (as at the operator's login).
async fn check_guess(opened: &links::Opened, password: &str) -> Result<(), ApiError> {
    let guesses = use_context::<LinkGuesses>().ok_or(ApiError::Internal)?;
    let client = visitor().ok_or(ApiError::Internal)?.client;
    let now = Instant::now();
    if !guesses.0.wait(client, now).is_zero() {
        tracing::warn!(%client, link = %opened.link.id, "link password refused: too many wrong guesses");
        return Err(ApiError::RateLimited);
    }
    // Hashing takes the time it takes: on the blocking pool, not a server thread.
    let (opened_copy, given) = (opened.clone(), password.to_owned());
    let right = tokio::task::spawn_blocking(move || opened_copy.is_password(&given))
        .await
        .map_err(|_| ApiError::Internal)?;
    if right {
        return Ok(());
    }
    guesses.0.wrong(client, now);
    tracing::warn!(%client, link = %opened.link.id, "wrong link password");
    tokio::time::sleep(Duration::from_millis(300)).await;
    Err(ApiError::WrongPassword)
}

/// Of the keys this browser kept, the files stored through the link with `secret`, with
/// fresh download links. A key is unguessable (80 random bits) and shown only to the one
/// who sent its file, so holding it is the proof; keys of other links answer nothing.
pub async fn sent_through_link(
    secret: String,
    keys: Vec<String>,
) -> Result<Vec<SentFile>, ApiError> {
    let state = app_state()?;
    if keys.len() > MAX_KEYS {
        return Err(ApiError::BadRequest(format!(
            "send at most {MAX_KEYS} keys per call"
        )));
    }
    let link = links::by_secret(&state.database, &secret)
        .await?
        .ok_or_else(|| ApiError::NotFound("there is no such upload link".into()))?
        .link;
    let host = request_host();
    let mut sent = Vec::new();
    for upload in stored_through(&state.database, &link.id, &keys).await? {
        let download_url = state
            .storage
            .presign_get(
                host.as_deref(),
                &upload.key,
                &attachment_disposition(&upload.name),
            )
            .await?;
        let path = match upload.folder.is_empty() {
            true => upload.name,
            false => format!("{}/{}", upload.folder, upload.name),
        };
        sent.push(SentFile {
            key: upload.key,
            path,
            size: upload.size,
            stored_at: upload.finished_at.unwrap_or(upload.started_at),
            download_url,
        });
    }
    Ok(sent)
}
