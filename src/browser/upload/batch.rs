//! Server calls for many files at once. Each upload asks for its own start or
//! completion and awaits its own answer; a batcher gathers what is asked within a short
//! window (and while its previous call is out) into one call, and hands each caller
//! its entry of the answer.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures::channel::oneshot;

use crate::api::{Answer, ApiError};
use crate::browser::runtime::sleep;
use crate::core::limits::MAX_BATCH;

type Call<Req, Resp> =
    Rc<dyn Fn(Vec<Req>) -> Pin<Box<dyn Future<Output = Result<Vec<Answer<Resp>>, ApiError>>>>>;

/// Gathers requests into batch calls; clones share one batcher.
pub struct Batcher<Req, Resp> {
    call: Call<Req, Resp>,
    /// How long the first request of a batch waits for others, in milliseconds.
    gather_ms: f64,
    state: Rc<RefCell<State<Req, Resp>>>,
}

struct State<Req, Resp> {
    waiting: Vec<(Req, oneshot::Sender<Answer<Resp>>)>,
    /// Whether a task is sending batches now.
    running: bool,
}

impl<Req, Resp> Clone for Batcher<Req, Resp> {
    fn clone(&self) -> Self {
        Self {
            call: self.call.clone(),
            gather_ms: self.gather_ms,
            state: self.state.clone(),
        }
    }
}

impl<Req: 'static, Resp: 'static> Batcher<Req, Resp> {
    /// A batcher that sends up to [`MAX_BATCH`] requests per `call`, one call at a time.
    pub fn new<F, Fut>(gather_ms: f64, call: F) -> Self
    where
        F: Fn(Vec<Req>) -> Fut + 'static,
        Fut: Future<Output = Result<Vec<Answer<Resp>>, ApiError>> + 'static,
    {
        Self {
            call: Rc::new(move |batch| Box::pin(call(batch))),
            gather_ms,
            state: Rc::new(RefCell::new(State {
                waiting: Vec::new(),
                running: false,
            })),
        }
    }

    /// Sends `request` in the next batch and answers its entry.
    pub async fn call(&self, request: Req) -> Answer<Resp> {
        let (sender, answer) = oneshot::channel();
        let start = {
            let mut state = self.state.borrow_mut();
            state.waiting.push((request, sender));
            !std::mem::replace(&mut state.running, true)
        };
        if start {
            leptos::task::spawn_local(self.clone().run());
        }
        answer
            .await
            .unwrap_or_else(|_| Err(ApiError::Transport("the page stopped the call".into())))
    }

    async fn run(self) {
        loop {
            if self.state.borrow().waiting.len() < MAX_BATCH {
                sleep(self.gather_ms).await;
            }
            let batch: Vec<_> = {
                let mut state = self.state.borrow_mut();
                if state.waiting.is_empty() {
                    state.running = false;
                    return;
                }
                let take = state.waiting.len().min(MAX_BATCH);
                state.waiting.drain(..take).collect()
            };
            let (requests, callers): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            let count = requests.len();
            match (self.call)(requests).await {
                Ok(answers) if answers.len() == count => {
                    for (caller, answer) in callers.into_iter().zip(answers) {
                        let _ = caller.send(answer);
                    }
                }
                Ok(answers) => {
                    let err = ApiError::Transport(format!(
                        "the server answered {} entries for {count}",
                        answers.len()
                    ));
                    callers
                        .into_iter()
                        .for_each(|c| drop(c.send(Err(err.clone()))));
                }
                Err(err) => callers
                    .into_iter()
                    .for_each(|c| drop(c.send(Err(err.clone())))),
            }
        }
    }
}
