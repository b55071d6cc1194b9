//! The page's upload queue: files start in the order they were added, a few at a time,
//! so many small files do not open more connections than the browser allows.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// How many files upload at once (each multipart file also runs several parts).
pub const FILES_AT_ONCE: usize = 2;

type Job = Pin<Box<dyn Future<Output = ()>>>;

/// A queue of upload jobs; clones share one queue.
#[derive(Clone, Default)]
pub struct UploadQueue {
    inner: Rc<RefCell<Inner>>,
}

#[derive(Default)]
struct Inner {
    waiting: VecDeque<Job>,
    running: usize,
}

impl UploadQueue {
    /// Adds a job; it starts as soon as fewer than [`FILES_AT_ONCE`] are running.
    pub fn push(&self, job: impl Future<Output = ()> + 'static) {
        self.inner.borrow_mut().waiting.push_back(Box::pin(job));
        self.pump();
    }

    fn pump(&self) {
        loop {
            let job = {
                let mut inner = self.inner.borrow_mut();
                if inner.running >= FILES_AT_ONCE {
                    return;
                }
                let Some(job) = inner.waiting.pop_front() else {
                    return;
                };
                inner.running += 1;
                job
            };
            let queue = self.clone();
            leptos::task::spawn_local(async move {
                job.await;
                queue.inner.borrow_mut().running -= 1;
                queue.pump();
            });
        }
    }
}
