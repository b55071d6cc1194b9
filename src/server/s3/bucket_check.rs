//! Checks an external bucket the way s3drop and browsers will use it, and says plainly
//! what is wrong: an endpoint that does not answer, credentials it refuses, a missing
//! bucket, CORS that keeps the page from uploading or from reading `ETag`, no rule that
//! cleans up abandoned multipart uploads. Run at start-up (a fatal finding stops the
//! server), by `--check-store`, and after `--setup-store` applies what s3drop needs.
//!
//! The checks behave like the real clients rather than reading configuration: a
//! presigned PUT from the page's origin, preceded by the browser's preflight. So a CORS
//! answer from a proxy in front of the store counts as much as the bucket's own rules.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, CorsConfiguration, CorsRule,
    ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
};

use crate::server::s3::client::{Presigned, Storage, origin_of};
use crate::server::s3::error::StoreError;
use crate::server::system::random_id;

/// The id of the CORS rule `--setup-store` manages.
const CORS_RULE_ID: &str = "s3drop";
/// The id of the lifecycle rule `--setup-store` manages.
const LIFECYCLE_RULE_ID: &str = "s3drop-abort-incomplete-uploads";
/// The headers the page sends with a presigned PUT.
const PAGE_HEADERS: &str = "content-type,x-amz-checksum-crc32c";

/// What the checks are about.
#[derive(Debug, Clone)]
pub struct Target {
    /// The endpoint the server calls, for messages.
    pub endpoint: String,
    /// s3drop's key prefix in the bucket.
    pub prefix: String,
    /// The origin browsers load the page from (`https://drop.example.com`), when known.
    pub origin: Option<String>,
    /// After how many days a lifecycle rule should abort an unfinished upload.
    pub abort_after_days: i32,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Ok,
    /// s3drop works, but something an operator should know or fix.
    Warning,
    /// Uploads cannot work.
    Fatal,
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub check: &'static str,
    pub message: String,
}

/// Every check's outcome, in order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn push(&mut self, severity: Severity, check: &'static str, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            check,
            message: message.into(),
        });
    }

    /// Whether uploads cannot work.
    pub fn is_fatal(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Fatal)
    }

    /// The findings of a severity.
    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for finding in &self.findings {
            let mark = match finding.severity {
                Severity::Ok => "ok  ",
                Severity::Warning => "warn",
                Severity::Fatal => "FAIL",
            };
            writeln!(f, "{mark} {:<10} {}", finding.check, finding.message)?;
        }
        Ok(())
    }
}

/// Runs every check against the bucket; stops early when the store cannot be used.
pub async fn check(storage: &Storage, target: &Target) -> Report {
    let mut report = Report::default();
    if !check_access(storage, target, &mut report).await {
        return report;
    }
    check_browser_upload(storage, target, &mut report).await;
    check_checksums(storage, target, &mut report).await;
    check_lifecycle(storage, target, &mut report).await;
    report
}

/// Applies the CORS rule and the lifecycle rule s3drop needs, keeping every other rule
/// the bucket has; answers what it changed.
pub async fn set_up(storage: &Storage, target: &Target) -> Result<Vec<String>, String> {
    let mut done = Vec::new();
    if let Some(origin) = &target.origin {
        set_up_cors(storage, origin).await?;
        done.push(format!("CORS rule \"{CORS_RULE_ID}\" allows {origin}"));
    }
    set_up_lifecycle(storage, target).await?;
    done.push(format!(
        "lifecycle rule \"{LIFECYCLE_RULE_ID}\" aborts uploads under \"{}\" after {} day(s)",
        target.prefix, target.abort_after_days
    ));
    Ok(done)
}

