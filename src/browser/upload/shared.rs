//! What every upload on the page shares: batched starts and completions (through the
//! page's upload link, if it has one), the browser's connections to each origin, the
//! checksum readers, the server's part size and the records kept for after a reload.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::FutureExt;
use futures::future::LocalBoxFuture;

use super::batch::Batcher;
use crate::api::{self, Completion, LinkPass, StartRequest, StoredObject, UploadStart};
use crate::browser::runtime::now_ms;
use crate::browser::saved::{self, Journal, StartedFile};
use crate::browser::slots::{Connections, Slots};
use crate::core::limits::MIN_PART_SIZE;
use crate::core::plan::PartPlan;

/// How long a start waits for others to share its call, in milliseconds (the queue
/// lets files in by the dozen, so most come together anyway).
const START_GATHER_MS: f64 = 20.0;
/// How long a finished file waits for others to share the completion call: a folder's
/// files finish one by one, and nobody waits on a completion but the file's row.
const COMPLETE_GATHER_MS: f64 = 150.0;
/// How many files are read for their checksums at once (each is read whole).
const CHECKSUMS_AT_ONCE: usize = 4;

/// What every upload on the page shares (one per page, cloned into each upload).
#[derive(Clone)]
pub struct Shared {
    pub starts: Batcher<StartRequest, UploadStart>,
    pub completes: Batcher<Completion, StoredObject>,
    /// The browser's connections to each origin, shared by every PUT.
    pub connections: Connections,
    pub checksums: Slots,
    /// The server's part size, from its policy: it decides which files go in one PUT.
    part_size: Rc<Cell<u64>>,
    /// Small files started before the page was reloaded, read once from IndexedDB.
    pub started_before: futures::future::Shared<LocalBoxFuture<'static, StartedFiles>>,
    /// Small files started now, kept for after a reload.
    pub journal: Journal,
    /// The handles of files not yet uploaded, kept for after a reload.
    pub kept: Journal,
    /// On an upload link's page: what every start carries (its secret, the password's
    /// grant, the uploader's name).
    link: Rc<RefCell<Option<LinkPass>>>,
}

/// Small files started before a reload, by fingerprint.
pub type StartedFiles = Rc<RefCell<HashMap<String, StartedFile>>>;

impl Default for Shared {
    fn default() -> Self {
        let link: Rc<RefCell<Option<LinkPass>>> = Rc::default();
        let pass = link.clone();
        Self {
            starts: Batcher::new(START_GATHER_MS, move |files| {
                api::start_uploads(files, pass.borrow().clone())
            }),
            link,
            completes: Batcher::new(COMPLETE_GATHER_MS, api::complete_uploads),
            connections: Connections::default(),
            checksums: Slots::new(CHECKSUMS_AT_ONCE),
            // Until the policy says: no part is smaller than S3's minimum.
            part_size: Rc::new(Cell::new(MIN_PART_SIZE)),
            // Read when the first file needs it (never on the server).
            started_before: async {
                Rc::new(RefCell::new(saved::started_files(now_ms() / 1_000.0).await))
            }
            .boxed_local()
            .shared(),
            journal: Journal::new(saved::FILES),
            kept: Journal::new(saved::KEPT),
        }
    }
}

impl Shared {
    /// The upload link the page's files start through, once it is open.
    pub fn set_link(&self, pass: LinkPass) {
        self.link.replace(Some(pass));
    }

    /// The server's part size, once its policy has said.
    pub fn set_part_size(&self, part_size: u64) {
        self.part_size.set(part_size);
    }

    /// Whether a file of `size` goes in one PUT: the server's own rule (its plan has one
    /// part), decided here before the start so a small file's checksum can go with it.
    pub fn goes_in_one_put(&self, size: u64) -> bool {
        PartPlan::new(size, self.part_size.get()).is_ok_and(|plan| plan.is_single_put())
    }
}
