//! Checksums: verified on the way in, answered when asked for, and a full-object
//! upload's whole-object CRC32C.

use super::*;

#[tokio::test]
async fn checksums_are_verified() {
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    // The CRC32C of "hello" is 9a71bb4c; base64 "mnG7TA==".
    s3.put_object()
        .bucket(BUCKET)
        .key("ok")
        .checksum_crc32_c("mnG7TA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("a matching checksum is accepted");
    let wrong = s3
        .put_object()
        .bucket(BUCKET)
        .key("bad")
        .checksum_crc32_c("AAAAAA==")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await;
    assert_eq!(service_code(wrong), "BadDigest");
    assert_eq!(
        refused_with(s3.head_object().bucket(BUCKET).key("bad").send().await),
        404
    );
}

#[tokio::test]
async fn checksums_are_answered_when_asked_for_crc64nvme_included() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode};
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    s3.put_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(ByteStream::from(bytes(5000, 4)))
        .send()
        .await
        .expect("put");
    // Without x-amz-checksum-mode: ENABLED, S3 does not answer checksums.
    let plain = s3
        .head_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .send()
        .await
        .expect("head");
    assert_eq!(plain.checksum_crc64_nvme(), None);
    let asked = s3
        .head_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert!(
        asked.checksum_crc64_nvme().is_some_and(|c| !c.is_empty()),
        "{asked:?}"
    );
    let got = s3
        .get_object()
        .bucket(BUCKET)
        .key("summed.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(got.checksum_crc64_nvme(), asked.checksum_crc64_nvme());

    let upload = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("summed-parts.bin")
        .checksum_algorithm(ChecksumAlgorithm::Crc32C)
        .send()
        .await
        .expect("create");
    assert_eq!(
        upload.checksum_algorithm(),
        Some(&ChecksumAlgorithm::Crc32C)
    );
}

#[tokio::test]
async fn a_full_object_upload_records_and_checks_the_whole_objects_crc32c() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
    use s3drop::core::checksum::crc32c;
    let server = TestServer::start(&[]).await;
    let s3 = server.s3();
    let parts = [bytes(5 * MIB, 30), bytes(777, 31)];
    let whole = crc32c(&parts.concat());
    // (what the client says the whole object's CRC32C is, what the store answers)
    for (i, (promised, answer)) in [
        (Some(whole.clone()), Ok(())),
        (None, Ok(())),
        (Some(crc32c(b"other bytes")), Err("BadDigest")),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("whole-{i}.bin");
        let upload = s3
            .create_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await
            .expect("create");
        assert_eq!(upload.checksum_type(), Some(&ChecksumType::FullObject));
        let upload_id = upload.upload_id().expect("an id");
        let mut completed = Vec::new();
        for (n, data) in (1..).zip(&parts) {
            let sent = s3
                .upload_part()
                .bucket(BUCKET)
                .key(&key)
                .upload_id(upload_id)
                .part_number(n)
                .checksum_crc32_c(crc32c(data))
                .body(ByteStream::from(data.clone()))
                .send()
                .await
                .expect("part");
            completed.push(
                CompletedPart::builder()
                    .part_number(n)
                    .e_tag(sent.e_tag().expect("etag"))
                    .checksum_crc32_c(crc32c(data))
                    .build(),
            );
        }
        let done = s3
            .complete_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .upload_id(upload_id)
            .set_checksum_crc32_c(promised)
            .checksum_type(ChecksumType::FullObject)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await;
        match answer {
            Ok(()) => {
                let done = done.expect("complete");
                assert_eq!(done.checksum_crc32_c(), Some(whole.as_str()));
                let head = s3
                    .head_object()
                    .bucket(BUCKET)
                    .key(&key)
                    .checksum_mode(ChecksumMode::Enabled)
                    .send()
                    .await
                    .expect("head");
                assert_eq!(head.checksum_crc32_c(), Some(whole.as_str()));
                assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
            }
            Err(code) => {
                assert_eq!(service_code(done), code);
                // Nothing was made, and the upload is still there to complete rightly.
                let head = s3.head_object().bucket(BUCKET).key(&key).send().await;
                assert_eq!(refused_with(head), 404);
                let listed = s3
                    .list_parts()
                    .bucket(BUCKET)
                    .key(&key)
                    .upload_id(upload_id)
                    .send()
                    .await
                    .expect("still listed");
                assert_eq!(listed.parts().len(), 2);
            }
        }
    }

    // The store combines CRC32Cs only; a full-object type needs an algorithm.
    let sha = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("sha.bin")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await;
    assert_eq!(service_code(sha), "NotImplemented");
    let bare = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("bare.bin")
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await;
    assert_eq!(service_code(bare), "InvalidRequest");
}
