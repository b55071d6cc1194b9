//! An upload link's page (`/l/{secret}`): titled with the link's label, its message and
//! terms shown before anything is sent; its password asked first when it has one, and
//! the uploader's name when it asks; then the same drop as the home page, every file
//! started through the link. The uploader sees only the files they send here, and on a
//! later visit those this browser sent before ([`SentBefore`]).

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

use super::chunk::{self, SplitLoaderError, browser_built, wasm_split};
use super::file_queue::sent_list_of;
use super::text::{self, format_bytes, link_terms};
use super::upload_page::UploadPage;
use crate::api::{self, ApiError, LinkPass, LinkView, SentFile};
use crate::browser::page::{kept_list, local_time};

/// The page of the link whose URL carries `secret`.
#[component]
pub fn LinkPage(secret: String) -> impl IntoView {
    let opened: RwSignal<Option<Result<LinkView, ApiError>>> = RwSignal::new(None);
    // Why the password given was not taken: the form stays, to try again.
    let problem = RwSignal::new(String::new());
    let open = {
        let secret = secret.clone();
        move |password: Option<String>| {
            let secret = secret.clone();
            let attempt = password.is_some();
            leptos::task::spawn_local(async move {
                match api::open_link(secret, password).await {
                    Err(err @ (ApiError::WrongPassword | ApiError::RateLimited)) if attempt => {
                        problem.set(refusal(err));
                    }
                    answer => {
                        problem.set(String::new());
                        opened.set(Some(answer));
                    }
                }
            });
        }
    };
    // In the browser only: the server renders the page before anyone is let in. The
    // chunk of what the answer shows is fetched meanwhile (a failure is said where the
    // answer is shown, by the try that fetches it again).
    let first = open.clone();
    Effect::new(move || {
        first(None);
        leptos::task::spawn_local(async {
            let _ = preload_link_answer().await;
        });
    });
    let open = Callback::new(move |p| open(Some(p)));
    view! {
        {move || match opened.get() {
            None => Either::Left(view! { <p class="muted">{text::LINK_OPENING}</p> }),
            Some(answer) => {
                let secret = secret.clone();
                Either::Right(chunk::shown(move || {
                    link_answer(answer.clone(), secret.clone(), open, problem)
                }))
            }
        }}
    }
}

/// What the link's answer shows: why it was refused, its password form, or the link
/// open. A WASM chunk of its own ([`super::chunk`]): the home page's visitors never
/// fetch it.
#[wasm_split(link_answer, wasm_split_path = ::leptos::wasm_split, preload(preload_link_answer), fallible)]
fn link_answer(
    answer: Result<LinkView, ApiError>,
    secret: String,
    open: Callback<String>,
    problem: RwSignal<String>,
) -> Result<AnyView, SplitLoaderError> {
    Ok(browser_built(match answer {
        Err(err) => EitherOf3::A(view! { <LinkRefused err /> }),
        Ok(view) if view.details.is_none() => {
            EitherOf3::B(view! { <LinkPassword label=view.label open problem /> })
        }
        Ok(view) => EitherOf3::C(view! { <OpenLink view secret /> }),
    }))
}

/// Why the link, or a password for it, was refused, in the uploader's words.
fn refusal(err: ApiError) -> String {
    match err {
        ApiError::NotFound(_) => text::LINK_MISSING.to_owned(),
        ApiError::RateLimited => text::TOO_MANY_GUESSES.to_owned(),
        other => other.to_string(),
    }
}

/// Why the link cannot be used.
#[component]
fn LinkRefused(err: ApiError) -> impl IntoView {
    view! {
        <header class="masthead"><h1>{text::TITLE}</h1></header>
        <p class="notice" role="alert" data-testid="link-refused">{refusal(err)}</p>
    }
}

/// The link's password, asked before anything else is shown.
#[component]
fn LinkPassword(label: String, open: Callback<String>, problem: RwSignal<String>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    view! {
        <header class="masthead"><h1>{label}</h1><p>{text::LINK_PASSWORD_HELP}</p></header>
        <p class="notice" role="alert" hidden=move || problem.with(String::is_empty)>
            {move || problem.get()}
        </p>
        <form class="login" on:submit=move |ev| {
            ev.prevent_default();
            open.run(password.get_untracked());
        }>
            <label for="link-password">{text::PASSWORD}</label>
            <input id="link-password" type="password" autocomplete="off" required
                bind:value=password />
            <button type="submit" class="button">{text::OPEN}</button>
        </form>
    }
}

/// The open link: its terms, the name it asks for, then the drop.
#[component]
fn OpenLink(view: LinkView, secret: String) -> impl IntoView {
    let details = view.details.clone()?;
    let terms = link_terms(&details, &local_time(details.expires_at));
    let name = RwSignal::new(String::new());
    let named = RwSignal::new(!details.ask_name);
    let for_pass = secret.clone();
    let pass = move || LinkPass {
        secret: for_pass.clone(),
        grant: view.grant.clone(),
        uploader: Some(name.get_untracked()).filter(|n| !n.trim().is_empty()),
    };
    Some(view! {
        <header class="masthead">
            <h1 data-testid="link-label">{view.label.clone()}</h1>
            {details.message.clone().map(|m| view! { <p class="link-message">{m}</p> })}
            <p class="link-terms" data-testid="link-terms">{terms}</p>
        </header>
        <SentBefore secret=secret.clone() />
        <Show when=move || named.get() fallback=move || view! {
            <form class="login" on:submit=move |ev| {
                ev.prevent_default();
                named.set(!name.get_untracked().trim().is_empty());
            }>
                <label for="uploader-name">{text::YOUR_NAME}</label>
                <input id="uploader-name" type="text" autocomplete="name" required maxlength="100"
                    bind:value=name />
                <p class="muted">{text::LINK_NAME_HELP}</p>
                <button type="submit" class="button">{text::CONTINUE}</button>
            </form>
        }>
            <UploadPage link=(pass(), details.limits.clone()) />
        </Show>
    })
}

/// The files this browser stored through the link on earlier visits (their keys are kept
/// in its local storage), with fresh download links.
#[component]
fn SentBefore(secret: String) -> impl IntoView {
    let sent: RwSignal<Vec<SentFile>> = RwSignal::new(Vec::new());
    // In the browser only: the list is this browser's.
    Effect::new(move || {
        let secret = secret.clone();
        leptos::task::spawn_local(async move {
            let keys = kept_list(&sent_list_of(&secret));
            if keys.is_empty() {
                return;
            }
            if let Ok(files) = api::sent_through_link(secret, keys).await {
                sent.set(files);
            }
        });
    });
    view! {
        <Show when=move || sent.with(|s| !s.is_empty())>
            <section class="stored" aria-labelledby="sent-title" data-testid="sent-before">
                <h2 id="sent-title">{text::SENT_BEFORE}</h2>
                <ul class="stored-list">
                    <For each=move || sent.get() key=|f| f.key.clone() let:file>
                        <li class="stored-file">
                            <span class="file-name">{file.path.clone()}</span>
                            <span class="file-size">
                                {format_bytes(file.size)} " · " {local_time(file.stored_at)}
                            </span>
                            <a class="download" href=file.download_url.clone()
                                aria-label=text::action_on(text::DOWNLOAD, &file.path)>
                                {text::DOWNLOAD}
                            </a>
                        </li>
                    </For>
                </ul>
            </section>
        </Show>
    }
}
