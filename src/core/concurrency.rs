//! How many requests to keep in flight, and which files to let into the upload
//! pipeline: the arithmetic behind the page's connection pools, the transfer state
//! machine's part limit and the upload queue, kept apart from the futures that obey it.

/// A limit on requests in flight that halves when the store asks to slow down (429,
/// 503 SlowDown) and grows back by one after as many successes as the limit allows
/// (additive increase, multiplicative decrease, as TCP and Uppy do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    max: usize,
    limit: usize,
    successes: usize,
}

impl Window {
    /// A window of at most `max` (at least one) requests, starting wide open.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            limit: max,
            successes: 0,
        }
    }

    /// How many requests may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A request succeeded.
    pub fn succeeded(&mut self) {
        self.successes += 1;
        if self.successes >= self.limit && self.limit < self.max {
            self.limit += 1;
            self.successes = 0;
        }
    }

    /// The store asked to slow down.
    pub fn throttled(&mut self) {
        self.limit = (self.limit / 2).max(1);
        self.successes = 0;
    }
}

/// Which queued files may start: at most `max_files` and `max_bytes` at once (a lone
/// file always may). Once full, the queue refills only after half has drained, and
/// then all at once, so the page starts files in batches (one call for many) rather
/// than one call per finished file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    max_files: usize,
    max_bytes: u64,
    files: usize,
    bytes: u64,
    refilling: bool,
}

impl Admission {
    /// A queue that lets in up to `max_files` files and `max_bytes` bytes at once.
    pub fn new(max_files: usize, max_bytes: u64) -> Self {
        Self {
            max_files: max_files.max(1),
            max_bytes,
            files: 0,
            bytes: 0,
            refilling: true,
        }
    }

    /// Whether the next file, weighing `weight` bytes, may start now; counts it if so.
    pub fn admit(&mut self, weight: u64) -> bool {
        if self.files <= self.max_files / 2 && self.bytes <= self.max_bytes / 2 {
            self.refilling = true;
        }
        let fits = self.files == 0
            || (self.files < self.max_files && self.bytes.saturating_add(weight) <= self.max_bytes);
        if self.refilling && fits {
            self.files += 1;
            self.bytes = self.bytes.saturating_add(weight);
            true
        } else {
            self.refilling = false;
            false
        }
    }

    /// A file let in with `weight` has finished.
    pub fn finished(&mut self, weight: u64) {
        self.files = self.files.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(weight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_halve_on_throttle_and_grow_back_one_at_a_time() {
        let mut window = Window::new(6);
        assert_eq!(window.limit(), 6);
        window.succeeded();
        assert_eq!(window.limit(), 6, "never above the maximum");
        let mut limits = Vec::new();
        for _ in 0..3 {
            window.throttled();
            limits.push(window.limit());
        }
        assert_eq!(limits, [3, 1, 1], "halved, never below one");
        // From 1: one success makes 2, two more make 3, three more make 4…
        let mut grown = Vec::new();
        for _ in 0..(1 + 2 + 3 + 4 + 5) {
            window.succeeded();
            grown.push(window.limit());
        }
        assert_eq!(grown, [2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6]);
        assert_eq!(Window::new(0).limit(), 1);
    }

    #[test]
    fn admission_fills_then_refills_in_batches_after_half_drains() {
        let mut queue = Admission::new(4, 1_000);
        let admitted = (0..6).filter(|_| queue.admit(10)).count();
        assert_eq!(admitted, 4, "fills to four files");
        queue.finished(10);
        assert!(!queue.admit(10), "one done: three in, more than half");
        queue.finished(10);
        assert!(
            queue.admit(10) && queue.admit(10),
            "two in: refills to four at once"
        );
        assert!(!queue.admit(10));
        assert_eq!(queue.files, 4);
    }

    #[test]
    fn admission_counts_bytes_and_always_lets_a_lone_file_in() {
        let cases: &[(&[u64], usize)] = &[
            (&[400, 400, 400], 2),
            (&[2_000, 10], 1),
            (&[10, 2_000], 1),
            (&[0, 0, 0, 0, 0], 4),
            (&[1_000], 1),
        ];
        for &(weights, expected) in cases {
            let mut queue = Admission::new(4, 1_000);
            let admitted = weights.iter().take_while(|&&w| queue.admit(w)).count();
            assert_eq!(admitted, expected, "{weights:?}");
        }
        let mut queue = Admission::new(4, 1_000);
        assert!(
            queue.admit(5_000),
            "a file larger than the budget still goes, alone"
        );
        assert!(!queue.admit(1));
        queue.finished(5_000);
        assert!(queue.admit(1));
    }
}
