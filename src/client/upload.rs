//! `s3drop upload PATH…`: files and folders sent through the API as the page sends them.
//! Files start in batches of up to 100 (one drop, so hooks hear one `batch.completed`);
//! a file that fits one part goes in one PUT, signed with its start and bound to its
//! CRC32C; a larger one is sent as a multipart upload, a few parts at a time, each part
//! bound to its own CRC32C; the batch completes in one call. A PUT that fails is tried
//! again as the page tries it (`core::retry`), signed again when its URL expired. What
//! the run has done is kept in a journal, so running the same command again after an
//! interruption sends only what the store does not hold yet.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::Semaphore;

use super::api_client::{Api, random_fraction};
use super::files::{LocalFile, gather};
use super::progress::Progress;
use super::resume::{Entry, Journal, default_path};
use crate::api::{
    Answer, ApiError, CompletedPart, Completion, DropTag, LinkPass, LinkView, SignedPart,
    StartRequest, StoredObject, StoredPart, UploadStart,
};
use crate::core::checksum::crc32c;
use crate::core::limits::MAX_BATCH;
use crate::core::plan::PartPlan;
use crate::core::policy::UploadPolicy;
use crate::core::retry::{Failure, Verdict, classify, decide};

/// How many parts one call signs.
const SIGN_AT_ONCE: usize = 16;

/// What `s3drop upload` is given.
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {
    /// Files and folders to upload (a folder with everything in it, its name kept)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// An upload link's URL (`https://…/l/…`): upload through it
    #[arg(long, conflicts_with_all = ["server", "token"])]
    pub link: Option<String>,
    /// The link's own password, if it has one (from S3DROP_LINK_PASSWORD, so it stays out
    /// of the shell's history)
    #[arg(long, env = "S3DROP_LINK_PASSWORD", hide_env_values = true)]
    pub link_password: Option<String>,
    /// Your name, for a link that asks it
    #[arg(long)]
    pub name: Option<String>,
    /// s3drop's address (`https://drop.example.com`), with an API token
    #[arg(long, requires = "token")]
    pub server: Option<String>,
    /// An API token (`s3drop tokens create`; from S3DROP_TOKEN, so it stays out of the
    /// shell's history)
    #[arg(long, env = "S3DROP_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// How many PUTs are in flight at once
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
    /// Where the run's progress is kept, to go on after an interruption [default: in
    /// $XDG_STATE_HOME/s3drop (~/.local/state/s3drop), named for the server and paths]
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// No progress bar: only the summary (the bar is left out anyway when stderr is not
    /// a terminal)
    #[arg(long)]
    pub quiet: bool,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Files stored by this run, and their bytes.
    pub stored: usize,
    pub bytes: u64,
    /// Files an earlier run had stored.
    pub already: usize,
    /// Parts (and whole-file PUTs) sent, and parts the store held from an earlier run.
    pub parts_sent: usize,
    pub parts_skipped: usize,
    /// Files that failed, with why.
    pub failed: Vec<(String, String)>,
    /// Paths left out (not files, unreadable names).
    pub left_out: Vec<String>,
}

/// Who the run uploads as.
struct Target {
    api: Api,
    link: Option<LinkPass>,
    server: String,
}

/// Uploads `args.paths`; answers what was done (a failed file does not stop the others).
pub async fn run(args: &UploadArgs) -> Result<Summary, String> {
    let target = target(args).await?;
    let policy: UploadPolicy = target
        .api
        .call("policy", &serde_json::json!({}))
        .await
        .map_err(|e| format!("could not reach s3drop at {}: {e}", target.server))?;
    let (files, left_out) = gather(&args.paths)?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| default_path(&target.server, &args.paths));
    let journal = Journal::load(&journal_path);
    let run = Run {
        target,
        policy,
        journal: tokio::sync::Mutex::new(journal),
        journal_path,
        puts: Arc::new(Semaphore::new(args.parallel.max(1))),
        progress: Progress::new(files.iter().map(|f| f.size).sum(), files.len(), args.quiet),
        summary: std::sync::Mutex::new(Summary {
            left_out,
            ..Summary::default()
        }),
    };
    let drop = DropTag {
        id: format!("cli-{}", hex::encode(random_id())),
        files: u32::try_from(files.len()).unwrap_or(u32::MAX),
    };
    for batch in files.chunks(MAX_BATCH) {
        run.batch(batch, &drop).await;
    }
    run.progress.finish();
    let summary = run.summary.lock().map_err(|_| "poisoned")?.clone();
    if summary.failed.is_empty() {
        let _ = std::fs::remove_file(&run.journal_path);
    }
    Ok(summary)
}

