//! The HTML shell and the app: one page at `/`. Without a router (leptos_router was
//! 100 KB of the gzipped WASM bundle, a third of it, for one route), any other path is
//! answered with a short "not found" and status 404.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};

use crate::components::text;
use crate::components::upload_page::UploadPage;

/// The document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang=text::LANGUAGE>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: the drop page at `/`.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let page = if requested_path().as_deref().is_none_or(|path| path == "/") {
        UploadPage().into_any()
    } else {
        not_found();
        text::NOT_FOUND.into_any()
    };
    view! {
        <Stylesheet id="leptos" href="/pkg/s3drop.css" />
        <Title text=text::TITLE />
        <main>{page}</main>
    }
}

/// The path the page was asked for (`None` where it cannot be known).
fn requested_path() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().map(|parts| parts.uri.path().to_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        window().location().pathname().ok()
    }
}

/// Answers the request with 404 (on the server; the browser only renders the words).
fn not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
}
