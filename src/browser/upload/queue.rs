//! The page's upload queue: files start in the order they were added, as many at a
//! time as [`Admission`] lets in (a folder's small files by the hundred, so their
//! starts travel in batches; a few large ones at once), and their requests then share
//! the browser's connections.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use crate::core::concurrency::Admission;
use crate::core::limits::MIB;

/// How many files are let in at once.
pub const FILES_AHEAD: usize = 128;
/// How many bytes of files are let in at once (a large file counts as [`LARGE_FILE_WEIGHT`]).
pub const BYTES_AHEAD: u64 = 256 * MIB;
/// What a file larger than this weighs in the queue: it sends a few parts at a time,
/// whatever its size.
pub const LARGE_FILE_WEIGHT: u64 = 32 * MIB;

type Job = Pin<Box<dyn Future<Output = ()>>>;

/// A queue of upload jobs; clones share one queue.
#[derive(Clone)]
pub struct UploadQueue {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    waiting: VecDeque<(u64, Job)>,
    admission: Admission,
}

impl Default for UploadQueue {
    fn default() -> Self {
        Self {
            inner: Rc::new(RefCell::new(Inner {
                waiting: VecDeque::new(),
                admission: Admission::new(FILES_AHEAD, BYTES_AHEAD),
            })),
        }
    }
}

impl UploadQueue {
    /// Adds the job of a file of `size` bytes; it starts when the queue lets it in.
    pub fn push(&self, size: u64, job: impl Future<Output = ()> + 'static) {
        let weight = size.min(LARGE_FILE_WEIGHT);
        self.inner
            .borrow_mut()
            .waiting
            .push_back((weight, Box::pin(job)));
        self.pump();
    }

    fn pump(&self) {
        loop {
            let (weight, job) = {
                let mut inner = self.inner.borrow_mut();
                let Some(&(weight, _)) = inner.waiting.front() else {
                    return;
                };
                if !inner.admission.admit(weight) {
                    return;
                }
                match inner.waiting.pop_front() {
                    Some(next) => next,
                    None => return,
                }
            };
            let queue = self.clone();
            leptos::task::spawn_local(async move {
                job.await;
                queue.inner.borrow_mut().admission.finished(weight);
                queue.pump();
            });
        }
    }
}
