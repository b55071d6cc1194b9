//! Webhooks and the pre-start hook against a real server, its database and its store,
//! with a real receiver that checks every signature as the Standard Webhooks
//! specification says: each event delivered (and once per drop), deliveries that fail
//! tried again (across a restart, and from two servers sharing one database), bad hooks
//! and bad receivers answered clearly, and files refused before they start.

#[path = "../common/mod.rs"]
mod common;
mod delivering;
mod failing;
mod helpers;
mod pre_start;
mod receiver;

use common::{TestServer, bytes, put_part, single_put};
use s3drop::api::{
    ApiError, CreatedHook, CreatedLink, DeliveryInfo, DeliveryState, HookInfo, StartRequest,
    StoredObject, UploadStart,
};
use s3drop::core::checksum::crc32c;
use serde_json::json;

use helpers::*;
use receiver::Receiver;
