//! What a presigned URL is bound to: each signed header and field, changed or dropped,
//! is refused by the store, and the URL as signed works.

use super::*;

#[tokio::test]
async fn presigned_urls_are_bound_to_length_and_type() {
    let server = TestServer::start(&[]).await;
    let start = start(&server, "a.txt", 100, "text/plain")
        .await
        .expect("started");
    let SignedPart { url, headers, .. } = &single_put(&server, &start).await;
    // The headers signed with the URL, but for the one thing each PUT changes.
    let put = |url: String, content_type: &'static str, length: usize| {
        let mut request = server.http.put(url).body(vec![0u8; length]);
        for (name, value) in headers {
            if !name.eq_ignore_ascii_case("content-type") {
                request = request.header(name, value);
            }
        }
        let request = request.header("content-type", content_type);
        async move { request.send().await.expect("answers").status().as_u16() }
    };
    // A longer body, another content type, or another key than signed for is refused.
    assert_eq!(put(url.clone(), "text/plain", 200).await, 403);
    assert_eq!(put(url.clone(), "text/html", 100).await, 403);
    assert_eq!(
        put(url.replacen("/a.txt", "/b.txt", 1), "text/plain", 100).await,
        403
    );
    // Nothing was stored, so completion says so.
    let result: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await;
    assert!(
        matches!(result, Err((404, ApiError::NotFound(_)))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_checksum_signed_into_a_part_url_is_enforced_by_the_store() {
    let server = TestServer::start(&[]).await;
    let data = bytes(12 * MIB, 13);
    let start = start(&server, "checked.bin", data.len(), "")
        .await
        .expect("started");
    assert!(start.is_multipart());
    let plan = &start.plan;
    let (from, to) = plan.range(1).expect("in plan");
    let part = &data[from as usize..to as usize];
    let crc = s3drop::core::checksum::crc32c(part);
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 1, "crc32c": crc }] }),
        )
        .await
        .expect("signed");
    let headers = &signed[0].headers;
    assert!(
        headers
            .iter()
            .any(|(n, v)| n == "x-amz-checksum-crc32c" && *v == crc),
        "{headers:?}"
    );
    // Each PUT on a connection of its own: a store that refused the last one may close
    // its connection while a pooled client is about to send the next on it.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let put = |body: Vec<u8>, with_headers: bool| {
        let mut request = http.put(&signed[0].url).body(body);
        if with_headers {
            for (name, value) in headers {
                request = request.header(name, value);
            }
        }
        // A store may refuse before reading the body and close the connection: the
        // status is then unknown (0), but the part is refused all the same.
        async move {
            match request.send().await {
                Ok(response) => (
                    response.status().as_u16(),
                    response.text().await.unwrap_or_default(),
                ),
                Err(_) => (0, String::new()),
            }
        }
    };
    // One flipped bit: the store refuses the part as corrupted.
    let mut corrupted = part.to_vec();
    corrupted[1234] ^= 1;
    let (status, body) = put(corrupted, true).await;
    assert_eq!(status, 400);
    assert!(is_checksum_refusal(&body), "{body}");
    // Without the signed checksum header, the signature does not match (403), or the
    // store refuses it otherwise (Garage, now and then: 400), or closes the connection.
    let (status, body) = put(part.to_vec(), false).await;
    assert!(matches!(status, 400 | 403 | 0), "{status} {body}");
    assert_eq!(put(part.to_vec(), true).await.0, 200);

    let stored: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    assert_eq!(stored.len(), 1, "only the good part is stored");

    let bad: Result<Vec<SignedPart>, _> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 2, "crc32c": "nope" }] }),
        )
        .await;
    assert!(
        matches!(bad, Err((400, ApiError::BadRequest(_)))),
        "{bad:?}"
    );
}

