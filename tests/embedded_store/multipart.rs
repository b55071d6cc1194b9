//! Multipart uploads: assembled, listed, aborted, completed again, raced, swept; objects
//! read across their parts; ETags in S3's shapes.

use super::*;

#[tokio::test]
async fn multipart_uploads_assemble_list_and_abort() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let key = "multi/file.bin";
    let part1 = bytes(5 * MIB, 2);
    let part2 = bytes(1_234, 3);

    let upload_id = start_upload(&s3, key).await;
    let upload_id = upload_id.as_str();

    let listed = s3
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list uploads");
    assert_eq!(listed.uploads().len(), 1);
    assert_eq!(listed.uploads()[0].upload_id(), Some(upload_id));

    let completed = send_parts(&s3, key, upload_id, &[part1.clone(), part2.clone()]).await;
    let parts = s3
        .list_parts()
        .bucket(BUCKET)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .expect("list parts");
    let sizes: Vec<_> = parts.parts().iter().map(|p| p.size()).collect();
    assert_eq!(sizes, [Some(5 * MIB as i64), Some(1_234)]);

    let done = complete(&s3, key, upload_id, completed)
        .await
        .expect("complete");
    assert!(done.e_tag().expect("etag").ends_with("-2\""));
    assert_eq!(read_all(&s3, key).await, [part1, part2].concat());

    // Completed uploads are gone from the list; an aborted one leaves nothing.
    let other_id = start_upload(&s3, "x").await;
    let other_id = other_id.as_str();
    s3.abort_multipart_upload()
        .bucket(BUCKET)
        .key("x")
        .upload_id(other_id)
        .send()
        .await
        .expect("abort");
    let listed = s3
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .expect("list uploads");
    assert!(listed.uploads().is_empty());
    let gone = send_part(&s3, "x", other_id, 1, b"late").await;
    assert_eq!(service_code(gone), "NoSuchUpload");
}

#[tokio::test]
async fn objects_completed_from_parts_read_across_parts_and_outlive_replacement() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let key = "parts/file.bin";
    let parts = [bytes(5 * MIB, 7), bytes(5 * MIB, 8), bytes(1_234, 9)];
    let whole = parts.concat();
    upload_in_parts(&s3, key, &parts).await;

    // A range across the first boundary, one inside a part, the tail.
    for (first, last) in [
        (5 * MIB - 10, 5 * MIB + 9),
        (6 * MIB, 7 * MIB),
        (10 * MIB, whole.len() - 1),
    ] {
        let got = s3
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .range(format!("bytes={first}-{last}"))
            .send()
            .await
            .expect("ranged get")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes();
        assert_eq!(got.as_ref(), &whole[first..=last], "bytes {first}-{last}");
    }

    // A reader that started before the object was replaced and then deleted still
    // reads the version it started on, to the end.
    let mut reading = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("get")
        .body;
    let mut read = reading
        .next()
        .await
        .expect("a chunk")
        .expect("bytes")
        .to_vec();
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(b"newer"))
        .send()
        .await
        .expect("replace");
    s3.delete_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("delete");
    while let Some(chunk) = reading.next().await {
        read.extend_from_slice(&chunk.expect("bytes"));
    }
    assert!(read == whole, "the old version was read whole");
    drop(reading);
    assert_eq!(data_files(&server), Vec::<std::path::PathBuf>::new());

    // An object from parts survives a restart; files no object names are swept then.
    upload_in_parts(&s3, key, &parts).await;
    let orphan = server
        .data
        .path()
        .join("store/buckets/s3drop/00/orphan.data");
    std::fs::create_dir_all(orphan.parent().expect("a parent")).expect("mkdir");
    std::fs::write(&orphan, b"left by a crash").expect("write");
    let server = server.restart(&[]).await;
    assert!(read_all(&server.s3(), key).await == whole);
    assert!(!orphan.exists(), "swept at start");
    assert_eq!(data_files(&server).len(), parts.len());
}

#[tokio::test]
async fn etags_follow_s3s_shapes() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let put = s3
        .put_object()
        .bucket(BUCKET)
        .key("one")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("put");
    // An object written in one PUT: its MD5, which tools compare with the file's.
    assert_eq!(put.e_tag(), Some("\"5d41402abc4b2a76b9719d911017c592\""));
    let etag = upload_in_parts(&s3, "two", &[bytes(5 * MIB, 1), bytes(10, 2)]).await;
    let shape = etag.trim_matches('"');
    let (digest, count) = shape.split_once('-').expect("digest-count");
    assert_eq!((digest.len(), count), (32, "2"), "{etag}");
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn small_non_final_parts_are_refused_at_completion() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let upload_id = start_upload(&s3, "k").await;
    let upload_id = upload_id.as_str();
    let small = bytes(5 * MIB - 1, 4);
    let parts = send_parts(&s3, "k", upload_id, &[small.clone(), small]).await;
    let result = complete(&s3, "k", upload_id, parts).await;
    assert_eq!(service_code(result), "EntityTooSmall");
    // Nothing was created.
    assert_eq!(
        refused_with(s3.head_object().bucket(BUCKET).key("k").send().await),
        404
    );
}

