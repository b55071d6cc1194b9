//! The API's OpenAPI 3.1 document, served at `/api/openapi.json`. Made from the code, so
//! it cannot drift from it: each call's path and request body come from its server
//! function's own argument type (`#[server(input_derive = …)]` derives its schema), its
//! answer from the function's return type, and every wire type's schema from the type
//! (`utoipa::ToSchema`). The routes beside the server functions (health, metrics, the
//! record's exports, the login) are listed by hand in [`OTHER_ROUTES`], which the
//! router's tests check against what it serves.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use leptos::server_fn::ServerFn;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref,
    RefOr, Required, ResponseBuilder, SecurityRequirement,
};
use utoipa::{PartialSchema, ToSchema};

use crate::api::{self, ApiError, types::*};

/// Who may make a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Anyone who reaches the server.
    Anyone,
    /// The operator, the open drop, or an upload link's holder (its secret in `link`).
    Uploader,
    /// The operator: a session, or an API token.
    Operator,
}

/// The document as served, and each call's argument names by path (what a call's JSON
/// body may hold): made once, together.
static BUILT: LazyLock<(String, HashMap<&'static str, Vec<String>>)> = LazyLock::new(|| {
    let mut doc = Document::default();
    document_into(&mut doc);
    let fields = std::mem::take(&mut doc.fields);
    let json = serde_json::to_string_pretty(&doc.finish()).unwrap_or_else(|err| {
        tracing::error!(%err, "the OpenAPI document could not be written");
        "{}".into()
    });
    (json, fields)
});

/// The routes served beside the server functions: method, path, summary, who.
pub const OTHER_ROUTES: [(&str, &str, &str, &str); 9] = [
    ("get", "/api/openapi.json", "This document.", "anyone"),
    (
        "get",
        "/healthz",
        "Whether the server is up (always 200 while it serves).",
        "anyone",
    ),
    (
        "get",
        "/readyz",
        "Whether the store and the database answer (200, or 503 saying which does not).",
        "anyone",
    ),
    (
        "get",
        "/metrics",
        "Prometheus metrics, with `Authorization: Bearer` and the --metrics-token.",
        "the metrics token",
    ),
    (
        "get",
        "/record.csv",
        "The record of uploads as CSV (the filters of record/list as query parameters).",
        "the operator",
    ),
    (
        "get",
        "/record.json",
        "The record of uploads as JSON (the filters of record/list as query parameters).",
        "the operator",
    ),
    (
        "post",
        "/login",
        "Logs the operator in (a form with `password`); sets the session cookie.",
        "anyone",
    ),
    ("post", "/logout", "Ends the operator's session.", "anyone"),
    (
        "get",
        "/l/{secret}",
        "An upload link's page.",
        "anyone with the link",
    ),
];

/// The document's calls, in the order a script uses them, and the other routes.
fn document_into(doc: &mut Document) {
    doc.call::<api::FetchPolicy>("The rules files are checked against.", Who::Anyone);
    doc.call::<api::FetchVisit>(
        "Who the caller is, and whether the open drop is on.",
        Who::Anyone,
    );
    doc.call::<api::StartUploads>(
        "Starts up to 100 uploads: each file checked on its own, its key chosen, its plan made; a small file's start carries its signed PUT when its CRC32C is given.",
        Who::Uploader,
    );
    doc.call::<api::StartUpload>(
        "Starts one upload (as start-batch, for one file).",
        Who::Uploader,
    );
    doc.call::<api::SignParts>(
        "Presigns parts of an upload (each bound to its length and CRC32C); the upload's token authorises it.",
        Who::Anyone,
    );
    doc.call::<api::ListParts>(
        "The parts the store holds for a multipart upload (to resume it).",
        Who::Anyone,
    );
    doc.call::<api::CompleteUploads>(
        "Completes up to 100 uploads, each checked against its plan and the store.",
        Who::Anyone,
    );
    doc.call::<api::CompleteUpload>("Completes one upload.", Who::Anyone);
    doc.call::<api::AbortUpload>(
        "Abandons an upload; the store keeps nothing of it.",
        Who::Anyone,
    );
    doc.call::<api::ListFiles>(
        "A page of the store's files (when --list-files is on).",
        Who::Operator,
    );
    doc.call::<api::DeleteFile>(
        "Deletes a file s3drop uploaded (with --allow-delete).",
        Who::Operator,
    );
    doc.call::<api::OpenLink>(
        "What an upload link's page shows, opened by its secret (and its password).",
        Who::Anyone,
    );
    doc.call::<api::SentThroughLink>(
        "Of the keys given, the files stored through a link.",
        Who::Anyone,
    );
    doc.call::<api::ListLinks>("Every upload link, newest first.", Who::Operator);
    doc.call::<api::CreateLink>(
        "Makes an upload link; its secret is in the answer, this once.",
        Who::Operator,
    );
    doc.call::<api::ExtendLink>("Gives a link a new expiry.", Who::Operator);
    doc.call::<api::RevokeLink>(
        "Revokes a link; its uploads in flight are cancelled.",
        Who::Operator,
    );
    doc.call::<api::ListRecord>(
        "A page of the record of uploads, newest first.",
        Who::Operator,
    );
    doc.call::<api::DeleteRecorded>(
        "Deletes a stored file and records it deleted.",
        Who::Operator,
    );
    doc.call::<api::ListHooks>("Every webhook, with its deliveries counted.", Who::Operator);
    doc.call::<api::CreateHook>(
        "Adds a webhook; its whsec_ secret is in the answer, this once.",
        Who::Operator,
    );
    doc.call::<api::RemoveHook>(
        "Removes a webhook; what it had pending is given up.",
        Who::Operator,
    );
    doc.call::<api::ListDeliveries>(
        "A webhook's latest deliveries, newest first.",
        Who::Operator,
    );
    doc.call::<api::ResendDelivery>(
        "Sends a delivery again, under the same webhook-id.",
        Who::Operator,
    );
    doc.call::<api::ListTokens>("Every API token, revoked ones too.", Who::Operator);
    doc.call::<api::CreateToken>(
        "Makes an API token; the token is in the answer, this once.",
        Who::Operator,
    );
    doc.call::<api::RevokeToken>("Revokes an API token.", Who::Operator);
    for (method, path, summary, who) in OTHER_ROUTES {
        doc.route(method, path, summary, who);
    }
}