fn random_id() -> [u8; 12] {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    bytes
}

/// The API to call, and the link's pass when uploading through one (its password given,
/// and the name it asks).
async fn target(args: &UploadArgs) -> Result<Target, String> {
    if let Some(url) = &args.link {
        let (server, secret) = url
            .trim_end_matches('/')
            .rsplit_once("/l/")
            .ok_or_else(|| format!("{url} is not an upload link's URL (…/l/…)"))?;
        let api = Api::new(server, None)?;
        let view: LinkView = api
            .call(
                "links/open",
                &serde_json::json!({ "secret": secret, "password": args.link_password }),
            )
            .await
            .map_err(|e| format!("the upload link: {e}"))?;
        let details = view.details.ok_or_else(|| match args.link_password {
            Some(_) => "the upload link's password is not that".to_owned(),
            None => "this upload link has a password: give it in S3DROP_LINK_PASSWORD".to_owned(),
        })?;
        if details.ask_name && args.name.is_none() {
            return Err("this upload link asks your name: give it with --name".into());
        }
        let link = LinkPass {
            secret: secret.to_owned(),
            grant: view.grant,
            uploader: args.name.clone(),
        };
        return Ok(Target {
            api,
            link: Some(link),
            server: server.to_owned(),
        });
    }
    match (&args.server, &args.token) {
        (Some(server), Some(token)) => Ok(Target {
            api: Api::new(server, Some(token.clone()))?,
            link: None,
            server: server.trim_end_matches('/').to_owned(),
        }),
        _ => Err(
            "say where to upload: --link URL, or --server URL with --token (or S3DROP_TOKEN)"
                .into(),
        ),
    }
}

/// One run's shared state.
struct Run {
    target: Target,
    policy: UploadPolicy,
    journal: tokio::sync::Mutex<Journal>,
    journal_path: PathBuf,
    /// PUTs in flight, across all files.
    puts: Arc<Semaphore>,
    progress: Progress,
    summary: std::sync::Mutex<Summary>,
}

/// A file's upload as this run knows it.
struct Started {
    file: LocalFile,
    token: String,
    plan: PartPlan,
    /// A small file's PUT, signed with its start.
    put: Option<SignedPart>,
    /// Whether an earlier run started it (its parts in the store are not sent again).
    resumed: bool,
}

impl Run {
    /// Starts a batch's files (or picks up those an earlier run started), sends them,
    /// and completes them together.
    async fn batch(&self, files: &[LocalFile], drop: &DropTag) {
        let started = self.start(files, drop).await;
        let sent = self.send_all(started).await;
        let again = self.complete(sent).await;
        // A store that completes with a cut try of a part (Garage) is sent each such
        // file's parts anew, then asked once more (this run tracks no part's tries).
        let fresh: Vec<Started> = again
            .into_iter()
            .map(|s| {
                self.progress.again(s.file.size);
                Started {
                    resumed: false,
                    ..s
                }
            })
            .collect();
        let resent = self.send_all(fresh).await;
        for started in self.complete(resent).await {
            self.failed(&started.file, ApiError::PartToSendAgain.to_string());
        }
    }

    /// Sends the started files' bytes, several at once; answers those sent, each with
    /// the parts to complete it with (the others are counted as failed).
    async fn send_all(&self, started: Vec<Started>) -> Vec<(Started, Vec<CompletedPart>)> {
        stream::iter(started)
            .map(|s| async move {
                let parts = self.send(&s).await;
                (s, parts)
            })
            .buffer_unordered(self.puts.available_permits().max(1))
            .filter_map(|(s, parts)| async move {
                match parts {
                    Ok(parts) => Some((s, parts)),
                    Err(why) => {
                        self.failed(&s.file, why);
                        None
                    }
                }
            })
            .collect()
            .await
    }

