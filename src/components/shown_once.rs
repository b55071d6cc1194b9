//! A value the server shows once (a link's URL, a webhook's or API token's secret): what
//! it is, the value to select, and a button that copies it.

use leptos::prelude::*;

use super::text;
use crate::browser::page;

/// `value`, introduced by `said`; `copied` is said in `status` once it is copied.
#[component]
pub fn ShownOnce(
    said: &'static str,
    value: String,
    label: &'static str,
    copy: &'static str,
    copied: &'static str,
    status: RwSignal<String>,
    testid: &'static str,
) -> impl IntoView {
    let to_copy = value.clone();
    let on_copy = move |_| {
        let value = to_copy.clone();
        leptos::task::spawn_local(async move {
            match page::copy(&value).await {
                true => status.set(copied.to_owned()),
                false => status.set(text::list_failed(text::COPY_REFUSED)),
            }
        });
    };
    view! {
        <div class="new-link" role="status">
            <p>{said}</p>
            <input type="text" readonly value=value aria-label=label data-testid=testid />
            <button type="button" class="link" on:click=on_copy>{copy}</button>
        </div>
    }
}
