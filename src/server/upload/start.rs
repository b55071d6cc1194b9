//! Starting uploads: who may start (the operator, the open drop, or an upload link),
//! each file checked against the policy (and the operator's pre-start hook, when one is
//! set), its key chosen and its plan made; the batch
//! recorded and, through a link, reserved against its limits in one transaction; then
//! a multipart upload created, or a small file's PUT signed with its checksum.

use futures::{StreamExt, stream};

use crate::api::error::ApiError;
use crate::api::types::{
    Answer, DropTag, LinkPass, SignedPart, StartRequest, UploadStart, UploadState,
};
use crate::core::checksum::is_crc32c;
use crate::core::key::{Date, object_key, upload_id_at};
use crate::core::link::{check_open, uploader_name};
use crate::core::plan::PartPlan;
use crate::core::policy::{UploadPolicy, check_folder};
use crate::server::hooks::LinkRef;
use crate::server::hooks::pre_start::{Asked, AskedBy};
use crate::server::links;
use crate::server::record::{self, Sender, Starting};
use crate::server::state::{AppState, app_state};
use crate::server::system;
use crate::server::token::Claims;
use crate::server::upload::{STORE_CALLS_AT_ONCE, check_batch, request_host, url_expiry, visitor};

/// The rules files are checked against, for the page to show and pre-check.
pub async fn upload_policy() -> Result<UploadPolicy, ApiError> {
    Ok(app_state()?.policy)
}

pub async fn start_upload(
    request: StartRequest,
    link: Option<LinkPass>,
) -> Result<UploadStart, ApiError> {
    start_uploads(vec![request], link)
        .await?
        .pop()
        .unwrap_or(Err(ApiError::Internal))
}

/// Starts a batch: who sends it is settled once, each file is checked on its own, the
/// ones that pass are recorded (and reserved) together, then started in the store a
/// few at a time. Answers come in the order of `files`.
pub async fn start_uploads(
    files: Vec<StartRequest>,
    link: Option<LinkPass>,
) -> Result<Vec<Answer<UploadStart>>, ApiError> {
    check_batch(files.len())?;
    let state = app_state()?;
    let host = request_host();
    let now = system::now_secs();
    let sender = sender(&state, link.as_ref(), now).await?;
    let tags: Vec<Option<DropTag>> = files.iter().map(|f| f.drop.clone()).collect();
    let planned: Vec<Result<Planned, ApiError>> = files
        .into_iter()
        .map(|file| plan(&state, &sender, file, now))
        .collect();
    let planned = ask_pre_start(&state, &sender, planned).await;
    let refused: Vec<&DropTag> = planned
        .iter()
        .zip(&tags)
        .filter_map(|(p, tag)| p.as_ref().err().and(tag.as_ref()))
        .collect();
    let starting: Vec<Starting> = planned.iter().flatten().map(Planned::starting).collect();
    let mut reserved = record::starts(&state.database, &sender, &starting, &refused, now)
        .await?
        .into_iter();
    let planned = planned.into_iter().map(|planned| {
        let planned = planned?;
        match reserved.next() {
            Some(Ok(())) => Ok(planned),
            Some(Err(refusal)) => Err(ApiError::Refused(refusal.to_string())),
            None => Err(ApiError::Internal),
        }
    });
    let begun: Vec<Result<Begun, Failed>> = stream::iter(planned)
        .map(|planned| async {
            let planned = planned.map_err(|err| Failed { key: None, err })?;
            let key = Some(planned.key.clone());
            begin(&state, host.as_deref(), planned, now)
                .await
                .map_err(|err| Failed { key, err })
        })
        .buffered(STORE_CALLS_AT_ONCE)
        .collect()
        .await;
    let answers = settle(&state, begun, now).await;
    state.deliveries.now();
    answers
}

