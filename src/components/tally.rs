//! What the page shows of all its uploads at once (files done of total, bytes sent of
//! total), kept up to date one change of status at a time: a folder may hold 10,000
//! files, and nothing that runs on every progress update may walk them all.

use crate::browser::upload::FileStatus;

/// Counts of the queue's files by where they stand, and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Waiting, uploading, paused or being completed.
    pub unfinished: usize,
    pub done: usize,
    /// Failed or not accepted.
    pub failed: usize,
    pub cancelled: usize,
    /// Bytes sent (or stored) of the files that count toward the overall progress:
    /// every file not failed or cancelled.
    pub sent: u64,
    pub total: u64,
}

impl Tally {
    /// Counts a file of `size` bytes in `status`.
    pub fn add(&mut self, status: &FileStatus, size: u64) {
        self.apply(status, size, true);
    }

    /// Stops counting a file of `size` bytes in `status`.
    pub fn remove(&mut self, status: &FileStatus, size: u64) {
        self.apply(status, size, false);
    }

    /// A file of `size` bytes went from `old` to `new`.
    pub fn change(&mut self, old: &FileStatus, new: &FileStatus, size: u64) {
        self.remove(old, size);
        self.add(new, size);
    }

    /// Adds another tally's files (a chunk counted on its own).
    pub fn extend(&mut self, other: &Tally) {
        self.unfinished += other.unfinished;
        self.done += other.done;
        self.failed += other.failed;
        self.cancelled += other.cancelled;
        self.sent += other.sent;
        self.total += other.total;
    }

    /// Takes another tally's files away (those cleared from the queue).
    pub fn subtract(&mut self, other: &Tally) {
        self.unfinished = self.unfinished.saturating_sub(other.unfinished);
        self.done = self.done.saturating_sub(other.done);
        self.failed = self.failed.saturating_sub(other.failed);
        self.cancelled = self.cancelled.saturating_sub(other.cancelled);
        self.sent = self.sent.saturating_sub(other.sent);
        self.total = self.total.saturating_sub(other.total);
    }

    /// Files that are not failed, refused or cancelled (what a count limit counts).
    pub fn accepted(&self) -> usize {
        self.unfinished + self.done
    }

    /// Every file in the queue.
    pub fn files(&self) -> usize {
        self.unfinished + self.done + self.failed + self.cancelled
    }

    /// Whether some file has finished, one way or another.
    pub fn any_finished(&self) -> bool {
        self.done + self.failed + self.cancelled > 0
    }

    fn apply(&mut self, status: &FileStatus, size: u64, add: bool) {
        let (count, sent, counted) = match status {
            FileStatus::Queued => (&mut self.unfinished, 0, true),
            FileStatus::Uploading { sent, .. } | FileStatus::Paused { sent, .. } => {
                (&mut self.unfinished, *sent, true)
            }
            FileStatus::Completing => (&mut self.unfinished, size, true),
            FileStatus::Done(_) => (&mut self.done, size, true),
            FileStatus::Failed(_) | FileStatus::Refused(_) => (&mut self.failed, 0, false),
            FileStatus::Cancelled => (&mut self.cancelled, 0, false),
        };
        let total = if counted { size } else { 0 };
        if add {
            *count += 1;
            self.sent += sent;
            self.total += total;
        } else {
            *count = count.saturating_sub(1);
            self.sent = self.sent.saturating_sub(sent);
            self.total = self.total.saturating_sub(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::StoredObject;

    fn uploading(sent: u64) -> FileStatus {
        FileStatus::Uploading {
            sent,
            total: 100,
            note: None,
        }
    }

    fn done() -> FileStatus {
        FileStatus::Done(StoredObject {
            key: "k".into(),
            name: "n".into(),
            size: 100,
            content_type: String::new(),
            etag: String::new(),
            crc32c: None,
            download_url: String::new(),
        })
    }

    #[test]
    fn a_files_life_moves_its_counts_and_bytes() {
        let mut tally = Tally::default();
        tally.add(&FileStatus::Queued, 100);
        tally.add(&FileStatus::Queued, 50);
        // Old status, new status, then unfinished, done, failed, bytes sent, bytes total.
        type Step = (FileStatus, FileStatus, (usize, usize, usize, u64, u64));
        let steps: [Step; 6] = [
            (FileStatus::Queued, uploading(30), (2, 0, 0, 30, 150)),
            (uploading(30), uploading(80), (2, 0, 0, 80, 150)),
            (uploading(80), FileStatus::Completing, (2, 0, 0, 100, 150)),
            (FileStatus::Completing, done(), (1, 1, 0, 100, 150)),
            (done(), done(), (1, 1, 0, 100, 150)),
            (done(), FileStatus::Failed("x".into()), (1, 0, 1, 0, 50)),
        ];
        for (old, new, (unfinished, done, failed, sent, total)) in steps {
            tally.change(&old, &new, 100);
            assert_eq!(
                (
                    tally.unfinished,
                    tally.done,
                    tally.failed,
                    tally.sent,
                    tally.total
                ),
                (unfinished, done, failed, sent, total),
                "{old:?} -> {new:?}"
            );
        }
        assert_eq!((tally.accepted(), tally.files()), (1, 2));
        assert!(tally.any_finished());
    }

    #[test]
    fn refused_and_cancelled_files_do_not_count_toward_progress() {
        let mut tally = Tally::default();
        tally.add(&FileStatus::Refused("too big".into()), 10);
        tally.add(&FileStatus::Cancelled, 20);
        tally.add(&FileStatus::Paused { sent: 5, total: 30 }, 30);
        assert_eq!((tally.sent, tally.total), (5, 30));
        assert_eq!(
            (
                tally.failed,
                tally.cancelled,
                tally.accepted(),
                tally.files()
            ),
            (1, 1, 1, 3)
        );
        let mut chunk = Tally::default();
        chunk.add(&FileStatus::Queued, 7);
        chunk.add(&done(), 100);
        let before = tally;
        tally.extend(&chunk);
        assert_eq!(
            (tally.unfinished, tally.done, tally.sent, tally.total),
            (2, 1, 105, 137)
        );
        tally.subtract(&chunk);
        assert_eq!(tally, before);
        tally.remove(&FileStatus::Cancelled, 20);
        tally.remove(&FileStatus::Refused("too big".into()), 10);
        assert!(!tally.any_finished());
        assert!(!Tally::default().any_finished());
    }
}
