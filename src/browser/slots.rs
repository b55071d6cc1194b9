//! A few requests at a time: the page's connection pool for each origin it sends to,
//! and the limit on files read at once for their checksums. Written here rather than
//! taken from a crate because it is small and adjusts its size to the store (429/503
//! halve it, successes grow it back), which the semaphores of `futures`-sized crates
//! do not.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use futures::channel::oneshot;

use crate::core::concurrency::Window;

/// Browsers keep at most six HTTP/1.1 connections to one origin.
pub const CONNECTIONS_PER_ORIGIN: usize = 6;

/// A pool of slots; clones share it. Waiters are served in turn.
#[derive(Clone)]
pub struct Slots(Rc<RefCell<Pool>>);

struct Pool {
    window: Window,
    busy: usize,
    waiting: VecDeque<oneshot::Sender<()>>,
}

/// A slot taken from a pool; dropping it gives it back.
pub struct Slot {
    slots: Slots,
    /// Whether the request it carried ended in a throttle (429/503), a success, or neither.
    outcome: Option<bool>,
}

impl Slots {
    /// A pool of `size` slots (at least one).
    pub fn new(size: usize) -> Self {
        Self(Rc::new(RefCell::new(Pool {
            window: Window::new(size),
            busy: 0,
            waiting: VecDeque::new(),
        })))
    }

    /// Waits for a free slot.
    pub async fn acquire(&self) -> Slot {
        loop {
            let woken = {
                let mut pool = self.0.borrow_mut();
                if pool.busy < pool.window.limit() && pool.waiting.is_empty() {
                    pool.busy += 1;
                    return Slot {
                        slots: self.clone(),
                        outcome: None,
                    };
                }
                let (sender, woken) = oneshot::channel();
                pool.waiting.push_back(sender);
                woken
            };
            let mut wait = Waiting {
                woken,
                slots: self.clone(),
            };
            if (&mut wait.woken).await.is_ok() {
                // Woken for a slot: take it before anyone queued behind.
                let mut pool = self.0.borrow_mut();
                if pool.busy < pool.window.limit() {
                    pool.busy += 1;
                    return Slot {
                        slots: self.clone(),
                        outcome: None,
                    };
                }
            }
        }
    }

    /// Wakes waiters while slots are free (skipping those that stopped waiting).
    fn wake(&self) {
        let mut pool = self.0.borrow_mut();
        let free = pool.window.limit().saturating_sub(pool.busy);
        let mut woken = 0;
        while woken < free {
            let Some(waiter) = pool.waiting.pop_front() else {
                break;
            };
            if waiter.send(()).is_ok() {
                woken += 1;
            }
        }
    }
}

impl Slot {
    /// The request succeeded: the pool may grow back toward its size.
    pub fn succeeded(&mut self) {
        self.outcome = Some(true);
    }

    /// The store asked to slow down: the pool shrinks.
    pub fn throttled(&mut self) {
        self.outcome = Some(false);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut pool = self.slots.0.borrow_mut();
            pool.busy = pool.busy.saturating_sub(1);
            match self.outcome {
                Some(true) => pool.window.succeeded(),
                Some(false) => pool.window.throttled(),
                None => {}
            }
        }
        self.slots.wake();
    }
}

/// A waiter; if it is dropped after being woken but before taking its slot (its upload
/// was cancelled), the wake passes to the next waiter.
struct Waiting {
    woken: oneshot::Receiver<()>,
    slots: Slots,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Ok(Some(())) = self.woken.try_recv() {
            self.slots.wake();
        }
    }
}

/// One pool per origin the page sends to. On the page's own origin (where the embedded
/// store answers) server calls share the six connections: the browser gives a waiting
/// call the next connection a PUT frees, before the page's next PUT asks for it.
#[derive(Clone, Default)]
pub struct Connections(Rc<RefCell<HashMap<String, Slots>>>);

impl Connections {
    /// The pool for requests to `url`.
    pub fn to(&self, url: &str) -> Slots {
        let origin = web_sys::Url::new(url)
            .map(|u| u.origin())
            .unwrap_or_default();
        self.0
            .borrow_mut()
            .entry(origin)
            .or_insert_with(|| Slots::new(CONNECTIONS_PER_ORIGIN))
            .clone()
    }
}
