//! The HTML shell and the app: the home page at `/`, an upload link's at `/l/{secret}`.
//! There is no router (leptos_router was a third of the gzipped WASM bundle, for two
//! routes): `components::route` names the page a path shows; the server answers other
//! paths that are not files with a plain "not found" page.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};

use crate::components::home_page::HomePage;
use crate::components::link_page::LinkPage;
use crate::components::route::{self, Route};
use crate::components::text;

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

/// The app: the page its path names. (`Either`, not `into_any`: a type-erased view
/// brings every view inside it its async hydration code, unused here, ~10% of the WASM.)
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let page = match route::current() {
        Route::Home => Either::Left(view! { <HomePage /> }),
        Route::Link(secret) => Either::Right(view! { <LinkPage secret /> }),
    };
    view! {
        <Stylesheet id="leptos" href="/pkg/s3drop.css" />
        <Title text=text::TITLE />
        <main>{page}</main>
    }
}
