//! The few pages the server writes without Leptos (the login form, "not found"): plain
//! HTML with the site's stylesheet, no script, so they work before any login.

/// A whole page with `title` and `main` (HTML) as its content.
pub fn plain_page(language: &str, title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"{language}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/s3drop.css\"></head>\
         <body><main>{main}</main></body></html>"
    )
}
