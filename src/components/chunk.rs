//! The parts of the page that are WASM chunks of their own, fetched the first time they
//! are shown (the operator's rooms, a link's answer, the stored files, the unfinished
//! uploads), so that nobody downloads what their page never shows.
//!
//! Each is a function marked `#[wasm_split(name, …, fallible)]` (the macro behind
//! Leptos's `#[lazy]`; `cargo leptos build --split` cuts the chunks out), returning
//! `Result<AnyView, SplitLoaderError>`, and shown with [`shown`], behind a branch the
//! server never renders. Not `#[lazy]`: a chunk that fails to load (the network
//! dropped, or a release changed it under an open page) would panic, which ends the
//! whole page; here that part says so and the rest goes on.
//!
//! A chunk returns its view type-erased (`AnyView`, the only type that crosses the
//! split), and erasing a view keeps its code for hydrating from the server's HTML, at
//! once and asynchronously, for every view inside it: more than half the chunk, for a
//! view nothing hydrates. [`browser_built`] erases it so that it can only be built.
//! Written here because Leptos has no such wrapper.

use std::future::Future;

use leptos::attr::Attribute;
use leptos::attr::any_attribute::AnyAttribute;
use leptos::prelude::*;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Position, PositionState, Render, RenderHtml};
pub use leptos::wasm_split::{SplitLoaderError, wasm_split};

use super::text;

/// Where a chunk's view goes: nothing while `load` fetches it, then the view, or a
/// notice in its place when it could not be fetched. `load` is a split function called
/// with its arguments.
pub fn shown<F>(load: impl Fn() -> F + Send + Sync + 'static) -> impl IntoView
where
    F: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
{
    view! { <Suspense>{move || Suspend::new(fetched(load()))}</Suspense> }
}

async fn fetched(chunk: impl Future<Output = Result<AnyView, SplitLoaderError>>) -> AnyView {
    match chunk.await {
        Ok(view) => view,
        Err(_) => browser_built(view! {
            <p class="notice" role="alert" data-testid="chunk-failed">{text::CHUNK_FAILED}</p>
        }),
    }
}

/// `view`, for a branch only the browser renders; type-erased.
pub fn browser_built(view: impl RenderHtml + 'static) -> AnyView {
    BrowserBuilt(view).into_any()
}

/// See the module's doc. The server renders nothing of it, and "hydrating" it builds it
/// afresh: it must not stand where the server rendered HTML.
struct BrowserBuilt<V>(V);

impl<V: Render> Render for BrowserBuilt<V> {
    type State = V::State;

    fn build(self) -> Self::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.0.rebuild(state);
    }
}

impl<V: RenderHtml + 'static> AddAnyAttr for BrowserBuilt<V> {
    type Output<SomeNewAttr: Attribute> = Self;

    // Nothing spreads attributes onto a chunk's view.
    fn add_any_attr<NewAttr: Attribute>(self, _attr: NewAttr) -> Self::Output<NewAttr> {
        self
    }
}

impl<V: RenderHtml + 'static> RenderHtml for BrowserBuilt<V> {
    type AsyncOutput = Self;
    type Owned = Self;
    const MIN_LENGTH: usize = 0;

    fn dry_resolve(&mut self) {}

    async fn resolve(self) -> Self::AsyncOutput {
        self
    }

    fn to_html_with_buf(
        self,
        _buf: &mut String,
        _position: &mut Position,
        _escape: bool,
        _mark_branches: bool,
        _extra_attrs: Vec<AnyAttribute>,
    ) {
    }

    fn hydrate<const FROM_SERVER: bool>(
        self,
        _cursor: &Cursor,
        _position: &PositionState,
    ) -> Self::State {
        self.0.build()
    }

    fn into_owned(self) -> Self::Owned {
        self
    }
}
