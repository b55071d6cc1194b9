//! The native client: `s3drop upload`, the command-line uploader. It speaks the same
//! protocol the page does, through the same contract (`api`) and the same pure logic
//! (`core`: part plans, checksums, retry policy): batches of starts and completions,
//! presigned PUTs of whole files and of parts, CRC32C on every byte sent, and resume of
//! an interrupted run from what the store already holds. It never uses the server's
//! own code: it is a script's view of the API, running on the script's machine.

mod api_client;
mod files;
mod progress;
mod resume;
pub mod upload;
