//! Which page a path shows: the home page, or an upload link's (`/l/{secret}`). There is
//! no router (see `app.rs`): the server tells the page its path as it renders it
//! ([`PagePath`]); in the browser, the address bar does.

use leptos::prelude::*;

use crate::browser::runtime::location_path;

/// The page's path, provided by the server while it renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePath(pub String);

/// A page of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: the drop, and the operator's rooms for the operator.
    Home,
    /// `/l/{secret}`: an upload link's drop.
    Link(String),
}

impl Route {
    /// The page `path` shows.
    pub fn of(path: &str) -> Self {
        match path.strip_prefix("/l/") {
            Some(secret) if !secret.is_empty() && !secret.contains('/') => {
                Self::Link(secret.to_owned())
            }
            _ => Self::Home,
        }
    }
}

/// The page being shown: on the server, from the request; in the browser, from the
/// address bar. (A render on the server without a path, the not-found page's, is the
/// home page's: the browser's bindings exist only in the browser.)
pub fn current() -> Route {
    let path = match use_context::<PagePath>() {
        Some(PagePath(path)) => path,
        None if cfg!(target_arch = "wasm32") => location_path(),
        None => String::new(),
    };
    Route::of(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_pages() {
        let link = |s: &str| Route::Link(s.into());
        let cases = [
            ("/", Route::Home),
            ("", Route::Home),
            ("/l/abc", link("abc")),
            ("/l/", Route::Home),
            ("/l/abc/def", Route::Home),
            ("/login", Route::Home),
        ];
        for (path, route) in cases {
            assert_eq!(Route::of(path), route, "{path}");
        }
    }
}