/// Reachable, credentials accepted, bucket present and listable.
async fn check_access(storage: &Storage, target: &Target, report: &mut Report) -> bool {
    let listed = storage.check(&target.prefix).await;
    let bucket = storage.bucket();
    let endpoint = &target.endpoint;
    let message = match listed {
        Ok(_) => {
            report.push(
                Severity::Ok,
                "access",
                format!("{endpoint} answers; bucket \"{bucket}\" is there and readable"),
            );
            return true;
        }
        Err(StoreError::Unreachable { .. }) => format!(
            "cannot reach the store at {endpoint}: check --endpoint-url (AWS_ENDPOINT_URL) \
             and that the store is running"
        ),
        Err(StoreError::Refused {
            status,
            code,
            message,
            ..
        }) => {
            let message = message.as_deref();
            match code.as_str() {
                "InvalidAccessKeyId" => "the store does not know this access key id: check \
                     AWS_ACCESS_KEY_ID, the profile or --access-key-id"
                    .into(),
                "SignatureDoesNotMatch" => "the store refused the signature: the secret access \
                     key is wrong (AWS_SECRET_ACCESS_KEY, the profile or --secret-access-key)"
                    .into(),
                "NoSuchBucket" => format!(
                    "the bucket \"{bucket}\" does not exist at {endpoint}: create it, or fix \
                     --bucket (S3DROP_BUCKET)"
                ),
                "AccessDenied" => format!(
                    "the store denied access ({}): either the access key or secret is wrong, \
                     or the key may not list \"{bucket}\" under \"{}\" (grant s3:ListBucket; \
                     see docs/stores.md's IAM policy)",
                    message.unwrap_or("no reason given"),
                    target.prefix
                ),
                "AuthorizationHeaderMalformed" | "PermanentRedirect" => format!(
                    "the bucket is in another region than s3drop signs for (--region, or AWS_REGION, \
                     AWS_DEFAULT_REGION or the profile's): {}",
                    message.unwrap_or("the store named no region")
                ),
                code => format!(
                    "the store refused to list \"{bucket}\": HTTP {status} {code} {}",
                    message.unwrap_or_default()
                ),
            }
        }
        Err(StoreError::Unsigned { detail, .. }) => format!(
            "no credentials for the store ({detail}): set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE, \
             or --access-key-id and --secret-access-key"
        ),
        Err(other @ StoreError::Invalid { .. }) => {
            format!("the store did not answer as S3 does: {other}")
        }
    };
    report.push(Severity::Fatal, "access", message);
    false
}

/// A presigned PUT as the page makes it: preflight, then the PUT, both from the page's
/// origin; then the probe object is removed.
async fn check_browser_upload(storage: &Storage, target: &Target, report: &mut Report) {
    let key = format!("{}.s3drop-check/{}", target.prefix, random_id());
    let body = b"s3drop store check";
    let presigned = match storage
        .presign_put(None, &key, "text/plain", body.len() as u64, None)
        .await
    {
        Ok(presigned) => presigned,
        Err(err) => {
            report.push(Severity::Fatal, "write", format!("cannot presign: {err}"));
            return;
        }
    };
    let http = http_client();
    let origin = target.origin.as_deref();
    let preflight_passed = match origin {
        Some(origin) => check_preflight(&http, &presigned.url, origin, report).await,
        None => true,
    };
    let store = origin_of(&presigned.url).unwrap_or_default();
    let answer = match put_as_browser(&http, &presigned, body, origin).await {
        Ok(headers) => headers,
        Err(PutFailed::Unsent(err)) => {
            let message = format!("a presigned PUT to {store} failed: {err}");
            return report.push(Severity::Fatal, "write", message);
        }
        Err(PutFailed::Refused { status, code }) => {
            let message = format!(
                "the store refused a presigned PUT: HTTP {status} {code}: grant s3:PutObject \
                 on \"{}*\"",
                target.prefix
            );
            return report.push(Severity::Fatal, "write", message);
        }
    };
    let message = format!("presigned PUTs to {store} are accepted");
    report.push(Severity::Ok, "write", message);
    let url_ttl = storage.url_ttl().as_secs();
    check_put_only_creates(&http, &presigned, body, origin, url_ttl, report).await;
    if let Err(err) = storage.delete(&key).await {
        let message = format!("could not remove the check's object {key}: {err} (s3:DeleteObject)");
        report.push(Severity::Warning, "write", message);
    }
    match origin {
        None => report.push(
            Severity::Warning,
            "cors",
            "not checked: set --public-url to the address browsers use, so s3drop can check \
             that the bucket lets that origin upload",
        ),
        Some(origin) if preflight_passed => check_cors_answer(&answer, origin, report),
        // Already reported: the browser would not get as far as the PUT.
        Some(_) => {}
    }
}

