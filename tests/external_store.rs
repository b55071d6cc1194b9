//! What only an external store shows: the store check that runs at start-up (and as
//! `--check-store` / `--setup-store`), and several s3drop servers sharing one store.
//!
//! These need a real store, so they are ignored by a plain `cargo test`;
//! `scripts/test.sh` runs them with `--include-ignored` against Garage and SeaweedFS
//! (through the `AWS_*` and `S3DROP_BUCKET` variables `scripts/stores.sh` writes).

mod common;

use common::{MIB, TestServer, bytes, external_store, start, store_facts};
use leptos::config::LeptosOptions;
use s3drop::api::{CompletedPart, SignedPart, StoredObject};
use s3drop::core::checksum::crc32c;
use s3drop::server::cli::config::Config;
use s3drop::server::cli::startup::{self, StartError};
use serde_json::json;

const NEEDS_STORE: &str = "needs an external store: scripts/test.sh starts them";

/// `s3drop --check-store` (or `--setup-store`) with these flags over the environment's
/// store: the report and whether the store is usable.
async fn store_command(flags: &[&str]) -> (String, bool) {
    assert!(external_store(), "{NEEDS_STORE}");
    let mut args = vec!["s3drop"];
    if !flags.contains(&"--setup-store") {
        args.push("--check-store");
    }
    args.extend_from_slice(flags);
    let config = Config::load(args).expect("valid flags");
    startup::store_command(&config, config.mode()).await
}

#[tokio::test]
#[ignore = "needs an external store: scripts/test.sh runs it"]
async fn the_store_check_says_what_is_wrong() {
    let key_id = std::env::var("AWS_ACCESS_KEY_ID").expect("the store's key id");
    let cases: [(Vec<&str>, &[&str]); 3] = [
        (
            vec![
                "--access-key-id",
                &key_id,
                "--secret-access-key",
                "not-the-secret",
            ],
            // Garage answers AccessDenied, S3 and SeaweedFS SignatureDoesNotMatch.
            &[
                "secret access key is wrong",
                "access key or secret is wrong",
            ],
        ),
        (
            vec!["--bucket", "no-such-bucket-here"],
            &["\"no-such-bucket-here\" does not exist"],
        ),
        (
            vec!["--endpoint-url", "http://127.0.0.1:9"],
            &["cannot reach the store at http://127.0.0.1:9"],
        ),
    ];
    for (flags, expected) in cases {
        let (report, usable) = store_command(&flags).await;
        assert!(!usable, "{flags:?}: {report}");
        assert!(report.starts_with("FAIL access"), "{flags:?}: {report}");
        assert!(
            expected.iter().any(|e| report.contains(e)),
            "{flags:?}: {report}"
        );
    }

    // The server refuses to start on such a store, with the same words.
    let config = Config::load(["s3drop", "--bucket", "no-such-bucket-here"]).expect("flags");
    let options = LeptosOptions::builder().output_name("s3drop").build();
    let started = startup::build(&config, options, "127.0.0.1:0".parse().expect("addr")).await;
    match started {
        Err(StartError::Store(report)) => {
            assert!(report.to_string().contains("does not exist"), "{report}")
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("started on a missing bucket"),
    }
}

#[tokio::test]
#[ignore = "needs an external store: scripts/test.sh runs it"]
async fn setup_store_lets_the_page_origin_upload_and_no_other() {
    let allowed = "http://localhost:3100";
    let (report, usable) = store_command(&["--setup-store", "--public-url", allowed]).await;
    assert!(usable, "{report}");
    assert!(report.contains("set  CORS rule"), "{report}");
    assert!(
        report.contains(&format!(
            "ok   cors       {allowed} may upload and read ETag"
        )),
        "{report}"
    );
    assert!(report.contains("ok   lifecycle"), "{report}");
    // Garage 2.5 and SeaweedFS 4.48 keep the whole file's CRC32C for multipart objects.
    assert!(
        report.contains("ok   checksums  every object records the CRC32C of the whole file"),
        "{report}"
    );
    // The report tells the truth about conditional writes (SeaweedFS honours them,
    // Garage 2.5 does not), as the store facts say.
    let said = match store_facts().if_none_match {
        true => "ok   final      a stored file cannot be replaced through its URL",
        false => "warn final      the store ignores If-None-Match",
    };
    assert!(report.contains(said), "{report}");
    // Setting up again changes nothing and keeps the same answer.
    let (again, usable) = store_command(&["--setup-store", "--public-url", allowed]).await;
    assert!(usable, "{again}");

    let (report, usable) = store_command(&["--public-url", "https://elsewhere.example"]).await;
    assert!(!usable, "{report}");
    assert!(
        report.contains("FAIL cors") && report.contains("https://elsewhere.example"),
        "{report}"
    );
}

#[tokio::test]
#[ignore = "needs an external store: scripts/test.sh runs it"]
async fn servers_sharing_a_secret_serve_one_upload_between_them() {
    assert!(external_store(), "{NEEDS_STORE}");
    let secret = [
        "--secret",
        "a shared secret of at least thirty-two characters",
    ];
    let first = TestServer::start(&secret).await;
    let second = first.start_beside(&secret).await;
    let data = bytes(20 * MIB, 51);
    let started = start(&first, "shared.bin", data.len(), "")
        .await
        .expect("started through the first");
    let plan = common::plan_of(&started, data.len());
    assert_eq!(plan.part_count, 3);
    let slice = |n: u32| {
        let (from, to) = plan.range(n).expect("in plan");
        &data[from as usize..to as usize]
    };

    // Parts signed through both servers, alternately.
    let mut parts = Vec::new();
    for n in 1..=plan.part_count {
        let server = if n % 2 == 1 { &first } else { &second };
        let signed: Vec<SignedPart> = server
            .call(
                "uploads/sign",
                &json!({ "token": started.token, "parts": [{ "part_number": n, "crc32c": crc32c(slice(n)) }] }),
            )
            .await
            .expect("signed");
        let (status, etag) = common::put_part(server, &signed[0], slice(n).to_vec()).await;
        assert_eq!(status, 200, "part {n}");
        parts.push(CompletedPart {
            part_number: n,
            etag: etag.expect("an etag"),
            crc32c: Some(crc32c(slice(n))),
        });
    }

    // Completed through the second, which never saw the start.
    let stored: StoredObject = second
        .call(
            "uploads/complete",
            &json!({ "token": started.token, "parts": parts }),
        )
        .await
        .expect("completed through the second");
    assert_eq!(stored.size, data.len() as u64);
    let body = second.fetch(&stored.download_url).await;
    assert!(body == data, "the same bytes");

    // A server with another secret does not accept the token.
    let stranger = first
        .start_beside(&[
            "--secret",
            "another secret, also thirty-two characters long",
        ])
        .await;
    let refused: Result<Vec<SignedPart>, _> = stranger
        .call(
            "uploads/sign",
            &json!({ "token": started.token, "parts": [{ "part_number": 1, "crc32c": crc32c(slice(1)) }] }),
        )
        .await;
    assert!(matches!(refused, Err((403, _))), "{refused:?}");
}