/// A signed request, or one with a thing it was signed with changed or dropped.
#[derive(Clone)]
struct Variant {
    what: &'static str,
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Variant {
    /// The PUT as it was signed.
    fn signed(url: &str, headers: &[(String, String)], body: &[u8]) -> Self {
        Self {
            what: "as signed",
            method: reqwest::Method::PUT,
            url: url.to_owned(),
            headers: headers.to_vec(),
            body: body.to_vec(),
        }
    }

    /// The variants every presigned PUT of s3drop's must refuse: another method (with
    /// the signed length and body, so only the method differs), another CRC32C, none.
    fn method_and_checksum_changed(&self, other_crc32c: &str) -> Vec<Self> {
        let crc = |value: Option<&str>| with_header(&self.headers, "x-amz-checksum-crc32c", value);
        vec![
            Self {
                what: "method GET",
                method: reqwest::Method::GET,
                ..self.clone()
            },
            Self {
                what: "another CRC32C",
                headers: crc(Some(other_crc32c)),
                ..self.clone()
            },
            Self {
                what: "no CRC32C",
                headers: crc(None),
                ..self.clone()
            },
        ]
    }

    /// Sends it; answers the status.
    async fn send(&self, server: &TestServer) -> u16 {
        let request = server.http.request(self.method.clone(), &self.url);
        let mut request = request.body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request.send().await.expect("answers").status().as_u16()
    }

    /// How the store refuses it: a header it was signed with left out is the store's
    /// own status for that (`tests/store-facts.json`), anything changed 403.
    fn refusal(&self) -> u16 {
        match self.what.starts_with("no ") {
            true => store_facts().missing_signed_header_status,
            false => 403,
        }
    }
}

/// `headers` without the one named `name`, and with it set to `value` when given.
fn with_header(
    headers: &[(String, String)],
    name: &str,
    value: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<_> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    if let Some(value) = value {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

#[tokio::test]
async fn a_small_files_url_is_bound_to_each_signed_header_and_field() {
    let server = TestServer::start(&[]).await;
    let data = bytes(100, 31);
    let start = start(&server, "bound.txt", data.len(), "text/plain")
        .await
        .expect("started");
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 1, "crc32c": crc32c(&data) }] }),
        )
        .await
        .expect("signed");
    let SignedPart { url, headers, .. } = &signed[0];
    let signed_names: Vec<_> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    for name in ["content-type", "if-none-match", "x-amz-checksum-crc32c"] {
        assert!(
            signed_names.iter().any(|n| n == name),
            "{name} in {headers:?}"
        );
    }
    let other_crc = crc32c(&bytes(100, 32));
    // Each variant changes or drops one thing the URL was signed with; the store refuses
    // every one (and so stores nothing).
    let signed = Variant::signed(url, headers, &data);
    let mut variants = signed.method_and_checksum_changed(&other_crc);
    variants.extend([
        Variant {
            what: "another key",
            url: url.replacen("/bound.txt", "/other.txt", 1),
            ..signed.clone()
        },
        Variant {
            what: "a longer body",
            body: bytes(101, 31),
            ..signed.clone()
        },
        Variant {
            what: "another type",
            headers: with_header(headers, "content-type", Some("text/html")),
            ..signed.clone()
        },
        Variant {
            what: "no type",
            headers: with_header(headers, "content-type", None),
            ..signed.clone()
        },
        Variant {
            what: "no If-None-Match",
            headers: with_header(headers, "if-none-match", None),
            ..signed.clone()
        },
    ]);
    for variant in &variants {
        let status = variant.send(&server).await;
        assert_eq!(status, variant.refusal(), "{}", variant.what);
    }
    let nothing: Result<StoredObject, _> = server
        .call(
            "uploads/complete",
            &json!({ "token": start.token, "parts": [] }),
        )
        .await;
    assert!(
        matches!(nothing, Err((404, ApiError::NotFound(_)))),
        "{nothing:?}"
    );
    // The URL as signed works.
    assert_eq!(signed.send(&server).await, 200);
}

#[tokio::test]
async fn a_part_url_is_bound_to_its_part_number_upload_method_and_checksum() {
    let server = TestServer::start(&[]).await;
    // The last part is ten bytes: a store that refuses a request before reading its
    // body (as Garage does) cannot cut a large one short.
    let data = bytes(8 * MIB + 10, 33);
    let start = start(&server, "bound.bin", data.len(), "")
        .await
        .expect("started");
    let plan = plan_of(&start, data.len());
    assert_eq!(plan.part_count, 2);
    let (from, to) = plan.range(2).expect("part 2");
    let part = data[from as usize..to as usize].to_vec();
    let signed: Vec<SignedPart> = server
        .call(
            "uploads/sign",
            &json!({ "token": start.token, "parts": [{ "part_number": 2, "crc32c": crc32c(&part) }] }),
        )
        .await
        .expect("signed");
    let SignedPart { url, headers, .. } = &signed[0];
    let upload_id = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("uploadId="))
        .expect("an upload id")
        .to_owned();
    let other_crc = crc32c(&data[..100]);
    let signed = Variant::signed(url, headers, &part);
    let mut variants = signed.method_and_checksum_changed(&other_crc);
    variants.extend([
        Variant {
            what: "part number 1",
            url: url.replacen("partNumber=2", "partNumber=1", 1),
            ..signed.clone()
        },
        Variant {
            what: "another upload id",
            url: url.replacen(&upload_id, &format!("{upload_id}x"), 1),
            ..signed.clone()
        },
    ]);
    for variant in &variants {
        let status = variant.send(&server).await;
        assert_eq!(status, variant.refusal(), "{}", variant.what);
    }
    // The store holds no part of the upload; the URL as signed stores part 2.
    let held: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    assert!(held.is_empty(), "{held:?}");
    assert_eq!(signed.send(&server).await, 200);
    let held: Vec<StoredPart> = server
        .call("uploads/parts", &json!({ "token": start.token }))
        .await
        .expect("listed");
    assert_eq!(held.iter().map(|p| p.part_number).collect::<Vec<_>>(), [2]);
}