    /// The files' uploads: those an earlier run stored are skipped, those it started
    /// (and whose tokens still hold) go on, the rest start now, in one call.
    async fn start(&self, files: &[LocalFile], drop: &DropTag) -> Vec<Started> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let known: HashMap<String, Entry> = {
            let journal = self.journal.lock().await;
            files
                .iter()
                .filter_map(|f| Some((f.identity(), journal.files.get(&f.identity())?.clone())))
                .collect()
        };
        let mut started = Vec::new();
        let mut fresh = Vec::new();
        for file in files {
            match known.get(&file.identity()) {
                Some(entry) if entry.stored => {
                    self.progress.skipped(file.size);
                    self.count(|s| s.already += 1);
                }
                Some(entry) if entry.expires_at > now + 60 => match self.plan_of(file) {
                    Ok(plan) => started.push(Started {
                        file: file.clone(),
                        token: entry.token.clone(),
                        plan,
                        put: None,
                        resumed: true,
                    }),
                    Err(why) => self.failed(file, why),
                },
                _ => fresh.push(file.clone()),
            }
        }
        if fresh.is_empty() {
            return started;
        }
        let mut asked: Vec<(LocalFile, StartRequest)> = Vec::with_capacity(fresh.len());
        for file in fresh {
            // A file that fits one PUT carries its CRC32C: its PUT comes signed with it.
            let crc = match file.size <= self.policy.part_size {
                true => read_range(&file, 0, file.size)
                    .await
                    .map(|b| Some(crc32c(&b))),
                false => Ok(None),
            };
            match crc {
                Ok(crc32c) => {
                    let request = StartRequest {
                        name: file.name.clone(),
                        size: file.size,
                        content_type: file.content_type.clone(),
                        folder: file.folder.clone(),
                        crc32c,
                        drop: Some(drop.clone()),
                    };
                    asked.push((file, request));
                }
                Err(why) => self.failed(&file, why),
            }
        }
        let (fresh, requests): (Vec<LocalFile>, Vec<StartRequest>) = asked.into_iter().unzip();
        let answers: Result<Vec<Answer<UploadStart>>, ApiError> = self
            .target
            .api
            .call(
                "uploads/start-batch",
                &serde_json::json!({ "files": requests, "link": self.target.link }),
            )
            .await;
        let answers = match answers {
            Ok(answers) if answers.len() == fresh.len() => answers,
            Ok(_) => {
                fresh.iter().for_each(|f| {
                    self.failed(f, "the server answered another count of files".into())
                });
                return started;
            }
            Err(err) => {
                fresh.iter().for_each(|f| self.failed(f, err.to_string()));
                return started;
            }
        };
        let mut journal = self.journal.lock().await;
        for (file, answer) in fresh.into_iter().zip(answers) {
            match answer {
                Ok(start) => {
                    journal.files.insert(
                        file.identity(),
                        Entry {
                            key: start.key.clone(),
                            token: start.token.clone(),
                            expires_at: start.expires_at,
                            stored: false,
                        },
                    );
                    started.push(Started {
                        file,
                        token: start.token,
                        plan: start.plan,
                        put: start.put,
                        resumed: false,
                    });
                }
                Err(err) => self.failed(&file, err.to_string()),
            }
        }
        if let Err(err) = journal.save(&self.journal_path) {
            self.progress
                .say(&format!("could not keep the journal: {err}"));
        }
        started
    }

    fn plan_of(&self, file: &LocalFile) -> Result<PartPlan, String> {
        PartPlan::new(file.size, self.policy.part_size).map_err(|e| e.to_string())
    }

    /// Sends a started file's bytes: its one PUT, or its parts (those the store does
    /// not hold yet, for an upload an earlier run started). Answers the parts to
    /// complete with (none for a single PUT).
    async fn send(&self, started: &Started) -> Result<Vec<CompletedPart>, String> {
        if started.plan.is_single_put() {
            if started.resumed && self.is_stored_already(started).await {
                return Ok(Vec::new());
            }
            let bytes = read_range(&started.file, 0, started.file.size).await?;
            let crc = crc32c(&bytes);
            self.put_part(started, 1, bytes, &crc, started.put.clone())
                .await?;
            return Ok(Vec::new());
        }
        let held: HashMap<u32, StoredPart> = match started.resumed {
            true => self
                .target
                .api
                .call::<Vec<StoredPart>>(
                    "uploads/parts",
                    &serde_json::json!({ "token": started.token }),
                )
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|p| started.plan.part_len(p.part_number) == Some(p.size))
                .map(|p| (p.part_number, p))
                .collect(),
            false => HashMap::new(),
        };
        let mut parts = Vec::with_capacity(started.plan.part_count as usize);
        let numbers: Vec<u32> = (1..=started.plan.part_count).collect();
        for group in numbers.chunks(SIGN_AT_ONCE) {
            let mut to_send = Vec::new();
            for &number in group {
                let (from, to) = started
                    .plan
                    .range(number)
                    .ok_or("a part outside the plan")?;
                if let Some(part) = held.get(&number) {
                    // Held by the store: its CRC32C from the store, or read here.
                    let crc = match &part.crc32c {
                        Some(crc) => crc.clone(),
                        None => crc32c(&read_range(&started.file, from, to - from).await?),
                    };
                    self.progress.skipped(to - from);
                    self.count(|s| s.parts_skipped += 1);
                    parts.push(CompletedPart {
                        part_number: number,
                        etag: part.etag.clone(),
                        crc32c: Some(crc),
                    });
                    continue;
                }
                let bytes = read_range(&started.file, from, to - from).await?;
                let crc = crc32c(&bytes);
                to_send.push((number, bytes, crc));
            }
            let sent = stream::iter(to_send)
                .map(|(number, bytes, crc)| async move {
                    let etag = self.put_part(started, number, bytes, &crc, None).await?;
                    Ok::<_, String>(CompletedPart {
                        part_number: number,
                        etag,
                        crc32c: Some(crc),
                    })
                })
                .buffer_unordered(SIGN_AT_ONCE)
                .collect::<Vec<_>>()
                .await;
            for part in sent {
                parts.push(part?);
            }
        }
        parts.sort_by_key(|p| p.part_number);
        Ok(parts)
    }

    /// Whether a single PUT an earlier run sent is in the store whole already (its
    /// completion then simply finds it).
    async fn is_stored_already(&self, started: &Started) -> bool {
        // Signing a finished single PUT is refused as finished.
        let signed: Result<Vec<SignedPart>, ApiError> = self
            .target
            .api
            .call(
                "uploads/sign",
                &serde_json::json!({ "token": started.token, "parts": [{ "part_number": 1 }] }),
            )
            .await;
        matches!(signed, Err(ApiError::Finished))
    }

    /// PUTs one part (or a whole small file) to the store, signed with its CRC32C,
    /// retried as the page retries; answers its ETag.
    async fn put_part(
        &self,
        started: &Started,
        number: u32,
        bytes: Vec<u8>,
        crc: &str,
        signed: Option<SignedPart>,
    ) -> Result<String, String> {
        let _turn = self.puts.acquire().await.map_err(|e| e.to_string())?;
        let len = bytes.len() as u64;
        let body = bytes::Bytes::from(bytes);
        let mut signed = signed;
        let mut attempt = 0;
        loop {
            let url = match signed.take() {
                Some(url) => url,
                None => self.sign(started, number, crc).await?,
            };
            let mut put = self.target.api.http.put(&url.url).body(body.clone());
            for (name, value) in &url.headers {
                put = put.header(name, value);
            }
            let failure = match put.timeout(Duration::from_secs(300)).send().await {
                Ok(answer) if answer.status().is_success() => {
                    let etag = answer
                        .headers()
                        .get("etag")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    self.progress.sent(len);
                    self.count(|s| s.parts_sent += 1);
                    return Ok(etag);
                }
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    let retry_after = answer
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let text = answer.text().await.unwrap_or_default();
                    classify(status, &text, retry_after.as_deref())
                }
                Err(err) if err.is_timeout() => Failure::Stalled,
                Err(_) => Failure::Network,
            };
            attempt += 1;
            match decide(failure, attempt, random_fraction()) {
                Verdict::RetryAfter(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                    signed = Some(url);
                }
                Verdict::Resign => {}
                Verdict::GiveUp(why) => return Err(format!("part {number}: {why}")),
            }
        }
    }

    /// A fresh URL for one part, bound to its CRC32C.
    async fn sign(&self, started: &Started, number: u32, crc: &str) -> Result<SignedPart, String> {
        let signed: Vec<SignedPart> = self
            .target
            .api
            .call(
                "uploads/sign",
                &serde_json::json!({
                    "token": started.token,
                    "parts": [{ "part_number": number, "crc32c": crc }],
                }),
            )
            .await
            .map_err(|e| e.to_string())?;
        signed
            .into_iter()
            .next()
            .ok_or_else(|| "no URL signed".into())
    }

    /// Completes the sent files in one call; the stored ones are noted in the journal.
    /// Answers those whose parts must be sent again (`ApiError::PartToSendAgain`).
    async fn complete(&self, sent: Vec<(Started, Vec<CompletedPart>)>) -> Vec<Started> {
        let mut again = Vec::new();
        if sent.is_empty() {
            return again;
        }
        let completions: Vec<Completion> = sent
            .iter()
            .map(|(s, parts)| Completion {
                token: s.token.clone(),
                parts: parts.clone(),
            })
            .collect();
        let answers: Result<Vec<Answer<StoredObject>>, ApiError> = self
            .target
            .api
            .call(
                "uploads/complete-batch",
                &serde_json::json!({ "uploads": completions }),
            )
            .await;
        let answers = match answers {
            Ok(answers) if answers.len() == sent.len() => answers,
            Ok(_) => vec![Err(ApiError::Transport("another count of answers".into())); sent.len()],
            Err(err) => vec![Err(err); sent.len()],
        };
        let mut journal = self.journal.lock().await;
        for ((started, _), answer) in sent.into_iter().zip(answers) {
            match answer {
                Ok(stored) => {
                    if let Some(entry) = journal.files.get_mut(&started.file.identity()) {
                        entry.stored = true;
                    }
                    self.progress.stored(&started.file.shown(), &stored.key);
                    self.count(|s| {
                        s.stored += 1;
                        s.bytes += started.file.size;
                    });
                }
                Err(ApiError::PartToSendAgain) => again.push(started),
                Err(err) => self.failed(&started.file, err.to_string()),
            }
        }
        if let Err(err) = journal.save(&self.journal_path) {
            self.progress
                .say(&format!("could not keep the journal: {err}"));
        }
        again
    }

    fn failed(&self, file: &LocalFile, why: String) {
        self.progress
            .say(&format!("failed: {}: {why}", file.shown()));
        self.count(|s| s.failed.push((file.shown(), why)));
    }

    fn count(&self, change: impl FnOnce(&mut Summary)) {
        if let Ok(mut summary) = self.summary.lock() {
            change(&mut summary);
        }
    }
}

