//! Requests the store refuses: other credentials, other buckets, presigned URLs that
//! claim more than seven days.

use super::*;

#[tokio::test]
async fn requests_signed_with_other_credentials_are_refused() {
    let server = TestServer::start(&[]).await;
    let intruder = server.s3_with("S3DROPNOTME", "not-the-secret");
    let result = intruder
        .put_object()
        .bucket(BUCKET)
        .key("intrusion")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_eq!(refused_with(result), 403);
    let anonymous = server
        .http
        .put(server.url("/s3drop/anon"))
        .body("x")
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status().as_u16(), 403);
    assert_eq!(
        refused_with(
            server
                .s3()
                .head_object()
                .bucket(BUCKET)
                .key("intrusion")
                .send()
                .await
        ),
        404
    );
}

#[tokio::test]
async fn requests_for_other_buckets_are_answered_no_such_bucket() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let listed = s3.list_objects_v2().bucket("not-this-store").send().await;
    assert_eq!(service_code(listed), "NoSuchBucket");
    let got = s3
        .get_object()
        .bucket("not-this-store")
        .key("k")
        .send()
        .await;
    assert_eq!(service_code(got), "NoSuchBucket");
    let buckets = s3.list_buckets().send().await.expect("list buckets");
    let names: Vec<_> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, [BUCKET]);
    // The page's own 404 stays for whatever is not an S3 request.
    let page = server
        .http
        .get(server.url("/not-this-store/k"))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.text().await.expect("text").contains("<html"));
}

#[tokio::test]
async fn presigned_urls_claiming_more_than_seven_days_are_refused() {
    use aws_sigv4::http_request::{
        SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
    };
    use aws_sigv4::sign::v4;
    let server = TestServer::start(&[]).await;
    let secrets =
        s3drop::server::cli::secrets::load_or_create(server.data.path()).expect("secrets");
    put_small(&server.s3(), "week.txt", b"a week").await;
    let presign = |seconds: u64| {
        let identity = aws_credential_types::Credentials::new(
            &secrets.store_access_key,
            &secrets.store_secret_key,
            None,
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(std::time::Duration::from_secs(seconds));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(std::time::SystemTime::now())
            .settings(settings)
            .build()
            .expect("params")
            .into();
        let url = server.url("/s3drop/week.txt");
        let request = SignableRequest::new(
            "GET",
            &url,
            std::iter::empty(),
            SignableBody::UnsignedPayload,
        )
        .expect("signable");
        let (instructions, _) = sign(request, &params).expect("signed").into_parts();
        let mut url = reqwest::Url::parse(&url).expect("url");
        for (name, value) in instructions.params() {
            url.query_pairs_mut().append_pair(name, value);
        }
        url.to_string()
    };
    let week = server
        .http
        .get(presign(604_800))
        .send()
        .await
        .expect("answers");
    assert_eq!(week.status().as_u16(), 200);
    let longer = server
        .http
        .get(presign(604_801))
        .send()
        .await
        .expect("answers");
    assert_eq!(longer.status().as_u16(), 400);
    assert!(
        longer
            .text()
            .await
            .expect("text")
            .contains("AuthorizationQueryParametersError")
    );
}