/// Asks the pre-start hook, when one is set, about the files that passed the policy;
/// those it refuses are answered with its reason.
async fn ask_pre_start(
    state: &AppState,
    sender: &Sender,
    planned: Vec<Result<Planned, ApiError>>,
) -> Vec<Result<Planned, ApiError>> {
    let Some(hook) = &state.pre_start else {
        return planned;
    };
    let asked: Vec<Asked> = planned
        .iter()
        .flatten()
        .map(|p| Asked {
            name: p.request.name.clone(),
            folder: p.request.folder.clone(),
            size: p.request.size,
            content_type: p.content_type.clone(),
        })
        .collect();
    let by = AskedBy {
        link: sender.link.as_ref().map(|l| LinkRef {
            id: l.id.clone(),
            label: l.label.clone(),
        }),
        uploader: sender.uploader.clone(),
        client: sender.client.clone(),
    };
    let mut verdicts = hook.ask(&by, &asked).await.into_iter();
    planned
        .into_iter()
        .map(|planned| {
            let planned = planned?;
            match verdicts.next() {
                Some(Ok(())) => Ok(planned),
                Some(Err(reason)) => Err(ApiError::Refused(reason)),
                None => Err(ApiError::Internal),
            }
        })
        .collect()
}

/// What became of a file in the store, for the record.
struct Begun {
    start: UploadStart,
    upload_id: Option<String>,
}

/// A file refused, with its key when it was recorded as started before its store call
/// failed (its record then ends as failed, and what it held is given back).
struct Failed {
    key: Option<String>,
    err: ApiError,
}

/// Records the multipart uploads' ids (so a revoked link's can be aborted) and the
/// files whose store call failed; answers each file.
async fn settle(
    state: &AppState,
    begun: Vec<Result<Begun, Failed>>,
    now: u64,
) -> Result<Vec<Answer<UploadStart>>, ApiError> {
    let ids: Vec<(String, String)> = begun
        .iter()
        .flatten()
        .filter_map(|b| Some((b.start.key.clone(), b.upload_id.clone()?)))
        .collect();
    record::multipart_ids(&state.database, &ids).await?;
    let failed: Vec<String> = begun
        .iter()
        .filter_map(|b| b.as_ref().err()?.key.clone())
        .collect();
    if !failed.is_empty() {
        let reason = "the store could not start the upload";
        record::ended(&state.database, &failed, UploadState::Failed, reason, now).await?;
    }
    Ok(begun
        .into_iter()
        .map(|b| b.map(|b| b.start).map_err(|f| f.err))
        .collect())
}

/// Who sends a batch: through the link its pass opens (its password given, its name
/// asked where it asks), or as the operator, or on the open drop.
async fn sender(state: &AppState, pass: Option<&LinkPass>, now: u64) -> Result<Sender, ApiError> {
    let visitor = visitor();
    let client = visitor.map(|v| v.client.to_string());
    let Some(pass) = pass else {
        if state.open_drop || visitor.is_some_and(|v| v.operator) {
            return Ok(Sender {
                link: None,
                uploader: None,
                client,
            });
        }
        return Err(ApiError::LoginRequired);
    };
    let link = links::by_secret(&state.database, &pass.secret)
        .await?
        .ok_or_else(|| ApiError::NotFound("there is no such upload link".into()))?
        .link;
    check_open(link.expires_at, link.revoked_at, now)
        .map_err(|refusal| ApiError::Refused(refusal.to_string()))?;
    if link.has_password
        && !pass
            .grant
            .as_deref()
            .is_some_and(|grant| links::is_granted(&state.grants, &link.id, grant, now))
    {
        return Err(ApiError::PasswordRequired);
    }
    let uploader = match pass.uploader.as_deref() {
        Some(name) => uploader_name(name).map_err(|e| ApiError::BadRequest(e.into()))?,
        None => None,
    };
    if link.ask_name && uploader.is_none() {
        return Err(ApiError::BadRequest(
            "this upload link asks for your name before you upload".into(),
        ));
    }
    Ok(Sender {
        link: Some(link),
        uploader,
        client,
    })
}

