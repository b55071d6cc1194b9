//! The embedded store driven by the real aws-sdk-s3 client, as any S3 client would, by
//! subject. Many of these are what real S3 clients (rclone, the AWS CLI, boto3, CDNs)
//! rely on and S3 does; each of those failed against the embedded store before it was
//! made to behave as S3 does.

mod checksums;
#[path = "../common/mod.rs"]
mod common;
mod helpers;
mod listing;
mod multipart;
mod objects;
mod requests;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use common::{MIB, TestServer, bytes};
use futures::StreamExt;

use helpers::*;
