//! The pre-start hook: asked (signed) before files start, it refuses a file with a
//! reason; one that does not answer counts as the operator chose; a bad answer refuses.

use s3drop::server::cli::config::Config;

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn server_asking(
    receiver: &Receiver,
    path: &str,
    args: &[&str],
) -> (TestServer, serde_json::Value) {
    receiver.expect_secret(SECRET);
    let url = receiver.url(path);
    let mut all = vec![
        "--pre-start-hook",
        url.as_str(),
        "--pre-start-secret",
        SECRET,
        "--pre-start-timeout",
        "1",
    ];
    all.extend_from_slice(args);
    let (server, cookie) = operator_server(&all).await;
    let link = create_link(&server, &cookie, json!({ "ask_name": true })).await;
    (server, json!({ "secret": link.secret, "uploader": "Ada" }))
}

#[tokio::test]
async fn the_pre_start_hook_refuses_one_file_of_a_batch_with_its_reason() {
    let receiver = Receiver::start().await;
    let (server, pass) = server_asking(&receiver, "/pre-start", &[]).await;
    let files = [
        file("a.txt", 10, None),
        file("setup.exe", 20, None),
        file("c.txt", 30, None),
    ];
    let answers = start_through(&server, &pass, &files).await;
    assert!(answers[0].is_ok() && answers[2].is_ok(), "{answers:?}");
    match &answers[1] {
        Err(ApiError::Refused(reason)) => assert_eq!(reason, "no programs, please"),
        other => panic!("expected the hook's refusal: {other:?}"),
    }
    for start in answers.iter().flatten() {
        send_and_complete(&server, start).await;
    }
    let asked = receiver.got();
    assert_eq!(asked.len(), 1, "asked once for the batch");
    assert!(asked[0].verified, "the question is signed");
    assert_eq!(asked[0].event(), "upload.pre_start");
    let data = asked[0].data();
    assert_eq!(data["files"].as_array().map(Vec::len), Some(3));
    assert_eq!(data["files"][1]["name"], json!("setup.exe"));
    assert_eq!(data["files"][1]["size"], json!(20));
    assert_eq!(data["link"]["label"], json!("Acme's folder"));
    assert_eq!(data["uploader"], json!("Ada"));
}

#[tokio::test]
async fn a_pre_start_hook_that_does_not_answer_refuses_or_accepts_as_configured() {
    let receiver = Receiver::start().await;
    let (refusing, pass) = server_asking(&receiver, "/pre-start-slow", &[]).await;
    let answers = start_through(&refusing, &pass, &[file("a.txt", 10, None)]).await;
    match &answers[0] {
        Err(ApiError::Refused(reason)) => {
            assert!(reason.contains("did not answer within 1 s"), "{reason}")
        }
        other => panic!("expected a refusal: {other:?}"),
    }
    let (accepting, pass) = server_asking(
        &receiver,
        "/pre-start-slow",
        &["--pre-start-on-timeout", "accept"],
    )
    .await;
    let answers = start_through(&accepting, &pass, &[file("a.txt", 10, None)]).await;
    assert!(answers[0].is_ok(), "{answers:?}");
}

#[tokio::test]
async fn a_pre_start_answer_that_is_not_the_documented_json_refuses() {
    let receiver = Receiver::start().await;
    let (server, pass) = server_asking(
        &receiver,
        "/pre-start-bad",
        &["--pre-start-on-timeout", "accept"],
    )
    .await;
    let answers = start_through(&server, &pass, &[file("a.txt", 10, None)]).await;
    match &answers[0] {
        Err(ApiError::Refused(reason)) => {
            assert!(reason.contains("pre-start check failed"), "{reason}")
        }
        other => panic!("expected a refusal: {other:?}"),
    }
}

#[test]
fn a_pre_start_hook_needs_its_secret_and_an_http_url() {
    let check = |args: &[&str]| {
        let mut all = vec!["s3drop"];
        all.extend_from_slice(args);
        let config = Config::load(all).map_err(|e| e.to_string())?;
        config.validate()
    };
    let err = check(&["--pre-start-hook", "https://rules.example.com/"]).expect_err("refused");
    assert!(err.contains("--pre-start-secret"), "{err}");
    let err = check(&[
        "--pre-start-hook",
        "rules.example.com",
        "--pre-start-secret",
        SECRET,
    ])
    .expect_err("refused");
    assert!(err.contains("http:// or https://"), "{err}");
    let err = check(&[
        "--pre-start-hook",
        "https://rules.example.com/",
        "--pre-start-secret",
        "hunter2hunter2",
    ])
    .expect_err("refused");
    assert!(err.contains("whsec_"), "{err}");
    check(&[
        "--pre-start-hook",
        "https://rules.example.com/",
        "--pre-start-secret",
        SECRET,
    ])
    .expect("accepted");
}