#[tokio::test]
async fn completing_an_upload_again_answers_the_object() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let upload_id = start_upload(&s3, "twice.bin").await;
    let upload_id = upload_id.as_str();
    let parts = send_parts(
        &s3,
        "twice.bin",
        upload_id,
        &[bytes(6 * MIB, 5), bytes(10, 6)],
    )
    .await;
    let first = complete(&s3, "twice.bin", upload_id, parts.clone())
        .await
        .expect("complete");
    // A client whose answer was lost asks again: S3 answers with the object again.
    let again = complete(&s3, "twice.bin", upload_id, parts)
        .await
        .expect("complete again");
    assert_eq!(again.e_tag(), first.e_tag());
    // Parts of a completed upload are gone, as in S3.
    let late = send_part(&s3, "twice.bin", upload_id, 3, b"late").await;
    assert_eq!(service_code(late), "NoSuchUpload");
}

#[tokio::test]
async fn a_part_sent_twice_at_once_completes_with_the_answer_that_came_last() {
    use aws_sdk_s3::presigning::PresigningConfig;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let upload_id = start_upload(&s3, "raced.bin").await;
    let url = s3
        .upload_part()
        .bucket(BUCKET)
        .key("raced.bin")
        .upload_id(&upload_id)
        .part_number(1)
        .presigned(PresigningConfig::expires_in(std::time::Duration::from_secs(300)).expect("ttl"))
        .await
        .expect("presigned")
        .uri()
        .to_owned();
    let (slow_data, fast_data) = (bytes(200_000, 7), bytes(200_000, 8));
    // The first request starts first and finishes last: the rest of its body waits until
    // the second, started once the first's head is on its way, has been answered.
    let (head_sent, started) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let slow_body = {
        let (head, tail) = slow_data.split_at(1000);
        let (head, tail) = (
            bytes::Bytes::copy_from_slice(head),
            bytes::Bytes::copy_from_slice(tail),
        );
        futures::stream::iter([Ok::<_, std::io::Error>(head)]).chain(futures::stream::once(
            async move {
                let _ = head_sent.send(());
                let _ = released.await;
                Ok(tail)
            },
        ))
    };
    let http = reqwest::Client::new();
    let slow = http
        .put(&url)
        .header("content-length", slow_data.len())
        .body(reqwest::Body::wrap_stream(slow_body))
        .send();
    let fast = async {
        started.await.expect("the first request's head went");
        let answer = http.put(&url).body(fast_data.clone()).send().await;
        let _ = release.send(());
        answer
    };
    let (slow, fast) = tokio::join!(slow, fast);
    let (slow, fast) = (slow.expect("slow answers"), fast.expect("fast answers"));
    assert_eq!((slow.status().as_u16(), fast.status().as_u16()), (200, 200));
    let etag = |r: &reqwest::Response| r.headers()["etag"].to_str().expect("etag").to_owned();
    let last = etag(&slow);
    assert_ne!(last, etag(&fast));
    let part = CompletedPart::builder().part_number(1).e_tag(last).build();
    complete(&s3, "raced.bin", &upload_id, vec![part])
        .await
        .expect("completes with the ETag answered last");
    assert_eq!(read_all(&s3, "raced.bin").await, slow_data);
}

#[tokio::test]
async fn a_server_sweeps_uploads_older_than_its_hours_as_it_starts() {
    let server = TestServer::start(&["--stale-upload-hours", "2"]).await;
    let s3 = server.s3();
    let (old, young) = (
        format!("{}old.bin", server.ns),
        format!("{}young.bin", server.ns),
    );
    let old_id = start_upload(&s3, &old).await;
    start_upload(&s3, &young).await;
    // Three hours old, as the store records it: the one thing an upload's age is read from.
    let record = server
        .data
        .path()
        .join("store/uploads")
        .join(&old_id)
        .join("upload.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record).expect("the upload's record"))
            .expect("json");
    let initiated = meta["initiated"].as_u64().expect("seconds");
    meta["initiated"] = (initiated - 3 * 60 * 60).into();
    std::fs::write(&record, meta.to_string()).expect("aged");

    // What `main` runs: the sweep at start-up (then every hour), with the hours given.
    let server = server.restart(&["--stale-upload-hours", "2"]).await;
    let mut left = Vec::new();
    for _ in 0..100 {
        left = server.upload_keys().await;
        if left.len() < 2 && server.state.metrics.stale_swept.get() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(left, [young], "only the upload older than 2 hours is swept");
    assert_eq!(server.state.metrics.stale_swept.get(), 1);
}