/// The same PUT again: the URL only creates its key (`If-None-Match: *`), so a store
/// with conditional writes refuses it, and no URL can replace a finished file.
async fn check_put_only_creates(
    http: &reqwest::Client,
    presigned: &Presigned,
    body: &[u8],
    origin: Option<&str>,
    url_ttl: u64,
    report: &mut Report,
) {
    let (severity, message) = match put_as_browser(http, presigned, body, origin).await {
        Err(PutFailed::Refused { status: 412, .. }) => (
            Severity::Ok,
            "a stored file cannot be replaced through its URL (the store honours \
             If-None-Match)"
                .to_owned(),
        ),
        Ok(_) => (
            Severity::Warning,
            format!(
                "the store ignores If-None-Match: a URL signed for a small file before its \
                 upload finished can replace the file until the URL expires (--url-ttl, \
                 {url_ttl} s now); nothing else can"
            ),
        ),
        Err(PutFailed::Refused { status, code }) => (
            Severity::Warning,
            format!("a second PUT to the same URL got HTTP {status} {code}, not 412"),
        ),
        Err(PutFailed::Unsent(err)) => (
            Severity::Warning,
            format!("a second PUT to the same URL failed: {err}"),
        ),
    };
    report.push(severity, "final", message);
}

/// Why the check's PUT did not store its object.
enum PutFailed {
    Unsent(reqwest::Error),
    Refused { status: u16, code: String },
}

/// Sends `body` with a presigned PUT as the page does (its signed headers, and its
/// `Origin` when known); answers the response's headers.
async fn put_as_browser(
    http: &reqwest::Client,
    presigned: &Presigned,
    body: &[u8],
    origin: Option<&str>,
) -> Result<reqwest::header::HeaderMap, PutFailed> {
    let mut put = http.put(&presigned.url).body(body.to_vec());
    for (name, value) in &presigned.headers {
        put = put.header(name, value);
    }
    if let Some(origin) = origin {
        put = put.header("origin", origin);
    }
    let response = put.send().await.map_err(PutFailed::Unsent)?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let text = response.text().await.unwrap_or_default();
        let code = error_code(&text).to_owned();
        return Err(PutFailed::Refused { status, code });
    }
    Ok(response.headers().clone())
}

/// Whether the PUT's answer lets the page's `origin` see it and read its `ETag`.
fn check_cors_answer(headers: &reqwest::header::HeaderMap, origin: &str, report: &mut Report) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let allowed = header("access-control-allow-origin");
    let exposed = header("access-control-expose-headers");
    if allowed != "*" && allowed != origin {
        report.push(
            Severity::Fatal,
            "cors",
            format!(
                "the store does not let {origin} upload (no Access-Control-Allow-Origin on \
                 the PUT): run `s3drop --setup-store`, or add a CORS rule for this origin"
            ),
        );
    } else if !exposed
        .split(',')
        .any(|h| matches!(h.trim().to_ascii_lowercase().as_str(), "etag" | "*"))
    {
        report.push(
            Severity::Fatal,
            "cors",
            format!(
                "the store does not expose ETag to {origin} (Access-Control-Expose-Headers): \
                 browsers cannot complete multipart uploads; run `s3drop --setup-store`, or \
                 add ETag to the CORS rule's ExposeHeaders"
            ),
        );
    } else {
        report.push(
            Severity::Ok,
            "cors",
            format!("{origin} may upload and read ETag"),
        );
    }
}