/// `len` bytes of `file` from `from`.
async fn read_range(file: &LocalFile, from: u64, len: u64) -> Result<Vec<u8>, String> {
    let failed = |e: std::io::Error| format!("{}: {e}", file.path.display());
    let mut opened = tokio::fs::File::open(&file.path).await.map_err(failed)?;
    opened
        .seek(std::io::SeekFrom::Start(from))
        .await
        .map_err(failed)?;
    let mut bytes = vec![0u8; usize::try_from(len).map_err(|_| "a part too large to read")?];
    opened.read_exact(&mut bytes).await.map_err(|e| {
        format!(
            "{}: {e} (did the file change while it was sent?)",
            file.path.display()
        )
    })?;
    Ok(bytes)
}

/// The summary's last lines, as a script reads them.
pub fn report(summary: &Summary, took: Instant) -> String {
    let mut out = format!(
        "stored {} files ({} bytes) in {:.1} s",
        summary.stored,
        summary.bytes,
        took.elapsed().as_secs_f64()
    );
    if summary.already > 0 {
        out += &format!("; {} stored by an earlier run", summary.already);
    }
    if summary.parts_skipped > 0 {
        out += &format!(
            "; {} parts were in the store already",
            summary.parts_skipped
        );
    }
    out += "\n";
    for path in &summary.left_out {
        out += &format!("left out: {path}\n");
    }
    if !summary.failed.is_empty() {
        out += &format!(
            "{} files failed (run the same command again to go on):\n",
            summary.failed.len()
        );
        for (file, why) in &summary.failed {
            out += &format!("  {file}: {why}\n");
        }
    }
    out
}
