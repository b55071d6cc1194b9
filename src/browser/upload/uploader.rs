//! The page's one uploader: files go into its queue in turn, each run by
//! [`super::lifecycle`] with what all uploads share.

use futures::channel::mpsc::UnboundedReceiver;

use super::lifecycle::upload_file;
use super::picked::Picked;
use super::queue::UploadQueue;
use super::shared::Shared;
use super::status::FileStatus;
use crate::api::LinkPass;
use crate::core::transfer::Control;

/// Runs every upload of the page, in turn.
#[derive(Clone, Default)]
pub struct Uploader {
    queue: UploadQueue,
    shared: Shared,
}

impl Uploader {
    /// The server's part size, from its policy.
    pub fn set_part_size(&self, part_size: u64) {
        self.shared.set_part_size(part_size);
    }

    /// The upload link every file starts through, once the page has opened it.
    pub fn set_link(&self, pass: LinkPass) {
        self.shared.set_link(pass);
    }

    /// Uploads `picked` in its turn, obeying `controls` and calling `report` with every
    /// change of status.
    pub fn enqueue(
        &self,
        picked: Picked,
        controls: UnboundedReceiver<Control>,
        report: impl Fn(FileStatus) + Clone + 'static,
    ) {
        let size = picked.size;
        // A file with a handle is kept until its upload ends, however it ends: after a
        // reload, the page can open it again, even if it had not started yet.
        let kept = picked.kept().map(|kept| {
            self.shared.kept.keep(&kept);
            (self.shared.kept.clone(), kept.fingerprint)
        });
        let job = upload_file(self.shared.clone(), picked, controls, report);
        self.queue.push(size, async move {
            job.await;
            if let Some((journal, fingerprint)) = kept {
                journal.forget(&fingerprint);
            }
        });
    }
}