/// The browser's preflight before a PUT with the page's headers; answers whether it
/// passed (a failure is reported).
async fn check_preflight(
    http: &reqwest::Client,
    url: &str,
    origin: &str,
    report: &mut Report,
) -> bool {
    let preflight = http
        .request(reqwest::Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", PAGE_HEADERS)
        .send()
        .await;
    let fault = match preflight {
        Err(err) => Some(format!("the preflight request failed: {err}")),
        Ok(response) => {
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_ascii_lowercase()
            };
            let allowed = header("access-control-allow-origin");
            let methods = header("access-control-allow-methods");
            let headers = header("access-control-allow-headers");
            let lists = |list: &str, item: &str| {
                list.split(',').any(|h| h.trim() == item || h.trim() == "*")
            };
            if !response.status().is_success() || (allowed != "*" && allowed != origin) {
                Some(format!(
                    "the store refuses the browser's preflight from {origin} (HTTP {})",
                    response.status().as_u16()
                ))
            } else if !lists(&methods, "put") {
                Some(format!(
                    "the store's CORS rule does not allow PUT from {origin}"
                ))
            } else {
                PAGE_HEADERS
                    .split(',')
                    .find(|h| !lists(&headers, h))
                    .map(|missing| {
                        format!(
                            "the store's CORS rule does not allow the {missing} header \
                             (AllowedHeaders)"
                        )
                    })
            }
        }
    };
    match fault {
        Some(fault) => {
            report.push(
                Severity::Fatal,
                "cors",
                format!("{fault}: run `s3drop --setup-store`, or fix the bucket's CORS rules"),
            );
            false
        }
        None => true,
    }
}

/// Whether a lifecycle rule aborts abandoned multipart uploads under the prefix.
/// Which CRC32C a multipart object gets: a multipart upload started (and aborted at
/// once) as s3drop starts them says whether the store takes full-object checksums.
async fn check_checksums(storage: &Storage, target: &Target, report: &mut Report) {
    let key = format!("{}.s3drop-check/{}", target.prefix, random_id());
    let (upload_id, full_object) = match storage
        .create_multipart(&key, "application/octet-stream")
        .await
    {
        Ok(created) => created,
        Err(err) => {
            let message = format!("cannot start a multipart upload: {err}");
            return report.push(Severity::Fatal, "checksums", message);
        }
    };
    let _ = storage.abort_multipart(&key, &upload_id).await;
    if full_object {
        report.push(
            Severity::Ok,
            "checksums",
            "every object records the CRC32C of the whole file (multipart uploads too, \
             as S3's full-object type), which the store checks",
        );
    } else {
        report.push(
            Severity::Warning,
            "checksums",
            "the store does not take full-object checksums: multipart objects record S3's \
             composite CRC32C (…-N, the CRC32C of the parts' CRC32Cs), which no common tool \
             computes from the file; small files still get the whole file's",
        );
    }
}

async fn check_lifecycle(storage: &Storage, target: &Target, report: &mut Report) {
    let rules = match lifecycle_rules(storage).await {
        Ok(rules) => rules,
        Err(err) => {
            report.push(
                Severity::Warning,
                "lifecycle",
                format!(
                    "cannot read the bucket's lifecycle rules ({err}); s3drop's own hourly \
                     sweep aborts stale uploads while it runs"
                ),
            );
            return;
        }
    };
    let covering = rules.iter().find_map(|rule| {
        let enabled = rule.status() == &ExpirationStatus::Enabled;
        let prefix = rule
            .filter()
            .and_then(LifecycleRuleFilter::prefix)
            .unwrap_or_default();
        let days = rule
            .abort_incomplete_multipart_upload()
            .and_then(AbortIncompleteMultipartUpload::days_after_initiation)?;
        (enabled && target.prefix.starts_with(prefix)).then_some(days)
    });
    match covering {
        Some(days) => report.push(
            Severity::Ok,
            "lifecycle",
            format!("unfinished multipart uploads are aborted after {days} day(s)"),
        ),
        None => report.push(
            Severity::Warning,
            "lifecycle",
            format!(
                "no lifecycle rule aborts unfinished multipart uploads under \"{}\": s3drop's \
                 hourly sweep does while it runs; `s3drop --setup-store` adds a rule so the \
                 store does it too",
                target.prefix
            ),
        ),
    }
}

