//! The record of what arrived, for the operator: every upload newest first, filtered by
//! link, state or name, a page at a time, stored files with their download links (and
//! delete, where allowed); and the same filter exported as CSV or JSON.

use leptos::prelude::*;

use super::text::{self, format_bytes};
use crate::api::{self, LinkInfo, RecordFilter, RecordedUpload, UploadState};
use crate::browser::page::{self, local_time, query_value};

/// How many uploads a page of the record shows.
const PAGE: u32 = 50;

/// The record, as `filter` picks it; stored files can be deleted when `can_delete`.
#[component]
pub fn RecordPanel(filter: RwSignal<RecordFilter>, can_delete: Signal<bool>) -> impl IntoView {
    let uploads: RwSignal<Vec<RecordedUpload>> = RwSignal::new(Vec::new());
    let next: RwSignal<Option<String>> = RwSignal::new(None);
    let links: RwSignal<Vec<LinkInfo>> = RwSignal::new(Vec::new());
    let said = RwSignal::new(String::new());
    let load = move |after: Option<String>| {
        let asked = filter.get_untracked();
        leptos::task::spawn_local(async move {
            match api::list_record(asked.clone(), after.clone(), PAGE).await {
                // An answer for a filter since changed is dropped.
                Ok(_) if filter.get_untracked() != asked => {}
                Ok(page) => {
                    match after {
                        Some(_) => uploads.update(|u| u.extend(page.uploads)),
                        None => uploads.set(page.uploads),
                    }
                    next.set(page.next);
                }
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        });
    };
    Effect::new(move || {
        filter.track();
        load(None);
        leptos::task::spawn_local(async move {
            if let Ok(all) = api::list_links().await {
                links.set(all);
            }
        });
    });
    let delete = Callback::new(move |(key, path): (String, String)| {
        if !page::confirm(&text::confirm_delete(&path)) {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::delete_recorded(key).await {
                Ok(()) => {
                    said.set(text::deleted(&path));
                    load(None);
                }
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        });
    });
    let export = move |format: &str| {
        let f = filter.get();
        let mut query = Vec::new();
        if let Some(link) = f.link_id {
            query.push(format!("link={}", query_value(&link)));
        }
        if let Some(state) = f.state {
            query.push(format!("state={}", state.as_str()));
        }
        if let Some(name) = f.name {
            query.push(format!("name={}", query_value(&name)));
        }
        format!("/record.{format}?{}", query.join("&"))
    };
    view! {
        <section class="record" aria-labelledby="record-title" data-testid="record-panel">
            <h2 id="record-title">{text::RECORD_TITLE}</h2>
            <RecordFilters filter links />
            <p class="file-actions">
                <a href=move || export("csv") class="link">{text::EXPORT_CSV}</a>
                <a href=move || export("json") class="link">{text::EXPORT_JSON}</a>
                <button type="button" class="link" on:click=move |_| load(None)>{text::REFRESH}</button>
            </p>
            <p class="stored-said" role="status">{move || said.get()}</p>
            <Show when=move || uploads.with(Vec::is_empty)>
                <p class="muted">{text::RECORD_EMPTY}</p>
            </Show>
            <ul class="record-list">
                <For each=move || uploads.get() key=|u| (u.key.clone(), u.state) let:upload>
                    <RecordRow upload links can_delete delete />
                </For>
            </ul>
            <Show when=move || next.with(Option::is_some)>
                <button type="button" on:click=move |_| load(next.get_untracked())>{text::SHOW_MORE}</button>
            </Show>
        </section>
    }
}

/// The record's filters: which link, which state, part of the name.
#[component]
fn RecordFilters(filter: RwSignal<RecordFilter>, links: RwSignal<Vec<LinkInfo>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let pick_link = move |ev| {
        let id = event_target_value(&ev);
        filter.update(|f| f.link_id = Some(id).filter(|i| !i.is_empty()));
    };
    let pick_state = move |ev| {
        let state = UploadState::parse(&event_target_value(&ev));
        filter.update(|f| f.state = state);
    };
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = name.get_untracked();
        filter.update(|f| f.name = Some(text.trim().to_owned()).filter(|n| !n.is_empty()));
    };
    view! {
        <form class="record-filters" on:submit=search>
            <select aria-label=text::ALL_LINKS on:change=pick_link
                prop:value=move || filter.with(|f| f.link_id.clone().unwrap_or_default())>
                <option value="">{text::ALL_LINKS}</option>
                <For each=move || links.get() key=|l| l.id.clone() let:link>
                    <option value=link.id.clone()>{link.label.clone()}</option>
                </For>
            </select>
            <select aria-label=text::ALL_STATES on:change=pick_state>
                <option value="">{text::ALL_STATES}</option>
                {UploadState::ALL.map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).to_vec()}
            </select>
            <input type="search" aria-label=text::NAME_FILTER placeholder=text::NAME_FILTER bind:value=name />
        </form>
    }
}

/// One upload in the record.
#[component]
fn RecordRow(
    upload: RecordedUpload,
    links: RwSignal<Vec<LinkInfo>>,
    can_delete: Signal<bool>,
    delete: Callback<(String, String)>,
) -> impl IntoView {
    let path = match upload.folder.is_empty() {
        true => upload.name.clone(),
        false => format!("{}/{}", upload.folder, upload.name),
    };
    let link_id = upload.link_id.clone();
    let via = move || match &link_id {
        None => text::OPEN_DROP.to_owned(),
        Some(id) => links.with(|all| {
            all.iter()
                .find(|l| &l.id == id)
                .map_or_else(|| id.clone(), |l| l.label.clone())
        }),
    };
    let who = [upload.uploader.clone(), upload.client.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let stored = upload.state == UploadState::Stored;
    let for_delete = (upload.key.clone(), path.clone());
    let state = match &upload.reason {
        Some(reason) => format!("{}: {reason}", upload.state.as_str()),
        None => upload.state.as_str().to_owned(),
    };
    view! {
        <li class="record-row" data-testid="record-row" data-state=upload.state.as_str()>
            <span class="file-name">{path.clone()}</span>
            <span class="file-size">
                {format_bytes(upload.size)} " · " {local_time(upload.started_at)} " · " {via}
                {(!who.is_empty()).then(|| format!(" · {who}"))}
            </span>
            <span class="muted">{state}</span>
            {upload.download_url.clone().map(|url| view! {
                <a class="download" href=url download=upload.name.clone()
                    aria-label=text::action_on(text::DOWNLOAD, &path)>{text::DOWNLOAD}</a>
            })}
            <Show when=move || stored && can_delete.get()>
                <button type="button" class="link danger"
                    aria-label=text::action_on(text::DELETE, &for_delete.1)
                    on:click={
                        let target = for_delete.clone();
                        move |_| delete.run(target.clone())
                    }>{text::DELETE}</button>
            </Show>
        </li>
    }
}
