//! Listings: both versions, their parameters and paging, as S3 answers them.

use super::*;

#[tokio::test]
async fn listing_pages_through_many_keys() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for i in 0..25 {
        s3.put_object()
            .bucket(BUCKET)
            .key(format!("k/{i:03}"))
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("put");
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(10)
            .set_continuation_token(token.take())
            .send()
            .await
            .expect("list");
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match page.next_continuation_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<_> = (0..25).map(|i| format!("k/{i:03}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn listings_answer_their_parameters_as_s3_does() {
    use aws_sdk_s3::types::EncodingType;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for key in ["list/a b+c/ü.txt", "list/z.txt"] {
        put_small(&s3, key, b"x").await;
    }
    let encoded = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("list/")
        .encoding_type(EncodingType::Url)
        .fetch_owner(true)
        .send()
        .await
        .expect("list");
    assert_eq!(encoded.encoding_type(), Some(&EncodingType::Url));
    let keys: Vec<_> = encoded.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["list/a%20b%2Bc/%C3%BC.txt", "list/z.txt"]);
    assert!(
        encoded
            .contents()
            .iter()
            .all(|o| o.owner().and_then(|w| w.id()).is_some())
    );
    let plain = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("list/")
        .send()
        .await
        .expect("list");
    assert!(plain.contents().iter().all(|o| o.owner().is_none()));

    let none = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .max_keys(0)
        .send()
        .await
        .expect("list");
    assert_eq!(
        (none.key_count(), none.is_truncated()),
        (Some(0), Some(false))
    );
    let empty_delimiter = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .delimiter("")
        .send()
        .await
        .expect("list");
    assert_eq!(empty_delimiter.delimiter(), None);
}

/// ListObjects, the first version, as rclone (with its defaults for "other" stores) and
/// older clients page through a bucket: by marker.
#[tokio::test]
async fn the_first_listing_version_pages_by_marker() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    for key in [
        "v1/a.txt",
        "v1/b/c.txt",
        "v1/b/d.txt",
        "v1/e.txt",
        "v1/f g.txt",
    ] {
        put_small(&s3, key, b"x").await;
    }
    let mut keys = Vec::new();
    let mut marker = None;
    loop {
        let page = s3
            .list_objects()
            .bucket(BUCKET)
            .prefix("v1/")
            .max_keys(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("listed");
        let page_keys: Vec<String> = page
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .map(str::to_owned)
            .collect();
        assert!(page_keys.len() <= 2);
        keys.extend(page_keys);
        if !page.is_truncated().unwrap_or(false) {
            break;
        }
        marker = Some(
            page.next_marker()
                .map_or_else(|| keys.last().cloned().expect("a key"), str::to_owned),
        );
    }
    assert_eq!(
        keys,
        [
            "v1/a.txt",
            "v1/b/c.txt",
            "v1/b/d.txt",
            "v1/e.txt",
            "v1/f g.txt"
        ]
    );
    let folders = s3
        .list_objects()
        .bucket(BUCKET)
        .prefix("v1/")
        .delimiter("/")
        .send()
        .await
        .expect("listed");
    let prefixes: Vec<_> = folders
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["v1/b/"]);
    assert_eq!(folders.contents().len(), 3);
    assert_eq!(folders.is_truncated(), Some(false));
}
