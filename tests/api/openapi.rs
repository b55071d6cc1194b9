//! The OpenAPI document: served, every route in it, every reference resolved, and the
//! arguments it names the ones the calls take (unknown ones are refused).

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;

async fn document(server: &TestServer) -> Value {
    let response = server
        .http
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn the_document_lists_every_route_the_router_serves() {
    // With a metrics token, so /metrics is served (401 without it).
    let server = TestServer::start(&["--metrics-token", "metrics-token-0123456789"]).await;
    let doc = document(&server).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    let served: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(
        served.len() >= 27,
        "the server functions are registered: {served:?}"
    );
    for path in &served {
        assert!(
            documented.contains(path),
            "{path} is served but not documented"
        );
    }
    for path in documented
        .iter()
        .filter(|p| p.starts_with("/api/") && *p != "/api/openapi.json")
    {
        assert!(served.contains(path), "{path} is documented but not served");
    }
    // The routes beside the server functions: each is served (not the page's 404).
    for (method, path, _, _) in s3drop::server::http::openapi::OTHER_ROUTES {
        assert!(documented.contains(path), "{path}");
        let url = server.url(&path.replace("{secret}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        let request = match method {
            "post" => server.http.post(&url),
            _ => server.http.get(&url),
        };
        let status = request.send().await.expect("answers").status().as_u16();
        assert_ne!(status, 404, "{method} {path}");
        assert_ne!(status, 405, "{method} {path}");
    }

    // Every reference resolves to a component.
    let components = doc["components"]["schemas"].as_object().expect("schemas");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "{}", refs.len());
    for reference in refs {
        let name = reference.trim_start_matches("#/components/schemas/");
        assert!(
            components.contains_key(name),
            "{reference} does not resolve"
        );
    }
    // A call's body is its arguments, and the operator's calls say how to authenticate.
    let start = &components["StartUploads"]["properties"];
    assert!(
        start["files"].is_object() && start["link"].is_object(),
        "{start}"
    );
    let create = &doc["paths"]["/api/tokens/create"]["post"];
    assert!(
        create["security"].to_string().contains("apiToken"),
        "{create}"
    );
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                refs.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, refs));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[tokio::test]
async fn unknown_arguments_and_fields_are_refused_saying_which() {
    let server = TestServer::start(&[]).await;
    let (status, err) = server
        .call::<Value>(
            "uploads/start-batch",
            &json!({ "files": [file("a.txt", 10)], "lnk": null }),
        )
        .await
        .expect_err("refused");
    assert_eq!(status, 400);
    let said = err.to_string();
    assert!(
        said.contains("`lnk`") && said.contains("files, link") || said.contains("link, files"),
        "{said}"
    );
    let mut typo = serde_json::to_value(file("a.txt", 10)).expect("JSON");
    typo["sise"] = json!(10);
    let (status, err) = server
        .call::<Value>("uploads/start-batch", &json!({ "files": [typo] }))
        .await
        .expect_err("refused");
    assert_eq!(status, 400);
    assert!(err.to_string().contains("sise"), "{err}");
    // What the page sends still goes.
    let started: Vec<Result<UploadStart, ApiError>> = server
        .call(
            "uploads/start-batch",
            &json!({ "files": [file("a.txt", 10)] }),
        )
        .await
        .expect("started");
    assert!(started[0].is_ok());
}
