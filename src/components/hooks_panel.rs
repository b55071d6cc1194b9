//! The operator's webhooks: the form for a new one (its secret shown once, to copy into
//! the receiver), and every hook with its deliveries counted; each hook's latest
//! deliveries can be shown (with what the receiver answered) and sent again, and a
//! hook removed.

use leptos::prelude::*;

use super::shown_once::ShownOnce;
use super::text;
use crate::api::{
    self, CreatedHook, DeliveryInfo, DeliveryState, HookInfo, LinkInfo, NewHookRequest,
};
use crate::browser::page::{self, local_time};
use crate::browser::runtime::sleep;

/// How often the hooks' counts (and the deliveries shown) are fetched again, in ms.
const REFRESH_EVERY_MS: f64 = 5_000.0;
/// How many deliveries of a hook are shown.
const DELIVERIES_SHOWN: u32 = 20;

/// The hooks.
#[component]
pub fn HooksPanel() -> impl IntoView {
    let hooks: RwSignal<Vec<HookInfo>> = RwSignal::new(Vec::new());
    let links: RwSignal<Vec<LinkInfo>> = RwSignal::new(Vec::new());
    let said = RwSignal::new(String::new());
    let secret: RwSignal<Option<String>> = RwSignal::new(None);
    let shown: RwSignal<Option<String>> = RwSignal::new(None);
    let load = move || {
        leptos::task::spawn_local(async move {
            match api::list_hooks().await {
                Ok(all) => hooks.set(all),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
            if let Ok(all) = api::list_links().await {
                links.set(all);
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
    let created = Callback::new(move |hook: CreatedHook| {
        secret.set(Some(hook.secret));
        load();
    });
    let remove = Callback::new(move |id: String| {
        leptos::task::spawn_local(async move {
            match api::remove_hook(id).await {
                Ok(_) => load(),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        })
    });
    let label_of = move |id: &Option<String>| match id {
        None => text::HOOK_EVERYTHING.to_owned(),
        Some(id) => links.with(|all| {
            all.iter()
                .find(|l| &l.id == id)
                .map_or_else(|| id.clone(), |l| text::hook_link(&l.label))
        }),
    };
    view! {
        <section class="hooks" aria-labelledby="hooks-title" data-testid="hooks-panel">
            <h2 id="hooks-title">{text::HOOKS_TITLE}</h2>
            <p class="muted">{text::HOOKS_HELP}</p>
            <HookForm links created />
            {move || secret.get().map(|secret| view! {
                <ShownOnce said=text::HOOK_CREATED value=secret label=text::HOOK_SECRET
                    copy=text::COPY_SECRET copied=text::SECRET_COPIED status=said testid="new-hook-secret" />
            })}
            <p class="stored-said" role="status">{move || said.get()}</p>
            <Show when=move || hooks.with(Vec::is_empty)>
                <p class="muted">{text::HOOKS_EMPTY}</p>
            </Show>
            <ul class="link-list">
                <For each=move || hooks.get() key=|h| (h.id.clone(), h.pending, h.delivered, h.failed) let:hook>
                    <HookRow scope=label_of(&hook.link_id) hook shown remove said />
                </For>
            </ul>
        </section>
    }
}

/// The form for a new hook: its URL, and whose events it hears.
#[component]
fn HookForm(links: RwSignal<Vec<LinkInfo>>, created: Callback<CreatedHook>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let link = RwSignal::new(String::new());
    let problem = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = NewHookRequest {
            url: url.get_untracked().trim().to_owned(),
            link_id: Some(link.get_untracked()).filter(|l| !l.is_empty()),
            events: Vec::new(),
        };
        leptos::task::spawn_local(async move {
            match api::create_hook(request).await {
                Ok(hook) => {
                    problem.set(String::new());
                    url.set(String::new());
                    created.run(hook);
                }
                Err(err) => problem.set(err.to_string()),
            }
        });
    };
    view! {
        <form class="link-form" on:submit=submit data-testid="hook-form">
            <label for="hook-url">{text::HOOK_URL}</label>
            <input id="hook-url" type="url" required bind:value=url placeholder="https://" />
            <label for="hook-link">{text::HOOK_HEARS}</label>
            <select id="hook-link" bind:value=link>
                <option value="">{text::HOOK_EVERYTHING}</option>
                <For each=move || links.get() key=|l| l.id.clone() let:l>
                    <option value=l.id.clone()>{text::hook_link(&l.label)}</option>
                </For>
            </select>
            <p class="notice" role="alert" hidden=move || problem.with(String::is_empty)>
                {move || problem.get()}
            </p>
            <button type="submit" class="button">{text::NEW_HOOK}</button>
        </form>
    }
}

/// One hook: where it sends, whose events, how its deliveries went; its deliveries shown
/// when asked.
#[component]
fn HookRow(
    hook: HookInfo,
    scope: String,
    shown: RwSignal<Option<String>>,
    remove: Callback<String>,
    said: RwSignal<String>,
) -> impl IntoView {
    let id = hook.id.clone();
    let is_shown = {
        let id = id.clone();
        move || shown.with(|s| s.as_deref() == Some(id.as_str()))
    };
    let toggle = {
        let id = id.clone();
        move |_| shown.update(|s| *s = (s.as_deref() != Some(id.as_str())).then(|| id.clone()))
    };
    let gone = {
        let (id, url) = (id.clone(), hook.url.clone());
        move |_| {
            if page::confirm(&text::confirm_remove_hook(&url)) {
                remove.run(id.clone());
            }
        }
    };
    view! {
        <li class="link-row" data-testid="hook-row">
            <span class="file-name">{hook.url.clone()}</span>
            <span class="muted">{scope}</span>
            <span class="file-size">{text::hook_counts(hook.delivered, hook.pending, hook.failed)}</span>
            <span class="file-actions">
                <button type="button" class="link" on:click=toggle>{text::DELIVERIES}</button>
                <button type="button" class="link danger" on:click=gone>{text::REMOVE_HOOK}</button>
            </span>
            <Show when=is_shown.clone()>
                <Deliveries hook=id.clone() said />
            </Show>
        </li>
    }
}

/// A hook's latest deliveries, each with what came of it, kept current.
#[component]
fn Deliveries(hook: String, said: RwSignal<String>) -> impl IntoView {
    let deliveries: RwSignal<Vec<DeliveryInfo>> = RwSignal::new(Vec::new());
    let alive = RwSignal::new(true);
    on_cleanup(move || alive.set(false));
    let load = {
        let hook = hook.clone();
        move || {
            let hook = hook.clone();
            leptos::task::spawn_local(async move {
                match api::list_deliveries(hook, DELIVERIES_SHOWN).await {
                    Ok(all) => {
                        if alive.try_get_untracked() == Some(true) {
                            deliveries.set(all);
                        }
                    }
                    Err(err) => said.set(text::list_failed(&err.to_string())),
                }
            })
        }
    };
    Effect::new({
        let load = load.clone();
        move || {
            let load = load.clone();
            leptos::task::spawn_local(async move {
                while alive.try_get_untracked() == Some(true) {
                    load();
                    sleep(REFRESH_EVERY_MS).await;
                }
            })
        }
    });
    let resend = Callback::new(move |id: String| {
        let load = load.clone();
        leptos::task::spawn_local(async move {
            match api::resend_delivery(id).await {
                Ok(_) => load(),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        })
    });
    view! {
        <ul class="deliveries" data-testid="deliveries">
            <Show when=move || deliveries.with(Vec::is_empty)>
                <li class="muted">{text::NO_DELIVERIES}</li>
            </Show>
            <For each=move || deliveries.get() key=|d| (d.id.clone(), d.attempts, d.state) let:d>
                <li class="delivery" data-testid="delivery">
                    <span>{d.event.as_str()}</span>
                    <span class=match d.state {
                        DeliveryState::Failed => "state danger",
                        _ => "state",
                    }>{text::delivery_state(&d, local_time)}</span>
                    <button type="button" class="link" on:click={
                        let id = d.id.clone();
                        move |_| resend.run(id.clone())
                    }>{text::SEND_AGAIN}</button>
                    {d.last_error.clone().map(|e| view! { <span class="muted error">{e}</span> })}
                </li>
            </For>
        </ul>
    }
}
