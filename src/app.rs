//! The HTML shell and the app: one page, at `/`. There is no router (leptos_router was
//! a third of the gzipped WASM bundle, for one route); the server answers other paths
//! that are not files with a plain "not found" page.

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
    view! {
        <Stylesheet id="leptos" href="/pkg/s3drop.css" />
        <Title text=text::TITLE />
        <main>
            <UploadPage />
        </main>
    }
}