/// The bucket's lifecycle rules; none when it has no configuration.
async fn lifecycle_rules(storage: &Storage) -> Result<Vec<LifecycleRule>, String> {
    match storage
        .client()
        .get_bucket_lifecycle_configuration()
        .bucket(storage.bucket())
        .send()
        .await
        .map_err(|e| StoreError::from_sdk("GetBucketLifecycleConfiguration", e))
    {
        Ok(output) => Ok(output.rules().to_vec()),
        Err(err) if err.code() == Some("NoSuchLifecycleConfiguration") => Ok(Vec::new()),
        Err(err) => Err(err.to_string()),
    }
}

async fn set_up_cors(storage: &Storage, origin: &str) -> Result<(), String> {
    let mut rules = match storage
        .client()
        .get_bucket_cors()
        .bucket(storage.bucket())
        .send()
        .await
        .map_err(|e| StoreError::from_sdk("GetBucketCors", e))
    {
        Ok(output) => output.cors_rules().to_vec(),
        Err(err) if err.code() == Some("NoSuchCORSConfiguration") => Vec::new(),
        Err(err) => return Err(format!("cannot read the bucket's CORS rules: {err}")),
    };
    let mut origins: Vec<String> = vec![origin.to_owned()];
    if let Some(at) = rules.iter().position(|r| r.id() == Some(CORS_RULE_ID)) {
        let old = rules.remove(at);
        origins.extend(
            old.allowed_origins()
                .iter()
                .filter(|o| *o != origin)
                .cloned(),
        );
    }
    let rule = CorsRule::builder()
        .id(CORS_RULE_ID)
        .set_allowed_origins(Some(origins))
        .allowed_methods("GET")
        .allowed_methods("HEAD")
        .allowed_methods("PUT")
        .allowed_headers("*")
        .expose_headers("ETag")
        // A store's 429 or 503 may say how long to wait; the page waits that long.
        .expose_headers("Retry-After")
        .max_age_seconds(3600)
        .build()
        .map_err(|e| e.to_string())?;
    rules.push(rule);
    let cors = CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .map_err(|e| e.to_string())?;
    storage
        .client()
        .put_bucket_cors()
        .bucket(storage.bucket())
        .cors_configuration(cors)
        .send()
        .await
        .map_err(|e| StoreError::from_sdk("PutBucketCors", e))
        .map_err(|err| format!("cannot set the bucket's CORS rules: {err}"))?;
    Ok(())
}

async fn set_up_lifecycle(storage: &Storage, target: &Target) -> Result<(), String> {
    let mut rules = lifecycle_rules(storage)
        .await
        .map_err(|err| format!("cannot read the bucket's lifecycle rules: {err}"))?;
    rules.retain(|r| r.id() != Some(LIFECYCLE_RULE_ID));
    let rule = LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(
            LifecycleRuleFilter::builder()
                .prefix(&target.prefix)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(target.abort_after_days)
                .build(),
        )
        .build()
        .map_err(|e| e.to_string())?;
    rules.push(rule);
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| e.to_string())?;
    storage
        .client()
        .put_bucket_lifecycle_configuration()
        .bucket(storage.bucket())
        .lifecycle_configuration(configuration)
        .send()
        .await
        .map_err(|e| StoreError::from_sdk("PutBucketLifecycleConfiguration", e))
        .map_err(|err| format!("cannot set the bucket's lifecycle rules: {err}"))?;
    Ok(())
}

/// An HTTP client that behaves like a browser's fetch for these checks: no redirects.
fn http_client() -> reqwest::Client {
    crate::server::system::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap_or_default()
}

/// The `<Code>` of an S3 XML error body, or "" when there is none.
fn error_code(body: &str) -> &str {
    body.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_from_xml_bodies() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>";
        assert_eq!(error_code(body), "AccessDenied");
        assert_eq!(error_code("not xml"), "");
    }

    #[test]
    fn a_report_is_fatal_when_any_finding_is() {
        let mut report = Report::default();
        report.push(Severity::Ok, "access", "fine");
        report.push(Severity::Warning, "lifecycle", "none");
        assert!(!report.is_fatal());
        report.push(Severity::Fatal, "cors", "no");
        assert!(report.is_fatal());
        assert!(report.to_string().contains("FAIL cors"));
    }
}