#[derive(Default)]
struct Document {
    paths: PathsBuilder,
    schemas: Vec<(String, RefOr<Schema>)>,
    /// Each call's argument names, by path.
    fields: HashMap<&'static str, Vec<String>>,
}

impl Document {
    /// Documents server function `S`: its path, its arguments as the JSON body, its
    /// answer, and its errors (an `ApiError`, with the status each kind has).
    fn call<S>(&mut self, summary: &str, who: Who)
    where
        S: ServerFn + ToSchema,
        S::Output: Answered,
    {
        self.register::<S>();
        self.register::<ApiError>();
        let names = match S::schema() {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => Vec::new(),
        };
        self.fields.insert(S::PATH, names);
        let answer = S::Output::schema(&mut self.schemas);
        let json = |schema: RefOr<Schema>| ContentBuilder::new().schema(Some(schema)).build();
        let error = ResponseBuilder::new()
            .description("The call was refused: why, as an ApiError (its kind sets the status: 400, 401, 403, 404, 409, 422, 429, 503 or 500).")
            .content("application/json", json(Ref::from_schema_name("ApiError").into()))
            .build();
        let mut operation = OperationBuilder::new()
            .operation_id(Some(S::PATH.trim_start_matches("/api/").replace('/', "_")))
            .summary(Some(summary))
            .description(Some(match who {
                Who::Anyone => "Anyone may call it (an upload's calls are authorised by its token).",
                Who::Uploader => "The operator, anyone on the open drop, or an upload link's holder (its secret, grant and name in `link`).",
                Who::Operator => "The operator's: a session cookie, or an API token as `Authorization: Bearer s3d_…`.",
            }))
            .tag(S::PATH.trim_start_matches("/api/").split('/').next().unwrap_or("api"))
            .response("200", ResponseBuilder::new().description("Done.").content("application/json", json(answer)).build())
            .response("default", error);
        {
            let body = RequestBodyBuilder::new()
                .description(Some(
                    "The call's arguments, as a JSON object; unknown fields are refused.",
                ))
                .content(
                    "application/json",
                    json(Ref::from_schema_name(S::name()).into()),
                )
                .required(Some(Required::True))
                .build();
            operation = operation.request_body(Some(body));
        }
        if who == Who::Operator {
            operation = operation.securities(Some([
                SecurityRequirement::new::<_, [&str; 0], &str>("apiToken", []),
                SecurityRequirement::new::<_, [&str; 0], &str>("session", []),
            ]));
        }
        let paths = std::mem::take(&mut self.paths);
        self.paths = paths.path(S::PATH, PathItem::new(HttpMethod::Post, operation.build()));
    }

