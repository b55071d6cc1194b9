//! The upload protocol end to end without a browser: server functions over HTTP, bytes
//! PUT to the presigned URLs with a plain HTTP client, then read back and compared.

#[path = "../common/mod.rs"]
mod common;
mod endings;
mod file_list;
mod helpers;
mod refusals;
mod signing;
mod uploads;

use common::{
    MIB, TestServer, bytes, plan_of, put_part, send_parts, single_put, start, store_facts, to_sign,
};
use s3drop::api::{ApiError, CompletedPart, SignedPart, StoredObject, StoredPart, UploadStart};
use s3drop::core::checksum::{crc32c, is_checksum_refusal};
use serde_json::json;

use helpers::*;
