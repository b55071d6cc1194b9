//! The operator's upload links: the form for a new one (its URL shown once, to copy),
//! and every link with where it stands and what it took, kept current while the page is
//! open; each can be extended, revoked, or its uploads shown in the record below.

use leptos::prelude::*;

use super::link_form::LinkForm;
use super::shown_once::ShownOnce;
use super::text::{self, link_state, link_use};
use crate::api::{self, CreatedLink, LinkInfo, RecordFilter};
use crate::browser::page::{self, local_time, origin};
use crate::browser::runtime::{now_ms, sleep};

/// How often the links' use is fetched again, in milliseconds.
const REFRESH_EVERY_MS: f64 = 5_000.0;

/// The links; "Show its uploads" sets `filter`.
#[component]
pub fn LinksPanel(filter: RwSignal<RecordFilter>) -> impl IntoView {
    let links: RwSignal<Vec<LinkInfo>> = RwSignal::new(Vec::new());
    let said = RwSignal::new(String::new());
    let made: RwSignal<Option<String>> = RwSignal::new(None);
    let load = move || {
        leptos::task::spawn_local(async move {
            match api::list_links().await {
                Ok(all) => links.set(all),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        })
    };
    Effect::new(move || {
        leptos::task::spawn_local(async move {
            loop {
                load();
                sleep(REFRESH_EVERY_MS).await;
            }
        })
    });
    let created = Callback::new(move |link: CreatedLink| {
        made.set(Some(format!("{}/l/{}", origin(), link.secret)));
        load();
    });
    let act = Callback::new(move |(id, revoke): (String, bool)| {
        leptos::task::spawn_local(async move {
            let done = match revoke {
                true => api::revoke_link(id).await,
                false => api::extend_link(id, "7d".into()).await,
            };
            match done {
                Ok(_) => load(),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        })
    });
    view! {
        <section class="links" aria-labelledby="links-title" data-testid="links-panel">
            <h2 id="links-title">{text::LINKS_TITLE}</h2>
            <p class="muted">{text::LINKS_HELP}</p>
            <LinkForm created />
            {move || made.get().map(|url| view! {
                <ShownOnce said=text::LINK_CREATED value=url label=text::NEW_LINK_URL
                    copy=text::COPY_LINK copied=text::LINK_COPIED status=said testid="new-link-url" />
            })}
            <p class="stored-said" role="status">{move || said.get()}</p>
            <Show when=move || links.with(Vec::is_empty)>
                <p class="muted">{text::LINKS_EMPTY}</p>
            </Show>
            <ul class="link-list">
                <For each=move || links.get() key=|l| (l.id.clone(), l.held, l.stored, l.expires_at, l.revoked_at) let:link>
                    <LinkRow link filter act />
                </For>
            </ul>
        </section>
    }
}

/// One link, where it stands and what it took, and what can be done with it.
#[component]
fn LinkRow(
    link: LinkInfo,
    filter: RwSignal<RecordFilter>,
    act: Callback<(String, bool)>,
) -> impl IntoView {
    let now = (now_ms() / 1_000.0) as u64;
    let open = link.revoked_at.is_none() && link.expires_at > now;
    let state = link_state(&link, now, local_time);
    let (id, for_revoke, label) = (link.id.clone(), link.id.clone(), link.label.clone());
    let show = link.id.clone();
    view! {
        <li class="link-row" data-testid="link-row">
            <span class="file-name">{link.label.clone()}</span>
            <span class="muted">{link.folder.clone()} " · " {state}</span>
            <span class="file-size">{link_use(&link)}</span>
            <span class="file-actions">
                <button type="button" class="link" on:click=move |_| {
                    filter.set(RecordFilter { link_id: Some(show.clone()), ..RecordFilter::default() })
                }>{text::SHOW_UPLOADS}</button>
                <Show when=move || link.revoked_at.is_none()>
                    <button type="button" class="link" on:click={
                        let id = id.clone();
                        move |_| act.run((id.clone(), false))
                    }>{text::EXTEND_WEEK}</button>
                </Show>
                <Show when=move || open>
                    <button type="button" class="link danger" on:click={
                        let (id, label) = (for_revoke.clone(), label.clone());
                        move |_| {
                            if page::confirm(&text::confirm_revoke(&label)) {
                                act.run((id.clone(), true));
                            }
                        }
                    }>{text::REVOKE}</button>
                </Show>
            </span>
        </li>
    }
}
