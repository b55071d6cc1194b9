//! The operator's API tokens, for scripts and `s3drop upload`: the form for a new one
//! (the token shown once), and every token with when it was last used; each can be
//! revoked.

use leptos::prelude::*;

use super::shown_once::ShownOnce;
use super::text;
use crate::api::{self, ApiTokenInfo, CreatedApiToken};
use crate::browser::page::{self, local_time};

/// The tokens.
#[component]
pub fn TokensPanel() -> impl IntoView {
    let tokens: RwSignal<Vec<ApiTokenInfo>> = RwSignal::new(Vec::new());
    let said = RwSignal::new(String::new());
    let made: RwSignal<Option<String>> = RwSignal::new(None);
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(String::new());
    let load = move || {
        leptos::task::spawn_local(async move {
            match api::list_tokens().await {
                Ok(all) => tokens.set(all),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        })
    };
    Effect::new(load);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let asked = name.get_untracked();
        leptos::task::spawn_local(async move {
            match api::create_token(asked).await {
                Ok(CreatedApiToken { secret, .. }) => {
                    problem.set(String::new());
                    name.set(String::new());
                    made.set(Some(secret));
                    load();
                }
                Err(err) => problem.set(err.to_string()),
            }
        });
    };
    let revoke = Callback::new(move |(id, name): (String, String)| {
        if !page::confirm(&text::confirm_revoke_token(&name)) {
            return;
        }
        leptos::task::spawn_local(async move {
            match api::revoke_token(id).await {
                Ok(_) => load(),
                Err(err) => said.set(text::list_failed(&err.to_string())),
            }
        })
    });
    view! {
        <section class="hooks" aria-labelledby="tokens-title" data-testid="tokens-panel">
            <h2 id="tokens-title">{text::TOKENS_TITLE}</h2>
            <p class="muted">{text::TOKENS_HELP}</p>
            <form class="link-form" on:submit=submit data-testid="token-form">
                <label for="token-name">{text::TOKEN_NAME}</label>
                <input id="token-name" type="text" required bind:value=name />
                <p class="notice" role="alert" hidden=move || problem.with(String::is_empty)>
                    {move || problem.get()}
                </p>
                <button type="submit" class="button">{text::NEW_TOKEN}</button>
            </form>
            {move || made.get().map(|token| view! {
                <ShownOnce said=text::TOKEN_CREATED value=token label=text::TOKEN_VALUE
                    copy=text::COPY_TOKEN copied=text::TOKEN_COPIED status=said testid="new-token" />
            })}
            <p class="stored-said" role="status">{move || said.get()}</p>
            <Show when=move || tokens.with(Vec::is_empty)>
                <p class="muted">{text::TOKENS_EMPTY}</p>
            </Show>
            <ul class="link-list">
                <For each=move || tokens.get() key=|t| (t.id.clone(), t.revoked_at, t.last_used_at) let:token>
                    <li class="link-row" data-testid="token-row">
                        <span class="file-name">{token.name.clone()}</span>
                        <span class="muted">{text::token_state(&token, local_time)}</span>
                        <Show when=move || token.revoked_at.is_none()>
                            <span class="file-actions">
                                <button type="button" class="link danger" on:click={
                                    let (id, name) = (token.id.clone(), token.name.clone());
                                    move |_| revoke.run((id.clone(), name.clone()))
                                }>{text::REVOKE}</button>
                            </span>
                        </Show>
                    </li>
                </For>
            </ul>
        </section>
    }
}
