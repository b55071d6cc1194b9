//! The run's progress on the terminal: one bar of bytes sent (and skipped, for what an
//! earlier run sent), with the files stored; drawn only on a terminal, never in a
//! script's log, where only problems and the summary are written.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    files: usize,
    stored: std::sync::atomic::AtomicUsize,
}

impl Progress {
    pub fn new(bytes: u64, files: usize, quiet: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(bytes),
            match quiet {
                true => ProgressDrawTarget::hidden(),
                false => ProgressDrawTarget::stderr(),
            },
        );
        if let Ok(style) = ProgressStyle::with_template(
            "{wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta} left · {msg}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(format!("0 of {files} files"));
        Self {
            bar,
            files,
            stored: Default::default(),
        }
    }

    /// Bytes sent to the store.
    pub fn sent(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// Bytes not sent: an earlier run did.
    pub fn skipped(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// Bytes to send once more (a file whose parts the store needs again).
    pub fn again(&self, bytes: u64) {
        self.bar.inc_length(bytes);
    }

    /// A file stored.
    pub fn stored(&self, _shown: &str, _key: &str) {
        let stored = self
            .stored
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.bar
            .set_message(format!("{stored} of {} files", self.files));
    }

    /// A line for the person (or the log), above the bar.
    pub fn say(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
