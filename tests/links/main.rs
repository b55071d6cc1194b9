//! Upload links and the record against a real server, its database (SQLite in its data
//! directory, or the PostgreSQL database `S3DROP_TEST_DATABASE_URL` names) and its store:
//! links made from the page's calls and from the command line, their limits held under
//! concurrent starts from two servers, revocation, passwords and names, and every state
//! of the record.

#[path = "../common/mod.rs"]
mod common;
mod helpers;
mod limits;
mod making;
mod record;
mod revoking;

use common::{MIB, TestServer, bytes, put_part, send_parts, single_put};
use s3drop::api::{
    ApiError, CompletedPart, CreatedLink, LinkInfo, LinkView, RecordPage, StartRequest,
    StoredObject, UploadStart, UploadState,
};
use s3drop::core::checksum::crc32c;
use serde_json::json;

use helpers::*;
