//! The files already in the store, when the operator turns the list on: a page at a
//! time, each with its size, date, a download link that keeps its name, a button that
//! copies that link, and delete when allowed.

use leptos::prelude::*;

use super::listing::{Listing, PAGE};
use super::text::{self, format_bytes};
use crate::api::{self, ListedFile};
use crate::browser::page;
use crate::browser::runtime::{now_ms, sleep};

/// How many pages of only files already shown "Show more" passes over at most.
const MAX_SKIPPED_PAGES: usize = 10;
/// How many newest files a refresh asks for, to reach back to the pages the person
/// opened (the server's most per page).
const REFRESH_PAGE: u32 = 100;
/// The list is fetched again at most this often while uploads finish, in milliseconds.
const REFRESH_EVERY_MS: f64 = 1_000.0;

/// The list; fetched in the browser once, and again (at most once a second) while
/// `uploads_done` changes, unless the server said the list is off.
#[component]
pub fn StoredFiles(uploads_done: Signal<usize>) -> impl IntoView {
    let listing = RwSignal::new(Listing::default());
    let enabled = RwSignal::new(false);
    // The server answered that the list is off: it is never asked again.
    let off = StoredValue::new(false);
    let can_delete = RwSignal::new(false);
    // Announced to screen readers: what just happened.
    let said = RwSignal::new(String::new());

    // Loads overlap while uploads finish, in any order. Of the refreshes, the newest
    // wins; a next page is added only where the list ends. What each answer does to the
    // list is `Listing`'s.
    let generation = StoredValue::new(0u64);
    let load = move |after: Option<String>| {
        let more = after.is_some();
        if !more {
            generation.update_value(|g| *g += 1);
        }
        let mine = generation.get_value();
        let limit = if more { PAGE as u32 } else { REFRESH_PAGE };
        leptos::task::spawn_local(async move {
            let mut after = after;
            let mut answer = api::list_files(after.clone(), limit).await;
            // The list started again meanwhile: the next page is asked from its new end
            // (a few times at most), so the person's "Show more" is not lost.
            for _ in 0..3 {
                let end = listing.with_untracked(|l| l.next.clone());
                if !more || end == after || end.is_none() {
                    break;
                }
                after = end;
                answer = api::list_files(after.clone(), limit).await;
            }
            let current = if more {
                listing.with_untracked(|l| l.next == after)
            } else {
                generation.get_value() == mine
            };
            if !current {
                return;
            }
            match answer {
                Ok(Some(page)) => {
                    enabled.set(true);
                    can_delete.set(page.can_delete);
                    if !more {
                        listing.update(|l| l.refresh(page));
                        return;
                    }
                    // A page of none but shown files asks for the next (a few at most).
                    let mut page = page;
                    for _ in 0..MAX_SKIPPED_PAGES {
                        let Some(after) = listing.try_update(|l| l.extend(page)).flatten() else {
                            break;
                        };
                        match api::list_files(Some(after), PAGE as u32).await {
                            Ok(Some(more)) => page = more,
                            _ => break,
                        }
                    }
                }
                Ok(None) => {
                    off.set_value(true);
                    enabled.set(false);
                }
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        });
    };
    // A folder's files finish many a second: one refresh now, then at most one a second
    // (the last one after the last upload), never when the list is off.
    let (last_load, refresh_due) = (StoredValue::new(f64::NEG_INFINITY), StoredValue::new(false));
    let refresh = move || {
        if off.get_value() || refresh_due.get_value() {
            return;
        }
        let wait = last_load.get_value() + REFRESH_EVERY_MS - now_ms();
        if wait <= 0.0 {
            last_load.set_value(now_ms());
            load(None);
            return;
        }
        refresh_due.set_value(true);
        leptos::task::spawn_local(async move {
            sleep(wait).await;
            refresh_due.set_value(false);
            if !off.get_value() {
                last_load.set_value(now_ms());
                load(None);
            }
        });
    };
    // Progress updates touch every file's status, so the count is read on each of them;
    // the list is refreshed only when the count has changed.
    Effect::new(move |before: Option<usize>| {
        let done = uploads_done.get();
        if before != Some(done) {
            refresh();
        }
        done
    });

    let copy = Callback::new(move |file: ListedFile| copy_link(file, said));
    let delete = Callback::new(move |file: ListedFile| delete_file(file, listing, said));

    view! {
        <Show when=move || enabled.get()>
            <section class="stored" aria-labelledby="stored-title" data-testid="stored-files">
                <h2 id="stored-title">{text::STORED_TITLE}</h2>
                <p class="stored-said" role="status">{move || said.get()}</p>
                <Show when=move || listing.with(|l| l.files.is_empty())>
                    <p class="muted">{text::STORED_EMPTY}</p>
                </Show>
                <ul class="stored-list">
                    <For each=move || listing.with(|l| l.files.clone()) key=|f| f.key.clone() let:file>
                        <StoredRow file=file.clone() can_delete copy delete />
                    </For>
                </ul>
                <Show when=move || listing.with(|l| l.next.is_some())>
                    <button type="button" on:click=move |_| load(listing.with_untracked(|l| l.next.clone()))>
                        {text::SHOW_MORE}
                    </button>
                </Show>
            </section>
        </Show>
    }
}

/// Copies a file's download link to the clipboard, and says so.
fn copy_link(file: ListedFile, said: RwSignal<String>) {
    leptos::task::spawn_local(async move {
        match page::copy(&file.download_url).await {
            true => said.set(text::LINK_COPIED.to_owned()),
            false => said.set(text::list_failed(text::COPY_REFUSED)),
        }
    });
}

/// Deletes a file from the store once the person confirms, and takes it off the list.
fn delete_file(file: ListedFile, listing: RwSignal<Listing>, said: RwSignal<String>) {
    if !page::confirm(&text::confirm_delete(&file.path)) {
        return;
    }
    leptos::task::spawn_local(async move {
        match api::delete_file(file.key.clone()).await {
            Ok(()) => {
                listing.update(|l| l.remove(&file.key));
                said.set(text::deleted(&file.path));
            }
            Err(err) => said.set(text::list_failed(&err.to_string())),
        }
    });
}

/// One stored file and what can be done with it.
#[component]
fn StoredRow(
    file: ListedFile,
    can_delete: RwSignal<bool>,
    copy: Callback<ListedFile>,
    delete: Callback<ListedFile>,
) -> impl IntoView {
    let when = page::local_time(u64::try_from(file.modified).unwrap_or_default());
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&file.path)
        .to_owned();
    let (for_copy, for_delete) = (file.clone(), file.clone());
    view! {
        <li class="stored-file">
            <span class="file-name">{file.path.clone()}</span>
            <span class="file-size">{format_bytes(file.size)} " · " {when}</span>
            <span class="file-actions">
                <a
                    class="download"
                    href=file.download_url.clone()
                    download=name
                    aria-label=text::action_on(text::DOWNLOAD, &file.path)
                >
                    {text::DOWNLOAD}
                </a>
                <button
                    type="button"
                    class="link"
                    aria-label=text::action_on(text::COPY_LINK, &file.path)
                    on:click=move |_| copy.run(for_copy.clone())
                >
                    {text::COPY_LINK}
                </button>
                <Show when=move || can_delete.get()>
                    <button
                        type="button"
                        class="link danger"
                        aria-label=text::action_on(text::DELETE, &for_delete.path)
                        on:click={
                            let file = for_delete.clone();
                            move |_| delete.run(file.clone())
                        }
                    >
                        {text::DELETE}
                    </button>
                </Show>
            </span>
        </li>
    }
}