    /// Documents a route beside the server functions.
    fn route(&mut self, method: &str, path: &'static str, summary: &str, who: &str) {
        let method = match method {
            "post" => HttpMethod::Post,
            _ => HttpMethod::Get,
        };
        let mut operation = OperationBuilder::new()
            .operation_id(Some(
                path.trim_matches('/').replace(['/', '.', '{', '}'], "_"),
            ))
            .summary(Some(summary))
            .description(Some(format!("For {who}.")))
            .tag("server")
            .response("200", ResponseBuilder::new().description("Done.").build());
        // Each `{name}` in the path is a parameter of it.
        for (name, _) in path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}'))
        {
            let parameter = ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)));
            operation = operation.parameter(parameter);
        }
        let operation = operation.build();
        let paths = std::mem::take(&mut self.paths);
        self.paths = paths.path(path, PathItem::new(method, operation));
    }

    /// Adds `T`'s schema and those it refers to.
    fn register<T: ToSchema>(&mut self) {
        register::<T>(&mut self.schemas);
    }

    fn finish(self) -> OpenApi {
        let mut components = ComponentsBuilder::new()
            .security_scheme(
                "apiToken",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("s3d_…")
                        .description(Some("An API token the operator made (the page's API tokens, or `s3drop tokens create`)."))
                        .build(),
                ),
            )
            .security_scheme(
                "session",
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    "s3drop_session",
                    "The operator's session, set by POST /login.",
                ))),
            );
        for (name, schema) in self.schemas {
            components = components.schema(name, schema);
        }
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("s3drop")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(concat!(
                        "The JSON API the page uses, for scripts: every call is a POST of a JSON ",
                        "object of its arguments. An upload starts (start-batch), its parts are ",
                        "signed (sign) and PUT straight to the store, and it completes ",
                        "(complete-batch). The routes beside the API: ",
                        "GET /healthz, /readyz, /metrics, /record.csv, /record.json; POST /login, /logout; ",
                        "GET /l/{secret}. See docs/api.md."
                    )))
                    .build(),
            )
            .paths(self.paths.build())
            .components(Some(components.build()))
            .build()
    }
}

fn register<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    let mut found = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut found);
    for (name, schema) in found {
        if !schemas.iter().any(|(known, _)| *known == name) {
            schemas.push((name, schema));
        }
    }
}

/// What a call answers, as a schema (its types registered).
trait Answered {
    fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema>;
}

/// Each answer type, listed: a new server function whose answer is not here does not
/// compile until it is.
macro_rules! answered {
    ($($plain:ty),* ; $($listed:ty),* ; $($maybe:ty),*) => {
        $(impl Answered for $plain {
            fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
                register::<$plain>(schemas);
                Ref::from_schema_name(<$plain as ToSchema>::name()).into()
            }
        })*
        $(impl Answered for Vec<$listed> {
            fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
                register::<$listed>(schemas);
                ArrayBuilder::new().items(Ref::from_schema_name(<$listed as ToSchema>::name())).into()
            }
        })*
        $(impl Answered for Option<$maybe> {
            fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
                register::<$maybe>(schemas);
                OneOfBuilder::new()
                    .item(Ref::from_schema_name(<$maybe as ToSchema>::name()))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .into()
            }
        })*
    };
}

answered!(
    crate::core::policy::UploadPolicy, Visit, UploadStart, StoredObject, LinkView, CreatedLink,
    LinkInfo, RecordPage, CreatedHook, HookInfo, DeliveryInfo, CreatedApiToken, ApiTokenInfo;
    SignedPart, StoredPart, SentFile, LinkInfo, HookInfo, DeliveryInfo, ApiTokenInfo;
    FilePage
);

impl Answered for () {
    fn schema(_: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
        <() as PartialSchema>::schema()
    }
}

/// A batch's answer: for each entry, in order, `{"Ok": …}` or `{"Err": ApiError}`.
impl<T: ToSchema> Answered for Vec<Answer<T>> {
    fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
        register::<T>(schemas);
        register::<ApiError>(schemas);
        let tagged = |tag: &str, schema: RefOr<Schema>| {
            ObjectBuilder::new().property(tag, schema).required(tag)
        };
        let entry = OneOfBuilder::new()
            .item(tagged("Ok", Ref::from_schema_name(T::name()).into()))
            .item(tagged("Err", Ref::from_schema_name("ApiError").into()))
            .description(Some(
                "This entry's answer: what the call gives, or why this entry alone was refused.",
            ));
        ArrayBuilder::new().items(entry).into()
    }
}

/// Serves the document.
pub async fn serve_document() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        BUILT.0.as_str(),
    )
        .into_response()
}

/// In front of the server functions: a JSON body naming an argument the call does not
/// take is refused, naming it and what the call takes (serde would drop it unread, and
/// a script's typo would go unnoticed). The body is read whole: calls are small
/// (`MAX_CALL_BODY`).
pub async fn refuse_unknown_fields(request: Request, next: Next) -> Response {
    let Some(known) = BUILT.1.get(request.uri().path()) else {
        return next.run(request).await;
    };
    let is_json = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, crate::server::http::MAX_CALL_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::BadRequest("the call's body is too large".into()).into_response();
        }
    };
    if let Ok(serde_json::Value::Object(given)) = serde_json::from_slice(&bytes)
        && let Some(unknown) = given.keys().find(|name| !known.contains(name))
    {
        return ApiError::BadRequest(format!(
            "this call takes no argument `{}`; it takes: {}",
            unknown.chars().take(60).collect::<String>(),
            match known.is_empty() {
                true => "none".to_owned(),
                false => known.join(", "),
            }
        ))
        .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
