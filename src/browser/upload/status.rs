//! What the page sees of an upload (its status) and what it can do to one (its
//! controller): the engine's face towards the components.

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::api::StoredObject;
use crate::core::transfer::Control;

/// Where a file's upload stands, as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum FileStatus {
    /// Waiting for its turn.
    Queued,
    /// Bytes are on their way; `note` says why progress went back, when it did.
    Uploading {
        sent: u64,
        total: u64,
        note: Option<String>,
    },
    /// Paused by the person or because the browser is offline.
    Paused { sent: u64, total: u64 },
    /// Every byte is stored; the server is completing the upload.
    Completing,
    /// Stored.
    Done(StoredObject),
    /// Stopped; the text says why.
    Failed(String),
    /// Not started: the file breaks the upload policy (trying again cannot help).
    Refused(String),
    /// Cancelled by the person; nothing is left in the store.
    Cancelled,
}

impl FileStatus {
    /// Whether the upload has ended, one way or another.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Self::Done(_) | Self::Failed(_) | Self::Refused(_) | Self::Cancelled
        )
    }
}

/// Lets the page pause, resume or cancel one file's upload, queued or running.
#[derive(Debug, Clone)]
pub struct Controller(UnboundedSender<Control>);

impl Controller {
    /// A controller and the receiver its upload listens to.
    pub fn new() -> (Self, UnboundedReceiver<Control>) {
        let (sender, receiver) = mpsc::unbounded();
        (Self(sender), receiver)
    }

    pub fn pause(&self) {
        let _ = self.0.unbounded_send(Control::Pause);
    }

    pub fn resume(&self) {
        let _ = self.0.unbounded_send(Control::Resume);
    }

    pub fn cancel(&self) {
        let _ = self.0.unbounded_send(Control::Cancel);
    }
}