/// A file that passed the policy, with its key and plan.
struct Planned {
    key: String,
    request: StartRequest,
    content_type: String,
    plan: PartPlan,
    expires_at: u64,
    link: Option<String>,
}

impl Planned {
    fn starting(&self) -> Starting {
        Starting {
            key: self.key.clone(),
            name: self.request.name.clone(),
            folder: self.request.folder.clone(),
            size: self.request.size,
            content_type: self.content_type.clone(),
            expires_at: self.expires_at,
            drop: self.request.drop.clone(),
        }
    }
}

/// Checks one file against the policy and chooses its key (under its link's folder).
fn plan(
    state: &AppState,
    sender: &Sender,
    request: StartRequest,
    now: u64,
) -> Result<Planned, ApiError> {
    let content_type = state
        .policy
        .check(&request.name, request.size, &request.content_type)
        .map_err(|e| ApiError::Refused(e.to_string()))?;
    let plan = PartPlan::new(request.size, state.policy.part_size)
        .map_err(|e| ApiError::Refused(e.to_string()))?;
    check_folder(&request.folder).map_err(|e| ApiError::Refused(e.to_string()))?;
    if request.crc32c.as_deref().is_some_and(|c| !is_crc32c(c)) {
        return Err(ApiError::BadRequest(
            "the file's CRC32C is not four bytes in base64".into(),
        ));
    }
    let prefix = match sender.link.as_ref().map(|l| l.folder.as_str()) {
        None | Some("") => state.key_prefix.clone(),
        Some(folder) => format!("{}{folder}/", state.key_prefix),
    };
    let key = object_key(
        &prefix,
        today(),
        &upload_id_at(system::now_ms(), &system::random_id()),
        &request.folder,
        &request.name,
    );
    Ok(Planned {
        key,
        request,
        content_type,
        plan,
        expires_at: now.saturating_add(state.token_ttl.as_secs()),
        link: sender.link.as_ref().map(|l| l.id.clone()),
    })
}

/// Starts a recorded file in the store: creates its multipart upload, or signs its
/// single PUT when the page sent its checksum.
async fn begin(
    state: &AppState,
    host: Option<&str>,
    planned: Planned,
    started_at: u64,
) -> Result<Begun, ApiError> {
    let Planned {
        key,
        request,
        content_type,
        plan,
        expires_at,
        link,
    } = planned;
    let (upload_id, put, full_object) = if plan.is_single_put() {
        // Signed now only when it can be bound to the file's checksum: the page would
        // throw an unbound URL away and sign part 1 with its checksum.
        let put = match request.crc32c.as_deref() {
            Some(crc32c) => {
                let put = state
                    .storage
                    .presign_put(host, &key, &content_type, request.size, Some(crc32c))
                    .await?;
                Some(SignedPart {
                    part_number: 1,
                    url: put.url,
                    headers: put.headers,
                    expires_at: url_expiry(state, started_at),
                })
            }
            None => None,
        };
        (None, put, false)
    } else {
        let (upload_id, full_object) = state.storage.create_multipart(&key, &content_type).await?;
        (Some(upload_id), None, full_object)
    };
    state.metrics.started(upload_id.is_some());
    let kind = if upload_id.is_some() {
        "multipart"
    } else {
        "single"
    };
    tracing::info!(%key, size = plan.size, kind, parts = plan.part_count, "upload started");
    let token = state.tokens.sign(&Claims {
        key: key.clone(),
        name: request.name,
        content_type,
        upload_id: upload_id.clone(),
        plan,
        full_object,
        link,
        started_at,
        expires_at,
    });
    Ok(Begun {
        start: UploadStart {
            key,
            token,
            expires_at,
            plan,
            put,
        },
        upload_id,
    })
}

fn today() -> Date {
    let date = time::OffsetDateTime::now_utc().date();
    Date {
        year: date.year(),
        month: u8::from(date.month()),
        day: date.day(),
    }
}
